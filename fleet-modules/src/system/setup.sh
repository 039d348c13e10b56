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
# one awk: /proc/cpuinfo's counts, and (END) the environment, `\` and newline escaped
cpuinfo=/proc/cpuinfo; [ -r $cpuinfo ] || cpuinfo=/dev/null
awk '/^processor/ { n++ } /^physical id/ && !($0 in ids) { ids[$0]; s++ }
     /^cpu cores/ && c == "" { c = $0; sub(/.*: */, "", c); if (c == "") c = " " }
     /^model name/ && m == "" { m = $0; sub(/.*: */, "", m); if (m == "") m = " " }
     /^(processor|vendor_id|model name|Processor|cpu|Vendor)[\t ]*:/ { v = $0; sub(/^[^:]*:[\t ]*/, "", v)
       printf "cpu.item.%05d=%s\n", ++items, v }
     /^flags[\t ]*:/ && !fl { fl = 1; v = $0; sub(/^[^:]*:[\t ]*/, "", v); print "cpu.flags=" v }
     END { if (FILENAME != "/dev/null") {
             if (c == " ") c = ""; if (m == " ") m = ""
             print "cpu.vcpus=" n + 0; print "cpu.sockets=" s + 0
             print "cpu.cores=" c; print "cpu.model=" m }
           for (k in ENVIRON) { v = ENVIRON[k]; gsub(/\\/, "\\\\", v); gsub(/\n/, "\\n", v); print "env." k "=" v } }' $cpuinfo
if [ -r /proc/meminfo ]; then
  while read -r k v _; do
    case $k in MemTotal:|MemFree:|SwapTotal:|SwapFree:|MemAvailable:|Buffers:|Cached:|SwapCached:) kv "mem.${k%:}" "$v" ;; esac
  done < /proc/meminfo
fi
if have ip; then
  kv route.get "$(ip -4 route get 8.8.8.8 2>/dev/null | { IFS= read -r l; printf '%s' "$l"; })"
  # both families in one process: `addr.DEV` an IPv4 address (the last), `ipa.N` every line;
  # the IPv6 default route only when there is a global IPv6 address to route from
  ip -o addr show 2>/dev/null | {
    n=1000 g6=
    while read -r _ dev fam cidr rest; do
      n=$((n + 1)); kv "ipa.$n" "$dev $fam $cidr ${rest%%\\*}"
      case $fam in inet) kv "addr.$dev" "$cidr" ;; inet6) case $rest in *"scope global"*) g6=1 ;; esac ;; esac
    done
    [ -z "$g6" ] || kv route6.get "$(ip -6 route get 2404:6800:400a:800::1012 2>/dev/null | { IFS= read -r l; printf '%s' "$l"; })"
  }
elif [ -r /proc/net/route ]; then
  while read -r dev dest gw _ _ _ _ mask _; do
    [ "$dest" = 00000000 ] && [ "$mask" = 00000000 ] && kv route.proc "$dev $gw"
  done < /proc/net/route
fi
if [ -d /sys/class/net ]; then
  for d in /sys/class/net/*; do
    n=${d##*/}
    line "$d/address"; a=$l; line "$d/mtu"; mtu=$l
    kv "if.$n" "$a $mtu"
    # Ansible's per-interface facts: operstate, type, flags (promiscuous), speed, bridge, bond
    o=; line "$d/operstate" && o=$l; t=; line "$d/type" && t=$l; f=; line "$d/flags" && f=$l
    sp=; line "$d/speed" 2>/dev/null && sp=$l; k=; [ -d "$d/bridge" ] && k=bridge; [ -d "$d/bonding" ] && k=bonding
    kv "nic.$n" "$a|$mtu|$o|$t|$f|$sp|$k"
  done
