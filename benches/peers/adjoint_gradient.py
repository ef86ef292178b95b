"""pennylane-lightning's adjoint gradient of the circuit of `benches/gradient.rs`: 12 qubits,
20 layers of RY and RZ on every qubit and a CNOT chain (480 weights), H = -sum Z_q Z_{q+1} -
sum X_q, weights 0.1 + 0.37 k in qloop's order (layer, qubit, RY then RZ). One thread
(OMP_NUM_THREADS=1). Prints the energy, |grad|^2 (to compare with the bench's line) and the
best time of several gradient calls.

    OMP_NUM_THREADS=1 python3 benches/peers/adjoint_gradient.py
"""
import time

import numpy as np
import pennylane as qml

N, LAYERS = 12, 20
dev = qml.device("lightning.qubit", wires=N)
# qloop's qubit 0 is the least-significant bit; pennylane's wire 0 is the most significant,
# which only relabels wires here: the energy and gradient do not depend on it.
H = qml.Hamiltonian(
    [-1.0] * (N - 1) + [-1.0] * N,
    [qml.PauliZ(q) @ qml.PauliZ(q + 1) for q in range(N - 1)] + [qml.PauliX(q) for q in range(N)],
)


@qml.qnode(dev, diff_method="adjoint")
def energy(w):
    k = 0
    for _ in range(LAYERS):
        for q in range(N):
            qml.RY(w[k], wires=q)
            qml.RZ(w[k + 1], wires=q)
            k += 2
        for q in range(N - 1):
            qml.CNOT(wires=[q, q + 1])
    return qml.expval(H)


w = qml.numpy.array(0.1 + 0.37 * np.arange(2 * N * LAYERS), requires_grad=True)
grad = qml.grad(energy)
g = grad(w)
print(f"E = {float(energy(w)):.12f}, |grad E|^2 = {float(np.sum(g * g)):.12f}")
best = float("inf")
for _ in range(7):
    t = time.perf_counter()
    grad(w)
    best = min(best, time.perf_counter() - t)
print(f"pennylane-lightning adjoint gradient: {best * 1e3:.2f} ms (best of 7, 1 thread)")
