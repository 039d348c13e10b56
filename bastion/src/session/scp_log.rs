//! The legacy scp protocol (`scp -O`, or any client talking to `scp -t`/`scp -f` on the
//! target): which files went which way, with their sizes, for `file_transfer` events as SFTP
//! sessions already have.
//!
//! The protocol is a byte stream from the side that sends files (the user for `scp -t`, an
//! upload; the target for `scp -f`, a download): `C<mode> <size> <name>\n` then `size` bytes
//! then a NUL for each file, `D<mode> 0 <name>\n` ... `E\n` around a directory, `T...\n`
//! times. The other side only answers with status bytes. This reads the sending side's
//! stream as it passes, without changing it, in any packet split. Names are the ones sent (with
//! the directories entered), as `scp` shows them; where they land is in the session's command.

/// Which way files go, from the command the target runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `scp -t`: the user sends, the target writes.
    Upload,
    /// `scp -f`: the target sends, the user reads.
    Download,
}

impl Direction {
    /// The direction of an scp server command line, if it is one.
    pub fn of_command(command: &str) -> Option<Direction> {
        let mut words = command.split_whitespace();
        let program = words.next()?;
        if program.rsplit('/').next() != Some("scp") {
            return None;
        }
        for w in words.take_while(|w| w.starts_with('-')) {
            if w.contains('t') {
                return Some(Direction::Upload);
            }
            if w.contains('f') {
                return Some(Direction::Download);
            }
        }
        None
    }
}

/// One file that went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScpFile {
    /// `write` (upload) or `read` (download), as SFTP events say.
    pub op: &'static str,
    pub path: String,
    pub bytes: u64,
}

/// Longest header line kept; longer is not scp (the stream is then ignored).
const MAX_HEADER: usize = 8192;
/// Files listed in detail; past this they are only counted (as SFTP sessions do).
const MAX_FILES: usize = 1000;

enum State {
    /// Reading a header line.
    Header(Vec<u8>),
    /// Skipping a file's content: bytes still to come.
    Content(u64),
    /// The NUL after a file's content.
    Trailer,
    /// Not scp after all, or confused: stop reading.
    Lost,
}

/// Reads the sending side of one scp session.
pub struct ScpLog {
    direction: Direction,
    state: State,
    dirs: Vec<String>,
    files: Vec<ScpFile>,
    dropped: u64,
}

impl ScpLog {
    pub fn new(direction: Direction) -> ScpLog {
        ScpLog {
            direction,
            state: State::Header(Vec::new()),
            dirs: Vec::new(),
            files: Vec::new(),
            dropped: 0,
        }
    }

    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Bytes of the sending side's stream.
    pub fn sent(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            match &mut self.state {
                State::Lost => return,
                State::Content(left) => {
                    let n = (*left).min(data.len() as u64);
                    *left -= n;
                    data = &data[n as usize..];
                    if *left == 0 {
                        self.state = State::Trailer;
                    }
                }
                State::Trailer => {
                    data = &data[1..];
                    self.state = State::Header(Vec::new());
                }
                State::Header(line) => match data.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        line.extend_from_slice(&data[..i]);
                        let line = std::mem::take(line);
                        data = &data[i + 1..];
                        self.header(&line);
                    }
                    None => {
                        line.extend_from_slice(data);
                        if line.len() > MAX_HEADER {
                            self.state = State::Lost;
                        }
                        return;
                    }
                },
            }
        }
    }

    fn header(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let mut parts = text.get(1..).unwrap_or("").splitn(3, ' ');
        let (_mode, size, name) = (parts.next(), parts.next(), parts.next());
        self.state = State::Header(Vec::new());
        match line.first() {
            Some(b'C') => match (size.and_then(|s| s.parse::<u64>().ok()), name) {
                (Some(size), Some(name)) => {
                    self.file(name, size);
                    self.state = if size == 0 {
                        State::Trailer
                    } else {
                        State::Content(size)
                    };
                }
                _ => self.state = State::Lost,
            },
            Some(b'D') => match name {
                Some(name) => self.dirs.push(name.to_string()),
                None => self.state = State::Lost,
            },
            Some(b'E') => {
                self.dirs.pop();
            }
            Some(b'T') => {}
            _ => self.state = State::Lost,
        }
    }

    fn file(&mut self, name: &str, size: u64) {
        if self.files.len() >= MAX_FILES {
            self.dropped += 1;
            return;
        }
        let mut path = self.dirs.join("/");
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(name);
        let op = match self.direction {
            Direction::Upload => "write",
            Direction::Download => "read",
        };
        self.files.push(ScpFile {
            op,
            path,
            bytes: size,
        });
    }

    /// The files seen, and how many more were only counted.
    pub fn finish(self) -> (Vec<ScpFile>, u64) {
        (self.files, self.dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(direction: Direction, stream: &[u8], chunk: usize) -> Vec<ScpFile> {
        let mut log = ScpLog::new(direction);
        for piece in stream.chunks(chunk) {
            log.sent(piece);
        }
        log.finish().0
    }

    #[test]
    fn files_and_directories_in_any_packet_split() {
        let mut stream = Vec::new();
        stream.extend_from_slice(b"T1700000000 0 1700000000 0\nC0644 5 a.txt\nhello\0");
        stream.extend_from_slice(b"D0755 0 dir\nC0600 3 b\nxyz\0C0644 0 empty\n\0E\n");
        stream.extend_from_slice(b"C0644 2 c d.txt\n\n\n\0");
        let want = vec![
            ScpFile {
                op: "write",
                path: "a.txt".into(),
                bytes: 5,
            },
            ScpFile {
                op: "write",
                path: "dir/b".into(),
                bytes: 3,
            },
            ScpFile {
                op: "write",
                path: "dir/empty".into(),
                bytes: 0,
            },
            ScpFile {
                op: "write",
                path: "c d.txt".into(),
                bytes: 2,
            },
        ];
        for chunk in [1, 2, 3, 7, 4096] {
            assert_eq!(
                read_all(Direction::Upload, &stream, chunk),
                want,
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn the_direction_comes_from_the_server_command() {
        assert_eq!(
            Direction::of_command("scp -t /tmp/x"),
            Some(Direction::Upload)
        );
        assert_eq!(
            Direction::of_command("/usr/bin/scp -r -f dir"),
            Some(Direction::Download)
        );
        assert_eq!(
            Direction::of_command("scp -v -p -t -- /tmp"),
            Some(Direction::Upload)
        );
        assert_eq!(Direction::of_command("ls -t"), None);
        assert_eq!(Direction::of_command("scp file host:"), None);
    }

    #[test]
    fn a_stream_that_is_not_scp_is_ignored() {
        assert!(read_all(Direction::Download, b"hello world\nC0644 1 x\nx\0", 4096).is_empty());
    }
}
