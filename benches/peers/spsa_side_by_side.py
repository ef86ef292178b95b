"""Qiskit's SPSA and QN-SPSA (qiskit-algorithms) against `qloop minimize` (Rotosolve, its default;
SPSA; QN-SPSA) on TFIM-4 with the
ansatz of `circuits/hea4.json`, the same random starts and the same evaluation budgets.

Every start is uniform in [-pi, pi)^16 from numpy's `default_rng(1000 + k)`; qloop reads it
with `--init` and seeds its own perturbations with `--seed k`. Qiskit runs with its defaults
(calibrated gains: 50 loss evaluations, then two per SPSA iteration; QN-SPSA also blocks, so
two losses, four fidelities and one blocking loss per iteration) on exact statevector energies and exact fidelities, which
is what qloop computes; iterations are chosen so that Qiskit's evaluation count matches the
budget (651 and 2,051 for SPSA: 300 and 1,000 iterations). Prints one table: the median final
exact energy over the starts, the median evaluations used and the total wall time of each
(qloop timed as whole processes, start-up included; Qiskit around its `minimize` call).

    cargo build --release
    pip install qiskit qiskit-algorithms
    python3 benches/peers/spsa_side_by_side.py [--starts 40] [--budgets 651,2051]
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp, Statevector
from qiskit_algorithms.optimizers import QNSPSA, SPSA

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QLOOP = os.path.join(ROOT, "target", "release", "qloop")
CIRCUIT = os.path.join(ROOT, "circuits", "hea4.json")
OBSERVABLE = "-1*Z0*Z1 + -1*Z1*Z2 + -1*Z2*Z3 + -1*X0 + -1*X1 + -1*X2 + -1*X3"
EXACT = -4.758770483143634


def load_ansatz(path):
    """The qloop JSON circuit as a Qiskit circuit with one Parameter per weight (qubit 0 is the
    least-significant bit in both). Supports the gates hea4 uses: rx, ry, rz and cx."""
    spec = json.load(open(path))
    qc = QuantumCircuit(spec["num_qubits"])
    params = {}
    for ins in spec["instructions"]:
        gate, qubits = ins["gate"], ins["qubits"]
        if gate == "cx":
            qc.cx(*qubits)
            continue
        (name, angle), = gate.items()
        expr = angle["constant"]
        for term in angle["terms"]:
            p = params.setdefault(term["name"], Parameter(term["name"]))
            expr = expr + term["coeff"] * p
        getattr(qc, name)(expr, *qubits)
    return qc


def hamiltonian(n):
    terms = []
    for q in range(n - 1):
        label = ["I"] * n
        label[n - 1 - q] = label[n - 2 - q] = "Z"
        terms.append(("".join(label), -1.0))
    for q in range(n):
        label = ["I"] * n
        label[n - 1 - q] = "X"
        terms.append(("".join(label), -1.0))
    return SparsePauliOp.from_list(terms)


def weight_order():
    info = subprocess.run([QLOOP, "info", CIRCUIT], capture_output=True, text=True, check=True)
    line = next(l for l in info.stdout.splitlines() if l.startswith("weights:"))
    return [w.strip() for w in line.split(":", 1)[1].split(",")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--starts", type=int, default=40)
    ap.add_argument("--budgets", default="651,2051")
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]

    qc = load_ansatz(CIRCUIT)
    names = weight_order()
    by_name = {p.name: p for p in qc.parameters}
    order = [by_name[n] for n in names]
    h = hamiltonian(qc.num_qubits)

    def state(x):
        return Statevector(qc.assign_parameters(dict(zip(order, x))))

    def energy(x):
        return float(np.real(state(x).expectation_value(h)))

    # Every loss and fidelity a Qiskit optimizer asks for, counted as one circuit evaluation
    # each, as on hardware (and as qloop counts them).
    count = [0]

    def counted_fidelity(x, y):
        count[0] += 1
        return float(abs(np.vdot(state(x).data, state(y).data)) ** 2)

    # Check that both sides build the same energy function.
    x = np.linspace(-1, 1, len(order))
    binds = [a for n, v in zip(names, x) for a in ("--bind", f"{n}={float(v)!r}")]
    out = subprocess.run([QLOOP, "expect", CIRCUIT, *binds, "--observable", OBSERVABLE,
                          "--json"], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)["value"]
    assert abs(got - energy(x)) < 1e-10, (got, energy(x))
    init = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False).name

    starts = [np.random.default_rng(1000 + k).uniform(-np.pi, np.pi, len(order))
              for k in range(args.starts)]
    rows = []
    for budget in budgets:
        runs = {
            "qiskit SPSA": ("qiskit", lambda: SPSA(maxiter=(budget - 51) // 2)),
            # QN-SPSA blocks by default: 50 calibration losses, 1 + 25 for the noise level,
            # then 2 losses, 4 fidelities and 1 blocking loss per iteration, 1 at the end.
            "qiskit QN-SPSA": ("qiskit", lambda: QNSPSA(counted_fidelity,
                                                        maxiter=(budget - 77) // 7)),
            "qloop rotosolve (default)": ("qloop", "rotosolve"),
            "qloop spsa": ("qloop", "spsa"),
            "qloop qnspsa": ("qloop", "qnspsa"),
        }
        for label, (kind, what) in runs.items():
            energies, evals, wall = [], [], 0.0
            for k, x0 in enumerate(starts):
                if kind == "qiskit":
                    opt = what()
                    count[0] = 0

                    def counted(x):
                        count[0] += 1
                        return energy(x)

                    t = time.perf_counter()
                    res = opt.minimize(counted, x0)
                    wall += time.perf_counter() - t
                    energies.append(energy(res.x))
                    evals.append(count[0])
                else:
                    with open(init, "w") as f:
                        f.write(" ".join(repr(float(v)) for v in x0))
                    t = time.perf_counter()
                    out = subprocess.run(
                        [QLOOP, "minimize", CIRCUIT, "--observable", OBSERVABLE,
                         "--optimizer", what, "--init", init, "--seed", str(k),
                         "--max-evals", str(budget), "--json"],
                        capture_output=True, text=True, check=True)
                    wall += time.perf_counter() - t
                    r = json.loads(out.stdout)
                    energies.append(r["energy"])
                    evals.append(r["evaluations"])
            rows.append((budget, label, float(np.median(energies)), int(np.median(evals)), wall))
            print(f"{budget:6d}  {label:26s}  median E {np.median(energies):+.4f}  "
                  f"median evaluations {int(np.median(evals)):5d}  wall {wall:7.2f} s", flush=True)
    os.unlink(init)
    print()
    print(f"| budget | optimizer | median energy ({args.starts} starts; exact {EXACT:.5f}) "
          "| median evaluations | total wall time |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for budget, label, e, n, wall in rows:
        print(f"| {budget} | {label} | {e:.4f} | {n} | {wall:.2f} s |")


if __name__ == "__main__":
    main()
