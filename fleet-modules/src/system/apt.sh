# Brings Debian packages to the wanted state in one pass. Set by the caller: the package specs as
# "$@" (`name` or `name=version`), STATE (present|absent|latest), UPDATE (0|1), VALID (seconds),
# PURGE (0|1), AUTOREMOVE (0|1), RECOMMENDS (''|yes|no), CHECK (0|1), REL (default_release or
# ''), and INSTALL_OPTS / REMOVE_OPTS: shell-quoted apt-get options (dpkg options, lock wait,
# --force-yes, -t, --allow-unauthenticated).
# Prints `cache_updated=`, `cache_update_time=`, `install=`/`remove=` lines, then for a change the
# apt-get command (`cmd=`), its output between `@@out@@`, `@@err@@` and `@@end@@`, and `rc=`.
# A failure before apt-get runs prints `failed=MESSAGE` last.
command -v apt-get >/dev/null 2>&1 || { echo 'nopkgmgr=1'; exit 0; }
export DEBIAN_FRONTEND=noninteractive
fail() { printf 'failed=%s\n' "$1"; exit 0; }
stamp=/var/lib/apt/periodic/update-success-stamp
[ -e "$stamp" ] || stamp=/var/lib/apt/lists
if [ "$UPDATE" = 1 ]; then
  now=$(date +%s); last=$(stat -c %Y "$stamp" 2>/dev/null || echo 0)
  if [ "$VALID" -gt 0 ] && [ $((now - last)) -lt "$VALID" ]; then
    echo cache_updated=0
  else
    if [ "$CHECK" != 1 ]; then
      out=$(apt-get update -q 2>&1) || fail "Failed to update apt cache: $out"
      [ -d /var/lib/apt/periodic ] && touch /var/lib/apt/periodic/update-success-stamp 2>/dev/null
    fi
    echo cache_updated=1
  fi
  echo "cache_update_time=$(stat -c %Y "$stamp" 2>/dev/null || date +%s)"
fi
install= remove=
for spec in "$@"; do
  pkg=${spec%%=*}; ver=; case $spec in *=*) ver=${spec#*=} ;; esac
  st=$(dpkg-query -W -f='${Status}|${Version}' "$pkg" 2>/dev/null)
  case $st in "install ok installed|"*) inst=1 ;; *) inst=0 ;; esac
  have=${st#*|}
  case $STATE in
    absent)
      if [ "$inst" = 1 ]; then remove="$remove $pkg"
      elif [ "$PURGE" = 1 ] && [ "${st%%|*}" = "deinstall ok config-files" ]; then remove="$remove $pkg"; fi ;;
    present|latest)
      cand=$(apt-cache ${REL:+-o "APT::Default-Release=$REL"} policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
      if [ "$inst" = 0 ] && { [ -z "$cand" ] || [ "$cand" = "(none)" ]; }; then
        fail "No package matching '$pkg' is available"
      fi
      if [ "$inst" = 0 ]; then install="$install $spec"
      elif [ -n "$ver" ] && [ "$have" != "$ver" ]; then install="$install $spec"
      elif [ "$STATE" = latest ] && [ -z "$ver" ] && [ "$cand" != "$have" ]; then install="$install $spec"
      fi ;;
  esac
done
[ -n "$install" ] && echo "install=${install# }"
[ -n "$remove" ] && echo "remove=${remove# }"
[ "$CHECK" = 1 ] && exit 0
opts=
case $RECOMMENDS in yes) opts="$opts -o APT::Install-Recommends=yes" ;; no) opts="$opts -o APT::Install-Recommends=no" ;; esac
tmp=$(mktemp) || exit 1
run() {
  echo "cmd=$(command -v apt-get) $*"
  apt-get "$@" >"$tmp.out" 2>"$tmp.err"; rc=$?
  echo @@out@@; cat "$tmp.out"; echo @@err@@; cat "$tmp.err"; echo @@end@@
  echo "rc=$rc"; rm -f "$tmp" "$tmp.out" "$tmp.err"
}
# shellcheck disable=SC2086
if [ -n "$install" ]; then eval "set -- $INSTALL_OPTS"; run -y -q "$@" $opts install $install
elif [ -n "$remove" ]; then
  p=; [ "$PURGE" = 1 ] && p=--purge
  a=; [ "$AUTOREMOVE" = 1 ] && a=--auto-remove
  eval "set -- $REMOVE_OPTS"
  run -y -q "$@" $p $a remove $remove
fi
rm -f "$tmp"
exit 0
