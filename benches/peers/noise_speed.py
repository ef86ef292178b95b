"""Noisy and dynamic circuits, qloop against qiskit-aer, side by side in one run.

    cargo build --release
    python3 benches/peers/noise_speed.py [--quick]

Three workloads (issue: "Beyond unitary circuits"):
  dm     10 qubits, 200 gates (RX/RY/RZ layers and CX ladders), depolarizing after every gate
         (p = 0.001 one-qubit, 0.01 two-qubit): qloop --method density vs Aer density_matrix;
  traj   the same kind of circuit on 16 qubits, 1000 shots: qloop --method trajectories vs
         Aer statevector with the same noise model;
  dyn    12 qubits, 8 layers of RY + CX ladder + a mid-circuit measurement of every qubit,
         1000 shots, no noise: qloop (trajectories, chosen by auto) vs Aer statevector.

Each side runs the same OpenQASM file and the same noise model, written here to a temporary
folder; qloop runs as the `qloop run` command (its time includes starting the process and
parsing), Aer as AerSimulator.run on the parsed circuit (transpiled once, outside the timing).
Times are the best of `--repeat` runs (default 3). Every run's counts are checked to be
plausible (total = shots).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

from qiskit import QuantumCircuit, transpile
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, depolarizing_error

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QLOOP = os.path.join(ROOT, "target", "release", "qloop")
P1, P2 = 0.001, 0.01
ONE = ["rx", "ry", "rz"]


def layered(n, gates, seed):
    """RX/RY/RZ on every qubit, then a CX ladder, repeated until `gates` gates."""
    rng = random.Random(seed)
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{n}];", f"creg c[{n}];"]
    count = 0
    while count < gates:
        for q in range(n):
            if count == gates:
                break
            lines.append(f"{rng.choice(ONE)}({rng.uniform(-3, 3)!r}) q[{q}];")
            count += 1
        for q in range(n - 1):
            if count == gates:
                break
            lines.append(f"cx q[{q}],q[{q + 1}];")
            count += 1
    lines.append("measure q -> c;")
    return "\n".join(lines) + "\n"


def dynamic(n, layers, seed):
    rng = random.Random(seed)
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{n}];", f"creg c[{n}];"]
    for _ in range(layers):
        for q in range(n):
            lines.append(f"ry({rng.uniform(0.2, 1.2)!r}) q[{q}];")
        for q in range(n - 1):
            lines.append(f"cx q[{q}],q[{q + 1}];")
        lines.append("measure q -> c;")
    return "\n".join(lines) + "\n"


NOISE_TOML = f"""
[[gate_error]]
gates = ["cx"]
channel = "depolarizing"
num_qubits = 2
p = {P2}

[[gate_error]]
gates = {json.dumps(ONE)}
channel = "depolarizing"
p = {P1}
"""


def aer_noise():
    m = NoiseModel()
    m.add_all_qubit_quantum_error(depolarizing_error(P2, 2), ["cx"])
    m.add_all_qubit_quantum_error(depolarizing_error(P1, 1), ONE)
    return m


def best(f, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def qloop_run(path, noise, method, shots):
    cmd = [QLOOP, "run", path, "--shots", str(shots), "--seed", "1", "--json", "--method", method]
    if noise:
        cmd += ["--noise", noise]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    counts = json.loads(out)["counts"]
    assert sum(counts.values()) == shots, out
    return counts


def aer_run(qc, method, noise, shots, threads):
    sim = AerSimulator(method=method, noise_model=noise, max_parallel_threads=threads)
    tqc = transpile(qc, sim, optimization_level=0)

    def go():
        counts = sim.run(tqc, shots=shots, seed_simulator=1).result().get_counts()
        assert sum(counts.values()) == shots

    return go


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    args = ap.parse_args()
    threads = os.cpu_count()
    work = tempfile.mkdtemp(prefix="qloop-noise-")
    noise_path = os.path.join(work, "noise.toml")
    with open(noise_path, "w") as f:
        f.write(NOISE_TOML)
    scale = 0.5 if args.quick else 1.0
    cases = [
        ("dm", layered(int(10 * scale) or 2, 200, 1), "density", "density_matrix", True, 1000),
        ("traj", layered(int(16 * scale), 200, 2), "trajectories", "statevector", True, 1000),
        ("dyn", dynamic(int(12 * scale), 8, 3), "auto", "statevector", False, 1000),
    ]
    print(f"machine: {os.uname().machine}, {threads} threads; qiskit-aer "
          f"{__import__('qiskit_aer').__version__}; best of {args.repeat}")
    print(f"{'workload':<8} {'qloop (s)':>10} {'aer (s)':>10} {'ratio':>7}")
    rows = []
    for name, text, method, aer_method, noisy, shots in cases:
        path = os.path.join(work, f"{name}.qasm")
        with open(path, "w") as f:
            f.write(text)
        qc = QuantumCircuit.from_qasm_str(text)
        ours = best(lambda: qloop_run(path, noise_path if noisy else None, method, shots), args.repeat)
        theirs = best(aer_run(qc, aer_method, aer_noise() if noisy else None, shots, threads), args.repeat)
        rows.append({"workload": name, "qloop_s": ours, "aer_s": theirs, "ratio": ours / theirs})
        print(f"{name:<8} {ours:>10.4f} {theirs:>10.4f} {ours / theirs:>7.3f}")
    json.dump(rows, sys.stderr)
    sys.stderr.write("\n")


if __name__ == "__main__":
    main()
