//! The data directory: one folder holding settings, keys, database, inventory, policies and recordings.
//!
//! `bastion serve` and `bastion init` create whatever is missing, so an empty directory is a valid start.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::keys;
use crate::settings::Settings;

/// Paths of everything the bastion keeps, resolved against the data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    pub root: PathBuf,
    pub settings: Settings,
}

const SETTINGS_TEMPLATE: &str = include_str!("templates/bastion.toml");
const INVENTORY_TEMPLATE: &str = include_str!("templates/inventory.yaml");
const POLICIES_TEMPLATE: &str = include_str!("templates/policies.yaml");

impl DataDir {
    /// Opens a data directory, creating missing files with defaults (the first-start initialisation).
    pub fn open_or_init(root: &Path) -> Result<DataDir> {
        fs::create_dir_all(root)
            .with_context(|| format!("creating data directory {}", root.display()))?;
        fs::set_permissions(root, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("setting permissions on {}", root.display()))?;
        write_if_missing(&root.join("bastion.toml"), SETTINGS_TEMPLATE, 0o600)?;
        let settings = Settings::load(&root.join("bastion.toml"))?;
        let dir = DataDir {
            root: root.to_path_buf(),
            settings,
        };
        write_if_missing(&dir.inventory_path(), INVENTORY_TEMPLATE, 0o600)?;
        write_if_missing(&dir.policies_path(), POLICIES_TEMPLATE, 0o600)?;
        if let Err(e) = dir.prepare_recordings_dir() {
            if dir.settings.recording_required {
                return Err(e.context("sessions cannot be recorded (recording_required = true)"));
            }
            eprintln!(
                "bastion: warning: {e:#}; sessions go on unrecorded (recording_required = false)"
            );
        }
        // The database holds TOTP secrets: create it private; SQLite gives -wal/-shm the same mode.
        write_if_missing(&root.join("bastion.db"), "", 0o600)?;
        // host_ca signs the host certificates ProxyJump connections are served with
        // (session::jump); data directories made before it existed get it at the next start.
        for name in ["host_key", "client_key", "signing_key", "host_ca"] {
            keys::ensure_ed25519(&root.join(name), &format!("bastion-{name}"))?;
        }
        dir.ensure_web_certificate()?;
        Ok(dir)
    }

    /// Opens an existing data directory without creating anything (admin commands).
    pub fn open_existing(root: &Path) -> Result<DataDir> {
        let settings_path = root.join("bastion.toml");
        if !settings_path.exists() {
            anyhow::bail!(
                "{} is not an initialised bastion data directory (run `bastion init` or `bastion serve` first)",
                root.display()
            );
        }
        Ok(DataDir {
            root: root.to_path_buf(),
            settings: Settings::load(&settings_path)?,
        })
    }

    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join("bastion.db")
    }

    /// Opens the store `[store] url` names (default: the embedded [`DataDir::db_path`]).
    /// On PostgreSQL this node keeps its audit head in `bastion.audit-head`, the file the
    /// embedded store keeps too, so a store migrated from here goes on checking against it.
    pub fn open_store(&self, signer: Option<ed25519_dalek::SigningKey>) -> Result<store::Store> {
        match &self.settings.store_url {
            Some(url) if store::is_postgres_url(url) => {
                let head = self.db_path().with_extension("audit-head");
                store::Store::connect(url, signer)
                    .map(|s| s.with_audit_head(head))
                    .with_context(|| format!("opening {}", store::redact(url)))
            }
            other => {
                let path = other
                    .as_ref()
                    .map(|p| self.resolve(Path::new(p)))
                    .unwrap_or_else(|| self.db_path());
                store::Store::open(&path, signer)
                    .with_context(|| format!("opening {}", path.display()))
            }
        }
    }
    pub fn host_key_path(&self) -> PathBuf {
        self.root.join("host_key")
    }
    pub fn client_key_path(&self) -> PathBuf {
        self.root.join("client_key")
    }
    /// The CA key that signs the host certificates of ProxyJump connections.
    pub fn host_ca_path(&self) -> PathBuf {
        self.root.join("host_ca")
    }
    pub fn signing_key_path(&self) -> PathBuf {
        self.root.join("signing_key")
    }
    pub fn inventory_path(&self) -> PathBuf {
        self.resolve(&self.settings.inventory)
    }
    pub fn policies_path(&self) -> PathBuf {
        self.resolve(&self.settings.policies)
    }
    /// The running server's control socket (`bastion watch`, `bastion kill`).
    pub fn control_socket_path(&self) -> PathBuf {
        self.root.join("control.sock")
    }

    /// The console's certificate and key (PEM).
    pub fn web_cert_path(&self) -> PathBuf {
        self.resolve(&self.settings.web.cert)
    }
    pub fn web_key_path(&self) -> PathBuf {
        self.resolve(&self.settings.web.key)
    }

    /// Makes the console's self-signed certificate when the console is on and no certificate
    /// exists yet (an operator's own certificate, named in `[web]`, is never replaced).
    fn ensure_web_certificate(&self) -> Result<()> {
        if !self.settings.web.enabled {
            return Ok(());
        }
        let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
        if let Some(h) = machine_hostname() {
            names.insert(0, h);
        }
        if console::ensure_self_signed(&self.web_cert_path(), &self.web_key_path(), &names)? {
            tracing::info!(
                "made a self-signed console certificate for {} ({}); name your own in [web] cert/key",
                names.join(", "),
                self.web_cert_path().display()
            );
        }
        Ok(())
    }

    /// The console's address for printed links: `[web] public_url`, else
    /// `https://HOST:PORT` from the listen address (this machine's name when it listens on
    /// every address).
    pub fn console_url(&self, web_listen: &str) -> String {
        if let Some(u) = &self.settings.web.public_url {
            return u.trim_end_matches('/').to_string();
        }
        let (host, port) = web_listen.rsplit_once(':').unwrap_or((web_listen, "8443"));
        let host = host.trim_matches(['[', ']']);
        let host = match host {
            "0.0.0.0" | "::" | "" => machine_hostname().unwrap_or_else(|| "localhost".into()),
            h if h.contains(':') => format!("[{h}]"),
            h => h.to_string(),
        };
        format!("https://{host}:{port}")
    }

    fn prepare_recordings_dir(&self) -> Result<()> {
        let path = self.recordings_dir();
        fs::create_dir_all(&path)
            .with_context(|| format!("creating recordings dir {}", path.display()))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("setting permissions on {}", path.display()))
    }

    pub fn recordings_dir(&self) -> PathBuf {
        self.resolve(&self.settings.recordings)
    }
}

/// Writes `contents` to `path` only if the file does not exist yet, with the given mode.
pub fn write_if_missing(path: &Path, contents: &str, mode: u32) -> Result<()> {
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
    {
        Ok(mut f) => f
            .write_all(contents.as_bytes())
            .with_context(|| format!("writing {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// This machine's host name, if it can be read.
pub fn machine_hostname() -> Option<String> {
    let name = fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}
