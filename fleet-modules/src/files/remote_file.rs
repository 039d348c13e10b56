//! Shell building blocks shared by the file modules: a prelude of small `sh` functions (apply
//! mode/owner/group and say whether anything differed, stat a path, take a backup), the variables
//! that drive them, and the parser for the line-based report the scripts print back.
//!
//! Report protocol: every line is `tag rest`; a `blob N` line is followed by exactly N raw bytes
//! (file content for diffs or fetches), so one round trip can carry status and data. A script
//! whose last output is a file's bytes prints `tail TAG` and then `exec cat`s the file: every
//! byte after that line is the blob of a `TAG` record. The length needs no `stat` first, and
//! the script's own process becomes the `cat`: on a host that is two processes fewer.

use serde_json::{Map, Value};

use super::args::{FileAttrs, Mode};
use crate::remote::shell_quote;

/// Shell functions every file-module script starts with.
///
/// `fleet_attrs PATH [STAT]` applies `F_OWNER`, `F_GROUP`, `F_MODE` (symbolic when `F_MODE_SYM=1`)
/// and sets `attrs_changed=1` when one differed; with `F_CHECK=1` it only compares (a symbolic
/// mode is tried on a scratch file). STAT is PATH's `mode|user|group|uid|gid|size|type` when the
/// caller has just read it; what PATH's stat is afterwards, when fleet_attrs can tell without
/// asking again, is left for `fleet_stat_known PATH`. `fleet_write` puts a whole file (see its
/// comment). Each process costs the target a fork and an exec, which on many hosts sharing a CPU
/// is most of a run's time, so these reuse what one `stat` said. `fleet_stat PATH` prints an `st`
/// line; `fleet_backup PATH` copies the
/// file to Ansible's backup name and prints a `backup` line; `fleet_mkdirs DIR` creates missing
/// directories (mode `F_DIRMODE` on new ones) and prints a `mkdir` line for each; `fleet_blob
/// PATH` sends a file's bytes.
pub const PRELUDE: &str = r#"attrs_changed=0 _fa_stat= _fa_path=
nl='
'
fleet_attrs() {
  _p=$1 _fa=${2:-} _fa_stat= _fa_path=$1
  if [ -z "$F_OWNER$F_GROUP$F_MODE" ]; then _fa_stat=$_fa; return 0; fi
  [ -n "$_fa" ] || _fa=$(stat -c '%a|%U|%G|%u|%g|%s|%F' -- "$_p" 2>/dev/null)
  _fa_known=$_fa
  _fa_mode=${_fa%%|*}; _fa=${_fa#*|}
  _fa_user=${_fa%%|*}; _fa=${_fa#*|}
  _fa_group=${_fa%%|*}; _fa=${_fa#*|}
  _fa_uid=${_fa%%|*}; _fa=${_fa#*|}
  _fa_gid=${_fa%%|*}
  if [ -n "$F_OWNER" ]; then
    case " $_fa_user $_fa_uid " in
      *" $F_OWNER "*) ;;
      *) attrs_changed=1
         if [ "$F_CHECK" != 1 ]; then
           chown -h -- "$F_OWNER" "$_p" 2>/dev/null || { echo "fail chown failed: failed to look up user $F_OWNER"; return 1; }
           _fa_mode= _fa_known=
         fi ;;
    esac
  fi
  if [ -n "$F_GROUP" ]; then
    case " $_fa_group $_fa_gid " in
      *" $F_GROUP "*) ;;
      *) attrs_changed=1
         if [ "$F_CHECK" != 1 ]; then
           chgrp -h -- "$F_GROUP" "$_p" 2>/dev/null || { echo "fail chgrp failed: failed to look up group $F_GROUP"; return 1; }
           _fa_mode= _fa_known=
         fi ;;
    esac
  fi
  if [ -n "$F_MODE" ] && [ ! -L "$_p" ]; then
    # a chown may have cleared set-id bits: then the mode is read again
    _cur=$_fa_mode; [ -n "$_cur" ] || _cur=$(stat -c %a -- "$_p")
    if [ "$F_MODE_SYM" = 1 ]; then
      if [ -d "$_p" ]; then _t=$(mktemp -d); else _t=$(mktemp); fi
      chmod "$_cur" "$_t" && chmod -- "$F_MODE" "$_t" && _new=$(stat -c %a -- "$_t")
      rm -rf -- "$_t"
    else
      _new=$F_MODE
    fi
    if [ "$_cur" != "$_new" ]; then
      attrs_changed=1
      # the first mode change, for a module's diff
      [ -n "${_fa_dmode:-}" ] || _fa_dmode="$_cur $_new"
      if [ "$F_CHECK" != 1 ]; then
        chmod -- "$F_MODE" "$_p" || { echo "fail chmod failed on $_p"; return 1; }
        # without set-id or sticky bits before and after, the mode is now exactly F_MODE
        if [ -n "$_fa_known" ] && [ "$F_MODE_SYM" != 1 ] && [ ${#_cur} -le 3 ] && [ ${#_new} -le 3 ]; then
          _fa_known="$_new|${_fa_known#*|}"
        else _fa_known=; fi
      fi
    fi
  fi
  _fa_stat=$_fa_known
  return 0
}
# fleet_stat_known PATH: PATH's `st` line, from what fleet_attrs last read when that was PATH.
fleet_stat_known() {
  if [ -n "$_fa_stat" ] && [ "$_fa_path" = "$1" ]; then printf 'st %s|%s\n' "$_fa_stat" "$1"; else fleet_stat "$1"; fi
}
fleet_stat() { stat -c 'st %a|%U|%G|%u|%g|%s|%F|%n' -- "$1" 2>/dev/null; return 0; }
fleet_backup() {
  _b="$1.$$.$(date +%Y-%m-%d@%H:%M:%S)~"
  cp -p -- "$1" "$_b" && echo "backup $_b"
}
# fleet_parent PATH: what `dirname -- PATH` prints, in $_parent, without starting a process.
fleet_parent() {
  _parent=$1
  while [ "$_parent" != / ] && [ "${_parent%/}" != "$_parent" ]; do _parent=${_parent%/}; done
  case $_parent in
    */*) _parent=${_parent%/*}
         while [ "${_parent%/}" != "$_parent" ]; do _parent=${_parent%/}; done
         [ -n "$_parent" ] || _parent=/ ;;
    *) _parent=. ;;
  esac
}
fleet_mkdirs() {
  [ -d "$1" ] && return 0
  fleet_parent "$1"
  fleet_mkdirs "$_parent" || return 1
  echo "mkdir 1 $1"
  [ "$F_CHECK" = 1 ] && return 0
  # another run may create it at the same moment (Ansible accepts EEXIST for a directory too)
  mkdir -- "$1" 2>/dev/null || [ -d "$1" ] || { echo "fail There was an issue creating $1 as requested"; return 1; }
  if [ -n "${F_DIRMODE:-}" ]; then chmod -- "$F_DIRMODE" "$1"; fi
  return 0
}
fleet_blob() { printf 'blob %s\n' "$(stat -L -c %s -- "$1")"; cat -- "$1"; }
# fleet_tmpfile DIR: creates an empty file in DIR with a new file's mode (0666 & ~umask), named
# in $_tmp. In a sticky directory (/tmp) other users may have planted traps, so there the name is
# random (mktemp). Elsewhere whoever can add a name to DIR can as well replace the destination,
# so a counted name created with noclobber (O_EXCL) is as safe and costs no process.
fleet_tmpfile() {
  if [ ! -k "$1" ]; then
    _fn=0
    while [ "$_fn" -lt 20 ]; do
      _fn=$((_fn + 1)); _tmp="$1/.fleet_tmp.$$.$_fn"
      if [ -e "$_tmp" ] || [ -L "$_tmp" ]; then continue; fi
      set -C; { true > "$_tmp"; } 2>/dev/null; _frc=$?; set +C
      [ "$_frc" = 0 ] && return 0
      [ -e "$_tmp" ] || [ -L "$_tmp" ] || return 1
    done
  fi
  _tmp=$(mktemp "$1/.fleet_tmp.XXXXXX") || return 1
  chmod "$(printf '%o' $(( 0666 & ~$(umask) )))" "$_tmp"
}
# fleet_write DEST SIZE [SRC SHA1]: replaces DEST atomically with the next SIZE bytes of standard
# input, or with $_wc when $_sent is 2 (see `embedded_content`), or with the host's file SRC,
# whose sha1 must be SHA1. A temporary file in DEST's
# directory gets the old file's owner and mode (a new file's mode when there is none), must pass
# F_VALIDATE, gets the F_* attributes, and is renamed over DEST. One stat serves the size check,
# the attribute comparisons and DEST's `st` line (fleet_stat_known DEST). On error: a `fail` line, status 1.
fleet_write() {
  _wd=$1
  fleet_parent "$_wd"; _dir=$_parent
  fleet_tmpfile "$_dir" || { echo "fail Could not create a temporary file in $_dir"; return 1; }
  if [ -n "${3:-}" ]; then cat -- "$3" > "$_tmp"
  elif [ "${_sent:-}" = 2 ]; then printf '%s' "$_wc" > "$_tmp"
  else head -c "$2" > "$_tmp"; fi
  if [ -e "$_wd" ]; then
    _w=$(stat -L -c '%s|%a|%U|%G|%u|%g|%F' -- "$_tmp" "$_wd" 2>/dev/null)
  else
    _w=$(stat -c '%s|%a|%U|%G|%u|%g|%F' -- "$_tmp" 2>/dev/null)
  fi
  _wn=${_w%%"$nl"*} _wo=
  [ "$_wn" = "$_w" ] || _wo=${_w#*"$nl"}
  if [ -n "${3:-}" ]; then
    _sum=$(sha1sum < "$_tmp"); [ "${_sum%% *}" = "$4" ]
  else
    [ "${_wn%%|*}" = "$2" ]
  fi || { rm -f -- "$_tmp"; echo "fail Copied file does not match the expected checksum. Transfer failed."; return 1; }
  if [ -n "${F_VALIDATE:-}" ]; then
    _out=$(sh -c "${F_VALIDATE%%\%s*}$_tmp${F_VALIDATE#*\%s}" 2>&1) || {
      rm -f -- "$_tmp"; echo "fail failed to validate: $(printf %s "$_out" | tr '\n' ' ')"; return 1; }
  fi
  # mode|user|group|uid|gid of the temporary file, then of the old file when there is one
  _wa=${_wn#*|}; _wa=${_wa%|*}
  if [ -n "$_wo" ]; then
    _woa=${_wo#*|}; _woa=${_woa%|*}
    _wids=${_wa#*|*|*|} _woids=${_woa#*|*|*|}
    if [ "$_wids" != "$_woids" ]; then
      # owner first: a chown clears set-id bits, the chmod after it restores them
      if chown "${_woids%|*}:${_woids#*|}" "$_tmp" 2>/dev/null; then _wa="${_wa%%|*}|${_woa#*|}"; fi
      chmod "${_woa%%|*}" "$_tmp"; _wa="${_woa%%|*}|${_wa#*|}"
    elif [ "${_wa%%|*}" != "${_woa%%|*}" ]; then
      chmod "${_woa%%|*}" "$_tmp"; _wa="${_woa%%|*}|${_wa#*|}"
    fi
    if [ "${F_BACKUP:-0}" = 1 ]; then fleet_backup "$_wd"; fi
  fi
  fleet_attrs "$_tmp" "$_wa|${_wn%%|*}|${_wn##*|}" || { rm -f -- "$_tmp"; return 1; }
  mv -f -- "$_tmp" "$_wd" || { rm -f -- "$_tmp"; _fa_stat=; echo "fail Could not replace $_wd"; return 1; }
  _fa_path=$_wd
  return 0
}
"#;

/// Contents up to this size may travel inside the script (see [`embedded_content`]).
pub const EMBED_LIMIT: usize = 16 * 1024;

/// `_sent=2 _wc='CONTENT'` for a small text content (UTF-8, no NUL, at most [`EMBED_LIMIT`]
/// bytes): `fleet_write` then writes it with the shell's own `printf` instead of reading it from
/// standard input with `head -c`, one process fewer per file written (and no `head` to skip
/// content a file already has). A variable holds any bytes but NUL, and `printf %s` writes them
/// as they are, trailing newlines included. `None` for anything else, which goes on stdin.
pub fn embedded_content(bytes: &[u8]) -> Option<String> {
    if bytes.len() > EMBED_LIMIT || bytes.contains(&0) {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    Some(format!("_sent=2 _wc='{}'\n", text.replace('\'', r"'\''")))
}

/// Shell assignments for the prelude's `F_*` variables.
pub fn attr_vars(attrs: &FileAttrs, check: bool) -> String {
    let (mode, symbolic) = match &attrs.mode {
        Some(m @ Mode::Octal(_)) => (m.chmod_arg(), false),
        Some(m @ Mode::Symbolic(_)) => (m.chmod_arg(), true),
        None => (String::new(), false),
    };
    format!(
        "F_MODE={}\nF_MODE_SYM={}\nF_OWNER={}\nF_GROUP={}\nF_CHECK={}\n",
        shell_quote(&mode),
        u8::from(symbolic),
        shell_quote(attrs.owner.as_deref().unwrap_or("")),
        shell_quote(attrs.group.as_deref().unwrap_or("")),
        u8::from(check),
    )
}

/// One line of a script's report, with the raw bytes of a preceding `blob` line if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// First word of the line (`st`, `fail`, `backup`, ...).
    pub tag: String,
    /// The rest of the line after the tag.
    pub rest: String,
    /// Bytes that came in a `blob N` line right before this one.
    pub blob: Option<Vec<u8>>,
}

/// Splits a script's standard output into records; see the module doc for the protocol.
pub fn parse_report(out: &[u8]) -> Vec<Record> {
    let mut records = Vec::new();
    let mut pending_blob = None;
    let mut pos = 0;
    while pos < out.len() {
        let end = out[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(out.len(), |i| pos + i);
        let line = String::from_utf8_lossy(&out[pos..end]).into_owned();
        pos = end + 1;
        let (tag, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        if tag == "tail" {
            records.push(Record {
                tag: rest.to_string(),
                rest: String::new(),
                blob: Some(out[pos.min(out.len())..].to_vec()),
            });
            break;
        }
        if tag == "blob" {
            let size: usize = rest.trim().parse().unwrap_or(0);
            let stop = (pos + size).min(out.len());
            pending_blob = Some(out[pos.min(stop)..stop].to_vec());
            pos = stop;
            continue;
        }
        records.push(Record {
            tag: tag.to_string(),
            rest: rest.to_string(),
            blob: pending_blob.take(),
        });
    }
    records
}

/// The first record with `tag`.
pub fn find<'a>(records: &'a [Record], tag: &str) -> Option<&'a Record> {
    records.iter().find(|r| r.tag == tag)
}

/// The text of the first `fail` record: the script's own explanation of a failure.
pub fn failure(records: &[Record]) -> Option<String> {
    find(records, "fail").map(|r| r.rest.clone())
}

/// What `fleet_stat` reported about a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatLine {
    /// Permission bits.
    pub mode: u32,
    /// Owner name.
    pub owner: String,
    /// Group name.
    pub group: String,
    /// Owner id.
    pub uid: u64,
    /// Group id.
    pub gid: u64,
    /// Size in bytes.
    pub size: u64,
    /// Ansible's state word: `file`, `directory`, `link`, or another type's name.
    pub state: String,
    /// The path as stat printed it.
    pub path: String,
}

impl StatLine {
    /// Parses the rest of an `st` record.
    pub fn parse(rest: &str) -> Option<StatLine> {
        let f: Vec<&str> = rest.splitn(8, '|').collect();
        if f.len() != 8 {
            return None;
        }
        let state = match f[6] {
            "regular file" | "regular empty file" => "file",
            "directory" => "directory",
            "symbolic link" => "link",
            other => other,
        };
        Some(StatLine {
            mode: u32::from_str_radix(f[0], 8).ok()?,
            owner: f[1].to_string(),
            group: f[2].to_string(),
            uid: f[3].parse().ok()?,
            gid: f[4].parse().ok()?,
            size: f[5].parse().ok()?,
            state: state.to_string(),
            path: f[7].to_string(),
        })
    }

    /// Adds Ansible's file-info keys (`mode` as `'0644'`, owner, group, uid, gid, size, state).
    pub fn add_to(&self, data: &mut Map<String, Value>) {
        // Python's `'0%03o' % mode`: `0644`, `01777`
        data.insert("mode".into(), format!("0{:03o}", self.mode).into());
        data.insert("owner".into(), self.owner.clone().into());
        data.insert("group".into(), self.group.clone().into());
        data.insert("uid".into(), self.uid.into());
        data.insert("gid".into(), self.gid.into());
        data.insert("size".into(), self.size.into());
        data.insert("state".into(), self.state.clone().into());
    }
}

/// The last `st` record, parsed.
pub fn last_stat(records: &[Record]) -> Option<StatLine> {
    records
        .iter()
        .rev()
        .find(|r| r.tag == "st")
        .and_then(|r| StatLine::parse(&r.rest))
}

/// The parent directory of a remote path as the scripts need it (`.` for a bare name).
pub fn parent_dir(path: &str) -> String {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) => "/".to_string(),
        Some((dir, _)) => dir.to_string(),
        None => ".".to_string(),
    }
}

/// The last component of a path (`/a/b/` → `b`).
pub fn base_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// Text for a diff side; `None` when the bytes look binary (Ansible skips those diffs).
pub fn diff_text(bytes: &[u8]) -> Option<String> {
    if bytes.contains(&0) {
        return None;
    }
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// The sha1 of some bytes in hex, Ansible's `checksum`.
pub fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(bytes))
}

/// The MD5 of `bytes` in hex (the `md5sum` of copy/template results).
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_carries_lines_and_blobs() {
        let out = b"st 644|root|root|0|0|3|regular file|/x\nblob 4\na\nb\nold 1 /x\nend\n";
        let r = parse_report(out);
        assert_eq!(r.len(), 3);
        assert_eq!(r[1].tag, "old");
        assert_eq!(r[1].blob.as_deref(), Some(&b"a\nb\n"[..]));
        let st = last_stat(&r).unwrap();
        assert_eq!((st.mode, st.size, st.state.as_str()), (0o644, 3, "file"));
        assert_eq!(r[2].tag, "end");
    }

    #[test]
    fn a_tail_record_takes_every_byte_after_it() {
        // the file's bytes may look like report lines, and need not end in a newline
        let r = parse_report(b"real /x\nattrs 0\ntail content\nblob 3\nend\nno newline");
        assert_eq!(r.len(), 3);
        assert_eq!((r[1].tag.as_str(), r[1].rest.as_str()), ("attrs", "0"));
        assert_eq!(r[2].tag, "content");
        assert_eq!(r[2].blob.as_deref(), Some(&b"blob 3\nend\nno newline"[..]));
        let empty = parse_report(b"tail content\n");
        assert_eq!(empty[0].blob.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn paths_split_like_dirname() {
        assert_eq!(parent_dir("/a/b"), "/a");
        assert_eq!(parent_dir("/a"), "/");
        assert_eq!(parent_dir("a"), ".");
        assert_eq!(base_name("/a/b/"), "b");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    /// The scripts' `fleet_parent` (no process) prints what dirname(1) prints.
    #[test]
    fn fleet_parent_agrees_with_dirname() {
        let paths = [
            "/a/b",
            "/a",
            "/",
            "a",
            "a/b",
            "/a/b/",
            "a//",
            "/a//b//",
            "a//b",
            "/x y/z",
            ".",
            "..",
            "./f",
            "-n/x",
            "a/-e",
            "/tmp/h/app/mode.conf",
        ];
        let script = format!(
            "{PRELUDE}for p in \"$@\"; do fleet_parent \"$p\"; printf '%s|%s\\n' \"$_parent\" \"$(dirname -- \"$p\")\"; done"
        );
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", &script, "sh"])
            .args(paths)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.lines().count(), paths.len(), "{text}");
        for (line, path) in text.lines().zip(paths) {
            let (ours, dirname) = line.split_once('|').unwrap();
            assert_eq!(ours, dirname, "{path}");
        }
    }
}
