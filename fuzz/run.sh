#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30), one after the other, and prints one
# summary line per target (runs, seconds, result). Exits non-zero if any target crashed,
# leaked past the RSS limit, timed out on an input, or failed to build.
#
#   fuzz/run.sh [SECONDS]          CI: fuzz/run.sh 5   bench: fuzz/run.sh 300
#
# Environment:
#   FUZZ_TARGETS="a b"   only these targets (default: every target in fuzz/Cargo.toml)
#   FUZZ_SANITIZER=none  libFuzzer sanitizer (default none: Rust code needs no ASan to catch
#                        panics, overflows and OOMs, and it builds about twice as fast)
#   FUZZ_TIMEOUT=10      seconds one input may take before it counts as a hang
#   FUZZ_RSS_MB=512      memory limit
#
# Needs cargo-fuzz (installed here with `cargo install cargo-fuzz --locked` when missing) and a
# nightly toolchain; without one the stable compiler is used with RUSTC_BOOTSTRAP=1, which
# works for `-s none` (tested with rustc 1.95). Crashing inputs land in fuzz/artifacts/TARGET/;
# the corpus grows in fuzz/target/corpus/TARGET/ (the committed seeds in fuzz/corpus/ are only
# read).
set -uo pipefail
cd "$(dirname "$0")/.."

secs=${1:-30}
case $secs in '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS]" >&2; exit 2 ;; esac
sanitizer=${FUZZ_SANITIZER:-none}
timeout=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-512}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked >&2 || { echo "fuzz/run.sh: cannot install cargo-fuzz" >&2; exit 1; }
fi

# A nightly compiler: the active one, rustup's nightly, or stable told to allow nightly flags.
cargo=(cargo)
if rustc --version 2>/dev/null | grep -q nightly; then
  :
elif command -v rustup >/dev/null 2>&1 && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  cargo=(cargo +nightly)
else
  echo "fuzz/run.sh: no nightly toolchain; using $(rustc --version) with RUSTC_BOOTSTRAP=1" >&2
  export RUSTC_BOOTSTRAP=1
fi

targets=${FUZZ_TARGETS:-$("${cargo[@]}" fuzz list)}
fuzz=("${cargo[@]}" fuzz)
build_flags=(-s "$sanitizer")

start=$(date +%s)
if ! "${fuzz[@]}" build "${build_flags[@]}" >&2; then
  echo "fuzz/run.sh: build failed" >&2
  exit 1
fi
echo "fuzz/run.sh: built in $(($(date +%s) - start)) s" >&2

logs=fuzz/target/logs
mkdir -p "$logs"
status=0
for t in $targets; do
  mkdir -p "fuzz/target/corpus/$t"
  seeds=()
  [ -d "fuzz/corpus/$t" ] && seeds=("fuzz/corpus/$t")
  log="$logs/$t.log"
  t0=$(date +%s)
  "${fuzz[@]}" run "${build_flags[@]}" "$t" "fuzz/target/corpus/$t" "${seeds[@]}" -- \
    -max_total_time="$secs" -timeout="$timeout" -rss_limit_mb="$rss" -malloc_limit_mb="$rss" \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  took=$(($(date +%s) - t0))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  if [ "$rc" = 0 ]; then
    result=ok
  else
    status=1
    what=$(grep -o -m1 -E 'deadly signal|panicked|out-of-memory|malloc\(.*\) exceeds|timeout after [0-9]+ seconds|ERROR: libFuzzer: [a-z-]+' "$log" || true)
    artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
    result="FAILED (exit $rc${what:+: $what}${artifact:+; input $artifact}; log $log)"
  fi
  printf '%-18s %12s runs %5s s  %s\n' "$t" "${runs:-?}" "$took" "$result"
done
exit "$status"
