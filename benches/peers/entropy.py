#!/usr/bin/env python3
"""Half-cut von Neumann entropy of Haar-random states: qloop against numpy, in one run.

For each n, `examples/entropy_times` makes a seeded Haar-random state, times qloop's half-cut
entropy (Gram route, and the SVD route where asked; best of --repeat, the state made before
the clock starts) and writes the amplitudes to target/peers-entropy/; this script then loads
the same amplitudes and times numpy's two routes, best of --repeat:

  gram  G = M @ M.conj().T, then numpy.linalg.eigvalsh(G)
  svd   numpy.linalg.svd(M, compute_uv=False), squared

with M the 2^(n/2) x 2^(n/2) matrix of the cut (qubit 0 the least-significant bit, as in
docs/conventions.md). Every entropy is compared with numpy's SVD route (the reference; it
does not square small singular values before summing) and the largest difference printed.
Usage:

    pip install numpy
    cargo build --release --example entropy_times
    python3 benches/peers/entropy.py [--sizes 20,22,24] [--repeat 2] [--qloop-svd 20,22]
        [--numpy-svd 20,22,24]

n = 26 (a 1 GiB state; numpy's SVD takes minutes there): --sizes 26 --repeat 1.
"""

import argparse
import json
import os
import subprocess
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMES = os.path.join(ROOT, "target", "release", "examples", "entropy_times")
OUT = os.path.join(ROOT, "target", "peers-entropy")


def entropy(values):
    values = np.clip(values, 0.0, None)
    values = values[values > 0.0]
    return float(-(values * np.log(values)).sum())


def best_of(repeat, f):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = f()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="20,22,24")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--qloop-svd", default="20,22", help="sizes where qloop's SVD route runs too")
    parser.add_argument(
        "--numpy-svd", default="20,22,24",
        help="sizes where numpy's SVD route runs (elsewhere the reference is numpy's Gram route)",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not os.path.exists(TIMES):
        raise SystemExit(f"{TIMES} is missing: run `cargo build --release --example entropy_times`")
    os.makedirs(OUT, exist_ok=True)
    svd_sizes = {int(s) for s in args.qloop_svd.split(",") if s}
    numpy_svd_sizes = {int(s) for s in args.numpy_svd.split(",") if s}
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        if n % 2:
            raise SystemExit(f"n = {n}: the half cut of an odd n is not square; use even sizes")
        path = os.path.join(OUT, f"haar{n}.bin")
        routes = "gram,svd" if n in svd_sizes else "gram"
        line = subprocess.run(
            [TIMES, str(n), str(args.seed + n), str(args.repeat), path, routes],
            check=True, capture_output=True, text=True,
        ).stdout
        q = json.loads(line)
        psi = np.fromfile(path, dtype="<c16")
        half = 1 << (n // 2)
        # psi[a + half * b] = M[a, b]: numpy's row-major reshape gives M^T.
        m = psi.reshape(half, half).T
        t_gram, s_gram = best_of(args.repeat, lambda: entropy(np.linalg.eigvalsh(m @ m.conj().T)))
        if n in numpy_svd_sizes:
            t_svd, s_svd = best_of(
                args.repeat, lambda: entropy(np.linalg.svd(m, compute_uv=False) ** 2)
            )
        else:
            t_svd, s_svd = None, s_gram
        fastest = min(t for t in (t_gram, t_svd) if t is not None)
        row = {
            "n": n,
            "qloop_gram": q["gram"]["seconds"],
            "qloop_svd": q.get("svd", {}).get("seconds"),
            "numpy_gram": t_gram,
            "numpy_svd": t_svd,
            "ratio": q["gram"]["seconds"] / fastest,
            "diff": max(abs(q[r]["entropy"] - s_svd) for r in ("gram", "svd") if r in q),
            "numpy_diff": abs(s_gram - s_svd),
        }
        rows.append(row)
        os.remove(path)
    print("(where numpy's SVD did not run, the differences are against numpy's Gram route)")
    print("| n | qloop Gram | qloop SVD | numpy Gram + eigvalsh | numpy SVD | qloop / fastest numpy | max abs(S - S_numpy_svd) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        svd = f"{r['qloop_svd']:.3f} s" if r["qloop_svd"] is not None else "-"
        numpy_svd = f"{r['numpy_svd']:.3f} s" if r["numpy_svd"] is not None else "-"
        print(
            f"| {r['n']} | {r['qloop_gram']:.3f} s | {svd} | {r['numpy_gram']:.3f} s | "
            f"{numpy_svd} | {r['ratio']:.2f} | {r['diff']:.1e} (numpy Gram {r['numpy_diff']:.1e}) |"
        )


if __name__ == "__main__":
    main()
