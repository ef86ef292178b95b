#!/usr/bin/env python3
"""Independent cross-check of qloop against Qiskit (run outside `cargo test`).

    python3 -m venv .venv && .venv/bin/pip install qiskit
    cargo build --release
    .venv/bin/python tests/crosscheck/qiskit_crosscheck.py

Checks, for every bundled OpenQASM circuit and for random circuits over the whole gate set:
state vectors (`qloop state` vs Qiskit's Statevector, global phase included), Pauli-sum
expectation values (`qloop expect` vs SparsePauliOp), the classical-bit order of counts keys,
and that the OpenQASM qloop exports is read by Qiskit into the same operator.
"""
import glob
import json
import math
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
from qiskit import qasm2
from qiskit.quantum_info import Operator, SparsePauliOp, Statevector

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QLOOP = os.path.join(ROOT, "target", "release", "qloop")
TOL = 1e-12

GATES = [  # name, number of parameters, number of qubits
    ("id", 0, 1), ("h", 0, 1), ("x", 0, 1), ("y", 0, 1), ("z", 0, 1), ("s", 0, 1), ("sdg", 0, 1),
    ("t", 0, 1), ("tdg", 0, 1), ("sx", 0, 1), ("sxdg", 0, 1), ("rx", 1, 1), ("ry", 1, 1),
    ("rz", 1, 1), ("p", 1, 1), ("u", 3, 1), ("u1", 1, 1), ("u2", 2, 1), ("u3", 3, 1),
    ("cx", 0, 2), ("cy", 0, 2), ("cz", 0, 2), ("ch", 0, 2), ("swap", 0, 2), ("crx", 1, 2),
    ("cry", 1, 2), ("crz", 1, 2), ("cp", 1, 2), ("cu1", 1, 2), ("cu3", 3, 2), ("cu", 4, 2),
    ("csx", 0, 2), ("rxx", 1, 2), ("rzz", 1, 2), ("ccx", 0, 3), ("cswap", 0, 3),
]


def qloop(*args):
    out = subprocess.run([QLOOP, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"qloop {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def qiskit_circuit(text):
    return qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)


def qloop_state(path):
    data = json.loads(qloop("state", path))
    return np.array([complex(re, im) for re, im in data["amplitudes"]])


def random_qasm(rng, n, size):
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{n}];"]
    for _ in range(size):
        name, k, m = rng.choice([g for g in GATES if g[2] <= n])
        qubits = rng.sample(range(n), m)
        angles = [rng.choice([0.0, math.pi, -math.pi / 2, 2 * math.pi, 1e-9, rng.uniform(-7, 7)]) for _ in range(k)]
        args = f"({','.join(repr(a) for a in angles)})" if k else ""
        lines.append(f"{name}{args} {','.join(f'q[{q}]' for q in qubits)};")
    return "\n".join(lines) + "\n"


def main():
    rng = random.Random(2026)
    failures = 0
    checked = 0
    tmp = tempfile.mkdtemp()
    files = sorted(glob.glob(os.path.join(ROOT, "circuits", "*.qasm")))
    for k in range(150):
        path = os.path.join(tmp, f"random{k}.qasm")
        with open(path, "w") as f:
            f.write(random_qasm(rng, rng.randint(1, 5), rng.randint(1, 30)))
        files.append(path)
    for path in files:
        text = open(path).read()
        qc = qiskit_circuit(text)
        qc.remove_final_measurements()
        expected = Statevector(qc).data
        actual = qloop_state(path)
        diff = np.max(np.abs(actual - expected))
        # Exported QASM must be read by Qiskit as the same operator (global phase included).
        exported = qloop("convert", path, "--to", "qasm")
        qe = qiskit_circuit(exported)
        qe.remove_final_measurements()
        op_diff = np.max(np.abs(Operator(qe).data - Operator(qc).data))
        # A random Pauli sum in Qiskit's label order.
        n = qc.num_qubits
        terms = [("".join(rng.choice("IXYZ") for _ in range(n)), rng.uniform(-1, 1)) for _ in range(4)]
        obs = " + ".join(f"{c!r}*{label}" for label, c in terms)
        value = json.loads(qloop("expect", path, "--observable", obs, "--json"))["value"]
        exp_diff = abs(value - Statevector(qc).expectation_value(SparsePauliOp.from_list(terms)).real)
        checked += 1
        if diff > TOL or op_diff > TOL or exp_diff > TOL:
            failures += 1
            print(f"MISMATCH {os.path.basename(path)}: state {diff:.2e}, exported operator {op_diff:.2e}, expectation {exp_diff:.2e}")
    # Counts keys: classical bit 0 rightmost, registers in declaration order.
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg a[2];\ncreg b[1];\nx q[0];\nx q[2];\nmeasure q[0] -> b[0];\nmeasure q[1] -> a[0];\nmeasure q[2] -> a[1];\n'
    path = os.path.join(tmp, "keys.qasm")
    open(path, "w").write(text)
    counts = json.loads(qloop("run", path, "--shots", "8", "--seed", "1", "--json"))["counts"]
    from qiskit.primitives import StatevectorSampler
    result = StatevectorSampler(seed=1).run([qiskit_circuit(text)], shots=8).result()[0]
    qiskit_key = result.join_data().get_bitstrings()[0]
    checked += 1
    if list(counts) != [qiskit_key]:
        failures += 1
        print(f"MISMATCH counts keys: qloop {list(counts)} vs qiskit {qiskit_key}")
    print(f"{checked - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
