//! Host key checking the way OpenSSH does it, against the same `known_hosts` files.
//!
//! Lines are parsed by `ssh_key::known_hosts` (markers, comma lists, hashed names); matching a
//! host against them is done here: the lookup name is `host` on port 22 and `[host]:port`
//! otherwise, patterns may use `*`, `?` and `!negation`, hashed names are HMAC-SHA1 of the
//! lookup name. A matching `@revoked` key refuses the host whatever else is listed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use russh::keys::ssh_key::known_hosts::{Entry, HostPatterns, Marker};
use russh::keys::{Algorithm, HashAlg, PublicKey};
use sha1::Sha1;

/// Where OpenSSH looks by default: the user's file, then the system-wide one.
pub fn default_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        let ssh = Path::new(&home).join(".ssh");
        files.push(ssh.join("known_hosts"));
        files.push(ssh.join("known_hosts2"));
    }
    files.push(PathBuf::from("/etc/ssh/ssh_known_hosts"));
    files.push(PathBuf::from("/etc/ssh/ssh_known_hosts2"));
    files
}

/// What the known_hosts files say about a key a server offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A line for this host lists exactly this key.
    Known,
    /// No line names this host.
    Unknown,
    /// Lines name this host, but with other keys; the first such line is reported.
    Changed { file: PathBuf, line: usize },
    /// The key is marked `@revoked` for this host.
    Revoked { file: PathBuf, line: usize },
}

/// What tells a known_hosts file's version apart: its path, size and modification time
/// (`None` for a file that cannot be read).
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    path: PathBuf,
    version: Option<(u64, Option<SystemTime>)>,
}

impl FileStamp {
    fn of(path: &Path) -> FileStamp {
        let version = std::fs::metadata(path)
            .ok()
            .map(|m| (m.len(), m.modified().ok()));
        FileStamp {
            path: path.to_path_buf(),
            version,
        }
    }
}

/// One parsed line, remembered with where it came from (for messages).
#[derive(Debug)]
struct Line {
    file: PathBuf,
    number: usize,
    entry: Entry,
}

/// The host keys listed in a set of known_hosts files.
#[derive(Debug, Default)]
pub struct KnownHosts {
    lines: Vec<Line>,
}

impl KnownHosts {
    /// Reads every file that exists; unreadable files and malformed lines are skipped, as ssh does.
    pub fn load(files: &[PathBuf]) -> KnownHosts {
        let mut known = KnownHosts::default();
        for file in files {
            if let Ok(text) = std::fs::read_to_string(file) {
                known.add_text(file, &text);
            }
        }
        known
    }

    /// [`KnownHosts::load`], parsed once per process while the files stay as they are: every
    /// host of a run checks its key against the same files, and re-parsing a 1,000-line
    /// known_hosts for each of 1,000 connections costs a million key parses (and each
    /// connection kept its own copy for its lifetime). A file written since (its size or
    /// modification time differs) is read afresh.
    pub fn load_shared(files: &[PathBuf]) -> Arc<KnownHosts> {
        type Cache = Mutex<HashMap<Vec<PathBuf>, (Vec<FileStamp>, Arc<KnownHosts>)>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let stamps: Vec<FileStamp> = files.iter().map(|f| FileStamp::of(f)).collect();
        let mut cache = CACHE
            .get_or_init(Cache::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some((cached, known)) = cache.get(files) {
            if *cached == stamps {
                return known.clone();
            }
        }
        let known = Arc::new(KnownHosts::load(files));
        cache.insert(files.to_vec(), (stamps, known.clone()));
        known
    }

    /// Adds the lines of one file's text.
    fn add_text(&mut self, file: &Path, text: &str) {
        for (i, raw) in text.lines().enumerate() {
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            // ssh_key splits fields on single spaces; OpenSSH accepts any run of blanks.
            let normalized = trimmed.split_whitespace().collect::<Vec<_>>().join(" ");
            if let Ok(entry) = normalized.parse::<Entry>() {
                self.lines.push(Line {
                    file: file.to_path_buf(),
                    number: i + 1,
                    entry,
                });
            }
        }
    }

    /// Checks `key` offered by `host` (a name or address, as connected to) on `port`.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> Verdict {
        let name = lookup_name(host, port);
        let mut known = false;
        let mut changed = None;
        for line in &self.lines {
            if !host_matches(line.entry.host_patterns(), &name) {
                continue;
            }
            let same_key = line.entry.public_key().key_data() == key.key_data();
            match line.entry.marker() {
                Some(Marker::Revoked) if same_key => {
                    return Verdict::Revoked {
                        file: line.file.clone(),
                        line: line.number,
                    }
                }
                Some(_) => {}
                None if same_key => known = true,
                None => {
                    changed.get_or_insert_with(|| (line.file.clone(), line.number));
                }
            }
        }
        match (known, changed) {
            (true, _) => Verdict::Known,
            (false, Some((file, line))) => Verdict::Changed { file, line },
            (false, None) => Verdict::Unknown,
        }
    }
}

/// The name known_hosts lines are matched against: `host`, or `[host]:port` off port 22.
pub fn lookup_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// OpenSSH's name for a key type in messages ("ED25519", "ECDSA", "RSA").
pub fn key_type_label(key: &PublicKey) -> &'static str {
    match key.algorithm() {
        Algorithm::Ed25519 => "ED25519",
        Algorithm::Ecdsa { .. } => "ECDSA",
        Algorithm::Rsa { .. } => "RSA",
        Algorithm::Dsa => "DSA",
        _ => "UNKNOWN",
    }
}

