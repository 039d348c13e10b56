#!/usr/bin/env bash
# Load and fault tests of issue 5 at full size, release build.
#
#   bench/load.sh [SESSIONS [HOSTS]]      default 200 sessions, 200 fleet hosts
#   bench/load.sh --quick                 CI's reduced size, 40 and 40 (bench/run.sh --quick)
#
# Runs the same tests CI runs at a reduced size (LOAD_SESSIONS / LOAD_HOSTS default to 40):
#   e2e_load    SESSIONS concurrent shell + exec sessions through the bastion (all recorded,
#               logged, sealed, closed), then kill -9 of the server with SESSIONS open
#   e2e_faults  a target dying mid-session, hung targets, a full recordings filesystem
#   fleet_load  one fleet run over HOSTS hosts, 10% unreachable and 10% failing
# Prints each test's own timing line ("... took", "... in"), and a summary; exit status is
# the tests' (these are pass/fail tests, not timings to compare).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ "${1:-}" = --quick ] && set -- 40 40
for n in "$@"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "usage: bench/load.sh [SESSIONS [HOSTS]] | --quick (got \"$n\")" >&2; exit 1; }
done
SESSIONS=${1:-${LOAD_SESSIONS:-200}}
HOSTS=${2:-${LOAD_HOSTS:-200}}
export LOAD_SESSIONS=$SESSIONS LOAD_HOSTS=$HOSTS
mkdir -p /run/sshd
cd "$ROOT"

# One test binary at a time, its tests one at a time: each one is the load on the machine.
results=()
run() { # label cargo-test-args...
  local label=$1 start end rc=0; shift
  start=$(date +%s)
  cargo test --release -q "$@" -- --nocapture --test-threads=1 || rc=$?
  end=$(date +%s)
  results+=("$(printf '%-12s %s  %4ss' "$label" "$([ $rc = 0 ] && echo PASS || echo FAIL)" $((end - start)))")
  return $rc
}

status=0
echo "== load tests: LOAD_SESSIONS=$SESSIONS LOAD_HOSTS=$HOSTS (release build)"
# cargo test builds what each run needs (the binaries and that test), nothing more.
run e2e_load -p bastion --test e2e_load || status=1
run e2e_faults -p bastion --test e2e_faults || status=1
run fleet_load -p fleet --test fleet_load || status=1
echo
echo "== summary (LOAD_SESSIONS=$SESSIONS LOAD_HOSTS=$HOSTS)"
printf '%s\n' "${results[@]}"
exit $status
