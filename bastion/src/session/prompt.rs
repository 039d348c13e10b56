//! A one-line prompt on the user's terminal (the host menu asking for a request's reason and
//! duration): printable characters echoed, Backspace, Enter to accept, Ctrl-C or Escape to
//! cancel. Control characters other than those are ignored, so nothing typed here can move
//! the cursor or reach the audit log as an escape sequence.

use russh::ChannelMsg;

use super::UserChannel;

/// The longest answer accepted.
const MAX: usize = 200;

/// Asks `question`; `None` when the user cancels or goes away.
pub async fn line(user: &mut UserChannel, question: &str) -> Option<String> {
    let _ = user
        .tx
        .data_bytes(format!("\r\n{question}").into_bytes())
        .await;
    let mut answer = String::new();
    loop {
        let data = match user.rx.wait().await? {
            ChannelMsg::Data { data } => data,
            ChannelMsg::Eof | ChannelMsg::Close => return None,
            _ => continue,
        };
        let mut echo = Vec::new();
        for ch in String::from_utf8_lossy(&data).chars() {
            match ch {
                '\r' | '\n' => {
                    let _ = user.tx.data_bytes([echo, b"\r\n".to_vec()].concat()).await;
                    return Some(answer.trim().to_string());
                }
                '\u{3}' | '\u{1b}' => return None,
                '\u{7f}' | '\u{8}' if answer.pop().is_some() => {
                    echo.extend_from_slice(b"\x08 \x08");
                }
                c if c.is_control() => {}
                c if answer.chars().count() < MAX => {
                    answer.push(c);
                    echo.extend_from_slice(c.to_string().as_bytes());
                }
                _ => {}
            }
        }
        let _ = user.tx.data_bytes(echo).await;
    }
}
