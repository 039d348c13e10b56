#!/usr/bin/env bash
# Throughput through the bastion vs straight to the target vs an OpenSSH double hop, in one run.
#
#   bench/throughput.sh [SIZE] [ROUNDS]     SIZE for head -c (default 1G), ROUNDS (default 2)
#   PTY_SIZE=256M bench/throughput.sh ...   a smaller payload for the (much slower) PTY paths
#
# Starts a real sshd target on 127.0.1.200 (and a "mid" sshd for the double hop) and a bastion
# on a temporary data directory, then moves SIZE bytes to the client over each path:
#   exec: `head -c SIZE /dev/zero` as an exec request (no PTY, not recorded);
#   pty:  `cat FILE` (SIZE bytes of base64 text) in a PTY session (`ssh -tt`), which the bastion
#         records as asciicast (recording on, as in production).
# Each both direct, through the bastion, with `ssh -J` through the bastion (which terminates the
# inner connection and records it), and as an OpenSSH double hop.
# Paths are run interleaved, ROUNDS times; the best time of each is reported (the one least
# disturbed by other load). Prints a table and, as its last line, a JSON object {"rows": [...]}
# (the bench/run.sh row format). Nothing here is a pass/fail threshold.
#
#   BASTION_REF_BIN=/path/to/older/bastion bench/throughput.sh ...
# also serves that binary (its own data directory) and runs both paths through it in every
# round: a before/after comparison of two bastion builds in one run.
set -euo pipefail
SIZE=${1:-1G}
ROUNDS=${2:-2}
PTY_SIZE=${PTY_SIZE:-$SIZE}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASTION=${BASTION_BIN:-$ROOT/target/release/bastion}
REF_BIN=${BASTION_REF_BIN:-}
[ -x "$BASTION" ] || cargo build --release -q -p bastion --manifest-path "$ROOT/Cargo.toml"
T=$(mktemp -d)
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$T"; }
PIDS=()
trap cleanup EXIT
mkdir -p /run/sshd

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1:$2 never opened" >&2; exit 1; }

ssh-keygen -q -t ed25519 -N '' -f "$T/user_key"
"$BASTION" --data-dir "$T/data" init >/dev/null
"$BASTION" --data-dir "$T/data" key > "$T/authorized_keys"
cat "$T/user_key.pub" >> "$T/authorized_keys"
if [ -n "$REF_BIN" ]; then
  "$REF_BIN" --data-dir "$T/ref" init >/dev/null
  "$REF_BIN" --data-dir "$T/ref" key >> "$T/authorized_keys"
fi

start_sshd() { # name addr port
  ssh-keygen -q -t ed25519 -N '' -f "$T/$1_host_key"
  cat > "$T/$1.conf" <<CONF
ListenAddress $2:$3
HostKey $T/$1_host_key
AuthorizedKeysFile $T/authorized_keys
PidFile none
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
LogLevel ERROR
# Keeps bash from sourcing root's ~/.bashrc for ssh commands (bash skips it when SHLVL > 1):
# on the dev machine that file runs pyenv init, ~1 s per command, which no real target pays.
SetEnv SHLVL=5
CONF
  /usr/sbin/sshd -D -e -f "$T/$1.conf" 2>>"$T/$1.log" &
  PIDS+=($!)
  wait_port "$2" "$3"
}
TP=$(free_port); start_sshd target 127.0.1.200 "$TP"
MP=$(free_port); start_sshd mid 127.0.1.201 "$MP"

cat > "$T/data/inventory.yaml" <<INV
all:
  hosts:
    target: {ansible_host: 127.0.1.200, ansible_port: $TP}
INV
cat > "$T/data/policies.yaml" <<POL
roles:
  - name: bench
    members: [bench]
    hosts: ["*"]
    logins: [root]
    require_totp: false
POL
serve_bastion() { # binary datadir port
  "$1" --data-dir "$2" user add bench --key "$T/user_key.pub" --no-totp >/dev/null
  # No web console here (an older reference build knows no [web] section).
  [ "$1" != "$BASTION" ] || printf '\n[web]\nenabled = false\n' >> "$2/bastion.toml"
  RUST_LOG=warn "$1" --data-dir "$2" serve --listen "127.0.0.1:$3" 2>"$2.log" &
  PIDS+=($!)
  wait_port 127.0.0.1 "$3"
}
BP=$(free_port); serve_bastion "$BASTION" "$T/data" "$BP"
if [ -n "$REF_BIN" ]; then
  cp "$T/data/inventory.yaml" "$T/data/policies.yaml" "$T/ref/"
  RP=$(free_port); serve_bastion "$REF_BIN" "$T/ref" "$RP"
