# The file module as one script (fleet-modules/src/files/file.rs); see there for its inputs.
did=0
fleet_prev() {
  if [ -L "$P" ]; then prev=link
  elif [ -d "$P" ]; then prev=directory
  elif [ -e "$P" ]; then
    if [ "$(stat -c %h -- "$P")" -gt 1 ]; then prev=hard; else prev=file; fi
  else prev=absent; fi
}
# fleet_mkdir_attrs DIR: creates DIR and its missing parents, outermost first, each with the
# F_* attributes (as Ansible does). An octal mode goes to mkdir itself, so fleet_attrs finds it
# set and runs no chmod. With no owner or group to set, one mkdir and one stat serve every new
# directory (a process each per directory was most of a `file` task's cost on the target).
fleet_mkdir_attrs() {
  [ -d "$1" ] && return 0
  set -- "$1"
  while fleet_parent "$1"; [ ! -d "$_parent" ]; do set -- "$_parent" "$@"; done
  did=1
  [ "$F_CHECK" = 1 ] && return 0
  _mm=; if [ -n "$F_MODE" ] && [ "$F_MODE_SYM" != 1 ]; then _mm=$F_MODE; fi
  if [ -n "$F_OWNER$F_GROUP" ]; then
    for _d in "$@"; do fleet_mkdir_one "$_d" || return 1; fleet_attrs "$_d" || return 1; done
    return 0
  fi
  # another run may create one at the same moment (Ansible accepts EEXIST for a directory too)
  mkdir ${_mm:+-m "$_mm"} -- "$@" 2>/dev/null
  for _d in "$@"; do
    [ -d "$_d" ] || { echo "fail There was an issue creating $_d as requested"; return 1; }
  done
  [ -n "$F_MODE" ] || return 0
  # one stat line per directory, in order; on any failure each is asked again by fleet_attrs
  _ms=$(stat -c '%a|%U|%G|%u|%g|%s|%F' -- "$@" 2>/dev/null) || _ms=
  for _d in "$@"; do
    _ml=${_ms%%"$nl"*}; _ms=${_ms#"$_ml"}; _ms=${_ms#"$nl"}
    fleet_attrs "$_d" "$_ml" || return 1
  done
}
fleet_mkdir_one() {
  mkdir ${_mm:+-m "$_mm"} -- "$1" 2>/dev/null || [ -d "$1" ] || { echo "fail There was an issue creating $1 as requested"; return 1; }
}
fleet_recurse() {
  [ "$attrs_changed" = 1 ] && did=1
  _fa_stat=
  if [ -n "$F_OWNER" ] && [ -n "$(find "$P" ! -user "$F_OWNER" | head -n 1)" ]; then
    did=1; [ "$F_CHECK" = 1 ] || chown -R -h -- "$F_OWNER" "$P" || { echo "fail chown failed"; exit 1; }
  fi
  if [ -n "$F_GROUP" ] && [ -n "$(find "$P" ! -group "$F_GROUP" | head -n 1)" ]; then
    did=1; [ "$F_CHECK" = 1 ] || chgrp -R -h -- "$F_GROUP" "$P" || { echo "fail chgrp failed"; exit 1; }
  fi
  [ -n "$F_MODE" ] || return 0
  # follow: what the tree's symlinks point at too, and the insides of linked directories
  if [ "$FOLLOW" = 1 ]; then _fl=-L; else _fl=-P; fi
  if [ "$F_MODE_SYM" = 1 ]; then
    find $_fl "$P" ! -type l 2>/dev/null > "${TMPDIR:-/tmp}/.fleet_list.$$"
    while IFS= read -r _f; do attrs_changed=0; [ "$FOLLOW" = 1 ] && _f=$(readlink -f -- "$_f"); fleet_attrs "$_f"; [ "$attrs_changed" = 0 ] || did=1; done < "${TMPDIR:-/tmp}/.fleet_list.$$"
    rm -f "${TMPDIR:-/tmp}/.fleet_list.$$"
  elif [ -n "$(find $_fl "$P" ! -type l ! -perm "$F_MODE" 2>/dev/null | head -n 1)" ]; then
    did=1; [ "$F_CHECK" = 1 ] || find $_fl "$P" ! -type l ! -perm "$F_MODE" -exec chmod -- "$F_MODE" {} + 2>/dev/null
  fi
}
# fleet_settime PATH: access/modification times as asked (`now`, or a `touch -t` stamp), with
# the before/after of each one that changes (`now` always does, as Ansible's time.time())
fleet_settime() {
  [ "$ATIME" = preserve ] && [ "$MTIME" = preserve ] && return 0
  _ta=$(stat -c %X -- "$1") && _tm=$(stat -c %Y -- "$1") || return 1
  _now=$(date +%s); _wa=$_ta; _wm=$_tm
  if [ "$ATIME$MTIME" != "${ATIME#now}${MTIME#now}" ]; then _force=1; else _force=0; fi
  _st=$(mktemp) || return 1
  case "$ATIME" in preserve) ;; now) _wa=$_now;; *) touch -t "$ATIME" -- "$_st" && _wa=$(stat -c %Y -- "$_st");; esac
  case "$MTIME" in preserve) ;; now) _wm=$_now;; *) touch -t "$MTIME" -- "$_st" && _wm=$(stat -c %Y -- "$_st");; esac
  rm -f -- "$_st"
  [ "$_force" = 0 ] && [ "$_wa" = "$_ta" ] && [ "$_wm" = "$_tm" ] && return 0
  did=1
  { [ "$MTIME" = now ] || [ "$_wm" != "$_tm" ]; } && echo "dmtime $_tm $_wm"
  { [ "$ATIME" = now ] || [ "$_wa" != "$_ta" ]; } && echo "datime $_ta $_wa"
  [ "$F_CHECK" = 1 ] && return 0
  # both now: a plain touch, which a writer who is not the owner may do (Ansible's utime(None))
  if [ "$ATIME" = now ] && [ "$MTIME" = now ]; then touch -c -- "$1"; return; fi
  touch -a -d "@$_wa" -- "$1" && touch -m -d "@$_wm" -- "$1"
}
fleet_times() {
  [ "$F_CHECK" = 1 ] && return 0
  case "$ATIME" in now) touch -a -- "$1";; preserve) ;; *) touch -a -t "$ATIME" -- "$1";; esac || return 1
  case "$MTIME" in now) touch -m -- "$1";; preserve) ;; *) touch -m -t "$MTIME" -- "$1";; esac
}
fleet_prev
echo "prev $prev"
[ -n "$S" ] || { if [ "$prev" = absent ]; then { [ "$RECURSE" = 1 ] && S=directory; } || S=file; elif [ "$prev" = hard ]; then S=file; else S=$prev; fi; }
echo "state $S"
# in check mode Ansible warns of an owner or group that does not exist (yet)
if [ "$F_CHECK" = 1 ] && [ "$S" != absent ]; then
  for _kind in user group; do
    if [ $_kind = user ]; then _who=$F_OWNER _db=passwd _id=uid; else _who=$F_GROUP _db=group _id=gid; fi
    [ -n "$_who" ] && ! getent $_db "$_who" >/dev/null 2>&1 || continue
    case "$_who" in *[!0-9]*) _what="$_kind $_who" ;; *) _what="$_kind with $_id $_who" ;; esac
    echo "warn failed to look up $_what. Create $_kind up to this point in real play"
  done
