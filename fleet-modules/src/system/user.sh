# Brings one user account to the wanted state in one pass. Set by the caller: N (name), STATE,
# W_UID, W_GROUP, W_GROUPS (comma list), SET_GROUPS, APPEND, W_SHELL, W_HOME, SET_COMMENT,
# W_COMMENT, SET_PASSWORD, W_PASSWORD, UPDATE_PW (always|on_create), CREATE_HOME, MOVE_HOME,
# SYSTEM, REMOVE, FORCE, NON_UNIQUE, CHECK (0|1 each for flags).
# Prints `changed=1`, `created=1`, the resulting `passwd=` line and `groups=`; `failed=MSG` last.
fail() { printf 'failed=%s\n' "$1"; exit 0; }
# shell and home are Ansible `path` arguments: `~` and `~/...` mean the connecting user's home
for _v in W_SHELL W_HOME; do
  eval "_p=\$$_v"
  case $_p in
    "~") _p=$HOME ;;
    "~/"*) _p=$HOME${_p#\~} ;;
  esac
  eval "$_v=\$_p"
done
lookup() { getent "$1" "$2" 2>/dev/null || grep "^$2:" "/etc/$1" 2>/dev/null; }
ent=$(lookup passwd "$N")
if [ "$STATE" = absent ]; then
  if [ -n "$ent" ]; then
    echo changed=1
    if [ "$CHECK" != 1 ]; then
      set --; [ "$REMOVE" = 1 ] && set -- -r; [ "$FORCE" = 1 ] && set -- "$@" -f
      out=$(userdel "$@" "$N" 2>&1) || fail "userdel: $out"
    fi
  fi
  exit 0
fi
wgid=
if [ -n "$W_GROUP" ]; then
  wgid=$(lookup group "$W_GROUP" | cut -d: -f3)
  [ -n "$wgid" ] || fail "Group $W_GROUP does not exist"
fi
want=
if [ "$SET_GROUPS" = 1 ]; then
  old_ifs=$IFS; IFS=,
  for g in $W_GROUPS; do
    name=$(lookup group "$g" | cut -d: -f1)
    [ -n "$name" ] || fail "Group $g does not exist"
    want="$want$name
"
  done
  IFS=$old_ifs
  want=$(printf '%s' "$want" | sort -u)
fi
if [ -z "$ent" ]; then
  set --
  [ -n "$W_UID" ] && set -- "$@" -u "$W_UID"
  [ "$NON_UNIQUE" = 1 ] && set -- "$@" -o
  [ -n "$W_GROUP" ] && set -- "$@" -g "$W_GROUP"
  [ -n "$want" ] && set -- "$@" -G "$(printf '%s' "$want" | paste -sd, -)"
  [ "$SET_COMMENT" = 1 ] && set -- "$@" -c "$W_COMMENT"
  [ -n "$W_HOME" ] && set -- "$@" -d "$W_HOME"
  [ -n "$W_SHELL" ] && set -- "$@" -s "$W_SHELL"
  [ "$SET_PASSWORD" = 1 ] && set -- "$@" -p "$W_PASSWORD"
  [ "$SYSTEM" = 1 ] && set -- "$@" -r
  if [ "$CREATE_HOME" = 1 ]; then set -- "$@" -m; else set -- "$@" -M; fi
  echo changed=1; echo created=1
  [ "$CHECK" = 1 ] && exit 0
  out=$(useradd "$@" "$N" 2>&1) || fail "useradd: $out"
else
  IFS=: read -r _ _ cuid cgid cgecos chome cshell <<EOF
$ent
EOF
  set --
  [ -n "$W_UID" ] && [ "$W_UID" != "$cuid" ] && set -- "$@" -u "$W_UID"
  [ -n "$W_UID" ] && [ "$W_UID" != "$cuid" ] && [ "$NON_UNIQUE" = 1 ] && set -- "$@" -o
  [ -n "$wgid" ] && [ "$wgid" != "$cgid" ] && set -- "$@" -g "$W_GROUP"
  [ "$SET_COMMENT" = 1 ] && [ "$W_COMMENT" != "$cgecos" ] && set -- "$@" -c "$W_COMMENT"
  if [ -n "$W_HOME" ] && [ "$W_HOME" != "$chome" ]; then
    set -- "$@" -d "$W_HOME"; [ "$MOVE_HOME" = 1 ] && set -- "$@" -m
  fi
  [ -n "$W_SHELL" ] && [ "$W_SHELL" != "$cshell" ] && set -- "$@" -s "$W_SHELL"
  if [ "$SET_GROUPS" = 1 ]; then
    primary=$(id -gn "$N" 2>/dev/null)
    have=$(id -Gn "$N" 2>/dev/null | tr ' ' '\n' | grep -vx "$primary" | sort -u)
    if [ "$APPEND" = 1 ]; then
      missing=$(printf '%s\n' "$want" | while IFS= read -r g; do
        [ -n "$g" ] && ! printf '%s\n' "$have" | grep -qx "$g" && echo "$g"; done)
      [ -n "$missing" ] && set -- "$@" -a -G "$(printf '%s' "$want" | paste -sd, -)"
    elif [ "$want" != "$have" ]; then
      set -- "$@" -G "$(printf '%s' "$want" | paste -sd, -)"
    fi
  fi
  if [ "$SET_PASSWORD" = 1 ] && [ "$UPDATE_PW" = always ]; then
    cur=$(lookup shadow "$N" | cut -d: -f2)
    [ "$cur" = "$W_PASSWORD" ] || set -- "$@" -p "$W_PASSWORD"
  fi
  if [ $# -gt 0 ]; then
    echo changed=1
    if [ "$CHECK" != 1 ]; then out=$(usermod "$@" "$N" 2>&1) || fail "usermod: $out"; fi
  fi
  # an existing account whose home is missing gets one, as Ansible's create_homedir makes it:
  # /etc/skel copied, the mode login.defs gives (HOME_MODE, else from UMASK, else 755), owned
  # by the user
  home=$(lookup passwd "$N" | cut -d: -f6)
  if [ "$CREATE_HOME" = 1 ] && [ -n "$home" ] && [ ! -e "$home" ]; then
    echo changed=1
    if [ "$CHECK" != 1 ]; then
      if [ -d /etc/skel ]; then out=$(cp -a /etc/skel "$home" 2>&1) || fail "$out"
      else out=$(mkdir -p "$home" 2>&1) || fail "$out"; fi
      mode=755
      if [ -f /etc/login.defs ]; then
        while read -r key value rest; do
          case $value in ''|*[!0-9]*) continue ;; esac
          [ -z "$rest" ] || continue
          case $key in
            HOME_MODE) mode=$value; break ;;
            UMASK) mode=$(printf '%o' $(( 0777 & ~0$value ))) ;;
          esac
        done < /etc/login.defs
      fi
      chmod "$mode" "$home" && chown -R "$(lookup passwd "$N" | cut -d: -f3,4)" "$home" || fail "cannot set up $home"
    fi
  fi
fi
echo "passwd=$(lookup passwd "$N")"
echo "groups=$(id -Gn "$N" 2>/dev/null)"
exit 0
