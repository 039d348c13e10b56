# Gathers the raw material for Ansible's facts in one pass; POSIX sh and coreutils only.
# Output: one `key=value` line per item; the Rust side (setup.rs) turns it into facts.
# Values never contain newlines except in `env.*`, where awk escapes `\` and newline.
# Every process costs the target a fork and an exec (on 50 hosts sharing a CPU, most of a
# run's time), so files are read with the `read` builtin where one line is all there is, and
# one awk pass does what several grep|sed pipelines would.
have() { command -v "$1" >/dev/null 2>&1; }
kv() { printf '%s=%s\n' "$1" "$2"; }
# line FILE: the first line of FILE in $l, like $(head -n 1 FILE); false if unreadable.
line() { l=; [ -r "$1" ] && { IFS= read -r l < "$1" || [ -n "$l" ]; }; }
# uname -n, -r, -v and -s are in /proc/sys/kernel on Linux.
if line /proc/sys/kernel/hostname; then nodename=$l; else nodename=$(uname -n); fi
kv nodename "$nodename"
kv fqdn "$(hostname -f 2>/dev/null || printf '%s' "$nodename")"
if line /proc/sys/kernel/osrelease; then kv kernel "$l"; else kv kernel "$(uname -r)"; fi
if line /proc/sys/kernel/version; then kv kernel_version "$l"; else kv kernel_version "$(uname -v)"; fi
if line /proc/sys/kernel/arch; then kv machine "$l"; else kv machine "$(uname -m)"; fi
if line /proc/sys/kernel/ostype; then kv system "$l"; else kv system "$(uname -s)"; fi
# Ansible's fips fact: the kernel's FIPS mode switch
if line /proc/sys/crypto/fips_enabled; then kv fips "$l"; fi
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
  line "/etc/$f" && kv "file.$f" "$l"
done
if [ -r /etc/lsb-release ]; then
  while IFS= read -r line; do
    case $line in DISTRIB_*=*) v=${line#*=}; v=${v#\"}; v=${v%\"}; kv "lsb.${line%%=*}" "$v" ;; esac
  done < /etc/lsb-release
fi
if [ -r /proc/cpuinfo ]; then
  awk '/^processor/ { n++ } /^physical id/ && !($0 in ids) { ids[$0]; s++ }
       /^cpu cores/ && c == "" { c = $0; sub(/.*: */, "", c); if (c == "") c = " " }
       /^model name/ && m == "" { m = $0; sub(/.*: */, "", m); if (m == "") m = " " }
       END { if (c == " ") c = ""; if (m == " ") m = ""
             print "cpu.vcpus=" n + 0; print "cpu.sockets=" s + 0
             print "cpu.cores=" c; print "cpu.model=" m }' /proc/cpuinfo
fi
have nproc && kv cpu.nproc "$(nproc)"
if [ -r /proc/meminfo ]; then
  while read -r k v _; do
    case $k in MemTotal:|MemFree:|SwapTotal:|SwapFree:|MemAvailable:) kv "mem.${k%:}" "$v" ;; esac
  done < /proc/meminfo
fi
if have ip; then
  kv route.get "$(ip -4 route get 8.8.8.8 2>/dev/null | { IFS= read -r l; printf '%s' "$l"; })"
  ip -4 -o addr show 2>/dev/null | while read -r _ dev _ cidr rest; do kv "addr.$dev" "$cidr"; done
elif [ -r /proc/net/route ]; then
  while read -r dev dest gw _ _ _ _ mask _; do
    [ "$dest" = 00000000 ] && [ "$mask" = 00000000 ] && kv route.proc "$dev $gw"
  done < /proc/net/route
fi
if [ -d /sys/class/net ]; then
  for d in /sys/class/net/*; do
    n=${d##*/}
    line "$d/address"; a=$l; line "$d/mtu"
    kv "if.$n" "$a $l"
  done
fi
if have python3; then
  python3 -S -c 'import sys; print("python.executable=" + sys.executable); print("python.version=" + " ".join(str(x) for x in sys.version_info))' 2>/dev/null
fi
# Ansible's user_id is getpass.getuser(): the first of these variables that is set.
un=${LOGNAME:-${USER:-${LNAME:-${USERNAME:-}}}}
[ -n "$un" ] || un=$(id -un)
kv user.id "$un"
# os.getuid() and os.getgid(): the real ids, the first number on these lines of our status.
uid= gid=
if [ -r /proc/$$/status ]; then
  while read -r k v _; do
    case $k in Uid:) uid=$v ;; Gid:) gid=$v ;; esac
  done < /proc/$$/status
fi
kv user.uid "${uid:-$(id -ru)}"
kv user.gid "${gid:-$(id -rg)}"
if have getent; then kv user.passwd "$(getent passwd "$un")"; else kv user.passwd "$(grep "^$un:" /etc/passwd)"; fi
kv date "$(date '+%s %N %z %Z')"
for m in apt-get dnf yum zypper apk pacman; do
  if have $m; then kv pkg_mgr "$m"; break; fi
done
if line /proc/1/comm; then kv proc1 "$l"; else kv proc1 "$(ps -p 1 -o comm= 2>/dev/null)"; fi
[ -d /run/systemd/system ] && kv systemd_running 1
[ -e /sbin/openrc ] && kv openrc 1
[ -L /sbin/init ] && kv init_link "$(readlink /sbin/init)"
[ -d /etc/init.d ] && kv sysvinit 1
if have lsb_release; then
  lsb_release -a 2>/dev/null | while IFS=: read -r k v; do
    v=${v#"${v%%[![:space:]]*}"}; kv "lsbr.$k" "$v"
  done
fi
awk 'BEGIN { for (k in ENVIRON) { v = ENVIRON[k]; gsub(/\\/, "\\\\", v); gsub(/\n/, "\\n", v); print "env." k "=" v } }'
