# Brings one service to the wanted state in a single pass. Set by the caller:
#   N (unit name), BACKEND (auto|systemctl), WANT_STATE (started|stopped|restarted|reloaded|''),
#   WANT_ENABLED (yes|no|''), WANT_MASKED (yes|no|''), DAEMON_RELOAD (0|1), CHECK (0|1).
# Prints `changed=1`, `state=...`, `enabled=...` lines; a failure prints `failed=MESSAGE` last.
fail() { printf 'failed=%s\n' "$1"; exit 0; }
act() { # act VERB COMMAND...: run unless in check mode, fail with Ansible's wording
  verb=$1; shift
  echo changed=1
  [ "$CHECK" = 1 ] && return 0
  out=$("$@" 2>&1) || fail "Unable to $verb service $N: $out"
}
if [ "$BACKEND" = auto ]; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then BACKEND=systemctl
  elif command -v service >/dev/null 2>&1; then BACKEND=service
  elif [ -x "/etc/init.d/$N" ]; then BACKEND=initd
  else fail "Could not find the requested service $N: host"
  fi
fi
if [ "$BACKEND" = systemctl ]; then
  command -v systemctl >/dev/null 2>&1 || fail "systemctl not found on the host"
  if [ "$DAEMON_RELOAD" = 1 ] && [ "$CHECK" != 1 ]; then
    out=$(systemctl daemon-reload 2>&1) || fail "failure $? during daemon-reload: $out"
  fi
  load=$(systemctl show -p LoadState "$N" 2>/dev/null); load=${load#LoadState=}
  if [ "$load" = not-found ] && { [ -n "$WANT_STATE" ] || [ -n "$WANT_ENABLED" ]; }; then
    fail "Could not find the requested service $N: host"
  fi
  en=$(systemctl is-enabled "$N" 2>/dev/null) && is_en=1 || is_en=0
  case $en in *indirect*|*generated*) is_en=1 ;; esac
  if [ -n "$WANT_MASKED" ]; then
    if [ "$en" = masked ] || [ "$load" = masked ]; then m=yes; else m=no; fi
    if [ "$m" != "$WANT_MASKED" ]; then
      if [ "$WANT_MASKED" = yes ]; then act mask systemctl mask "$N"; else act unmask systemctl unmask "$N"; fi
    fi
  fi
  if [ -n "$WANT_ENABLED" ]; then
    [ "$is_en" = 1 ] && have=yes || have=no
    if [ "$have" != "$WANT_ENABLED" ]; then
      if [ "$WANT_ENABLED" = yes ]; then act enable systemctl enable "$N"; else act disable systemctl disable "$N"; fi
    fi
    echo "enabled=$WANT_ENABLED"
  fi
  st=$(systemctl is-active "$N" 2>/dev/null)
  case $st in active|activating|reloading) running=1 ;; *) running=0 ;; esac
  [ "$st" = deactivating ] && stopping=1 || stopping=0
  case $WANT_STATE in
    started) [ "$running" = 1 ] || act start systemctl start "$N" ;;
    stopped) if [ "$running" = 1 ] || [ "$stopping" = 1 ]; then act stop systemctl stop "$N"; fi ;;
    restarted) act restart systemctl restart "$N" ;;
    reloaded) if [ "$running" = 1 ]; then act reload systemctl reload "$N"; else act start systemctl start "$N"; fi ;;
  esac
else
  if [ "$BACKEND" = service ]; then ctl() { service "$N" "$1"; }; else ctl() { "/etc/init.d/$N" "$1"; }; fi
  ctl status >/dev/null 2>&1 && running=1 || running=0
  case $WANT_STATE in
    started) [ "$running" = 1 ] || act start ctl start ;;
    stopped) [ "$running" = 0 ] || act stop ctl stop ;;
    restarted) act restart ctl restart ;;
    reloaded) if [ "$running" = 1 ]; then act reload ctl reload; else act start ctl start; fi ;;
  esac
  if [ -n "$WANT_ENABLED" ]; then
    if command -v chkconfig >/dev/null 2>&1; then
      chkconfig "$N" >/dev/null 2>&1 && have=yes || have=no
      [ "$WANT_ENABLED" = yes ] && verb=on || verb=off
      [ "$have" = "$WANT_ENABLED" ] || act enable chkconfig "$N" "$verb"
    elif command -v rc-update >/dev/null 2>&1; then
      rc-update show default 2>/dev/null | grep -q "^ *$N |" && have=yes || have=no
      [ "$WANT_ENABLED" = yes ] && verb=add || verb=del
      [ "$have" = "$WANT_ENABLED" ] || act enable rc-update "$verb" "$N" default
    elif command -v update-rc.d >/dev/null 2>&1; then
      set -- /etc/rc[2345].d/S??"$N"
      [ -e "$1" ] && have=yes || have=no
      [ "$WANT_ENABLED" = yes ] && verb=enable || verb=disable
      if [ "$have" != "$WANT_ENABLED" ]; then
        [ "$verb" = enable ] && [ "$CHECK" != 1 ] && update-rc.d "$N" defaults >/dev/null 2>&1
        act enable update-rc.d "$N" "$verb"
      fi
    else
      fail "Could not find a tool to enable service $N at boot"
    fi
    echo "enabled=$WANT_ENABLED"
  fi
fi
[ -n "$WANT_STATE" ] && echo "state=$WANT_STATE"
exit 0
