#!/usr/bin/env python3
"""General circuits on qloop and on qsim, qiskit-aer and qulacs, in one run.

Families (generated with Qiskit from fixed seeds, written as OpenQASM 2.0 under
target/peers-circuits/):
  qv      quantum volume, depth 10, transpiled to `u` + `cx`
  qft     the QFT as `h` + `cp` + `swap`
  random  random_circuit(n, depth=40, max_operands=2), transpiled to `u` + `cx`
  w1      10 x [H on all, CX chain, RZ on all] (the issue-6 workload)

Every tool runs each (family, n, threads) in its own process with OMP_NUM_THREADS and
RAYON_NUM_THREADS set. qloop is timed as a whole `qloop expect FILE --observable Z0` process
(parse and compile included); the peers around their own simulate call. qsim runs with
max_fused_gate_size 2, 3 and 4 and the best is reported; Aer with fusion on; qulacs with its
circuit optimizer (block size 2). Every <Z_0> is checked against qloop's (qsim to 1e-4: it
computes in single precision). With `--repeat 3` each peer keeps the best of three simulate
calls in its process, qloop is also timed in process (best of three runs, compile excluded),
and the ratio uses that figure: on virtual machines whose freed memory goes back to the host,
a fresh process's first touch of a 256 MiB state alone can take over a second. Usage:

    pip install qiskit qiskit-aer qsimcirq qulacs ply numpy
    cargo build --release
    python3 benches/peers/general_circuits.py [--sizes 20,24] [--threads 1,2] [--families qv,qft]
"""

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QLOOP = os.path.join(ROOT, "target", "release", "qloop")
FUSION_STATS = os.path.join(ROOT, "target", "release", "examples", "fusion_stats")
OUT = os.path.join(ROOT, "target", "peers-circuits")
FAMILIES = ["w1", "qv", "qft", "random"]
SEED = 1234
# Simulate calls per peer measurement (the best is kept); `--repeat` sets it.
REPEAT = 1


def build(family, n):
    from qiskit import QuantumCircuit, transpile
    from qiskit.circuit.library import QFT, QuantumVolume
    from qiskit.circuit.random import random_circuit

    if family == "w1":
        c = QuantumCircuit(n)
        for layer in range(10):
            for q in range(n):
                c.h(q)
            for q in range(n - 1):
                c.cx(q, q + 1)
            for q in range(n):
                c.rz(0.1 * (layer * n + q + 1), q)
        return c
    if family == "qv":
        c = QuantumVolume(n, depth=10, seed=SEED)
        return transpile(c, basis_gates=["u", "cx"], optimization_level=0, seed_transpiler=SEED)
    if family == "qft":
        c = QFT(n, do_swaps=True)
        return transpile(c, basis_gates=["h", "cp", "swap"], optimization_level=0)
    if family == "random":
        c = random_circuit(n, depth=40, max_operands=2, seed=SEED)
        c.remove_final_measurements()
        return transpile(c, basis_gates=["u", "cx"], optimization_level=0, seed_transpiler=SEED)
    raise ValueError(family)


def write(family, n):
    from qiskit import qasm2

    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"{family}{n}.qasm")
    if not os.path.exists(path):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(qasm2.dumps(build(family, n)))
        os.replace(tmp, path)
    return path


# ------------------------------------------------------------------ one tool, one measurement


def run_qloop_in_process(path):
    """Best of three runs inside one process (`examples/fusion_stats`), compile excluded:
    (double precision, single precision)."""
    out = subprocess.run([FUSION_STATS, path], check=True, capture_output=True, text=True).stdout
    double = float(out.split("; fused ")[1].split(" passes, ")[1].split(" ms")[0])
    single = float(out.split("; single ")[1].split(" ms")[0])
    return double / 1e3, single / 1e3


