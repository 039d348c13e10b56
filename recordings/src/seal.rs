//! The fingerprint of a closed recording, and crash repair.

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::cast::{Event, Header};
use crate::RecordingError;

/// SHA-256 and size of a finished recording; the audit log signs these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    pub sha256: [u8; 32],
    pub size: u64,
}

impl Seal {
    /// Lower-case hex of the digest.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// Hashes a recording file as it is on disk.
pub fn seal_file(path: &Path) -> Result<Seal, RecordingError> {
    let mut file = std::fs::File::open(path).map_err(|e| RecordingError::io(path, e))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher).map_err(|e| RecordingError::io(path, e))?;
    Ok(Seal {
        sha256: hasher.finalize().into(),
        size,
    })
}

/// Cuts a recording left by a crash back to its last complete, valid event, then seals it.
/// Returns the seal and how many bytes were dropped. A file without a valid header is an error:
/// there is nothing trustworthy to keep.
pub fn repair_and_seal(path: &Path) -> Result<(Seal, u64), RecordingError> {
    let bytes = std::fs::read(path).map_err(|e| RecordingError::io(path, e))?;
    let mut keep = 0usize;
    let mut line_no = 0usize;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        line_no += 1;
        if line.last() != Some(&b'\n') {
            break; // a line the crash cut short
        }
        let Ok(text) = std::str::from_utf8(&line[..line.len() - 1]) else {
            break;
        };
        let valid = if line_no == 1 {
            Header::parse(text).is_ok()
        } else {
            Event::parse(text).is_ok()
        };
        if !valid {
            if line_no == 1 {
                return Err(RecordingError::Format {
                    path: path.to_path_buf(),
                    line: 1,
                    message: "no valid asciicast v2 header".into(),
                });
            }
            break;
        }
        keep += line.len();
    }
    if keep == 0 {
        return Err(RecordingError::Format {
            path: path.to_path_buf(),
            line: 1,
            message: "no complete header line".into(),
        });
    }
    let dropped = (bytes.len() - keep) as u64;
    if dropped > 0 {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| RecordingError::io(path, e))?;
        file.set_len(keep as u64)
            .map_err(|e| RecordingError::io(path, e))?;
        (&file).flush().map_err(|e| RecordingError::io(path, e))?;
        file.sync_all().map_err(|e| RecordingError::io(path, e))?;
    }
    Ok((seal_file(path)?, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_cast;

    const HEADER: &str = r#"{"version":2,"width":80,"height":24,"timestamp":1,"title":"t"}"#;

    #[test]
    fn truncated_tail_is_cut_and_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.cast");
        let good = format!("{HEADER}\n[0.5,\"o\",\"hi\"]\n");
        let cut = "[1.0,\"o\",\"cut";
        std::fs::write(&path, format!("{good}{cut}")).unwrap();
        let (seal, dropped) = repair_and_seal(&path).unwrap();
        assert_eq!(dropped, cut.len() as u64);
        assert_eq!(seal.size, good.len() as u64);
        assert_eq!(read_cast(&path).unwrap().output_text(), "hi");
    }

    #[test]
    fn intact_file_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.cast");
        let good = format!("{HEADER}\n[0.5,\"o\",\"hi\"]\n");
        std::fs::write(&path, &good).unwrap();
        let (seal, dropped) = repair_and_seal(&path).unwrap();
        assert_eq!(dropped, 0);
        assert_eq!(seal, seal_file(&path).unwrap());
    }

    #[test]
    fn garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.cast");
        std::fs::write(&path, "not json\n").unwrap();
        assert!(repair_and_seal(&path).is_err());
    }
}