fi
# Ansible's python facts are sys.executable and sys.version_info. For a `python3` found on PATH,
# sys.executable is that PATH entry (Python searches PATH for its argv[0] as the shell does), and
# `python3 --version` prints the version without starting the interpreter: 0.5 ms of CPU against
# 7 ms for `python3 -c` here (setup.rs reads `Python 3.11.2`, `3.13.0rc1`...). A `python3` that
# is a script (a pyenv shim: sys.executable is then the interpreter it picks) or an answer of
# another form asks the interpreter itself.
pyx=
_ifs=$IFS; IFS=:
for d in $PATH; do [ -x "${d:-.}/python3" ] && [ ! -d "${d:-.}/python3" ] && { pyx=${d:-.}/python3; break; }; done
IFS=$_ifs
if [ -n "$pyx" ]; then
  case $pyx in /*) ;; *) pyx=$PWD/${pyx#./} ;; esac
  pyv= l=
  { IFS= read -r l < "$pyx"; } 2>/dev/null
  case $l in '#!'*) ;; *) pyv=$("$pyx" --version 2>&1) ;; esac
  case $pyv in
    "Python "[0-9]*.[0-9]*.[0-9]*) kv python.executable "$pyx"; kv python.banner "$pyv" ;;
    *) python3 -S -c 'import sys; print("python.executable=" + sys.executable); print("python.version=" + " ".join(str(x) for x in sys.version_info))' 2>/dev/null ;;
  esac
fi
# Ansible's user_id is getpass.getuser(): the first of these variables that is set.
un=${LOGNAME:-${USER:-${LNAME:-${USERNAME:-}}}}
[ -n "$un" ] || un=$(id -un)
kv user.id "$un"
# os.getuid() and os.getgid(): the real ids, the first number on these lines of our status;
# Ansible's processor_nproc is len(os.sched_getaffinity(0)): the CPUs on Cpus_allowed_list.
uid= gid= cpus=
if [ -r /proc/$$/status ]; then
  while read -r k v rest; do
    case $k in
      Uid:) uid=$v; kv user.uids "$v $rest" ;;
      Gid:) gid=$v; kv user.gids "$v $rest" ;;
      Cpus_allowed_list:) cpus=$v ;;
    esac
  done < /proc/$$/status
fi
kv user.uid "${uid:-$(id -ru)}"
kv user.gid "${gid:-$(id -rg)}"
if [ -n "$cpus" ]; then kv cpu.allowed "$cpus"; elif have nproc; then kv cpu.nproc "$(nproc)"; fi
# pwd.getpwnam: the passwd file's line when the user is there (what NSS's `files` source, first
# by default, answers), else getent for users from other sources (LDAP...)
pw=
if [ -r /etc/passwd ]; then
  while IFS= read -r l; do case $l in "$un":*) pw=$l; break ;; esac; done < /etc/passwd
fi
if [ -z "$pw" ]; then
  if have getent; then pw=$(getent passwd "$un"); else pw=$(grep "^$un:" /etc/passwd); fi
fi
kv user.passwd "$pw"
kv date "$(date '+%s %N %z %Z')"
for m in apt-get dnf yum zypper apk pacman; do
  if have $m; then kv pkg_mgr "$m"; break; fi
done
if line /proc/1/comm; then p1=$l; else p1=$(ps -p 1 -o comm= 2>/dev/null); fi
kv proc1 "$p1"
[ -d /run/systemd/system ] && kv systemd_running 1
[ -e /sbin/openrc ] && kv openrc 1
# where /sbin/init points only matters when nothing above decided the service manager
case ${p1##*/} in
  ''|init|*sh) [ -d /run/systemd/system ] || [ -e /sbin/openrc ] || { [ -L /sbin/init ] && kv init_link "$(readlink /sbin/init)"; } ;;
esac
[ -d /etc/init.d ] && kv sysvinit 1
# Debian's lsb_release (bookworm on) is a POSIX sh script that prints what it reads from
# os-release and nothing else: setup.rs derives the same four lines from the osr.* items above,
# without the dozen processes the script starts (getopt, cut, tr...). Any other lsb_release
# (Ubuntu's Python one, or this one pointed elsewhere by LSB_OS_RELEASE) is run.
lsb_from_os_release() {
  [ -z "${LSB_OS_RELEASE:-}" ] || return 1
  _lb=0
  while IFS= read -r l; do
    case $l in
      *"SPDX-FileCopyrightText: 2021-2022 Gioele Barabucci"*) _lb=$((_lb | 1)) ;;
      *"Mimic the output of Debian's Python-based lsb_release"*) _lb=$((_lb | 2)) ;;
    esac
  done < "$1"
  [ "$_lb" = 3 ]
}
lsbp=
_ifs=$IFS; IFS=:
for d in $PATH; do [ -x "${d:-.}/lsb_release" ] && [ ! -d "${d:-.}/lsb_release" ] && { lsbp=${d:-.}/lsb_release; break; }; done
IFS=$_ifs
if [ -n "$lsbp" ]; then
  if [ -r "$lsbp" ] && lsb_from_os_release "$lsbp"; then kv lsbr.from_os_release 1
  else
    "$lsbp" -a 2>/dev/null | while IFS=: read -r k v; do
      v=${v#"${v%%[![:space:]]*}"}; kv "lsbr.$k" "$v"
    done
  fi
fi
