"""Cross-check of qloop's noise channels against qiskit-aer's (outside `cargo test`).

    cargo run --release --example noise_channels > /tmp/qloop_noise.json
    python3 benches/peers/noise_crosscheck.py /tmp/qloop_noise.json

Builds the same channels with qiskit_aer.noise, applies them to the same input states with
qiskit.quantum_info.DensityMatrix, and prints the largest entry-wise difference per record.
"""
import json
import sys

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix
from qiskit_aer.noise import (
    amplitude_damping_error,
    depolarizing_error,
    pauli_error,
    phase_damping_error,
    thermal_relaxation_error,
)

ONE_QUBIT = {
    "depolarizing": depolarizing_error(0.3, 1),
    "amplitude_damping": amplitude_damping_error(0.2),
    "phase_damping": phase_damping_error(0.7),
    "pauli": pauli_error([("X", 0.1), ("Y", 0.2), ("Z", 0.3), ("I", 0.4)]),
    "thermal_t2_below_t1": thermal_relaxation_error(50.0, 30.0, 7.0),
    "thermal_t2_above_t1": thermal_relaxation_error(50.0, 90.0, 7.0),
}


def prepared(k):
    qc = QuantumCircuit(1)
    if k == 1:
        qc.x(0)
    elif k == 2:
        qc.ry(1.1, 0)
        qc.rz(0.4, 0)
    return DensityMatrix(qc)


def reference(rec):
    if rec["channel"] in ONE_QUBIT:
        rho = prepared(rec["input"])
        return rho.evolve(ONE_QUBIT[rec["channel"]].to_quantumchannel())
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.ry(0.3, 1)
    qc.rz(0.9, 0)
    rho = DensityMatrix(qc)
    rho = rho.evolve(depolarizing_error(0.15, 2).to_quantumchannel(), [0, 1])
    return rho.evolve(amplitude_damping_error(0.25).to_quantumchannel(), [1])


def main(path):
    worst = 0.0
    for rec in json.load(open(path)):
        ours = np.array([complex(re, im) for re, im in rec["rho"]])
        theirs = reference(rec).data.reshape(-1)
        diff = float(np.max(np.abs(ours - theirs)))
        worst = max(worst, diff)
        print(f"{rec['channel']:42s} input {rec['input']}: max |Δρ| = {diff:.2e}")
    print(f"worst: {worst:.2e}")
    sys.exit(0 if worst < 1e-12 else 1)


if __name__ == "__main__":
    main(sys.argv[1])
