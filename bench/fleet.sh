#!/usr/bin/env bash
# fleet run vs its peers vs the SSH floor, on N real loopback OpenSSH sshd targets (up to 1,000+).
#
#   bench/fleet.sh [HOSTS...]          host counts (default: 10 50)
#
# For each host count: starts ceil(N / 16) OpenSSH sshd processes, each listening on 16 loopback
# addresses (127.0.1.10.., 127.0.2.10.., ...: 200 per /24) on one port, every address its own
# inventory host (1,000 sshd processes would not fit a 2-core machine; one process per 16 hosts
# still gives every connection its own forked sshd child, as a real host would). Then, for each
# sample playbook in ../shared/fleet-samples, from clean targets, a first run and a second
# (no-change) run of
#   - fleet run           (target/release/fleet; built here if missing), under /usr/bin/time:
#                          the controller's peak RSS and CPU time (user + sys) are printed and
#                          in the JSON
#   - ansible-playbook    (ansible-core 2.19 in target/ansible-venv, made here if missing;
#                          pipelining on, forks = FORKS, a fresh ControlPath dir per run), only up
#                          to FLEET_BENCH_ANSIBLE_MAX hosts (default 200: at 1,000 it needs hours)
#   - pyinfra             (PyPI, pinned below, in target/pyinfra-venv, made here if missing;
#                          --parallel FORKS), the same work as bench/pyinfra/<playbook>.py
# and once per host count the floor: N `ssh host true` at once, at most FORKS in flight (FORKS
# defaults to N, the -f fleet gets: fleet then opens every host's connection at once, so the
# floor is unbounded too; FLEET_BENCH_FORKS=F bounds fleet, ansible, pyinfra and the floor alike).
# Prints a table and writes JSON to $FLEET_BENCH_JSON (default target/fleet-bench.json). No
# pass/fail thresholds.
#
#   FLEET_BENCH_PEERS="pyinfra"   which peers to run (default: "ansible pyinfra"; "" for none)
#   FLEET_BENCH_PEER_TIMEOUT=900  seconds a peer's run may take before it is cut (exit 124)
#   FLEET_BENCH_PLAYBOOKS="basic" which sample playbooks (default: every *.yml)
#   FLEET_BENCH_PEER_RUNS=1       peers' first runs only (no second, no-change run)
#   FLEET_BENCH_HOLD_WHILE=FILE   before each measured run, wait while FILE exists (a machine
#                                 shared with other latency measurements can hold the bench)
#   FLEET_REF_BIN=/path/to/older/fleet bench/fleet.sh 50
# measures that binary instead of the peers: a before/after comparison of two fleet builds in one
# run (JSON keys then say "before").
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
PER_SSHD=16
# fleet's SSH handshakes in flight (--connect-limit; fleet's own default: 8 per CPU, at least 16).
# Above it fleet queues handshakes, so the floor is also measured with that many at once.
CONNECT_LIMIT=${FLEET_BENCH_CONNECT_LIMIT:-$(( 8 * $(nproc) > 16 ? 8 * $(nproc) : 16 ))}
CONNECT_LIMIT_ARG="--connect-limit $CONNECT_LIMIT"
# a build from before the option: no limit
"$FLEET" run --help 2>/dev/null | grep -q -- --connect-limit || { CONNECT_LIMIT=1000000000; CONNECT_LIMIT_ARG=; }
ANSIBLE_MAX=${FLEET_BENCH_ANSIBLE_MAX:-200}
PEER_TIMEOUT=${FLEET_BENCH_PEER_TIMEOUT:-900}
PLAYBOOKS=${FLEET_BENCH_PLAYBOOKS:-}
REF_BIN=${FLEET_REF_BIN:-}
if [ -n "$REF_BIN" ]; then PEERS=(before); else read -r -a PEERS <<< "${FLEET_BENCH_PEERS-ansible pyinfra}"; fi
VENV="$ROOT/target/ansible-venv"
PIN='ansible-core==2.19.*'
MARKER="$VENV/.ready-ansible-core-2.19"   # the same marker the e2e harness uses
PYINFRA_VENV="$ROOT/target/pyinfra-venv"
PYINFRA_PIN='pyinfra==3.10.0'
PYINFRA_MARKER="$PYINFRA_VENV/.ready-pyinfra-3.10.0"
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# 1,000 connections, each a socket in fleet and an ssh client or sshd child per host.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

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

