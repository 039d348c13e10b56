use std::fs;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::GetUrl;
use crate::files::remote_file::sha1_hex;
use crate::files::testkit::{mode_of, Harness};

const BODY: &[u8] = b"downloaded content\n";

/// A tiny HTTP server: `/file.txt` is BODY, anything else 404. Returns the base URL.
async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let request = String::from_utf8_lossy(&buf);
                let (status, body): (&str, &[u8]) = if request.starts_with("GET /file.txt ") {
                    ("200 OK", BODY)
                } else {
                    ("404 Not Found", b"nope")
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_once_then_keeps_the_file() {
    let base = serve().await;
    let h = Harness::new();
    let dest = h.path("file.txt");
    let args = json!({"url": format!("{base}/file.txt"), "dest": dest, "mode": "0600"});
    let r = h.run(&GetUrl, args.clone()).await;
    assert!(r.changed && !r.failed, "{:?}", r.to_json());
    assert_eq!(fs::read(&dest).unwrap(), BODY);
    assert_eq!(mode_of(&dest), 0o600);
    let j = r.to_json();
    assert_eq!(j["status_code"], 200);
    assert_eq!(j["checksum_src"], sha1_hex(BODY));
    let r = h.run(&GetUrl, args).await;
    assert!(!r.changed && !r.failed, "{:?}", r.to_json());
    assert_eq!(r.msg.as_deref(), Some("file already exists"));
    // force downloads again but an identical file is no change
    let r = h
        .run(
            &GetUrl,
            json!({"url": format!("{base}/file.txt"), "dest": dest, "force": true}),
        )
        .await;
    assert!(!r.changed && !r.failed, "{:?}", r.to_json());
    // into a directory: the URL's file name
    let r = h
        .run(
            &GetUrl,
            json!({"url": format!("{base}/file.txt"), "dest": h.path("")}),
        )
        .await;
    assert!(
        !r.changed,
        "the same file already sits there: {:?}",
        r.to_json()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checksum_errors_and_check_mode() {
    let base = serve().await;
    let mut h = Harness::new();
    let dest = h.path("out");
    let url = format!("{base}/file.txt");
    let r = h
        .run(
            &GetUrl,
            json!({"url": url, "dest": dest, "checksum": "sha1:0000"}),
        )
        .await;
    assert!(r.failed);
    assert!(r.msg.unwrap().contains("did not match"));
    assert!(!h.root().join("out").exists());
    let good = format!("sha1:{}", sha1_hex(BODY));
    let r = h
        .run(&GetUrl, json!({"url": url, "dest": dest, "checksum": good}))
        .await;
    assert!(r.changed && !r.failed);
    let r = h
        .run(&GetUrl, json!({"url": url, "dest": dest, "checksum": good}))
        .await;
    assert!(!r.changed);

    let r = h
        .run(
            &GetUrl,
            json!({"url": format!("{base}/missing"), "dest": h.path("m")}),
        )
        .await;
    assert!(r.failed);
    assert_eq!(r.msg.as_deref(), Some("HTTP Error 404: Not Found"));
    assert_eq!(r.to_json()["status_code"], 404);

    h.check = true;
    let r = h
        .run(&GetUrl, json!({"url": url, "dest": h.path("new")}))
        .await;
    assert!(r.changed && !r.failed, "{:?}", r.to_json());
    assert!(!h.root().join("new").exists());
    let leftovers: Vec<_> = fs::read_dir(h.root()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "only `out` remains");
}
