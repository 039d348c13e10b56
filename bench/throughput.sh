#!/usr/bin/env bash
# Throughput through the bastion vs straight to the target vs an OpenSSH double hop, in one run.
#
#   bench/throughput.sh [SIZE]        SIZE for head -c (default 1G)
#
# Starts a real sshd target on 127.0.1.200 and a bastion on a temporary data directory, then
# times `head -c SIZE /dev/zero` streamed to the client through each path, prints a table and a
# JSON line with the ratios. Nothing here is a pass/fail threshold.
set -euo pipefail
SIZE=${1:-1G}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release -q -p bastion --manifest-path "$ROOT/Cargo.toml"
BASTION="$ROOT/target/release/bastion"
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
"$BASTION" --data-dir "$T/data" user add bench --key "$T/user_key.pub" --no-totp >/dev/null
BP=$(free_port)
RUST_LOG=warn "$BASTION" --data-dir "$T/data" serve --listen "127.0.0.1:$BP" 2>"$T/bastion.log" &
PIDS+=($!)
wait_port 127.0.0.1 "$BP"

SSH=(ssh -F /dev/null -i "$T/user_key" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes)
# The mid hop logs in to the target with the same key (copied where root's ssh finds it).
MIDKEY="$T/mid_key"; cp "$T/user_key" "$MIDKEY"

timeit() { local s e; s=$(date +%s.%N); "$@" | wc -c > "$T/bytes"; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.3f}')"; }
direct=$(timeit "${SSH[@]}" -p "$TP" root@127.0.1.200 "head -c $SIZE /dev/zero")
via=$(timeit "${SSH[@]}" -p "$BP" bench@127.0.0.1 "target head -c $SIZE /dev/zero")
vbytes=$(cat "$T/bytes")
double=$(timeit "${SSH[@]}" -p "$MP" root@127.0.1.201 "ssh -F /dev/null -i $MIDKEY -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p $TP root@127.0.1.200 'head -c $SIZE /dev/zero'")
python3 - "$SIZE" "$direct" "$via" "$double" "$vbytes" <<'PY'
import json, sys
size, d, v, h, vb = sys.argv[1], *map(float, sys.argv[2:5]), int(sys.argv[5])
mib = vb / 2**20
print(f"{'path':<28}{'seconds':>9}{'MiB/s':>9}{'vs direct':>11}")
for name, t in [("direct ssh", d), ("through bastion (exec)", v), ("OpenSSH double hop", h)]:
    print(f"{name:<28}{t:>9.2f}{mib/t:>9.0f}{t/d:>10.2f}x")
print(json.dumps({"size": size, "bytes_via_bastion": vb, "direct_s": d, "bastion_s": v, "double_hop_s": h,
                  "bastion_vs_direct": round(v/d, 3), "bastion_vs_double_hop": round(v/h, 3)}))
PY
