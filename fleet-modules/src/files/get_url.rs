//! `get_url`: downloads a URL on the host (with `curl`, else `wget`) to `dest`, replacing the file
//! only when the download differs. One script decides, downloads and moves into place.

use async_trait::async_trait;

use super::args::{self, FileAttrs};
use super::remote_file::{attr_vars, failure, find, last_stat, parse_report, PRELUDE};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, BadArg, Module, ModuleCtx, ModuleResult};

/// The `get_url` module.
pub struct GetUrl;

const ALGORITHMS: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

const SCRIPT: &str = r#"
if [ -d "$DEST" ]; then _n=${URL%%\?*}; _n=${_n##*/}; [ -n "$_n" ] || _n=index.html; DEST="${DEST%/}/$_n"; fi
echo "dest $DEST"
if [ -e "$DEST" ]; then
  if [ -n "$SUM" ]; then
    if [ "$("${ALG}sum" < "$DEST" | cut -d' ' -f1)" = "$SUM" ]; then
      fleet_attrs "$DEST" || exit 0; echo "same $attrs_changed"; fleet_stat "$DEST"; exit 0
    fi
  elif [ "$FORCE" != 1 ]; then
    fleet_attrs "$DEST" || exit 0; echo "exists $attrs_changed"; fleet_stat "$DEST"; exit 0
  fi
fi
fleet_parent "$DEST"; _dir=$_parent
[ -d "$_dir" ] || { echo "fail Destination $_dir does not exist"; exit 0; }
if [ "$F_CHECK" = 1 ]; then _tmp=$(mktemp); else _tmp=$(mktemp "$_dir/.fleet_get.XXXXXX"); fi || { echo "fail Destination $_dir is not writable"; exit 0; }
if command -v curl >/dev/null 2>&1; then
  _code=$(eval "curl -sS -L --max-time \"\$TIMEOUT\" -o \"\$_tmp\" -w '%{http_code}' $CURL_OPTS -- \"\$URL\"" 2>"$_tmp.err"); _rc=$?
elif command -v wget >/dev/null 2>&1; then
  eval "wget -q -T \"\$TIMEOUT\" -O \"\$_tmp\" $WGET_OPTS -- \"\$URL\"" 2>"$_tmp.err"; _rc=$?
  case $_rc in 0) _code=200;; 8) _code=404;; *) _code=0;; esac
else
  rm -f -- "$_tmp"; echo "fail get_url needs curl or wget on the target"; exit 0
fi
echo "status $_code"
if [ "$_rc" != 0 ] || [ "$_code" -ge 400 ] 2>/dev/null; then
  echo "error $(tr '\n' ' ' < "$_tmp.err")"; rm -f -- "$_tmp" "$_tmp.err"; exit 0
fi
rm -f -- "$_tmp.err"
_src_sum=$(sha1sum < "$_tmp" | cut -c1-40)
echo "checksum_src $_src_sum"
echo "size $(stat -c %s -- "$_tmp")"
if [ -n "$SUM" ]; then
  _got=$("${ALG}sum" < "$_tmp" | cut -d' ' -f1)
  [ "$_got" = "$SUM" ] || { rm -f -- "$_tmp"; echo "fail The checksum for $DEST did not match $SUM; it was $_got."; exit 0; }
fi
if [ -e "$DEST" ]; then
  _dst_sum=$(sha1sum < "$DEST" | cut -c1-40)
  echo "checksum_dest $_dst_sum"
  if [ "$_src_sum" = "$_dst_sum" ]; then
    rm -f -- "$_tmp"; fleet_attrs "$DEST" || exit 0; echo "same $attrs_changed"; fleet_stat "$DEST"; exit 0
  fi
fi
if [ "$F_CHECK" = 1 ]; then rm -f -- "$_tmp"; echo "changed 1"; exit 0; fi
if [ -e "$DEST" ]; then
  chmod "$(stat -L -c %a -- "$DEST")" "$_tmp"; chown "$(stat -L -c %u:%g -- "$DEST")" "$_tmp" 2>/dev/null
  if [ "$F_BACKUP" = 1 ]; then fleet_backup "$DEST"; fi
else
  chmod "$(printf '%o' $(( 0666 & ~$(umask) )))" "$_tmp"
fi
fleet_attrs "$_tmp" || { rm -f -- "$_tmp"; exit 0; }
mv -f -- "$_tmp" "$DEST" || { rm -f -- "$_tmp"; echo "fail Could not replace $DEST"; exit 0; }
echo "changed 1"
fleet_stat "$DEST"
"#;

