#!/usr/bin/env python3
"""Circuits of 18-23 qubits for the cache-blocking planner (`examples/plan_passes`), written
with Qiskit to target/planner-circuits/ (fixed seeds): quantum volume (depth 10) and
random_circuit (depth 30 with 2-qubit gates, depth 20 with 3-qubit gates) for two seeds each,
the QFT, EfficientSU2 (4 repetitions; full, circular and linear entanglement) and
RealAmplitudes (6 repetitions, reverse-linear), at 18, 20 and 23 qubits; 33 files.

    pip install qiskit numpy
    python3 benches/peers/planner_circuits.py
    cargo run --release --example plan_passes -- target/planner-circuits/*.qasm \\
        target/peers-circuits/*.qasm
"""

import os

import numpy as np
from qiskit import qasm2, transpile
from qiskit.circuit.library import QFT, EfficientSU2, QuantumVolume, RealAmplitudes
from qiskit.circuit.random import random_circuit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "target", "planner-circuits")


def bound(ansatz, n):
    rng = np.random.default_rng(n)
    return ansatz.assign_parameters(rng.uniform(0.0, 6.0, ansatz.num_parameters))


def circuits():
    def lower(c, basis=("u", "cx"), seed=None):
        return transpile(c, basis_gates=list(basis), optimization_level=0, seed_transpiler=seed)

    for n in (18, 20, 23):
        for seed in (1, 2):
            yield f"qv{n}s{seed}", lower(QuantumVolume(n, depth=10, seed=seed), seed=seed)
            c = random_circuit(n, depth=30, max_operands=2, seed=seed)
            c.remove_final_measurements()
            yield f"rand{n}s{seed}", lower(c, seed=seed)
            c = random_circuit(n, depth=20, max_operands=3, seed=seed + 10)
            c.remove_final_measurements()
            yield f"rand3_{n}s{seed}", lower(c, seed=seed)
        yield f"qft{n}", lower(QFT(n, do_swaps=True), basis=("h", "cp", "swap"))
        for entanglement in ("full", "circular", "linear"):
            ansatz = EfficientSU2(n, reps=4, entanglement=entanglement)
            yield f"esu2_{entanglement}{n}", lower(bound(ansatz, n))
        ansatz = RealAmplitudes(n, reps=6, entanglement="reverse_linear")
        yield f"ra{n}", lower(bound(ansatz, n), basis=("u", "cx", "ry"))


def main():
    os.makedirs(OUT, exist_ok=True)
    count = 0
    for name, circuit in circuits():
        path = os.path.join(OUT, f"{name}.qasm")
        with open(path + ".tmp", "w") as f:
            f.write(qasm2.dumps(circuit))
        os.replace(path + ".tmp", path)
        count += 1
    print(f"{count} circuits in {OUT}")


if __name__ == "__main__":
    main()