# make_venv DIR MARKER PIN CHECK: a venv with PIN from PyPI, made once (flock'd), CHECK must run.
make_venv() {
  local dir=$1 marker=$2 pin=$3 check=$4
  [ -f "$marker" ] && return 0
  echo "making $dir ($pin from PyPI)..." >&2
  flock "$dir.lock" sh -c "
    set -e; [ -f '$marker' ] && exit 0; rm -rf '$dir'
    $PY -m venv '$dir'
    '$dir/bin/pip' install -q --disable-pip-version-check '$pin'
    '$dir/bin/$check' --version >/dev/null
    touch '$marker'" || { echo "cannot make $dir (python3-venv? PyPI?)" >&2; exit 1; }
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b; else print "null" }'; }
free_port() { $PY -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"; }
wait_port() {
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0; sleep 0.05; done
  echo "sshd on $1:$2 never opened; log:" >&2; cat "$3" >&2; exit 1
}
# host_ip I: the address of host I (1-based), 200 per /24 from 127.0.1.10.
host_ip() { echo "127.0.$((1 + ($1 - 1) / 200)).$((10 + ($1 - 1) % 200))"; }

# start_targets N DIR: ceil(N/16) sshd trusting DIR/id_ed25519, 16 addresses each; inventory,
# known_hosts, ansible.cfg and pyinfra inventory in DIR; IPS/PORTS per host.
start_targets() {
  local n=$1 d=$2 i s ip port first last
  mkdir -p "$d/.ssh"; chmod 700 "$d/.ssh"
  ssh-keygen -q -t ed25519 -N '' -C bench -f "$d/id_ed25519"
  cp "$d/id_ed25519.pub" "$d/authorized_keys"
  : > "$d/.ssh/known_hosts"
  printf 'all:\n  children:\n    targets:\n      hosts:\n' > "$d/inventory.yml"
  printf 'targets = [\n' > "$d/pyinfra_inventory.py"
  IPS=(); PORTS=()
  for ((s = 0; s * PER_SSHD < n; s++)); do
    first=$((s * PER_SSHD + 1)); last=$((first + PER_SSHD - 1)); [ "$last" -le "$n" ] || last=$n
    port=$(free_port "$(host_ip "$first")")
    ssh-keygen -q -t ed25519 -N '' -f "$d/host$s"
    {
      for ((i = first; i <= last; i++)); do echo "ListenAddress $(host_ip "$i"):$port"; done
      cat <<CONF
HostKey $d/host$s
AuthorizedKeysFile $d/authorized_keys
PidFile none
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PrintMotd no
# pyinfra uploads files over SFTP (fleet and ansible-playbook do not use it)
Subsystem sftp /usr/lib/openssh/sftp-server
# every host of this process may be mid-handshake at once (default 10:30:100 drops some)
MaxStartups 1000
MaxSessions 100
LogLevel ERROR
# Keeps bash from sourcing root's ~/.bashrc for ssh commands (bash skips it when SHLVL > 1):
# on the dev machine that file runs pyenv init, ~1 s per command, which no real target pays.
SetEnv SHLVL=5
CONF
    } > "$d/sshd$s.conf"
    /usr/sbin/sshd -D -e -f "$d/sshd$s.conf" 2>>"$d/sshd$s.log" &
    PIDS+=($!)
    for ((i = first; i <= last; i++)); do
      ip=$(host_ip "$i")
      IPS+=("$ip"); PORTS+=("$port")
      local name="b$$n${n}-h$i"
      NAMES+=("$name")
      echo "[$ip]:$port $(cut -d' ' -f1,2 "$d/host$s.pub")" >> "$d/.ssh/known_hosts"
      printf '        %s:\n          ansible_host: %s\n          ansible_port: %s\n          ansible_user: root\n          ansible_ssh_private_key_file: %s\n' \
        "$name" "$ip" "$port" "$d/id_ed25519" >> "$d/inventory.yml"
      printf '    ("%s", {"ssh_hostname": "%s", "ssh_port": %s, "ssh_user": "root", "ssh_key": "%s", %s}),\n' \
        "$name" "$ip" "$port" "$d/id_ed25519" \
        "\"ssh_known_hosts_file\": \"$d/.ssh/known_hosts\", \"ssh_strict_host_key_checking\": \"yes\"" \
        >> "$d/pyinfra_inventory.py"
    done
  done
  printf ']\n' >> "$d/pyinfra_inventory.py"
  for ((i = 1; i <= n; i++)); do wait_port "${IPS[$((i - 1))]}" "${PORTS[$((i - 1))]}" "$d/sshd$(((i - 1) / PER_SSHD)).log"; done
  local python=auto_silent; [ -x /usr/bin/python3 ] && python=/usr/bin/python3
  cat > "$d/ansible.cfg" <<CFG
[defaults]
forks = $FORKS
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

# floor N DIR [AT_ONCE]: seconds for N `ssh host true`, AT_ONCE (default FORKS) in flight at
# most (xargs -P starts the next one as soon as one ends; with N it starts them all at once).
floor() {
  local n=$1 d=$2 at_once=${3:-$FORKS} i t0
  hold
  t0=$(now)
  for ((i = 0; i < n; i++)); do echo "${PORTS[$i]} root@${IPS[$i]} true"; done |
    xargs -P "$at_once" -n 3 ssh -q -i "$d/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes \
      -o UserKnownHostsFile="$d/.ssh/known_hosts" -o GlobalKnownHostsFile=/dev/null \
      -o StrictHostKeyChecking=yes -p ||
    { echo "floor: an ssh failed" >&2; exit 1; }
  elapsed "$t0" "$(now)"
}

# hold: waits while $FLEET_BENCH_HOLD_WHILE exists (between measured runs, never inside one).
hold() {
  [ -n "${FLEET_BENCH_HOLD_WHILE:-}" ] || return 0
  while [ -e "$FLEET_BENCH_HOLD_WHILE" ]; do sleep 5; done
}

# timed TOOL DIR PLAYBOOK LOG: runs one tool, prints "SECONDS EXIT CPU_SECONDS MAX_RSS_KIB"
# (the last two from /usr/bin/time for fleet; "null" for the others).
timed() {
  local tool=$1 d=$2 pb=$3 log=$4 t0 rc=0 name usage="null null"
  hold
  t0=$(now)
  case $tool in
    fleet|before)
      local bin=$FLEET limit=$CONNECT_LIMIT_ARG; [ "$tool" = fleet ] || { bin=$REF_BIN; limit=; }
      # shellcheck disable=SC2086 # $limit is an option and its value, or nothing
      env -u SSH_AUTH_SOCK HOME="$d" /usr/bin/time -f '%U %S %M' -o "$log.rusage" \
        "$bin" run "$pb" -i "$d/inventory.yml" -f "$FORKS" $limit >"$log" 2>&1 || rc=$?
      # the last line (a non-zero exit adds a line before it)
      usage=$(awk 'END { printf "%.2f %d", $1 + $2, $3 }' "$log.rusage") ;;
    ansible)
      local cp; cp=$(mktemp -d "$d/cp.XXXX")
      env -u SSH_AUTH_SOCK ANSIBLE_CONFIG="$d/ansible.cfg" ANSIBLE_HOME="$d/ansible-home" ANSIBLE_NOCOLOR=1 \
        ANSIBLE_SSH_CONTROL_PATH_DIR="$cp" timeout "$PEER_TIMEOUT" "$VENV/bin/ansible-playbook" \
        -i "$d/inventory.yml" "$pb" >"$log" 2>&1 || rc=$? ;;
    pyinfra)
      name=$(basename "$pb" .yml)
      # the inventory gives each host DIR's known_hosts, checked strictly, as for the others
      (cd "$ROOT/bench/pyinfra" && env -u SSH_AUTH_SOCK HOME="$d" FLEET_SAMPLES="$SAMPLES" \
        timeout "$PEER_TIMEOUT" "$PYINFRA_VENV/bin/pyinfra" -y --parallel "$FORKS" \
        "$d/pyinfra_inventory.py" "$name.py") >"$log" 2>&1 || rc=$? ;;
  esac
  echo "$(elapsed "$t0" "$(now)") $rc $usage"
}