fi
# Ansible checks src against the state it worked out from the path when none was given
case "$S" in link|hard) ;; *) [ -z "$SRC" ] || { echo "fail src option requires state to be 'link' or 'hard'"; exit 1; } ;; esac
if [ "$FOLLOW" = 1 ] && [ "$prev" = link ] && { [ "$S" = file ] || [ "$S" = directory ] || [ "$S" = touch ]; } && [ -e "$P" ]; then
  P=$(readlink -f -- "$P"); fleet_prev
fi
case "$S" in
absent)
  if [ "$prev" = directory ]; then
    find "$P" -mindepth 1 -type d -printf 'pcdir %p\n'; find "$P" -mindepth 1 ! -type d -printf 'pcfile %p\n'
  fi
  if [ "$prev" != absent ]; then did=1; [ "$F_CHECK" = 1 ] || rm -rf -- "$P" || { echo "fail rmtree failed: $P"; exit 1; }; fi ;;
file)
  case "$prev" in
    file|hard) fleet_attrs "$P" || exit 1; fleet_settime "$P" || { echo "fail Error while updating modification or access time: $P"; exit 1; } ;;
    *) echo "fail file ($P) is $prev, cannot continue"; exit 1 ;;
  esac ;;
directory)
  case "$prev" in
    absent) fleet_mkdir_attrs "$P" || exit 1 ;;
    directory) fleet_attrs "$P" || exit 1; fleet_settime "$P" || exit 1; if [ "$RECURSE" = 1 ]; then fleet_recurse; fi ;;
    *) echo "fail $P already exists as a $prev"; exit 1 ;;
  esac ;;
