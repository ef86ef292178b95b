#!/usr/bin/env python3
"""Same SPSA training of the same hybrid model in qloop and in PennyLane, side by side.

Model (qloop's `train` default with exact readout): Iris (all 150 samples, features min-max
scaled onto [0, pi]), 4 qubits, 2 layers of [RY(x_q), H, CNOT chain, RZ(theta), H], exact <Z_q>,
dense 4 -> 8 -> 3 (tanh, softmax), cross-entropy on minibatches of 32, plain SPSA (one
resampling, no blocking, A = 0, alpha = 0.602, gamma = 0.101) with the gains qloop calibrated,
300 iterations. qloop runs through its CLI; PennyLane (default.qubit, parameter broadcasting
over the minibatch) runs the same update rule in NumPy. Prints both wall times and both final
full-data losses. Random streams differ, so the losses agree statistically, not bit for bit.

Usage (from the repository root):
    python3 -m venv benches/peers/.venv && benches/peers/.venv/bin/pip install pennylane
    benches/peers/.venv/bin/python benches/peers/train_side_by_side.py
"""
import json
import pathlib
import re
import subprocess
import tempfile
import time

import numpy as np
import pennylane as qml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ITERATIONS, BATCH, LAYERS, HIDDEN, SEED = 300, 32, 2, 8, 7
CONFIG = f"""seed = {SEED}
[data]
dataset = "iris"
test_fraction = 0.0
[model]
layers = {LAYERS}
shots = 0
hidden = [{HIDDEN}]
[train]
iterations = {ITERATIONS}
batch = {BATCH}
resamplings = 1
blocking = false
"""


def run_qloop(out):
    cfg = out / "side.toml"
    cfg.write_text(CONFIG)
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    start = time.perf_counter()
    text = subprocess.run([str(ROOT / "target/release/qloop"), "train", "--config", str(cfg), "--out", str(out / "run")],
                          cwd=ROOT, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    model = json.loads((out / "run/model.json").read_text())
    return wall, model["metrics"]["train_loss"], model["gains"], text


def load_iris():
    rows = [l.split(",") for l in (ROOT / "src/train/iris.csv").read_text().splitlines()[1:] if l.strip()]
    x = np.array([[float(v) for v in r[:4]] for r in rows])
    names = sorted(set(r[4] for r in rows), key=[r[4] for r in rows].index)
    y = np.eye(3)[[names.index(r[4]) for r in rows]]
    lo, hi = x.min(0), x.max(0)
    return (x - lo) / (hi - lo) * np.pi, y


def pennylane_training(x, y, gains):
    dev = qml.device("default.qubit", wires=4)

    @qml.qnode(dev)
    def circuit(xb, theta):
        for l in range(LAYERS):
            for q in range(4):
                qml.RY(xb[:, q], wires=q)
            for q in range(4):
                qml.Hadamard(wires=q)
            for q in range(3):
                qml.CNOT(wires=[q, q + 1])
            for q in range(4):
                qml.RZ(theta[4 * l + q], wires=q)
                qml.Hadamard(wires=q)
        return [qml.expval(qml.PauliZ(q)) for q in range(4)]

    nc = 4 * LAYERS
    shapes = [(HIDDEN, 4), (HIDDEN,), (3, HIDDEN), (3,)]

    def loss(p, xb, yb):
        z = np.stack(circuit(xb, p[:nc]), axis=1)
        off, mats = nc, []
        for s in shapes:
            n = int(np.prod(s))
            mats.append(p[off:off + n].reshape(s))
            off += n
        h = np.tanh(z @ mats[0].T + mats[1])
        o = h @ mats[2].T + mats[3]
        o = np.exp(o - o.max(1, keepdims=True))
        o /= o.sum(1, keepdims=True)
        return -np.mean(np.sum(yb * np.log(np.clip(o, 1e-12, 1 - 1e-12)), 1))

    rng = np.random.default_rng(SEED)
    dim = nc + sum(int(np.prod(s)) for s in shapes)
    p = np.concatenate([rng.uniform(-np.pi, np.pi, nc), rng.uniform(-0.5, 0.5, dim - nc)])
    a = np.where(np.arange(dim) < nc, gains["a"][0], gains["a"][1])
    c = np.where(np.arange(dim) < nc, gains["c"][0], gains["c"][1])
    start = time.perf_counter()
    for k in range(ITERATIONS):
        rows = rng.choice(len(x), BATCH, replace=False)
        delta = rng.choice([-1.0, 1.0], dim)
        ck = c / (k + 1) ** 0.101
        yp = loss(p + ck * delta, x[rows], y[rows])
        ym = loss(p - ck * delta, x[rows], y[rows])
        p = p - a / (k + 1) ** 0.602 * (yp - ym) / (2 * ck * delta)
        p[:nc] = (p[:nc] + np.pi) % (2 * np.pi) - np.pi
    return time.perf_counter() - start, loss(p, x, y)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        wall_q, loss_q, gains, _ = run_qloop(pathlib.Path(tmp))
    x, y = load_iris()
    wall_p, loss_p = pennylane_training(x, y, gains)
    print(f"{ITERATIONS} SPSA iterations, minibatch {BATCH}, 2 x {BATCH} circuit evaluations per iteration")
    print(f"{'':12} {'wall s':>10} {'final loss':>12}")
    print(f"{'qloop':12} {wall_q:10.3f} {loss_q:12.4f}   (whole CLI run: start-up, calibration, metrics, files)")
    print(f"{'PennyLane':12} {wall_p:10.3f} {loss_p:12.4f}   (training loop only, default.qubit {qml.__version__})")
    print(f"qloop is {wall_p / wall_q:.0f}x faster")


if __name__ == "__main__":
    main()
