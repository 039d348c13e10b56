# Polls on the host until a condition holds or the timeout passes. Set by the caller: HOST, PORT,
# FILE, STATE (started|stopped|present|absent|drained), REGEX (ERE, may be empty), DELAY, TIMEOUT,
# SLEEP, CONNECT_TIMEOUT. Prints `elapsed=N` (seconds), then `result=ok|timeout`, and `matched=LINE` for a
# search_regex hit.
# The clock in milliseconds where `date` has %N (GNU), else whole seconds: `elapsed` is whole
# seconds of real time, as Python's timedelta.seconds, not a difference of truncated seconds.
case $(date +%N) in
  *N*) now() { echo $(( $(date +%s) * 1000 )); } ;;
  *) now() { date +%s%3N; } ;;
esac
# Python regexes (search_regex) are closest to PCRE; fall back to ERE where grep lacks -P.
grep_re() { if echo x | grep -qP x 2>/dev/null; then grep -P "$@"; else grep -E "$@"; fi; }
start=$(now)
[ "$DELAY" -gt 0 ] && sleep "$DELAY"
# nothing to wait for: Ansible sleeps the whole timeout after the delay
if [ -z "$PORT" ] && [ -z "$FILE" ] && [ "$STATE" != drained ]; then
  sleep "$TIMEOUT"; echo "elapsed=$((($(now) - start) / 1000))"; echo result=ok; exit 0
fi
end=$((start + TIMEOUT * 1000))
with_timeout() { if command -v timeout >/dev/null 2>&1; then timeout "$CONNECT_TIMEOUT" "$@"; else "$@"; fi; }
connect() { # connect [read]: succeeds when HOST:PORT accepts a connection; `read` prints what it sends
  if command -v bash >/dev/null 2>&1; then
    if [ "$1" = read ]; then
      with_timeout bash -c 'exec 3<>"/dev/tcp/$0/$1" && cat <&3' "$HOST" "$PORT" 2>/dev/null
    else
      with_timeout bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$PORT" 2>/dev/null
    fi
  elif command -v nc >/dev/null 2>&1; then
    if [ "$1" = read ]; then nc -w "$CONNECT_TIMEOUT" "$HOST" "$PORT" </dev/null 2>/dev/null
    else nc -z -w "$CONNECT_TIMEOUT" "$HOST" "$PORT" >/dev/null 2>&1; fi
  else
    echo 'result=error'; echo 'error=neither bash nor nc is available to test ports'; exit 0
  fi
}
connections() { # active connections on local PORT, from /proc/net/tcp{,6}
  hex=$(printf '%04X' "$PORT")
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    awk -v p=":$hex" '$2 ~ p"$" && $4 ~ /^0[1-6]$/ { n++ } END { print n + 0 }'
}
check() {
  if [ -n "$PORT" ]; then
    case $STATE in
      started|present)
        if [ -n "$REGEX" ]; then
          line=$(connect read | grep_re -m 1 -e "$REGEX") && { echo "matched=$line"; return 0; }
          return 1
        fi
        connect ;;
      stopped|absent) ! connect ;;
      drained) [ "$(connections)" = 0 ] ;;
    esac
  elif [ -n "$FILE" ]; then
    case $STATE in
      present|started)
        [ -e "$FILE" ] || return 1
        [ -z "$REGEX" ] && return 0
        line=$(grep_re -m 1 -e "$REGEX" "$FILE" 2>/dev/null) && { echo "matched=$line"; return 0; }
        return 1 ;;
      absent|stopped) [ ! -e "$FILE" ] ;;
    esac
  else
    return 1
  fi
}
while :; do
  if check; then echo "elapsed=$((($(now) - start) / 1000))"; echo result=ok; exit 0; fi
  t=$(now)
  if [ "$t" -ge "$end" ]; then
    echo "elapsed=$(((t - start) / 1000))"
    if [ -z "$PORT" ] && [ -z "$FILE" ]; then echo result=ok; else echo result=timeout; fi
    exit 0
  fi
  s=$SLEEP; left=$(((end - t + 999) / 1000)); [ "$left" -lt "$s" ] && s=$left
  sleep "$s"
done
