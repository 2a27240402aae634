//! A TLS test server: rustls (ring) with a fresh self-signed certificate for `localhost`
//! and `127.0.0.1`, answering every request on a keep-alive connection with `200 ok`; or,
//! with [`TlsServer::start_mutual`], a certificate from a fresh CA and client certificates
//! required (mutual TLS).
//! Thread per connection; counts requests and completed handshakes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    handshakes: AtomicU64,
}

/// A running TLS server; stops accepting when dropped.
pub struct TlsServer {
    addr: SocketAddr,
    counters: Arc<Counters>,
    stopping: Arc<AtomicBool>,
}

impl TlsServer {
    pub fn start() -> TlsServer {
        let cert = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .unwrap_or_else(|e| panic!("certificate: {e}"));
        let chain = vec![CertificateDer::from(cert.cert.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
            .unwrap_or_else(|e| panic!("server config: {e}"));
        TlsServer::serving(Arc::new(config))
    }

    /// A server whose certificate a fresh CA signed, which accepts only clients presenting
    /// a certificate of that CA. Writes `ca.pem`, `client.pem` and `client-key.pem` (and a
    /// `stranger.pem` / `stranger-key.pem` pair the CA did not sign) into `dir`.
    pub fn start_mutual(dir: &std::path::Path) -> TlsServer {
        let fail = |what: &str, e: &dyn std::fmt::Display| -> ! { panic!("{what}: {e}") };
        let ca_key = rcgen::KeyPair::generate().unwrap_or_else(|e| fail("CA key", &e));
        let mut ca_params =
            rcgen::CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| fail("CA", &e));
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params
            .self_signed(&ca_key)
            .unwrap_or_else(|e| fail("CA", &e));
        let signed = |names: Vec<String>| {
            let key = rcgen::KeyPair::generate().unwrap_or_else(|e| fail("key", &e));
            let cert = rcgen::CertificateParams::new(names)
                .and_then(|params| params.signed_by(&key, &ca, &ca_key))
                .unwrap_or_else(|e| fail("certificate", &e));
            (cert, key)
        };
        let (server_cert, server_key) =
            signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]);
        let (client_cert, client_key) = signed(vec!["client".to_owned()]);
        let stranger = rcgen::generate_simple_self_signed(vec!["stranger".to_owned()])
            .unwrap_or_else(|e| fail("stranger", &e));
        // The client key encrypted as OpenSSL 3 writes it (PKCS #8 PBES2), passphrase
        // `s3cret`.
        let client_key_der = client_key.serialize_der();
        let encrypted_key = pkcs8::PrivateKeyInfoRef::try_from(client_key_der.as_slice())
            .and_then(|info| info.encrypt("s3cret"))
            .and_then(|document| {
                document
                    .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
                    .map(|pem| pem.to_string())
                    .map_err(pkcs8::Error::from)
            })
            .unwrap_or_else(|e| fail("encrypted key", &e));
        for (name, pem) in [
            ("ca.pem", ca.pem()),
            ("client.pem", client_cert.pem()),
            ("client-key.pem", client_key.serialize_pem()),
            ("client-key-encrypted.pem", encrypted_key),
            ("stranger.pem", stranger.cert.pem()),
            ("stranger-key.pem", stranger.key_pair.serialize_pem()),
        ] {
            std::fs::write(dir.join(name), pem).unwrap_or_else(|e| fail(name, &e));
        }
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(ca.der().to_vec()))
            .unwrap_or_else(|e| fail("roots", &e));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap_or_else(|e| fail("client verifier", &e));
        let chain = vec![CertificateDer::from(server_cert.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|builder| {
                builder
                    .with_client_cert_verifier(verifier)
                    .with_single_cert(chain, key)
            })
            .unwrap_or_else(|e| fail("server config", &e));
        TlsServer::serving(Arc::new(config))
    }

    fn serving(config: Arc<ServerConfig>) -> TlsServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"));
        let counters = Arc::new(Counters::default());
        let stopping = Arc::new(AtomicBool::new(false));
        let (accept_counters, accept_stopping) = (Arc::clone(&counters), Arc::clone(&stopping));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_stopping.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (config, counters) = (Arc::clone(&config), Arc::clone(&accept_counters));
                std::thread::spawn(move || serve(stream, config, &counters));
            }
        });
        TlsServer {
            addr,
            counters,
            stopping,
        }
    }

    /// `https://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/", self.addr.port())
    }

    pub fn requests(&self) -> u64 {
        self.counters.requests.load(Ordering::Relaxed)
    }

    pub fn handshakes(&self) -> u64 {
        self.counters.handshakes.load(Ordering::Relaxed)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        // Unblock accept(); a failure means the listener is already gone.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, config: Arc<ServerConfig>, counters: &Counters) {
    let Ok(connection) = ServerConnection::new(config) else {
        return;
    };
    let mut tls = StreamOwned::new(connection, stream);
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    let mut handshake_counted = false;
    loop {
        let read = match tls.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if !handshake_counted && !tls.conn.is_handshaking() {
            counters.handshakes.fetch_add(1, Ordering::Relaxed);
            handshake_counted = true;
        }
        pending.extend_from_slice(&buf[..read]);
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            counters.requests.fetch_add(1, Ordering::Relaxed);
            if tls
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .is_err()
            {
                return;
            }
        }
    }
}
