//! The russh `Handler`: a thin shim. Authentication callbacks call `auth::login`; each session
//! channel is handed to its own task in `session`, which owns all channel state.
//! Requests that need an acknowledgement are acknowledged here, in order; denials are reported
//! in-band by the channel task (a message on stderr and an exit status), which OpenSSH shows.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::{HashAlg, PublicKey};
use russh::server::{
    Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Response, Session, VerifiedPublicKey,
};
use russh::{Channel, ChannelId, MethodKind, MethodSet};

use super::jump::JumpTo;
use crate::auth::login::{self, KeyOutcome};
use crate::session::UpstreamPool;
use crate::state::{ConnInfo, Shared, Via};
use crate::target::{parse_login_name, TargetSpec};
use store::AuditEvent;

/// Makes one handler per TCP connection.
pub struct ConnectionFactory {
    pub shared: Arc<Shared>,
}

impl russh::server::Server for ConnectionFactory {
    type Handler = ConnectionHandler;

    fn new_client(&mut self, peer: Option<SocketAddr>) -> ConnectionHandler {
        ConnectionHandler {
            shared: self.shared.clone(),
            ip: peer
                .map(|p| p.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
            key_passed: None,
            conn: None,
            jump: None,
            upstreams: UpstreamPool::default(),
        }
    }
}

/// Per-connection state: who passed the key step, and who is fully logged in.
pub struct ConnectionHandler {
    shared: Arc<Shared>,
    ip: String,
    /// (login name, key fingerprint) after a key step that still needs TOTP.
    key_passed: Option<(String, String)>,
    conn: Option<ConnInfo>,
    /// Set on the inner connection of a ProxyJump: who opened it and to which host.
    jump: Option<JumpTo>,
    /// Target connections this client's exec sessions hand to each other (dropped with it).
    upstreams: UpstreamPool,
}

impl ConnectionHandler {
    /// The handler of an inner ProxyJump connection opened on `outer`'s connection.
    pub fn jumped(shared: Arc<Shared>, outer: &ConnInfo, host: String) -> ConnectionHandler {
        ConnectionHandler {
            shared,
            ip: outer.source.clone(),
            key_passed: None,
            conn: None,
            jump: Some(JumpTo {
                user: outer.user.clone(),
                host,
                totp_verified: outer.totp_verified,
            }),
            upstreams: UpstreamPool::default(),
        }
    }
}

fn fp(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// How long a failed authentication attempt waits before it is answered. russh's own
/// `auth_rejection_time` is zero (see `server::serve`) because it would also hold back the
/// partial success that asks for the TOTP code after a good key: one second on every login.
const FAILURE_DELAY: Duration = Duration::from_secs(1);

/// Answers a failure after [`FAILURE_DELAY`]; anything else at once.
async fn delay_failure(auth: Auth) -> Auth {
    if matches!(
        auth,
        Auth::Reject {
            partial_success: false,
            ..
        }
    ) {
        tokio::time::sleep(FAILURE_DELAY).await;
    }
    auth
}

fn totp_only() -> Auth {
    Auth::Reject {
        proceed_with_methods: Some(MethodSet::from(&[MethodKind::KeyboardInteractive][..])),
        partial_success: true,
    }
}

impl ConnectionHandler {
    fn logged_in(&mut self, login_name: &str, fingerprint: String, totp_verified: bool) -> Auth {
        let Some(parsed) = parse_login_name(login_name) else {
            return Auth::reject();
        };
        self.conn = Some(ConnInfo {
            user: parsed.user,
            source: self.ip.clone(),
            fingerprint,
            target: parsed.target,
            totp_verified,
            via: Via::Direct,
        });
        Auth::Accept
    }

    /// The inner login of a ProxyJump: the login name is the target login, the key one of the
    /// outer user's (the outer login already passed TOTP where required).
    fn jump_login(&mut self, jump: &JumpTo, login_name: &str, fingerprint: String) -> Auth {
        let (user, host) = (jump.user.as_str(), jump.host.as_str());
        if !login::check_jump_key(
            &self.shared,
            (user, host, login_name),
            &self.ip,
            &fingerprint,
        ) {
            return Auth::reject();
        }
        self.conn = Some(ConnInfo {
            user: jump.user.clone(),
            source: self.ip.clone(),
            fingerprint,
            target: Some(TargetSpec {
                host: jump.host.clone(),
                login: Some(login_name.to_string()),
            }),
            totp_verified: jump.totp_verified,
            via: Via::ProxyJump,
        });
        Auth::Accept
    }
}

impl russh::server::Handler for ConnectionHandler {
    type Error = anyhow::Error;

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        // Spare the signature round trip for keys that cannot succeed; the real check (and the
        // audit record) happens in auth_publickey.
        let owner = match &self.jump {
            Some(j) => j.user.as_str(),
            None => user,
        };
        Ok(
            if login::key_is_known(&self.shared, owner, &fp(offer.public_key)) {
                Auth::Accept
            } else {
                login::audit_unknown_key(&self.shared, owner, &self.ip, &fp(offer.public_key));
                Auth::reject()
            },
        )
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let fingerprint = fp(key.public_key);
        if let Some(jump) = self.jump.clone() {
            let auth = self.jump_login(&jump, user, fingerprint);
            return Ok(delay_failure(auth).await);
        }
        let delay = self.delay(user);
        tokio::time::sleep(delay).await;
        let auth = match login::check_key(&self.shared, user, &self.ip, &fingerprint) {
            KeyOutcome::Accepted => self.logged_in(user, fingerprint, false),
            KeyOutcome::NeedTotp => {
                self.key_passed = Some((user.to_string(), fingerprint));
                totp_only()
            }
            KeyOutcome::Rejected => Auth::reject(),
        };
        Ok(delay_failure(auth).await)
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        // Only the second step of a login whose key already passed, for the same login name.
        let Some((passed_name, fingerprint)) = self.key_passed.clone() else {
            return Ok(delay_failure(Auth::reject()).await);
        };
        if passed_name != user {
            return Ok(delay_failure(Auth::reject()).await);
        }
        let Some(mut response) = response else {
            return Ok(Auth::Partial {
                name: Cow::Borrowed(""),
                instructions: Cow::Borrowed(""),
                prompts: Cow::Owned(vec![(Cow::Borrowed("Verification code: "), false)]),
            });
        };
        let answer = response
            .next()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let delay = self.delay(user);
        tokio::time::sleep(delay).await;
        let bastion_user = parse_login_name(user).map(|l| l.user).unwrap_or_default();
        if login::check_totp(&self.shared, &bastion_user, &self.ip, &fingerprint, &answer) {
            self.key_passed = None;
            Ok(delay_failure(self.logged_in(user, fingerprint, true)).await)
        } else {
            // A wrong code: a failure, though the key step stands (partial success).
            tokio::time::sleep(FAILURE_DELAY).await;
            Ok(totp_only())
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(conn) = self.conn.clone() else {
            return Ok(()); // dropping `reply` refuses the channel
        };
        reply.accept().await;
        let handle = session.handle();
        tokio::spawn(crate::session::supervise(
            self.shared.clone(),
            conn,
            channel,
            handle,
            self.upstreams.clone(),
        ));
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _cols: u32,
        _rows: u32,
        _pw: u32,
        _ph: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if name == "sftp" {
            session.channel_success(channel)?;
        } else {
            self.refused("subsystem", name, "only the sftp subsystem is served");
            session.channel_failure(channel)?;
        }
        Ok(())
    }

    async fn agent_request(
        &mut self,
        _channel: ChannelId,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refused(
            "agent_forward",
            "",
            "the bastion logs in to targets with its own key and never forwards an agent",
        );
        Ok(false)
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single: bool,
        _proto: &str,
        _cookie: &str,
        _screen: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused("x11", "", "X11 forwarding is not offered");
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if name == crate::session::task_label::ENV {
            // A label for the command log, read by the channel's task; never passed on.
            session.channel_success(channel)?;
            return Ok(());
        }
        // The name only: values (tokens in the environment) are never logged.
        self.refused(
            "env",
            name,
            "environment variables are not passed to targets",
        );
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        channel: Channel<Msg>,
        host_to_connect: &str,
        port_to_connect: u32,
        originator_address: &str,
        originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(conn) = self.conn.clone() else {
            return Ok(()); // dropping `reply` refuses the channel
        };
        if self.jump.is_some() {
            self.refused(
                "direct_tcpip",
                &format!("{host_to_connect}:{port_to_connect}"),
                "forwarding inside a ProxyJump connection is not offered; jump or forward from the bastion itself",
            );
            return Ok(());
        }
        let jump_host = u16::try_from(port_to_connect)
            .ok()
            .and_then(|p| self.shared.access().ssh_service(host_to_connect, p));
        if let Some(host) = jump_host {
            // `ssh -J`: the bastion terminates the inner SSH connection itself.
            tokio::spawn(super::jump::serve(
                self.shared.clone(),
                conn,
                channel,
                reply,
                host,
            ));
            return Ok(());
        }
        // The decision (audited), the upstream connection and the relay run in their own task;
        // the channel is accepted only once the host's side is open.
        let req = crate::session::ForwardRequest {
            host: host_to_connect.to_string(),
            port: port_to_connect,
            originator: format!("{originator_address}:{originator_port}"),
        };
        tokio::spawn(crate::session::forward(
            self.shared.clone(),
            conn,
            channel,
            reply,
            req,
        ));
        Ok(())
    }

    async fn channel_open_direct_streamlocal(
        &mut self,
        _channel: Channel<Msg>,
        socket_path: &str,
        _reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused(
            "streamlocal",
            socket_path,
            "Unix socket forwarding is not offered",
        );
        Ok(())
    }

    async fn tcpip_forward(
        &mut self,
        address: &str,
        port: &mut u32,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refused(
            "remote_forward",
            &format!("{address}:{port}"),
            "remote forwarding (ssh -R) is never offered",
        );
        Ok(false)
    }

    async fn streamlocal_forward(
        &mut self,
        socket_path: &str,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refused(
            "remote_forward",
            socket_path,
            "remote forwarding (ssh -R) is never offered",
        );
        Ok(false)
    }
}

impl ConnectionHandler {
    /// Audits a refused request with its kind, by the logged-in user (or, before login, by
    /// the source address alone).
    fn refused(&self, request: &str, detail: &str, reason: &str) {
        let (user, source) = match &self.conn {
            Some(c) => (c.user.as_str(), c.source.as_str()),
            None => ("", self.ip.as_str()),
        };
        self.shared.audit(
            (!user.is_empty()).then_some(user),
            Some(source),
            AuditEvent::RequestRefused {
                request: request.to_string(),
                detail: detail.to_string(),
                reason: reason.to_string(),
            },
        );
    }

    fn delay(&self, login_name: &str) -> std::time::Duration {
        let user = parse_login_name(login_name)
            .map(|l| l.user)
            .unwrap_or_default();
        self.shared
            .limiter
            .delay(&[&format!("user:{user}"), &format!("ip:{}", self.ip)])
    }
}
