#!/usr/bin/env bash
# The console API fuzzed longer than CI does: schemathesis with many examples per operation
# against a real bastion (tests/e2e/console_api.rs). Usage: bench/console-api.sh [EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_EXAMPLES=${1:-500} cargo test --release -p bastion --test e2e_console_api -- --nocapture