#[async_trait]
impl Module for GetUrl {
    fn name(&self) -> &'static str {
        "get_url"
    }

    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "url",
                "dest",
                "mode",
                "owner",
                "group",
                "force",
                "checksum",
                "timeout",
                "backup",
                "validate_certs",
                "headers",
                "url_username",
                "url_password",
                "force_basic_auth",
                "use_proxy",
                "tmp_dest",
                "http_agent",
                "attributes",
                "seuser",
                "serole",
                "setype",
                "selevel",
                "unsafe_writes",
            ],
            required: &[&["url"], &["dest"]],
        }
    }

    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let url = args::text(args, &["url"]).unwrap_or_default();
        let script = match build(args, &url, ctx.check_mode) {
            Ok(script) => script,
            Err(e) => return Ok(e.into()),
        };
        let started = std::time::Instant::now();
        let out = ctx.sh(&script).await?;
        let elapsed = started.elapsed().as_secs();
        let records = parse_report(&out.stdout);
        let field = |tag: &str| find(&records, tag).map(|r| r.rest.clone());
        let dest = field("dest").unwrap_or_default();
        if let Some(msg) = failure(&records) {
            return Ok(ModuleResult::fail(msg).with("url", url).with("dest", dest));
        }
        let status: i64 = field("status").and_then(|s| s.parse().ok()).unwrap_or(-1);
        if let Some(error) = field("error") {
            let msg = match status {
                400.. => format!("HTTP Error {status}: {}", reason(status)),
                _ => format!("Request failed: {}", error.trim()),
            };
            return Ok(ModuleResult::fail(msg)
                .with("status_code", status)
                .with("url", url)
                .with("dest", dest)
                .with("elapsed", elapsed));
        }
        let mut result = if let Some(exists) = field("exists") {
            ModuleResult {
                changed: exists == "1",
                msg: Some("file already exists".into()),
                ..ModuleResult::default()
            }
        } else if let Some(same) = field("same") {
            ModuleResult {
                changed: same == "1",
                msg: Some(format!("OK ({} bytes)", field("size").unwrap_or_default())),
                ..ModuleResult::default()
            }
        } else if field("changed").is_some() {
            ModuleResult {
                changed: true,
                msg: Some(format!("OK ({} bytes)", field("size").unwrap_or_default())),
                ..ModuleResult::default()
            }
        } else {
            return Ok(ModuleResult::fail(format!(
                "get_url script failed: {}",
                out.stderr_text().trim()
            )));
        };
        for key in ["checksum_src", "checksum_dest"] {
            if let Some(v) = field(key) {
                result = result.with(key, v);
            }
        }
        if status >= 0 {
            result = result.with("status_code", status).with("elapsed", elapsed);
        }
        if let Some(backup) = field("backup") {
            result = result.with("backup_file", backup);
        }
        if let Some(st) = last_stat(&records) {
            st.add_to(&mut result.data);
        }
        Ok(result.with("url", url).with("dest", dest))
    }
}

fn build(args: &Args, url: &str, check: bool) -> Result<String, BadArg> {
    let (alg, sum) = match args::text(args, &["checksum"]).filter(|s| !s.is_empty()) {
        None => (String::new(), String::new()),
        Some(spec) => {
            let (alg, value) = spec.split_once(':').ok_or_else(|| {
                "The checksum parameter has to be in format <algorithm>:<checksum>".to_string()
            })?;
            if !ALGORITHMS.contains(&alg) {
                return Err(format!("Unsupported hash algorithm: {alg}").into());
            }
            if value.contains("://") {
                return Err("checksum given as a URL is not supported by fleet".into());
            }
            (alg.to_string(), value.trim().to_ascii_lowercase())
        }
    };
    let (curl, wget) = transfer_options(args)?;
    let vars = format!(
        "URL={}\nDEST={}\nFORCE={}\nF_BACKUP={}\nALG={}\nSUM={}\nTIMEOUT={}\nCURL_OPTS={}\nWGET_OPTS={}\n",
        shell_quote(url),
        shell_quote(&args::text(args, &["dest"]).unwrap_or_default()),
        u8::from(args::flag(args, "force", false)?),
        u8::from(args::flag(args, "backup", false)?),
        shell_quote(&alg),
        shell_quote(&sum),
        args::int(args, "timeout", 10)?,
        shell_quote(&curl),
        shell_quote(&wget),
    );
    Ok(format!(
        "{PRELUDE}{}{vars}{SCRIPT}",
        attr_vars(&FileAttrs::from_args(args)?, check)
    ))
}

