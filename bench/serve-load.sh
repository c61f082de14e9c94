#!/usr/bin/env bash
# Load figure for `ballast serve`: acknowledged durable commands/s over loopback HTTP, with
# fsync on and off, against the in-process engine's rate on the same commands, in one run.
# Usage: bench/serve-load.sh [COMMANDS] [BATCH] [CLIENTS]   (defaults 200000 500 4)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -q -p ballast-serve --example load -- "${1:-200000}" "${2:-500}" "${3:-4}"
