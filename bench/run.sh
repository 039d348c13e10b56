#!/usr/bin/env bash
# All benchmarks of issue 5 in one command: one table of every figure with its same-run
# reference and ratio, and one JSON file.
#
#   bench/run.sh [--quick] [--only PART,...] [--out DIR]
#     --quick  small sizes, a few minutes
#     --only   run just these parts (fleet,via,throughput,latency,sessions,logins,commands,appends,load,fuzz)
#     --out    add to the results in DIR (from an earlier run) instead of a new directory
#
# Parts (each also runs on its own):
#   1 fleet       bench/fleet.sh 10 50 200       fleet run vs ansible-playbook and pyinfra vs N parallel `ssh true`
#  18 via         bench fleet-via                fleet run --via through the bastion vs direct, 4 tasks on 3 hosts
#   2 throughput  bench/throughput.sh 1G         exec and recorded PTY `cat` vs direct vs double hop
#   3 latency     bench latency                  keystroke round trip through a PTY, direct vs bastion
#   4 sessions    bench sessions                 2,000 interactive sessions held (500 before issue 19): RSS per session
#   4 logins      bench logins --store both      key+TOTP logins/s vs sshd, PostgreSQL vs SQLite store; perf profile
#   5 commands    bench commands --store both    `bastion commands --grep` over 1M logged commands, PostgreSQL vs SQLite
#  19 appends     bench appends                  command-log appends/s (one and two writers), PostgreSQL vs SQLite
#   bench/load.sh and fuzz/run.sh 300, when those files exist.
# Goals are printed next to the figures; nothing is a pass/fail threshold. The machine's other
# load is not controlled: every reference is measured in the same run, interleaved.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUICK=0 ONLY=all OUT=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --only) ONLY=",$2,"; shift ;;
    --out) OUT=$2; shift ;;
    *) echo "usage: bench/run.sh [--quick] [--only PART,...] [--out DIR]" >&2; exit 1 ;;
  esac
  shift
done
cd "$ROOT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo build --release -q -p bastion -p fleet -p bench || exit 1
BENCH="$ROOT/target/release/bench"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
[ -n "$OUT" ] || OUT="$ROOT/target/bench-$STAMP"
mkdir -p "$OUT"
export FLEET_BIN="$ROOT/target/release/fleet"

if [ $QUICK = 1 ]; then
  FLEET_HOSTS=(10); SIZE=64M; ROUNDS=1
  LAT=(--keys 100 --batch 25); SESS=(--sessions 40 --per-target 20 --hold 6 --period 2)
  LOGINS=(--logins 20 --rounds 2 --parallel 4); CMDS=(--rows 50000 --repeat 3); FUZZ=30; VIA_RUNS=3
  APPENDS=(--appends 200 --rounds 1)
else
  FLEET_HOSTS=(10 50 200); SIZE=1G; ROUNDS=2; : "${PTY_SIZE:=256M}"; export PTY_SIZE
  LAT=(--keys 1000 --batch 50); SESS=(--sessions 2000 --per-target 100 --hold 20 --period 5)
  LOGINS=(--logins 100 --rounds 2 --parallel 8); CMDS=(--rows 1000000 --repeat 5); FUZZ=300; VIA_RUNS=9
  APPENDS=(--appends 2000 --rounds 2)
fi

# part NAME CMD...: runs CMD; stdout to OUT/NAME.out, stderr shown and kept in OUT/NAME.log.
part() {
  local name=$1 t0 rc; shift
  [ "$ONLY" = all ] || [[ $ONLY == *",$name,"* ]] || return 0
  echo "== $name: $*" >&2
  t0=$(date +%s)
  "$@" > "$OUT/$name.out" 2> >(tee "$OUT/$name.log" >&2)
  rc=$?
  echo "$rc $(( $(date +%s) - t0 ))" > "$OUT/$name.rc"
  [ $rc = 0 ] || echo "== $name exited $rc (see $OUT/$name.log)" >&2
}

FLEET_BENCH_JSON="$OUT/fleet.json" part fleet bash bench/fleet.sh "${FLEET_HOSTS[@]}"
part via "$BENCH" fleet-via --runs "$VIA_RUNS"
part throughput bash bench/throughput.sh "$SIZE" "$ROUNDS"
part latency "$BENCH" latency "${LAT[@]}"
part sessions "$BENCH" sessions "${SESS[@]}"
part logins "$BENCH" logins --store both "${LOGINS[@]}"
part commands "$BENCH" commands --store both "${CMDS[@]}"
part appends "$BENCH" appends --store both "${APPENDS[@]}"
if [ -f bench/load.sh ]; then
  if [ $QUICK = 1 ]; then part load bash bench/load.sh --quick; else part load bash bench/load.sh; fi
fi
[ -f fuzz/run.sh ] && part fuzz bash fuzz/run.sh "$FUZZ"

python3 "$ROOT/bench/table.py" "$OUT" "$STAMP" "$QUICK"