/// The request options Ansible's `get_url` takes, as `curl` and as `wget` options (each word
/// shell-quoted, for the script's `eval`): `headers`, `http_agent` (Ansible's default agent
/// `ansible-httpget` when unset), `validate_certs: false`, `use_proxy: false`.
fn transfer_options(args: &Args) -> Result<(String, String), BadArg> {
    let mut curl: Vec<String> = Vec::new();
    let mut wget: Vec<String> = Vec::new();
    match args.get("headers") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(headers)) => {
            for (name, value) in headers {
                let value = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let line = format!("{name}: {value}");
                curl.extend(["-H".to_string(), shell_quote(&line)]);
                wget.push(shell_quote(&format!("--header={line}")));
            }
        }
        Some(_) => return Err("argument 'headers' must be a dictionary of header names".into()),
    }
    let agent = args::text(args, &["http_agent"]).unwrap_or_else(|| "ansible-httpget".into());
    curl.extend(["-A".to_string(), shell_quote(&agent)]);
    wget.push(shell_quote(&format!("--user-agent={agent}")));
    if !args::flag(args, "validate_certs", true)? {
        curl.push("-k".into());
        wget.push("--no-check-certificate".into());
    }
    if !args::flag(args, "use_proxy", true)? {
        curl.extend(["--noproxy".to_string(), shell_quote("*")]);
        wget.push("--no-proxy".into());
    }
    Ok((curl.join(" "), wget.join(" ")))
}

fn reason(status: i64) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
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
                    } else if request.starts_with("GET /echo ") {
                        ("200 OK", buf.as_slice())
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

    /// Issue 20: `headers`, `http_agent` and `use_proxy: false` reach the request (they were
    /// accepted and dropped); unset, the agent is Ansible's `ansible-httpget`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn headers_agent_and_proxy_options_reach_the_request() {
        let base = serve().await;
        let h = Harness::new();
        let dest = h.path("echo");
        let args = json!({"url": format!("{base}/echo"), "dest": dest,
                          "headers": {"X-Token": "a b'c", "X-Num": 7}, "http_agent": "fleet-test/1"});
        let r = h.run(&GetUrl, args).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        let request = fs::read_to_string(&dest).unwrap();
        for want in [
            "X-Token: a b'c\r\n",
            "X-Num: 7\r\n",
            "User-Agent: fleet-test/1\r\n",
        ] {
            assert!(request.contains(want), "{want:?} not in {request:?}");
        }
        // a proxy that answers nothing: only use_proxy: false gets through
        let proxied = json!({"url": format!("{base}/echo"), "dest": h.path("p"), "use_proxy": false,
                             "timeout": 5});
        let mut h = h;
        h.env = ["http_proxy", "no_proxy", "NO_PROXY"]
            .into_iter()
            .zip(["http://127.0.0.1:9", "", ""])
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let r = h.run(&GetUrl, proxied).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        let request = fs::read_to_string(h.path("p")).unwrap();
        assert!(
            request.contains("User-Agent: ansible-httpget\r\n"),
            "{request:?}"
        );
        let r = h
            .run(
                &GetUrl,
                json!({"url": format!("{base}/echo"), "dest": h.path("q"), "timeout": 5}),
            )
            .await;
        assert!(
            r.failed,
            "the proxy should have been used: {:?}",
            r.to_json()
        );
        let r = h
            .run(
                &GetUrl,
                json!({"url": format!("{base}/echo"), "dest": h.path("q"), "headers": "X: y"}),
            )
            .await;
        assert!(r.failed && r.msg.unwrap().contains("'headers'"));
    }

    /// `validate_certs: false` becomes curl's `-k` and wget's `--no-check-certificate`; the
    /// default keeps verification on.
    #[test]
    fn validate_certs_false_turns_verification_off() {
        let args = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
        let (curl, wget) = super::transfer_options(&args(json!({"validate_certs": "no"}))).unwrap();
        assert!(curl.split(' ').any(|w| w == "-k"), "{curl}");
        assert!(wget.contains("--no-check-certificate"), "{wget}");
        let (curl, wget) = super::transfer_options(&args(json!({}))).unwrap();
        assert!(
            !curl.split(' ').any(|w| w == "-k") && !wget.contains("--no-check"),
            "{curl}"
        );
        assert_eq!(curl, "-A ansible-httpget");
    }
}
