#!/usr/bin/env python3
"""W1-W3 on qloop and on qulacs, pennylane-lightning and qiskit-aer, in one run.

Workloads (the circuit is qloop's `seed_layers`: layers of [H on every qubit, CX(q, q+1)
chain, RZ(theta) on every qubit], fixed angles theta(l, q) = 0.1 * (l * n + q + 1)):
  W1  10 layers, one run from |0...0>, <Z_0>; n = 16, 20, 24; 1 and 2 threads.
  W2  3 layers, fresh random angles every evaluation, <Z_0>; n = 4, 8, 12; 1 thread.
  W3  1,000,000 shots from the 20-qubit state of 2 layers (sampling only); 1 thread.

Each (tool, workload, size, threads) runs in its own process with OMP_NUM_THREADS and
RAYON_NUM_THREADS set, so thread counts hold. Every peer's <Z_0> (W1), <Z_{n-1}> (W2, where
<Z_0> vanishes for every angle) and sampled <Z_0> (W3) are checked against qloop's.
Prints a table of times and qloop/peer ratios. Usage:

    python3 -m venv benches/peers/.venv
    benches/peers/.venv/bin/pip install qulacs qiskit-aer pennylane-lightning numpy
    benches/peers/.venv/bin/python benches/peers/run_peers.py [--quick]
"""

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QLOOP = os.path.join(ROOT, "target", "release", "examples", "workloads")
PEERS = ["qulacs", "lightning", "qiskit-aer"]


def angles(n, layers):
    return [0.1 * (k + 1) for k in range(n * layers)]


# ---------------------------------------------------------------- peers, one workload each


def qulacs_run(workload, n, arg):
    import numpy as np
    from qulacs import Observable, ParametricQuantumCircuit, QuantumCircuit, QuantumState

    def build(layers, thetas, parametric):
        c = ParametricQuantumCircuit(n) if parametric else QuantumCircuit(n)
        for layer in range(layers):
            for q in range(n):
                c.add_H_gate(q)
            for q in range(n - 1):
                c.add_CNOT_gate(q, q + 1)
            for q in range(n):
                t = thetas[layer * n + q]
                # qulacs' parametric RZ is exp(+i t Z / 2): pass -t for Qiskit's sign.
                c.add_parametric_RZ_gate(q, -t) if parametric else c.add_RotZ_gate(q, t)
        return c

    def z(q, state):
        obs = Observable(n)
        obs.add_operator(1.0, f"Z {q}")
        return obs.get_expectation_value(state)

    if workload == "w1":
        c = build(10, angles(n, 10), False)
        state = QuantumState(n)
        start = time.perf_counter()
        c.update_quantum_state(state)
        return time.perf_counter() - start, z(0, state)
    if workload == "w2":
        c = build(3, angles(n, 3), True)
        state = QuantumState(n)
        obs = Observable(n)
        obs.add_operator(1.0, "Z 0")
        rng = np.random.default_rng(7)
        count = c.get_parameter_count()
        start = time.perf_counter()
        for _ in range(arg):
            for k, t in enumerate(rng.uniform(0, 2 * np.pi, count)):
                c.set_parameter(k, -t)
            state.set_zero_state()
            c.update_quantum_state(state)
            obs.get_expectation_value(state)
        seconds = (time.perf_counter() - start) / arg
        for k, t in enumerate(angles(n, 3)):
            c.set_parameter(k, -t)
        state.set_zero_state()
        c.update_quantum_state(state)
        return seconds, z(n - 1, state)
    c = build(2, angles(n, 2), False)
    state = QuantumState(n)
    c.update_quantum_state(state)
    start = time.perf_counter()
    samples = np.asarray(state.sampling(arg, 11))
    seconds = time.perf_counter() - start
    return seconds, 1.0 - 2.0 * float(np.mean(samples & 1))