fi

SSH=(ssh -F /dev/null -i "$T/user_key" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes)
# The mid hop logs in to the target with the same key (copied where root's ssh finds it).
MIDKEY="$T/mid_key"; cp "$T/user_key" "$MIDKEY"

# The PTY payload: SIZE bytes of printable text (zeros would be \u0000-escaped 6x in the recording).
(set +o pipefail; base64 -w 100 /dev/urandom | head -c "$PTY_SIZE" > "$T/payload.txt")
SKIP=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
HOP="ssh -F /dev/null -i $MIDKEY ${SKIP[*]} -p $TP root@127.0.1.200"
# ssh -J through the bastion (which terminates the inner connection and records it): -o options
# do not reach the jump ssh, -F does.
cat > "$T/jump_config" <<CFG
Host *
  IdentityFile $T/user_key
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  BatchMode yes
CFG
JUMP=(ssh -F "$T/jump_config" -J "bench@127.0.0.1:$BP")

timeit() { local s e; s=$(date +%s.%N); "$@" </dev/null | wc -c > "$T/bytes"; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.3f}')"; }
declare -A BEST BYTES
run_path() { # name command...
  local name=$1 t; shift
  t=$(timeit "$@")
  BYTES[$name]=$(cat "$T/bytes")
  if [ -z "${BEST[$name]:-}" ] || python3 -c "import sys; sys.exit(0 if $t < ${BEST[$name]} else 1)"; then BEST[$name]=$t; fi
  echo "  $name: $t s, ${BYTES[$name]} bytes" >&2
}
for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  run_path exec_direct "${SSH[@]}" -p "$TP" root@127.0.1.200 "head -c $SIZE /dev/zero"
  run_path exec_bastion "${SSH[@]}" -p "$BP" bench@127.0.0.1 "target head -c $SIZE /dev/zero"
  run_path exec_double "${SSH[@]}" -p "$MP" root@127.0.1.201 "$HOP 'head -c $SIZE /dev/zero'"
  run_path exec_jump "${JUMP[@]}" root@target "head -c $SIZE /dev/zero"
  [ -z "$REF_BIN" ] || run_path exec_before "${SSH[@]}" -p "$RP" bench@127.0.0.1 "target head -c $SIZE /dev/zero"
  run_path pty_direct "${SSH[@]}" -tt -p "$TP" root@127.0.1.200 "cat $T/payload.txt"
  run_path pty_bastion "${SSH[@]}" -tt -p "$BP" bench@127.0.0.1 "target cat $T/payload.txt"
  run_path pty_double "${SSH[@]}" -tt -p "$MP" root@127.0.1.201 "$HOP -tt 'cat $T/payload.txt'"
  run_path pty_jump "${JUMP[@]}" -tt root@target "cat $T/payload.txt"
  [ -z "$REF_BIN" ] || run_path pty_before "${SSH[@]}" -tt -p "$RP" bench@127.0.0.1 "target cat $T/payload.txt"
