//! HTTPS webhooks verify certificates: an endpoint with a certificate from a private CA is
//! refused (and the refusal reported) unless that CA is given in the webhook's `ca_file`, and
//! then the message goes through. The endpoint is a real TLS server on 127.0.0.1 with a CA and
//! a leaf certificate made by the test.

mod common;

use std::sync::Arc;

use common::{failures, next_failure, settings};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use notify::{FailureReason, Notification, Notifier};
use tokio::sync::mpsc;
use tokio_rustls::rustls;

/// A private CA's PEM and a TLS server on 127.0.0.1 whose certificate it signed; each request
/// body it receives goes to the returned channel.
async fn tls_receiver() -> (String, String, mpsc::UnboundedReceiver<Vec<u8>>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "notify test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf_params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();

    // ring, as the rest of the workspace uses (deprecated only for lacking post-quantum kex).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(body.to_vec());
            "{}"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that refuses our certificate ends the handshake: nothing to serve.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app))
                    .await;
            });
        }
    });
    (url, ca.pem(), rx)
}

fn lockout() -> Notification {
    Notification::LoginLockout {
        user: "eve".into(),
        source: "198.51.100.7".into(),
        failures: 3,
    }
}

#[tokio::test]
async fn an_unknown_ca_is_refused_and_ca_file_lets_it_through() {
    let (url, ca_pem, mut bodies) = tls_receiver().await;
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca_pem).unwrap();
    let text = format!(
        "[notify]\n\
         [[notify.webhook]]\nname = \"public-roots\"\nformat = \"generic\"\nurl = \"{url}\"\ntries = 1\n\
         [[notify.webhook]]\nname = \"internal\"\nformat = \"generic\"\nurl = \"{url}\"\ntries = 1\nca_file = {:?}\n",
        ca_file.path()
    );
    let (on_failure, mut failed) = failures();
    let notifier = Notifier::start(settings(&text), on_failure).unwrap();
    notifier.send(lockout());

    let body: serde_json::Value = serde_json::from_slice(
        &tokio::time::timeout(common::SAFETY_NET, bodies.recv())
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(body["user"], "eve");

    let f = next_failure(&mut failed).await;
    assert_eq!(f.webhook, "public-roots");
    let FailureReason::GaveUp(error) = &f.reason else {
        panic!("{f:?}")
    };
    eprintln!("public-roots: {error}");
    assert!(error.contains("UnknownIssuer"), "{error}");
    // Only the webhook trusting the CA got through: one body in all.
    assert!(bodies.try_recv().is_err());
}
