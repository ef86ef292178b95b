"""Cross-check of qloop's dynamic and noisy circuits against qiskit-aer (outside `cargo test`).

    cargo build --release
    python3 benches/peers/dynamic_crosscheck.py

For each case the same OpenQASM file and the same noise model (TOML for qloop, built with
qiskit_aer.noise for Aer) go to both:
  * counts: `qloop run --method density` and `--method trajectories` against Aer's
    density_matrix method, N shots each; the total-variation distance between the two
    histograms must stay below 3·sqrt(K/N) (K outcomes), the scale of two independent
    samples of one distribution;
  * expectation values: `qloop expect --method density` (exact) against Aer's
    save_expectation_value on the density_matrix method; the difference must be below 1e-9.
Cases: the bundled teleportation and syndrome circuits (noiseless and noisy, with readout
error on every measurement, mid-circuit ones included) and random noisy circuits mixing
depolarizing (1 and 2 qubits), amplitude damping, phase damping, Pauli and thermal
relaxation. Exits non-zero on any failure.
"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile

from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator
from qiskit_aer.noise import (
    NoiseModel,
    ReadoutError,
    amplitude_damping_error,
    depolarizing_error,
    pauli_error,
    phase_damping_error,
    thermal_relaxation_error,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QLOOP = os.path.join(ROOT, "target", "release", "qloop")
SHOTS = 200_000

# One noise model in both forms.
TOML = """
[[gate_error]]
gates = ["cx"]
channel = "depolarizing"
num_qubits = 2
p = 0.03

[[gate_error]]
gates = ["h", "x", "z"]
channel = "amplitude_damping"
gamma = 0.02

[[gate_error]]
gates = ["rx", "ry"]
channel = "thermal_relaxation"
t1 = 50.0
t2 = 40.0
time = 3.0

[[gate_error]]
gates = ["rz"]
channel = "pauli"
px = 0.01
py = 0.02
pz = 0.03

[[gate_error]]
gates = ["h"]
channel = "phase_damping"
lambda = 0.05

[[gate_error]]
gates = ["ry"]
channel = "depolarizing"
p = 0.01

[readout_error]
p1_given_0 = 0.02
p0_given_1 = 0.06
"""


def aer_model(readout=True):
    m = NoiseModel()
    m.add_all_qubit_quantum_error(depolarizing_error(0.03, 2), ["cx"])
    # Several errors on one gate compose in the order added, as qloop applies file order.
    m.add_all_qubit_quantum_error(amplitude_damping_error(0.02), ["h", "x", "z"])
    m.add_all_qubit_quantum_error(thermal_relaxation_error(50.0, 40.0, 3.0), ["rx", "ry"])
    m.add_all_qubit_quantum_error(
        pauli_error([("X", 0.01), ("Y", 0.02), ("Z", 0.03), ("I", 0.94)]), ["rz"]
    )
    m.add_all_qubit_quantum_error(phase_damping_error(0.05), ["h"])
    m.add_all_qubit_quantum_error(depolarizing_error(0.01, 1), ["ry"])
    if readout:
        m.add_all_qubit_readout_error(ReadoutError([[0.98, 0.02], [0.06, 0.94]]))
    return m


def random_circuit(n, depth, seed, measure):
    rng = random.Random(seed)
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{n}];"]
    if measure:
        lines.append(f"creg c[{n}];")
    for _ in range(depth):
        g = rng.choice(["h", "x", "z", "rx", "ry", "rz", "cx"])
        if g == "cx":
            a, b = rng.sample(range(n), 2)
            lines.append(f"cx q[{a}],q[{b}];")
        elif g in ("rx", "ry", "rz"):
            lines.append(f"{g}({rng.uniform(-3, 3)!r}) q[{rng.randrange(n)}];")
        else:
            lines.append(f"{g} q[{rng.randrange(n)}];")
    if measure:
        lines.append("measure q -> c;")
    return "\n".join(lines) + "\n"


def qloop_counts(path, noise, method):
    cmd = [QLOOP, "run", path, "--shots", str(SHOTS), "--seed", "5", "--json", "--method", method]
    if noise:
        cmd += ["--noise", noise]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)["counts"]


def aer_counts(qc, noisy):
    sim = AerSimulator(method="density_matrix", noise_model=aer_model() if noisy else None)
    counts = sim.run(qc, shots=SHOTS, seed_simulator=7).result().get_counts()
    # Aer separates registers with spaces; qloop writes one string, bit 0 rightmost.
    return {k.replace(" ", ""): v for k, v in counts.items()}


def total_variation(a, b):
    keys = set(a) | set(b)
    return 0.5 * sum(abs(a.get(k, 0) / SHOTS - b.get(k, 0) / SHOTS) for k in keys), len(keys)


def main():
    work = tempfile.mkdtemp(prefix="qloop-dyn-")
    noise_path = os.path.join(work, "noise.toml")
    with open(noise_path, "w") as f:
        f.write(TOML)
    failures = 0
    cases = [
        ("teleport", open(os.path.join(ROOT, "circuits", "teleport.qasm")).read()),
        ("syndrome3", open(os.path.join(ROOT, "circuits", "syndrome3.qasm")).read()),
    ] + [(f"random{s}", random_circuit(4, 40, s, True)) for s in range(3)]
    print(f"counts: {SHOTS} shots per side; bound 3*sqrt(K/N)")
    for name, text in cases:
        path = os.path.join(work, f"{name}.qasm")
        with open(path, "w") as f:
            f.write(text)
        qc = QuantumCircuit.from_qasm_str(text)
        for noisy in (False, True):
            theirs = aer_counts(qc, noisy)
            for method in ("density", "trajectories"):
                ours = qloop_counts(path, noise_path if noisy else None, method)
                tv, k = total_variation(ours, theirs)
                bound = 3 * math.sqrt(k / SHOTS)
                ok = tv < bound
                failures += not ok
                print(f"  {name:<10} noise={'yes' if noisy else 'no ':<3} {method:<12} "
                      f"TV {tv:.4f} (K={k}, bound {bound:.4f}) {'ok' if ok else 'FAIL'}")
    print("expectation values: qloop density (exact) vs Aer density_matrix")
    worst = 0.0
    for s in range(6):
        text = random_circuit(4, 50, 100 + s, False)
        path = os.path.join(work, f"exp{s}.qasm")
        with open(path, "w") as f:
            f.write(text)
        letters = random.Random(s)
        label = "".join(letters.choice("IXYZ") for _ in range(4))
        label = label if label != "IIII" else "ZIZI"
        out = subprocess.run(
            [QLOOP, "expect", path, "--observable", label, "--noise", noise_path,
             "--method", "density", "--json"],
            check=True, capture_output=True, text=True).stdout
        ours = json.loads(out)["value"]
        qc = QuantumCircuit.from_qasm_str(text)
        qc.save_expectation_value(SparsePauliOp(label), range(4))
        sim = AerSimulator(method="density_matrix", noise_model=aer_model(readout=False))
        theirs = sim.run(qc).result().data()["expectation_value"]
        d = abs(ours - theirs)
        worst = max(worst, d)
        ok = d < 1e-9
        failures += not ok
        print(f"  exp{s} <{label}>  qloop {ours:+.12f}  aer {theirs:+.12f}  |Δ| {d:.1e} "
              f"{'ok' if ok else 'FAIL'}")
    print(f"worst |Δ⟨H⟩| = {worst:.1e}; {failures} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