def run_qloop(path, n, threads, extra):
    t0 = time.perf_counter()
    out = subprocess.run(
        [QLOOP, "expect", path, "--observable", "Z0", "--json", *extra],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return time.perf_counter() - t0, json.loads(out)["value"]


def z0(probabilities_like):
    import numpy as np

    p = np.abs(probabilities_like) ** 2
    return float(p[0::2].sum() - p[1::2].sum())


def run_qsim(path, n, threads, fused):
    import cirq
    import qsimcirq
    from cirq.contrib.qasm_import import circuit_from_qasm

    with open(path) as f:
        circuit = circuit_from_qasm(f.read())
    qubits = sorted(circuit.all_qubits(), key=lambda q: int(str(q).split("_")[-1]))
    # Qiskit's qubit 0 is the least-significant bit; cirq's first qubit is the most.
    order = list(reversed(qubits))
    options = qsimcirq.QSimOptions(cpu_threads=threads, max_fused_gate_size=fused)
    sim = qsimcirq.QSimSimulator(qsim_options=options)
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        state = sim.simulate(circuit, qubit_order=order).final_state_vector
        best = min(best, time.perf_counter() - t0)
    return best, z0(state)


def run_aer(path, n, threads):
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator

    c = QuantumCircuit.from_qasm_file(path)
    c.save_statevector()
    sim = AerSimulator(method="statevector", max_parallel_threads=threads, fusion_enable=True)
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        state = sim.run(c).result().get_statevector()
        best = min(best, time.perf_counter() - t0)
    return best, z0(state.data)


def run_qulacs(path, n, threads):
    from qiskit import QuantumCircuit
    from qulacs import QuantumState
    from qulacs.circuit import QuantumCircuitOptimizer
    from qulacs.converter import convert_QASM_to_qulacs_circuit

    qc = QuantumCircuit.from_qasm_file(path)
    from qiskit import qasm2, transpile

    qc = transpile(qc, basis_gates=["u3", "cx", "h", "rz"], optimization_level=0)
    circuit = convert_QASM_to_qulacs_circuit(qasm2.dumps(qc).splitlines())
    QuantumCircuitOptimizer().optimize(circuit, 2)
    best = float("inf")
    for _ in range(REPEAT):
        state = QuantumState(n)
        t0 = time.perf_counter()
        circuit.update_quantum_state(state)
        best = min(best, time.perf_counter() - t0)
    return best, z0(state.get_vector())


def child(args):
    global REPEAT
    REPEAT = args.repeat
    tool, family, n, threads = args.child.split(":")
    n, threads = int(n), int(threads)
    path = write(family, n)
    if tool.startswith("qsim"):
        result = run_qsim(path, n, threads, int(tool[4:]))
    elif tool == "aer":
        result = run_aer(path, n, threads)
    elif tool == "qulacs":
        result = run_qulacs(path, n, threads)
    else:
        raise ValueError(tool)
    print(json.dumps(result))


def measure(tool, family, n, threads, extra):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), RAYON_NUM_THREADS=str(threads))
    if tool.startswith("qloop"):
        path = write(family, n)
        before = os.environ.get("RAYON_NUM_THREADS")
        os.environ["RAYON_NUM_THREADS"] = str(threads)
        try:
            return run_qloop(path, n, threads, extra)
        finally:
            if before is None:
                del os.environ["RAYON_NUM_THREADS"]
            else:
                os.environ["RAYON_NUM_THREADS"] = before
    out = subprocess.run(
        [sys.executable, __file__, "--child", f"{tool}:{family}:{n}:{threads}", "--repeat", str(REPEAT)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return tuple(json.loads(out.strip().splitlines()[-1]))


def gate_count(path):
    with open(path) as f:
        body = [line for line in f if line.strip() and not line.startswith(("OPENQASM", "include", "qreg", "creg", "gate", "}"))]
    return len(body)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--child")
    p.add_argument("--sizes", default="20,24")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--families", default=",".join(FAMILIES))
    p.add_argument("--peers", default="qsim,aer,qulacs")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="peers: simulate calls per measurement, best kept; with more than 1, qloop is "
        "also timed in process (best of 3, examples/fusion_stats)",
    )
    args = p.parse_args()
    if args.child:
        return child(args)
    global REPEAT
    REPEAT = args.repeat
    peers = args.peers.split(",") if args.peers else []
    rows = []
    for family in args.families.split(","):
        for n in map(int, args.sizes.split(",")):
            path = write(family, n)
            for threads in map(int, args.threads.split(",")):
                t_ref, z_ref = measure("qloop", family, n, threads, [])
                t_single, z_single = measure("qloop", family, n, threads, ["--precision", "single"])
                assert abs(z_single - z_ref) < 1e-5, ("qloop single", z_single, z_ref)
                row = {"family": family, "n": n, "threads": threads, "gates": gate_count(path), "qloop": t_ref, "qloop f32": t_single}
                if REPEAT > 1:
                    env_threads = os.environ.get("RAYON_NUM_THREADS")
                    os.environ["RAYON_NUM_THREADS"] = str(threads)
                    row["qloop in process"], row["qloop f32 in process"] = run_qloop_in_process(path)
                    if env_threads is None:
                        del os.environ["RAYON_NUM_THREADS"]
                    else:
                        os.environ["RAYON_NUM_THREADS"] = env_threads
                if "qsim" in peers:
                    best = None
                    for fused in (2, 3, 4):
                        t, z = measure(f"qsim{fused}", family, n, threads, [])
                        assert abs(z - z_ref) < 1e-4, ("qsim", fused, z, z_ref)
                        if best is None or t < best[0]:
                            best = (t, fused)
                    row["qsim"], row["qsim fused"] = best
                for peer in ("aer", "qulacs"):
                    if peer in peers:
                        t, z = measure(peer, family, n, threads, [])
                        assert abs(z - z_ref) < 1e-9, (peer, z, z_ref)
                        row[peer] = t
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    ours = ["qloop", "qloop f32"] + (["qloop in process", "qloop f32 in process"] if REPEAT > 1 else [])
    cols = ours + [c for c in ("qsim", "aer", "qulacs") if c in peers]
    where = " in process" if REPEAT > 1 else ""
    print("| circuit | n | threads | gates | " + " | ".join(cols) + f" | f64{where} / qsim | f32{where} / qsim |")
    print("| --- " * (6 + len(cols)) + "|")
    for r in rows:
        cells = [f"{r[c]:.3f} s" + (f" (f={r['qsim fused']})" if c == "qsim" else "") for c in cols]
        double = r.get("qloop in process", r["qloop"])
        single = r.get("qloop f32 in process", r["qloop f32"])
        ratios = [f"{t / r['qsim']:.2f}" if "qsim" in r else "-" for t in (double, single)]
        print(f"| {r['family']} | {r['n']} | {r['threads']} | {r['gates']} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