def lightning_run(workload, n, arg):
    """pennylane-lightning's C++ state vector through its Python bindings (no QNode)."""
    import numpy as np
    from pennylane_lightning.lightning_qubit_ops import MeasurementsC128, StateVectorC128

    def apply(sv, layers, thetas):
        for layer in range(layers):
            for q in range(n):
                sv.Hadamard([q], False, [])
            for q in range(n - 1):
                sv.CNOT([q, q + 1], False, [])
            for q in range(n):
                sv.RZ([q], False, [thetas[layer * n + q]])

    if workload == "w1":
        sv = StateVectorC128(n)
        start = time.perf_counter()
        apply(sv, 10, angles(n, 10))
        seconds = time.perf_counter() - start
        return seconds, MeasurementsC128(sv).expval("PauliZ", [0])
    if workload == "w2":
        sv = StateVectorC128(n)
        rng = np.random.default_rng(7)
        start = time.perf_counter()
        for _ in range(arg):
            sv.resetStateVector()
            apply(sv, 3, rng.uniform(0, 2 * np.pi, 3 * n))
            MeasurementsC128(sv).expval("PauliZ", [0])
        seconds = (time.perf_counter() - start) / arg
        sv.resetStateVector()
        apply(sv, 3, angles(n, 3))
        return seconds, MeasurementsC128(sv).expval("PauliZ", [n - 1])
    sv = StateVectorC128(n)
    apply(sv, 2, angles(n, 2))
    m = MeasurementsC128(sv)
    m.set_random_seed(11)
    start = time.perf_counter()
    samples = np.asarray(m.generate_samples(n, arg))
    seconds = time.perf_counter() - start
    # Lightning orders wires most-significant first: wire 0 is the first column.
    return seconds, 1.0 - 2.0 * float(np.mean(samples[:, 0]))


def aer_run(workload, n, arg, threads):
    import numpy as np
    from qiskit import QuantumCircuit, transpile
    from qiskit.circuit import ParameterVector
    from qiskit.quantum_info import Pauli
    from qiskit_aer import AerSimulator

    # Truncation off: otherwise Aer drops qubits outside the observable's light cone (for W1
    # at n = 16 it simulates 11). Aer 0.18.2 segfaults on some sizes with truncation off and
    # its fusion on; the driver then retries with fusion off (AER_FUSION=0) and marks the row.
    sim = AerSimulator(
        method="statevector",
        max_parallel_threads=threads,
        enable_truncation=False,
        fusion_enable=os.environ.get("AER_FUSION", "1") != "0",
    )

    def build(layers, thetas, observed):
        c = QuantumCircuit(n)
        for layer in range(layers):
            for q in range(n):
                c.h(q)
            for q in range(n - 1):
                c.cx(q, q + 1)
            for q in range(n):
                c.rz(thetas[layer * n + q], q)
        if observed is not None:
            c.save_expectation_value(Pauli("Z"), [observed])
        return c

    def simulated_all(result):
        simulated = result.results[0].metadata["num_qubits"]
        if simulated != n:
            raise RuntimeError(f"Aer simulated {simulated} of {n} qubits")

    if workload == "w1":
        c = transpile(build(10, angles(n, 10), 0), sim)
        start = time.perf_counter()
        result = sim.run(c).result()
        seconds = time.perf_counter() - start
        simulated_all(result)
        return seconds, float(np.real(result.data(0)["expectation_value"]))
    if workload == "w2":
        params = ParameterVector("t", 3 * n)
        c = transpile(build(3, list(params), 0), sim)
        rng = np.random.default_rng(7)
        start = time.perf_counter()
        for _ in range(arg):
            bound = c.assign_parameters(rng.uniform(0, 2 * np.pi, 3 * n))
            sim.run(bound).result()
        seconds = (time.perf_counter() - start) / arg
        c_last = transpile(build(3, angles(n, 3), n - 1), sim)
        value = float(np.real(sim.run(c_last).result().data(0)["expectation_value"]))
        return seconds, value
    # Aer samples inside a run: time (simulate + `arg` shots) minus (simulate + 1 shot).
    c = build(2, angles(n, 2), None)
    c.measure_all()
    c = transpile(c, sim)
    timed = {}
    for shots in (1, arg):
        start = time.perf_counter()
        result = sim.run(c, shots=shots, seed_simulator=11).result()
        timed[shots] = time.perf_counter() - start
    counts = result.get_counts()
    ones = sum(v for k, v in counts.items() if k[-1] == "1")
    return max(timed[arg] - timed[1], 0.0), 1.0 - 2.0 * ones / arg


