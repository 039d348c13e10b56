#!/usr/bin/env bash
# fleet run vs ansible-playbook vs the SSH floor, on N real loopback sshd targets.
#
#   bench/fleet.sh [HOSTS...]          host counts (default: 10 50)
#
# For each host count: starts N OpenSSH sshd targets (127.0.1.10.., each on a free port,
# root login with a fresh key), then for each sample playbook in ../shared/fleet-samples
# times, from clean targets, a first run and a second (no-change) run of
#   - fleet run           (target/release/fleet; built here if missing)
#   - ansible-playbook    (ansible-core 2.19 in target/ansible-venv, made here if missing;
#                          pipelining on, forks = N, a fresh ControlPath dir per run)
# and once per host count the floor: N parallel `ssh host true`. Prints a table and writes
# JSON to $FLEET_BENCH_JSON (default target/fleet-bench.json). No pass/fail thresholds.
#
#   FLEET_REF_BIN=/path/to/older/fleet bench/fleet.sh 50
# measures that binary instead of ansible-playbook as the reference: a before/after comparison
# of two fleet builds in one run (JSON keys then say "before" where they say "ansible").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# ../shared next to the main checkout; a worktree under wt/ finds it two levels up.
SAMPLES=${FLEET_SAMPLES:-}
for d in "$ROOT/../shared/fleet-samples" "$ROOT/../../shared/fleet-samples"; do
  [ -n "$SAMPLES" ] || SAMPLES=$(cd "$d" 2>/dev/null && pwd) || true
