//! The bastion's TCP stream to a target, acknowledging everything it receives at once.
//!
//! Why: OpenSSH's sshd turns Nagle's algorithm off only for sessions with a terminal. For exec
//! sessions it holds a small reply while an earlier small message of its own is not yet
//! acknowledged — and Linux delays an ACK by up to 40 ms when it has nothing to send back. On a
//! new connection that bites right away (sshd's unanswered host-keys message after the login,
//! then our first channel's replies wait), costing 40 ms on the first command to every host:
//! measured in `bench fleet-via`, most of what `fleet run --via` lost to a direct run. The
//! kernel keeps falling back to delayed ACKs, so `TCP_QUICKACK` is set again after each read
//! (one `setsockopt` per read, noise next to the decryption of what was read).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A [`TcpStream`] that acknowledges each read at once (see the module doc).
pub struct QuickAck(pub TcpStream);

impl AsyncRead for QuickAck {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.0).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            // Best effort: without it the connection is only slower.
            let _ = socket2::SockRef::from(&self.0).set_tcp_quickack(true);
        }
        polled
    }
}

impl AsyncWrite for QuickAck {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