done
# The last PTY session through the bastion: was it recorded, and how big is its recording?
REC=$("$BASTION" --data-dir "$T/data" sessions --json | python3 -c '
import json, os, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
paths = [os.path.join(sys.argv[1], r["recording"]) for r in rows if r.get("recording")]
print(max((os.path.getsize(p) for p in paths if os.path.exists(p)), default=0))' "$T/data")

EXEC_JUMP=${BEST[exec_jump]} PTY_JUMP=${BEST[pty_jump]} \
EXEC_BEFORE=${BEST[exec_before]:-} PTY_BEFORE=${BEST[pty_before]:-} python3 - "$SIZE" "$PTY_SIZE" "$REC" "${BEST[exec_direct]}" "${BEST[exec_bastion]}" "${BEST[exec_double]}" \
  "${BEST[pty_direct]}" "${BEST[pty_bastion]}" "${BEST[pty_double]}" \
  "${BYTES[exec_bastion]}" "${BYTES[pty_bastion]}" <<'PY'
import json, sys
size, psize, rec = sys.argv[1], sys.argv[2], int(sys.argv[3])
ed, eb, eh, pd, pb, ph = map(float, sys.argv[4:10])
xb, pbytes = int(sys.argv[10]), int(sys.argv[11])
mib_e, mib_p = xb / 2**20, pbytes / 2**20
print(f"{'path':<34}{'seconds':>9}{'MiB/s':>9}{'vs direct':>11}{'vs double hop':>15}")
for name, t, d, h, mib in [
        ("exec: direct ssh", ed, ed, eh, mib_e), ("exec: through bastion", eb, ed, eh, mib_e),
        ("exec: OpenSSH double hop", eh, ed, eh, mib_e),
        ("pty cat: direct ssh -tt", pd, pd, ph, mib_p), ("pty cat: through bastion, recorded", pb, pd, ph, mib_p),
        ("pty cat: OpenSSH double hop", ph, pd, ph, mib_p)]:
    print(f"{name:<34}{t:>9.2f}{mib/t:>9.0f}{t/d:>10.2f}x{t/h:>14.2f}x")
import os
before = [(k, float(os.environ[k])) for k in ("EXEC_BEFORE", "PTY_BEFORE") if os.environ.get(k)]
eB, pB = (before[0][1], before[1][1]) if len(before) == 2 else (None, None)
if eB:
    print(f"{'exec: through the bastion before':<34}{eB:>9.2f}{mib_e/eB:>9.0f}{eB/ed:>10.2f}x{eB/eh:>14.2f}x")
    print(f"{'pty cat: through the bastion before':<34}{pB:>9.2f}{mib_p/pB:>9.0f}{pB/pd:>10.2f}x{pB/ph:>14.2f}x")
eJ, pJ = float(os.environ["EXEC_JUMP"]), float(os.environ["PTY_JUMP"])
print(f"{'exec: ssh -J through bastion':<34}{eJ:>9.2f}{mib_e/eJ:>9.0f}{eJ/ed:>10.2f}x{eJ/eh:>14.2f}x")
print(f"{'pty cat: ssh -J bastion, recorded':<34}{pJ:>9.2f}{mib_p/pJ:>9.0f}{pJ/pd:>10.2f}x{pJ/ph:>14.2f}x")
print(f"recording of the PTY session through the bastion: {rec} bytes")
goal = "throughput >= OpenSSH double hop (recording on)"
def row(fig, v, ref, rv, g=""):
    return {"item": "2 throughput", "figure": fig, "value": round(v, 1), "unit": "MiB/s", "reference": ref,
            "ref_value": round(rv, 1), "ratio": round(v / rv, 3), "goal": g}
rows = [
    row(f"exec {size} through bastion", mib_e / eb, "OpenSSH double hop", mib_e / eh, goal),
    row(f"exec {size} through bastion", mib_e / eb, "direct ssh", mib_e / ed),
    row(f"pty cat {psize} through bastion, recorded", mib_p / pb, "OpenSSH double hop -tt", mib_p / ph, goal),
    row(f"pty cat {psize} through bastion, recorded", mib_p / pb, "direct ssh -tt", mib_p / pd),
    row(f"exec {size} ssh -J through bastion", mib_e / eJ, "bastion, direct path", mib_e / eb,
        "-J within 1.1x of the direct bastion path"),
    row(f"exec {size} ssh -J through bastion", mib_e / eJ, "OpenSSH double hop", mib_e / eh),
    row(f"pty cat {psize} ssh -J through bastion, recorded", mib_p / pJ, "bastion, direct path", mib_p / pb,
        "-J within 1.1x of the direct bastion path"),
    row(f"pty cat {psize} ssh -J through bastion, recorded", mib_p / pJ, "OpenSSH double hop -tt", mib_p / ph),
    *([row(f"exec {size} through bastion", mib_e / eb, "bastion before", mib_e / eB),
       row(f"pty cat {psize} through bastion, recorded", mib_p / pb, "bastion before", mib_p / pB)] if eB else []),
    {"item": "2 throughput", "figure": "recording size of that session", "value": round(rec / 2**20, 1),
     "unit": "MiB", "reference": "bytes received", "ref_value": round(mib_p, 1), "ratio": round(rec / 2**20 / mib_p, 3), "goal": ""},
]
print(json.dumps({"rows": rows}))
PY