# mark KEY: the time of run KEY, with "!" if it exited non-zero, "-" if it did not run.
mark() {
  if [ -z "${R[$1]:-}" ]; then echo -; elif [ "${R[${1}rc]}" = 0 ]; then echo "${R[$1]}"; else echo "${R[$1]}!"; fi
}
# json_num KEY: R[KEY] or null.
json_num() { echo "${R[$1]:-null}"; }

VERSIONS=()
for peer in "${PEERS[@]}"; do
  case $peer in
    ansible) make_venv "$VENV" "$MARKER" "$PIN" ansible-playbook
      VERSIONS+=("\"ansible\": \"$("$VENV/bin/ansible-playbook" --version 2>/dev/null | sed -n 1p)\"") ;;
    pyinfra) make_venv "$PYINFRA_VENV" "$PYINFRA_MARKER" "$PYINFRA_PIN" pyinfra
      VERSIONS+=("\"pyinfra\": \"$("$PYINFRA_VENV/bin/pyinfra" --version 2>/dev/null | sed -n 1p)\"") ;;
    before) VERSIONS+=("\"before\": \"fleet before: $REF_BIN\"") ;;
    *) echo "unknown peer $peer (ansible, pyinfra)" >&2; exit 2 ;;
  esac
done
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
echo "fleet: $FLEET; ${VERSIONS[*]}; $(nproc) CPUs; load average $LOAD at $(date -u '+%F %H:%M') UTC"
echo "seconds, first run from clean targets (second, no-change run); ! = exited non-zero; - = not run"
echo "fleet's controller: CPU seconds (user+sys) and peak RSS of its first run"
ROWS=()
for N in "${HOSTS[@]}"; do
  FORKS=${FLEET_BENCH_FORKS:-$N}
  D="$T/n$N"; mkdir -p "$D"
  start_targets "$N" "$D"
  FLOOR=$(floor "$N" "$D")
  FLOOR_LIMITED=null
  if [ "$CONNECT_LIMIT" -lt "$FORKS" ]; then FLOOR_LIMITED=$(floor "$N" "$D" "$CONNECT_LIMIT"); fi
  echo "== $N hosts ($(( (N + PER_SSHD - 1) / PER_SSHD )) sshd), forks $FORKS, connect limit $CONNECT_LIMIT;" \
    "floor ${FLOOR}s ($N x ssh host true, $FORKS at once), ${FLOOR_LIMITED}s ($CONNECT_LIMIT at once)"
  for pb in "$SAMPLES"/*.yml; do
    name=$(basename "$pb" .yml)
    [ -z "$PLAYBOOKS" ] || [[ " $PLAYBOOKS " == *" $name "* ]] || continue
    declare -A R=()
    for tool in "${PEERS[@]}" fleet; do
      [ "$tool" != ansible ] || [ "$N" -le "$ANSIBLE_MAX" ] || continue
      clean_targets
      for k in 1 2; do
        [ "$k" = 1 ] || [ "$tool" = fleet ] || [ "${FLEET_BENCH_PEER_RUNS:-2}" -ge 2 ] || continue
        read -r R[${tool}${k}] R[${tool}${k}rc] R[${tool}${k}cpu] R[${tool}${k}rss] \
          < <(timed "$tool" "$D" "$pb" "$D/$tool-$name-$k.log")
        if [ "${R[${tool}${k}rc]}" != 0 ]; then
          echo "warning: $tool run $k of $name on $N hosts exited ${R[${tool}${k}rc]}; last lines:" >&2
          tail -5 "$D/$tool-$name-$k.log" >&2
        fi
      done
    done
    line="  $name: fleet $(mark fleet1) ($(mark fleet2)), $(ratio "${R[fleet1]}" "$FLOOR")x floor"
    line+=" ($(ratio "${R[fleet1]}" "$FLOOR_LIMITED")x the floor at the connect limit);"
    line+=" controller ${R[fleet1cpu]} s CPU, $(( R[fleet1rss] / 1024 )) MiB peak RSS"
    json="{\"hosts\": $N, \"sshd_processes\": $(( (N + PER_SSHD - 1) / PER_SSHD )), \"forks\": $FORKS, \
\"connect_limit\": $CONNECT_LIMIT, \"playbook\": \"$name\", \"floor_s\": $FLOOR, \"floor_at_connect_limit_s\": $FLOOR_LIMITED, \
\"fleet_over_floor_at_connect_limit\": $(ratio "${R[fleet1]}" "$FLOOR_LIMITED"), \"fleet_s\": ${R[fleet1]}, \"fleet_exit\": ${R[fleet1rc]}, \
\"fleet_again_s\": ${R[fleet2]}, \"fleet_again_exit\": ${R[fleet2rc]}, \"fleet_over_floor\": $(ratio "${R[fleet1]}" "$FLOOR"), \
\"fleet_cpu_s\": ${R[fleet1cpu]}, \"fleet_max_rss_kib\": ${R[fleet1rss]}, \
\"fleet_again_cpu_s\": ${R[fleet2cpu]}, \"fleet_again_max_rss_kib\": ${R[fleet2rss]}"
    for peer in "${PEERS[@]}"; do
      line+="; $peer $(mark "${peer}1") ($(mark "${peer}2")), $(ratio "${R[${peer}1]:-}" "${R[fleet1]}")x fleet"
      json+=", \"${peer}_s\": $(json_num "${peer}1"), \"${peer}_exit\": $(json_num "${peer}1rc"), \
\"${peer}_again_s\": $(json_num "${peer}2"), \"${peer}_again_exit\": $(json_num "${peer}2rc"), \
\"${peer}_over_fleet\": $(ratio "${R[${peer}1]:-}" "${R[fleet1]}")"
    done
    echo "$line"
    ROWS+=("$json}")
    unset R
  done
  clean_targets
  [ ${#PIDS[@]} -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null || true
  PIDS=(); NAMES=()
done
{
  echo "{$(for v in "${VERSIONS[@]}"; do printf '%s, ' "$v"; done)\"cpus\": $(nproc), \"load_average\": \"$LOAD\", \"results\": ["
  for i in "${!ROWS[@]}"; do
    [ "$i" -gt 0 ] && echo ","
    printf '  %s' "${ROWS[$i]}"
  done
  echo; echo "]}"
} > "$OUT"
echo "JSON: $OUT"