/// `SHA256:...` as ssh prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

fn host_matches(patterns: &HostPatterns, name: &str) -> bool {
    match patterns {
        HostPatterns::HashedName { salt, hash } => {
            let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(salt) else {
                return false;
            };
            mac.update(name.as_bytes());
            mac.verify_slice(hash).is_ok()
        }
        HostPatterns::Patterns(list) => {
            let mut matched = false;
            for pattern in list {
                let pattern = pattern.to_ascii_lowercase();
                match pattern.strip_prefix('!') {
                    Some(negated) if glob_match(negated.as_bytes(), name.as_bytes()) => {
                        return false
                    }
                    Some(_) => {}
                    None => matched |= glob_match(pattern.as_bytes(), name.as_bytes()),
                }
            }
            matched
        }
    }
}

/// `*` (any run) and `?` (any one byte) wildcards, as OpenSSH's `match_pattern`.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;

    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILIG2T/B0l0gaqj3puu510tu9N1OkQ4znY3LYuEm5zCF";

    fn key(s: &str) -> PublicKey {
        PublicKey::from_openssh(s).unwrap()
    }

    fn known(text: &str) -> KnownHosts {
        let mut k = KnownHosts::default();
        k.add_text(Path::new("kh"), text);
        k
    }

    fn hashed(name: &str, salt: &[u8]) -> String {
        let mut mac = Hmac::<Sha1>::new_from_slice(salt).unwrap();
        mac.update(name.as_bytes());
        let hash = mac.finalize().into_bytes();
        format!("|1|{}|{}", BASE64.encode(salt), BASE64.encode(hash))
    }

    #[test]
    fn plain_names_ports_and_comma_lists() {
        let k = known(&format!(
            "# comment\nweb1,10.0.0.5 {KEY_A}\n[10.0.0.6]:2222\t{KEY_A} c\n"
        ));
        assert_eq!(k.check("web1", 22, &key(KEY_A)), Verdict::Known);
        assert_eq!(k.check("WEB1", 22, &key(KEY_A)), Verdict::Known);
        assert_eq!(k.check("10.0.0.5", 22, &key(KEY_A)), Verdict::Known);
        assert_eq!(k.check("10.0.0.5", 2222, &key(KEY_A)), Verdict::Unknown);
        assert_eq!(k.check("10.0.0.6", 2222, &key(KEY_A)), Verdict::Known);
        assert_eq!(k.check("10.0.0.6", 22, &key(KEY_A)), Verdict::Unknown);
        assert_eq!(
            k.check("web1", 22, &key(KEY_B)),
            Verdict::Changed {
                file: "kh".into(),
                line: 2
            }
        );
    }

    #[test]
    fn hashed_entries_match_the_lookup_name() {
        let k = known(&format!(
            "{} {KEY_A}\n{} {KEY_B}\n",
            hashed("[127.0.1.9]:2200", b"0123456789abcdefghij"),
            hashed("db1", b"salt-two-salt-two-ab")
        ));
        assert_eq!(k.check("127.0.1.9", 2200, &key(KEY_A)), Verdict::Known);
        assert_eq!(k.check("db1", 22, &key(KEY_B)), Verdict::Known);
        assert_eq!(k.check("db2", 22, &key(KEY_B)), Verdict::Unknown);
        assert!(matches!(
            k.check("db1", 22, &key(KEY_A)),
            Verdict::Changed { line: 2, .. }
        ));
    }

    #[test]
    fn revoked_wins_over_a_matching_line() {
        let k = known(&format!("web1 {KEY_A}\n@revoked * {KEY_A}\n"));
        assert!(matches!(
            k.check("web1", 22, &key(KEY_A)),
            Verdict::Revoked { line: 2, .. }
        ));
    }

    #[test]
    fn wildcards_and_negation() {
        let k = known(&format!("*.example.com,!bad.example.com {KEY_A}\n"));
        assert_eq!(k.check("a.example.com", 22, &key(KEY_A)), Verdict::Known);
        assert_eq!(
            k.check("bad.example.com", 22, &key(KEY_A)),
            Verdict::Unknown
        );
        assert!(glob_match(b"web?", b"web1"));
        assert!(!glob_match(b"web?", b"web12"));
        assert!(glob_match(b"*a*b", b"xxaxxb"));
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let k = known(&format!("garbage\nweb1 ssh-ed25519 !!!\nweb1 {KEY_A}\n"));
        assert_eq!(k.check("web1", 22, &key(KEY_A)), Verdict::Known);
    }

    /// Parsed once while the file stays the same; a changed file is read again, so a host
    /// key added (or changed) between two connections of one process counts.
    #[test]
    fn shared_load_is_reused_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        std::fs::write(&file, format!("web1 {KEY_A}\n")).unwrap();
        let files = vec![file.clone()];
        let first = KnownHosts::load_shared(&files);
        assert!(Arc::ptr_eq(&first, &KnownHosts::load_shared(&files)));
        assert_eq!(first.check("web1", 22, &key(KEY_A)), Verdict::Known);
        std::fs::write(&file, format!("web1 {KEY_B}\nweb2 {KEY_A}\n")).unwrap();
        let second = KnownHosts::load_shared(&files);
        assert!(!Arc::ptr_eq(&first, &second));
        assert!(matches!(
            second.check("web1", 22, &key(KEY_A)),
            Verdict::Changed { .. }
        ));
        assert_eq!(second.check("web2", 22, &key(KEY_A)), Verdict::Known);
    }
}
