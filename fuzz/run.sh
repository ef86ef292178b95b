#!/usr/bin/env bash
# Fuzzes one target (default: all, one after the other) for SECONDS each (default 60), from a
# seed corpus built out of the repository's circuits, configurations and test inputs, with
# inputs up to 64 KiB so that deep nesting and long files are reached.
#   bash fuzz/run.sh [TARGET|all] [SECONDS]    (needs nightly and `cargo install cargo-fuzz`)
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(qasm_parse observable_parse json_circuit train_config model_json checkpoint)
if [ $# -ge 1 ] && [ "$1" != all ]; then targets=("$1"); fi
seconds="${2:-60}"
seed() {
    local dir="fuzz/corpus/$1"; shift
    mkdir -p "$dir"
    for f in "$@"; do
        if [ -f "$f" ]; then cp "$f" "$dir/$(basename "$f")"; fi
    done
}
seed qasm_parse circuits/*.qasm
seed json_circuit circuits/*.json
seed train_config examples/configs/*.toml
seed model_json fuzz/seeds/model_json/*
seed checkpoint fuzz/seeds/checkpoint/*
mkdir -p fuzz/corpus/observable_parse
printf 'ZZ + 0.5*XI' > fuzz/corpus/observable_parse/sum
printf -- '-2*Z0*X3 + Y1' > fuzz/corpus/observable_parse/sparse
for t in "${targets[@]}"; do
    cargo +nightly fuzz run "$t" "fuzz/corpus/$t" -- -max_len=65536 -max_total_time="$seconds"
done
