#!/usr/bin/env bash
# Writes every output the bundled circuits give through the CLI into OUTDIR, one file each,
# so that two builds can be compared byte for byte (`diff -r`):
#
#   bash tests/golden/outputs.sh target/release/qloop /tmp/after
#   bash tests/golden/outputs.sh /path/to/old/qloop /tmp/before && diff -r /tmp/before /tmp/after
#
# Covers `state` JSON, seeded `run` counts, `expect` (exact and shots), `entropy` (text, JSON,
# profile), `info`, `convert`, `lint`, `draw` (SVG in both styles, text), and `train` with no
# arguments (model.json, loss.svg; its timing lines are dropped). `tests/golden.rs` checks the
# quick ones against the committed copies in tests/golden/expected/ under `cargo test`.
set -euo pipefail
bin=$(realpath "$1")
out=$(realpath -m "$2")
here=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
cd "$here"
for f in circuits/*.qasm circuits/*.json; do
    name=$(basename "$f" | tr . _)
    bind=()
    if [ "$name" = seed_ansatz_json ] || [ "$name" = hea4_json ]; then
        # Symbolic circuits: bind every weight it names.
        for p in $("$bin" info "$f" --json | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["weights"]))' 2>/dev/null || true); do
            bind+=(--bind "$p=0.3")
        done
    fi
    "$bin" state "$f" "${bind[@]}" > "$out/$name.state" 2>&1 || true
    "$bin" run "$f" "${bind[@]}" --shots 1000 --seed 1 --json > "$out/$name.run" 2>&1 || true
    "$bin" expect "$f" "${bind[@]}" --observable "0.5*Z0*Z1 + X1 - 0.25*Y0" > "$out/$name.expect" 2>&1 || true
    "$bin" expect "$f" "${bind[@]}" --observable "0.5*Z0*Z1 + X1 - 0.25*Y0" --shots 4000 --seed 2 --json > "$out/$name.estimate" 2>&1 || true
    "$bin" entropy "$f" "${bind[@]}" --profile --json > "$out/$name.entropy" 2>&1 || true
    "$bin" entropy "$f" "${bind[@]}" --subsystem 0 --renyi 2 --base 2 > "$out/$name.renyi" 2>&1 || true
    "$bin" info "$f" --json > "$out/$name.info" 2>&1 || true
    "$bin" convert "$f" --to json > "$out/$name.convert" 2>&1 || true
    "$bin" lint "$f" --json > "$out/$name.lint" 2>&1 || true
    "$bin" draw "$f" --format text > "$out/$name.text" 2>&1 || true
    "$bin" draw "$f" -o "$out/$name.svg" > /dev/null 2>&1 || true
    "$bin" draw "$f" --style feynman -o "$out/$name.feynman.svg" > /dev/null 2>&1 || true
done
if [ "${GOLDEN_SKIP_TRAIN:-0}" != 1 ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && "$bin" train > train.log 2>&1)
    grep -v -i -E "elapsed|time|/s\b| s$|ms" "$tmp/train.log" > "$out/train.log" || true
    cp "$tmp/qloop-run/model.json" "$out/model.json"
    cp "$tmp/qloop-run/loss.svg" "$out/loss.svg"
    rm -rf "$tmp"
fi