def worker(tool, workload, n, arg, threads):
    if tool == "qulacs":
        seconds, value = qulacs_run(workload, n, arg)
    elif tool == "lightning":
        seconds, value = lightning_run(workload, n, arg)
    else:
        seconds, value = aer_run(workload, n, arg, threads)
    print(json.dumps({"seconds": seconds, "value": value}))


# ---------------------------------------------------------------- driver


def run(cmd, threads, **extra):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), RAYON_NUM_THREADS=str(threads), **extra)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def qloop(workload, n, arg, threads):
    args = [QLOOP, workload, str(n)] + ([str(arg)] if arg else [])
    r = run(args, threads)
    value = {"w1": r["z0"], "w2": r.get("z_last"), "w3": r.get("sampled_z0")}[workload]
    return r["seconds"], value


def peer(tool, workload, n, arg, threads):
    """(seconds, value, note); Aer is retried without fusion if it crashes."""
    cmd = [sys.executable, __file__, "--worker", tool, workload, str(n), str(arg), str(threads)]
    try:
        r = run(cmd, threads)
        return r["seconds"], r["value"], ""
    except RuntimeError:
        if tool != "qiskit-aer":
            raise
        r = run(cmd, threads, AER_FUSION="0")
        return r["seconds"], r["value"], "*"


def bandwidth():
    """In-place read+write of a 2^24-amplitude complex128 array (numpy, one thread)."""
    import numpy as np

    a = np.full(1 << 24, 0.5 + 0.25j)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        np.multiply(a, 1j, out=a)
        best = min(best, time.perf_counter() - start)
    return 2 * a.nbytes / best / 2**30


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--worker", nargs=5, metavar=("TOOL", "W", "N", "ARG", "THREADS"))
    ap.add_argument("--quick", action="store_true", help="W1 at n = 16, 20 only")
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset")
    a = ap.parse_args()
    if a.worker:
        tool, workload, n, arg, threads = a.worker
        return worker(tool, workload, int(n), int(arg), int(threads))

    subprocess.run(
        ["cargo", "build", "--release", "--example", "workloads"], cwd=ROOT, check=True
    )
    peers = [p for p in a.peers.split(",") if p]
    cases = [("w1", n, 0, t) for n in ([16, 20] if a.quick else [16, 20, 24]) for t in (1, 2)]
    cases += [("w2", n, {4: 20000, 8: 5000, 12: 500}[n], 1) for n in (4, 8, 12)]
    cases += [("w3", 20, 1_000_000, 1)]
    print(f"machine: {os.cpu_count()} cores; numpy in-place bandwidth (1 thread) "
          f"{bandwidth():.1f} GiB/s\n")
    header = f"{'workload':<10}{'n':>3}{'thr':>4}{'qloop':>12}"
    header += "".join(f"{p:>12}{'ratio':>8}" for p in peers)
    print(header)
    print("-" * len(header))
    disagreements = []
    for workload, n, arg, threads in cases:
        q_seconds, q_value = qloop(workload, n, arg, threads)
        row = f"{workload:<10}{n:>3}{threads:>4}{fmt(q_seconds):>12}"
        for p in peers:
            try:
                seconds, value, note = peer(p, workload, n, arg, threads)
            except Exception as e:  # a peer that fails is reported, not fatal
                print(f"  {p} {workload} n={n}: {str(e).splitlines()[0]}", file=sys.stderr)
                row += f"{'failed':>12}{'':>8}"
                continue
            tol = 5e-3 if workload == "w3" else 1e-8
            if abs(value - q_value) > tol:
                disagreements.append(f"{p} {workload} n={n}: {value} vs qloop {q_value}")
            row += f"{note + fmt(seconds):>12}{q_seconds / seconds:>8.3f}"
        print(row, flush=True)
    print("\nratio = qloop time / peer time (below 1: qloop is faster).")
    print("* Aer crashed (segfault) with its fusion on and truncation off; rerun with fusion off.")
    print("W1: one run; W2: per evaluation; W3: sampling only (state prepared beforehand; for Aer, a 1M-shot run minus a 1-shot run).")
    if disagreements:
        print("\nDISAGREEMENTS:\n  " + "\n  ".join(disagreements))
        sys.exit(1)
    print("All tools agree on every checked expectation value.")


def fmt(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.2f} us"


if __name__ == "__main__":
    main()
