# Gathers the raw material for Ansible's facts in one pass; POSIX sh and coreutils only.
# Output: one `key=value` line per item; the Rust side (setup.rs) turns it into facts.
# Values never contain newlines except in `env.*`, where awk escapes `\` and newline.
have() { command -v "$1" >/dev/null 2>&1; }
kv() { printf '%s=%s\n' "$1" "$2"; }
kv nodename "$(uname -n)"
kv fqdn "$(hostname -f 2>/dev/null || uname -n)"
kv kernel "$(uname -r)"
kv kernel_version "$(uname -v)"
kv machine "$(uname -m)"
kv system "$(uname -s)"
for f in /etc/os-release /usr/lib/os-release; do
  if [ -r "$f" ]; then
    while IFS= read -r line; do
      case $line in
        [A-Z]*=*) k=${line%%=*}; v=${line#*=}; v=${v#\"}; v=${v%\"}; v=${v#\'}; v=${v%\'}; kv "osr.$k" "$v" ;;
      esac
    done < "$f"
    break
  fi
done
for f in debian_version alpine-release redhat-release centos-release system-release arch-release; do
  [ -r "/etc/$f" ] && kv "file.$f" "$(head -n 1 "/etc/$f")"
done
if [ -r /etc/lsb-release ]; then
  while IFS= read -r line; do
    case $line in DISTRIB_*=*) v=${line#*=}; v=${v#\"}; v=${v%\"}; kv "lsb.${line%%=*}" "$v" ;; esac
  done < /etc/lsb-release
fi
if [ -r /proc/cpuinfo ]; then
  kv cpu.vcpus "$(grep -c '^processor' /proc/cpuinfo)"
  kv cpu.sockets "$(grep '^physical id' /proc/cpuinfo | sort -u | wc -l)"
  kv cpu.cores "$(grep -m 1 '^cpu cores' /proc/cpuinfo | sed 's/.*: *//')"
  kv cpu.model "$(grep -m 1 '^model name' /proc/cpuinfo | sed 's/.*: *//')"
fi
have nproc && kv cpu.nproc "$(nproc)"
if [ -r /proc/meminfo ]; then
  while read -r k v _; do
    case $k in MemTotal:|MemFree:|SwapTotal:|SwapFree:|MemAvailable:) kv "mem.${k%:}" "$v" ;; esac
  done < /proc/meminfo
fi
if have ip; then
  kv route.get "$(ip -4 route get 8.8.8.8 2>/dev/null | head -n 1)"
  ip -4 -o addr show 2>/dev/null | while read -r _ dev _ cidr rest; do kv "addr.$dev" "$cidr"; done
elif [ -r /proc/net/route ]; then
  while read -r dev dest gw _ _ _ _ mask _; do
    [ "$dest" = 00000000 ] && [ "$mask" = 00000000 ] && kv route.proc "$dev $gw"
  done < /proc/net/route
fi
if [ -d /sys/class/net ]; then
  for d in /sys/class/net/*; do
    n=${d##*/}
    kv "if.$n" "$(cat "$d/address" 2>/dev/null) $(cat "$d/mtu" 2>/dev/null)"
  done
fi
if have python3; then
  python3 -c 'import sys; print("python.executable=" + sys.executable); print("python.version=" + " ".join(str(x) for x in sys.version_info))' 2>/dev/null
fi
kv user.id "$(id -un)"
kv user.uid "$(id -u)"
kv user.gid "$(id -g)"
if have getent; then kv user.passwd "$(getent passwd "$(id -un)")"; else kv user.passwd "$(grep "^$(id -un):" /etc/passwd)"; fi
kv date "$(date '+%s %N %z %Z')"
for m in apt-get dnf yum zypper apk pacman; do
  if have $m; then kv pkg_mgr "$m"; break; fi
done
kv proc1 "$(cat /proc/1/comm 2>/dev/null || ps -p 1 -o comm= 2>/dev/null)"
[ -d /run/systemd/system ] && kv systemd_running 1
[ -e /sbin/openrc ] && kv openrc 1
[ -L /sbin/init ] && kv init_link "$(readlink /sbin/init)"
[ -d /etc/init.d ] && kv sysvinit 1
if have lsb_release; then
  lsb_release -a 2>/dev/null | while IFS=: read -r k v; do
    v=$(printf '%s' "$v" | sed 's/^[[:space:]]*//'); kv "lsbr.$k" "$v"
  done
fi
awk 'BEGIN { for (k in ENVIRON) { v = ENVIRON[k]; gsub(/\\/, "\\\\", v); gsub(/\n/, "\\n", v); print "env." k "=" v } }'
