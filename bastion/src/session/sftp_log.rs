//! Reads the SFTP protocol (draft-ietf-secsh-filexfer-02, what OpenSSH speaks) as it passes
//! through the proxy, to audit which files were read, written, renamed or removed, and how many
//! bytes moved. Modern `scp` uses SFTP too, so this covers it.
//!
//! It only observes: bytes are forwarded untouched whatever it concludes. Packets are parsed
//! from a bounded prefix; the bulk of READ/WRITE data is skipped without buffering, so memory
//! stays constant however large the transfer.

use std::collections::HashMap;

/// Bytes of each packet kept for parsing; enough for any path OpenSSH accepts plus a handle.
const PREFIX: usize = 8 * 1024;
/// Most file records kept per session; beyond that only a count is kept.
const MAX_RECORDS: usize = 10_000;

const FXP_OPEN: u8 = 3;
const FXP_CLOSE: u8 = 4;
const FXP_READ: u8 = 5;
const FXP_WRITE: u8 = 6;
const FXP_REMOVE: u8 = 13;
const FXP_MKDIR: u8 = 14;
const FXP_RMDIR: u8 = 15;
const FXP_RENAME: u8 = 18;
const FXP_STATUS: u8 = 101;
const FXP_HANDLE: u8 = 102;
const FXP_DATA: u8 = 103;
const FXF_WRITE: u32 = 0x02;

/// One audited file operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOp {
    /// `read`, `write`, `remove`, `rename`, `mkdir` or `rmdir`.
    pub op: &'static str,
    pub path: String,
    /// New name, for renames.
    pub to: Option<String>,
    /// Bytes read or written through this open file.
    pub bytes: u64,
}

/// Splits one direction of the stream into packets, keeping only each packet's prefix.
#[derive(Default)]
struct Framer {
    buf: Vec<u8>,
    skip: usize,
}

impl Framer {
    /// Feeds bytes; calls `on_packet(prefix, body_len)` for each complete packet header+prefix.
    fn feed(&mut self, mut data: &[u8], mut on_packet: impl FnMut(&[u8], usize)) {
        while !data.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(data.len());
                self.skip -= n;
                data = &data[n..];
                continue;
            }
            let need = if self.buf.len() < 4 {
                4 - self.buf.len()
            } else {
                let len = be32(&self.buf[..4]) as usize;
                4 + len.min(PREFIX) - self.buf.len()
            };
            let n = need.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.buf.len() >= 4 {
                let len = be32(&self.buf[..4]) as usize;
                if self.buf.len() == 4 + len.min(PREFIX) {
                    on_packet(&self.buf[4..], len);
                    self.skip = len - len.min(PREFIX);
                    self.buf.clear();
                }
            }
        }
    }
}

struct OpenFile {
    path: String,
    writing: bool,
    bytes: u64,
}

/// The SFTP observer for one session.
#[derive(Default)]
pub struct SftpLog {
    to_target: Framer,
    to_user: Framer,
    /// Request id → what it asked, until the reply comes.
    pending: HashMap<u32, Pending>,
    open: HashMap<Vec<u8>, OpenFile>,
    records: Vec<FileOp>,
    dropped: u64,
}

enum Pending {
    Open { path: String, writing: bool },
    Read { handle: Vec<u8> },
    Simple(FileOp),
}

impl SftpLog {
    /// Observes bytes the user sent towards the target.
    pub fn user_bytes(&mut self, data: &[u8]) {
        let mut packets = Vec::new();
        self.to_target
            .feed(data, |p, len| packets.push((p.to_vec(), len)));
        for (p, len) in packets {
            self.request(&p, len);
        }
    }

    /// Observes bytes the target sent back.
    pub fn target_bytes(&mut self, data: &[u8]) {
        let mut packets = Vec::new();
        self.to_user
            .feed(data, |p, len| packets.push((p.to_vec(), len)));
        for (p, len) in packets {
            self.reply(&p, len);
        }
    }

    /// Ends observation: files still open count as done. Returns the records and how many
    /// more were not kept.
    pub fn finish(mut self) -> (Vec<FileOp>, u64) {
        let mut rest: Vec<OpenFile> = self.open.drain().map(|(_, f)| f).collect();
        rest.sort_by(|a, b| a.path.cmp(&b.path));
        for f in rest {
            self.push(close_record(f));
        }
        (self.records, self.dropped)
    }

    fn push(&mut self, op: FileOp) {
        if self.records.len() < MAX_RECORDS {
            self.records.push(op);
        } else {
            self.dropped += 1;
        }
    }

    fn request(&mut self, p: &[u8], len: usize) {
        let mut r = Reader { b: p };
        let Some(kind) = r.u8() else { return };
        let Some(id) = r.u32() else { return };
        match kind {
            FXP_OPEN => {
                if let (Some(path), Some(flags)) = (r.string(), r.u32()) {
                    self.pending.insert(
                        id,
                        Pending::Open {
                            path: lossy(&path),
                            writing: flags & FXF_WRITE != 0,
                        },
                    );
                }
            }
            FXP_READ => {
                if let Some(handle) = r.string() {
                    self.pending.insert(id, Pending::Read { handle });
                }
            }
            FXP_WRITE => {
                // handle, uint64 offset, string data: the data length is known from the header.
                if let (Some(handle), Some(_offset), Some(n)) = (r.string(), r.u64(), r.u32()) {
                    if let Some(f) = self.open.get_mut(&handle) {
                        f.bytes += u64::from(n).min(len as u64);
                    }
                }
            }
            FXP_CLOSE => {
                if let Some(handle) = r.string() {
                    if let Some(f) = self.open.remove(&handle) {
                        self.push(close_record(f));
                    }
                }
            }
            FXP_REMOVE | FXP_MKDIR | FXP_RMDIR => {
                if let Some(path) = r.string() {
                    let op = match kind {
                        FXP_REMOVE => "remove",
                        FXP_MKDIR => "mkdir",
                        _ => "rmdir",
                    };
                    self.pending.insert(
                        id,
                        Pending::Simple(FileOp {
                            op,
                            path: lossy(&path),
                            to: None,
                            bytes: 0,
                        }),
                    );
                }
            }
            FXP_RENAME => {
                if let (Some(from), Some(to)) = (r.string(), r.string()) {
                    let op = FileOp {
                        op: "rename",
                        path: lossy(&from),
                        to: Some(lossy(&to)),
                        bytes: 0,
                    };
                    self.pending.insert(id, Pending::Simple(op));
                }
            }
            _ => {}
        }
    }