done
[ -n "$SAMPLES" ] || { echo "sample playbooks not found at $ROOT/../shared/fleet-samples (or set FLEET_SAMPLES)" >&2; exit 1; }
HOSTS=("$@")
[ ${#HOSTS[@]} -gt 0 ] || HOSTS=(10 50)
OUT=${FLEET_BENCH_JSON:-$ROOT/target/fleet-bench.json}
FLEET=${FLEET_BIN:-$ROOT/target/release/fleet}
[ -x "$FLEET" ] || cargo build --release -q -p fleet --manifest-path "$ROOT/Cargo.toml"
REF_BIN=${FLEET_REF_BIN:-}
REF=ansible; [ -z "$REF_BIN" ] || REF=before
VENV="$ROOT/target/ansible-venv"
PIN='ansible-core==2.19.*'
MARKER="$VENV/.ready-ansible-core-2.19"   # the same marker the e2e harness uses
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3

T=$(mktemp -d /tmp/fleet-bench.XXXXXX)
PIDS=()
NAMES=()
cleanup() {
  [ ${#PIDS[@]} -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null || true
  for n in "${NAMES[@]}"; do rm -rf "/tmp/fleet-samples/$n"; done
  rm -rf "$T"
}
trap cleanup EXIT
trap "exit 143" INT TERM
mkdir -p /run/sshd "$ROOT/target"

ensure_venv() {
  [ -f "$MARKER" ] && return 0
  echo "making $VENV ($PIN from PyPI)..." >&2
  flock "$ROOT/target/ansible-venv.lock" sh -c "
    set -e; [ -f '$MARKER' ] && exit 0; rm -rf '$VENV'
    $PY -m venv '$VENV'
    '$VENV/bin/pip' install -q --disable-pip-version-check '$PIN'
    '$VENV/bin/ansible-playbook' --version >/dev/null
    touch '$MARKER'" || { echo "cannot make the ansible venv (python3-venv? PyPI?)" >&2; exit 1; }
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
free_port() { $PY -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"; }
wait_port() {
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0; sleep 0.1; done
  echo "sshd on $1:$2 never opened; log:" >&2; cat "$3" >&2; exit 1
}

# start_targets N DIR: N sshd trusting DIR/id_ed25519, inventory + known_hosts + ansible.cfg in DIR.
start_targets() {
  local n=$1 d=$2 i ip port
  mkdir -p "$d/.ssh"; chmod 700 "$d/.ssh"
  ssh-keygen -q -t ed25519 -N '' -C bench -f "$d/id_ed25519"
  cp "$d/id_ed25519.pub" "$d/authorized_keys"
  : > "$d/.ssh/known_hosts"
  printf 'all:\n  children:\n    targets:\n      hosts:\n' > "$d/inventory.yml"
  IPS=(); PORTS=()
  for i in $(seq "$n"); do
    ip="127.0.1.$((9 + i))"
    port=$(free_port "$ip")
    ssh-keygen -q -t ed25519 -N '' -f "$d/host$i"
    cat > "$d/sshd$i.conf" <<CONF
ListenAddress $ip:$port
HostKey $d/host$i
AuthorizedKeysFile $d/authorized_keys
PidFile none
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PrintMotd no
MaxStartups 200
LogLevel ERROR
# Keeps bash from sourcing root's ~/.bashrc for ssh commands (bash skips it when SHLVL > 1):
# on the dev machine that file runs pyenv init, ~1 s per command, which no real target pays.
SetEnv SHLVL=5
CONF
    /usr/sbin/sshd -D -e -f "$d/sshd$i.conf" 2>>"$d/sshd$i.log" &
    PIDS+=($!)
    IPS+=("$ip"); PORTS+=("$port")
    local name="b$$n${n}-h$i"
    NAMES+=("$name")
    echo "[$ip]:$port $(cut -d' ' -f1,2 "$d/host$i.pub")" >> "$d/.ssh/known_hosts"
    printf '        %s:\n          ansible_host: %s\n          ansible_port: %s\n          ansible_user: root\n          ansible_ssh_private_key_file: %s\n' \
      "$name" "$ip" "$port" "$d/id_ed25519" >> "$d/inventory.yml"
  done
  for i in $(seq "$n"); do wait_port "${IPS[$((i - 1))]}" "${PORTS[$((i - 1))]}" "$d/sshd$i.log"; done
  local python=auto_silent; [ -x /usr/bin/python3 ] && python=/usr/bin/python3
  cat > "$d/ansible.cfg" <<CFG
[defaults]
forks = $n
host_key_checking = True
retry_files_enabled = False
interpreter_python = $python
nocolor = True
deprecation_warnings = False
local_tmp = $d/ansible-local
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=$d/.ssh/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes
CFG
}

clean_targets() { local n; for n in "${NAMES[@]}"; do rm -rf "/tmp/fleet-samples/$n"; done; }

# floor N DIR: seconds for N parallel `ssh host true`.
floor() {
  local n=$1 d=$2 i t0 pids=()
  t0=$(now)
  for i in $(seq "$n"); do
    ssh -q -i "$d/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile="$d/.ssh/known_hosts" \
      -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -p "${PORTS[$((i - 1))]}" \
      "root@${IPS[$((i - 1))]}" true &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { echo "floor: ssh failed" >&2; exit 1; }; done
  elapsed "$t0" "$(now)"
}

# timed TOOL DIR PLAYBOOK LOG: runs one tool, prints "SECONDS EXIT".
timed() {
  local tool=$1 d=$2 pb=$3 log=$4 t0 rc=0
  t0=$(now)
  case $tool in
    fleet)
      env -u SSH_AUTH_SOCK HOME="$d" "$FLEET" run "$pb" -i "$d/inventory.yml" -f "$N" >"$log" 2>&1 || rc=$? ;;
    before)
      env -u SSH_AUTH_SOCK HOME="$d" "$REF_BIN" run "$pb" -i "$d/inventory.yml" -f "$N" >"$log" 2>&1 || rc=$? ;;
    ansible)
      local cp; cp=$(mktemp -d "$d/cp.XXXX")
      env -u SSH_AUTH_SOCK ANSIBLE_CONFIG="$d/ansible.cfg" ANSIBLE_HOME="$d/ansible-home" ANSIBLE_NOCOLOR=1 \
        ANSIBLE_SSH_CONTROL_PATH_DIR="$cp" "$VENV/bin/ansible-playbook" -i "$d/inventory.yml" "$pb" \
        >"$log" 2>&1 || rc=$? ;;
  esac
  echo "$(elapsed "$t0" "$(now)") $rc"
}

# mark KEY: the time of run KEY, with "!" if it exited non-zero.
mark() { if [ "${R[${1}rc]}" = 0 ]; then echo "${R[$1]}"; else echo "${R[$1]}!"; fi; }

if [ "$REF" = ansible ]; then
  ensure_venv
  REF_VERSION=$("$VENV/bin/ansible-playbook" --version 2>/dev/null | sed -n 1p)
else
  REF_VERSION="fleet before: $REF_BIN"
fi
echo "fleet: $FLEET; $REF: $REF_VERSION; $(nproc) CPUs"
echo "seconds, first run from clean targets and second (no-change) run; ! = exited non-zero"
ROWS=()
printf '%-6s %-12s %7s | %9s %9s %7s | %9s %9s %7s | %9s\n' hosts playbook floor \
  "$REF" fleet "${REF:0:3}/flt" "${REF:0:3}(2nd)" "flt(2nd)" "${REF:0:3}/flt" fleet/floor
for N in "${HOSTS[@]}"; do
  D="$T/n$N"; mkdir -p "$D"
  start_targets "$N" "$D"
  FLOOR=$(floor "$N" "$D")
  for pb in "$SAMPLES"/*.yml; do
    name=$(basename "$pb" .yml)
    declare -A R=()
    for tool in "$REF" fleet; do
      clean_targets
      read -r R[${tool}1] R[${tool}1rc] < <(timed "$tool" "$D" "$pb" "$D/$tool-$name-1.log")
      read -r R[${tool}2] R[${tool}2rc] < <(timed "$tool" "$D" "$pb" "$D/$tool-$name-2.log")
      for k in 1 2; do
        if [ "${R[${tool}${k}rc]}" != 0 ]; then
          echo "warning: $tool run $k of $name on $N hosts exited ${R[${tool}${k}rc]}; last lines:" >&2
          tail -5 "$D/$tool-$name-$k.log" >&2
        fi
      done
    done
    printf '%-6s %-12s %7s | %9s %9s %7s | %9s %9s %7s | %9s\n' "$N" "$name" "$FLOOR" \
      "$(mark "${REF}1")" "$(mark fleet1)" "$(ratio "${R[${REF}1]}" "${R[fleet1]}")x" \
      "$(mark "${REF}2")" "$(mark fleet2)" "$(ratio "${R[${REF}2]}" "${R[fleet2]}")x" \
      "$(ratio "${R[fleet1]}" "$FLOOR")x"
    ROWS+=("{\"hosts\": $N, \"playbook\": \"$name\", \"floor_s\": $FLOOR, \
\"${REF}_s\": ${R[${REF}1]}, \"${REF}_exit\": ${R[${REF}1rc]}, \"fleet_s\": ${R[fleet1]}, \"fleet_exit\": ${R[fleet1rc]}, \
\"${REF}_again_s\": ${R[${REF}2]}, \"${REF}_again_exit\": ${R[${REF}2rc]}, \"fleet_again_s\": ${R[fleet2]}, \"fleet_again_exit\": ${R[fleet2rc]}, \
\"${REF}_over_fleet\": $(ratio "${R[${REF}1]}" "${R[fleet1]}"), \"fleet_over_floor\": $(ratio "${R[fleet1]}" "$FLOOR")}")
    unset R
  done
  clean_targets
  [ ${#PIDS[@]} -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null || true
  PIDS=()
done
{
  echo "{\"$REF\": \"$REF_VERSION\", \"cpus\": $(nproc), \"results\": ["
  for i in "${!ROWS[@]}"; do
    [ "$i" -gt 0 ] && echo ","
    printf '  %s' "${ROWS[$i]}"
  done
  echo; echo "]}"
} > "$OUT"
echo "JSON: $OUT"