touch)
  if [ "$prev" = absent ]; then
    did=1
    if [ "$F_CHECK" != 1 ]; then
      touch -- "$P" 2>/dev/null || { echo "fail Error, could not touch target: $P"; exit 1; }
      fleet_times "$P"
    fi
  else
    fleet_settime "$P" || { echo "fail Error while touching existing target: $P"; exit 1; }
  fi
  # a file touched into being goes again when its attributes cannot be set (Ansible's touch)
  [ "$F_CHECK" = 1 ] && [ "$prev" = absent ] || fleet_attrs "$P" || { [ "$prev" = absent ] && rm -f -- "$P"; exit 1; } ;;
link|hard)
  if [ -z "$SRC" ]; then
    if [ "$S" = link ] && [ "$prev" = link ]; then SRC=$(readlink -- "$P"); elif [ "$S" = link ]; then echo "fail src is required for creating new symlinks"; exit 1; else echo "fail src is required for creating new hardlinks"; exit 1; fi
  fi
  case "$SRC" in /*) abs=$SRC ;; *) if [ "$prev" = directory ]; then abs="$P/$SRC"; else fleet_parent "$P"; abs="$_parent/$SRC"; fi ;; esac
  if [ "$S" = hard ]; then
    [ -e "$abs" ] || { echo "fail src does not exist"; exit 1; }
    if [ "$prev" != absent ] && [ "$P" -ef "$abs" ] && [ "$prev" != link ]; then :
    else
      case "$prev" in absent) ;; *) [ "$FORCE" = 1 ] || { echo "fail Cannot link, $prev exists at destination"; exit 1; } ;; esac
      did=1
    fi
  else
    [ "$FORCE" = 1 ] || [ -e "$abs" ] || { echo "fail src file does not exist, use \"force=yes\" if you really want to create the link: $abs"; exit 1; }
    case "$prev" in
      directory) [ "$FORCE" = 1 ] || { echo "fail refusing to convert from directory to symlink for $P"; exit 1; }
                 [ -z "$(ls -A -- "$P")" ] || { echo "fail the directory $P is not empty, refusing to convert it"; exit 1; } ;;
      file|hard) [ "$FORCE" = 1 ] || { echo "fail refusing to convert from $prev to symlink for $P"; exit 1; } ;;
    esac
    if [ "$prev" = link ]; then
      _old=$(readlink -- "$P"); [ "$_old" = "$SRC" ] || { did=1; echo "oldsrc $_old"; }
    else did=1; fi
  fi
  if [ "$did" = 1 ] && [ "$F_CHECK" != 1 ]; then
    fleet_parent "$P"; _tmp="$_parent/.fleet_link.$$"
    [ "$prev" = directory ] && { rmdir -- "$P" || exit 1; }
    if [ "$S" = hard ]; then ln -f -- "$abs" "$_tmp"; else ln -sf -- "$SRC" "$_tmp"; fi || { echo "fail Error while linking: $P"; exit 1; }
    mv -fT -- "$_tmp" "$P" || { rm -f -- "$_tmp"; echo "fail Error while linking: $P"; exit 1; }
  fi
  if [ -L "$P" ] || [ -e "$P" ]; then
    if [ "$FOLLOW" = 1 ] && [ -L "$P" ]; then
      [ -e "$P" ] && { fleet_attrs "$(readlink -f -- "$P")" || exit 1; }
    else fleet_attrs "$P" || exit 1; fi
  fi ;;
esac
[ "$attrs_changed" = 1 ] && did=1
[ -z "${_fa_dmode:-}" ] || echo "dmode $_fa_dmode"
echo "did $did"
fleet_stat_known "$P"