    fn reply(&mut self, p: &[u8], _len: usize) {
        let mut r = Reader { b: p };
        let Some(kind) = r.u8() else { return };
        let Some(id) = r.u32() else { return };
        let Some(pending) = self.pending.remove(&id) else {
            return;
        };
        match (kind, pending) {
            (FXP_HANDLE, Pending::Open { path, writing }) => {
                if let Some(handle) = r.string() {
                    self.open.insert(
                        handle,
                        OpenFile {
                            path,
                            writing,
                            bytes: 0,
                        },
                    );
                }
            }
            (FXP_DATA, Pending::Read { handle }) => {
                if let Some(n) = r.u32() {
                    if let Some(f) = self.open.get_mut(&handle) {
                        f.bytes += u64::from(n);
                    }
                }
            }
            (FXP_STATUS, Pending::Simple(op)) if r.u32() == Some(0) => self.push(op),
            _ => {}
        }
    }
}

fn close_record(f: OpenFile) -> FileOp {
    FileOp {
        op: if f.writing { "write" } else { "read" },
        path: f.path,
        to: None,
        bytes: f.bytes,
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Cursor over a packet prefix; every read is bounds-checked.
struct Reader<'a> {
    b: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.b.len() < n {
            return None;
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(be32)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
    }
    fn string(&mut self) -> Option<Vec<u8>> {
        let n = self.u32()? as usize;
        self.take(n).map(<[u8]>::to_vec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(kind: u8, id: u32, body: &[&[u8]]) -> Vec<u8> {
        let mut p = vec![kind];
        p.extend_from_slice(&id.to_be_bytes());
        for b in body {
            p.extend_from_slice(b);
        }
        let mut out = (p.len() as u32).to_be_bytes().to_vec();
        out.extend(p);
        out
    }

    fn s(x: &[u8]) -> Vec<u8> {
        let mut v = (x.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(x);
        v
    }

    #[test]
    fn upload_is_recorded_with_its_size_even_byte_by_byte() {
        let mut log = SftpLog::default();
        let open = packet(
            FXP_OPEN,
            1,
            &[
                &s(b"/tmp/a.bin"),
                &(0x1au32).to_be_bytes(),
                &0u32.to_be_bytes(),
            ],
        );
        let data = vec![7u8; 20_000];
        let write = packet(FXP_WRITE, 2, &[&s(b"H1"), &0u64.to_be_bytes(), &s(&data)]);
        let close = packet(FXP_CLOSE, 3, &[&s(b"H1")]);
        for b in &open {
            log.user_bytes(std::slice::from_ref(b));
        }
        log.target_bytes(&packet(FXP_HANDLE, 1, &[&s(b"H1")]));
        for chunk in write.chunks(333) {
            log.user_bytes(chunk);
        }
        log.user_bytes(&close);
        let (records, dropped) = log.finish();
        assert_eq!(dropped, 0);
        assert_eq!(
            records,
            vec![FileOp {
                op: "write",
                path: "/tmp/a.bin".into(),
                to: None,
                bytes: 20_000
            }]
        );
    }

    #[test]
    fn downloads_renames_and_failed_removes() {
        let mut log = SftpLog::default();
        log.user_bytes(&packet(
            FXP_OPEN,
            1,
            &[&s(b"/etc/hosts"), &1u32.to_be_bytes(), &0u32.to_be_bytes()],
        ));
        log.target_bytes(&packet(FXP_HANDLE, 1, &[&s(b"h")]));
        log.user_bytes(&packet(
            FXP_READ,
            2,
            &[&s(b"h"), &0u64.to_be_bytes(), &32768u32.to_be_bytes()],
        ));
        log.target_bytes(&packet(FXP_DATA, 2, &[&s(b"0123456789")]));
        log.user_bytes(&packet(FXP_RENAME, 3, &[&s(b"/a"), &s(b"/b")]));
        log.target_bytes(&packet(FXP_STATUS, 3, &[&0u32.to_be_bytes()]));
        log.user_bytes(&packet(FXP_REMOVE, 4, &[&s(b"/nope")]));
        log.target_bytes(&packet(FXP_STATUS, 4, &[&2u32.to_be_bytes()]));
        let (records, _) = log.finish();
        assert_eq!(
            records,
            vec![
                FileOp {
                    op: "rename",
                    path: "/a".into(),
                    to: Some("/b".into()),
                    bytes: 0
                },
                FileOp {
                    op: "read",
                    path: "/etc/hosts".into(),
                    to: None,
                    bytes: 10
                },
            ]
        );
    }

    #[test]
    fn garbage_never_panics() {
        let mut log = SftpLog::default();
        log.user_bytes(&[0, 0, 0, 3, FXP_OPEN, 0, 0]);
        log.target_bytes(&[0, 0, 0, 1, FXP_STATUS]);
        log.user_bytes(&[0xff; 64]);
        let _ = log.finish();
    }
}
