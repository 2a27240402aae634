//! TLS client configuration: rustls with the ring provider, webpki roots, SNI, ALPN
//! `http/1.1`, and an opt-in verifier that accepts any certificate (`--insecure`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

/// Builds the client configuration shared by every connection of a run.
/// With `insecure`, certificates are not verified (self-signed test servers).
pub fn client_config(insecure: bool) -> Result<Arc<ClientConfig>, rustls::Error> {
    client_config_with(insecure, &Extras::default())
}

/// What a client trusts beyond the web's roots, and the certificate it presents.
#[derive(Debug, Default)]
pub struct Extras {
    /// Certificate authorities trusted beside webpki's roots.
    pub roots: Vec<CertificateDer<'static>>,
    /// A client certificate chain and its key (mutual TLS).
    pub identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
}

impl Extras {
    /// Reads PEM files: `roots` (any number of certificates), and a client `cert` chain
    /// with its unencrypted `key` (both or neither). The error names the file.
    pub fn from_pem_files(
        roots: Option<&std::path::Path>,
        cert: Option<&std::path::Path>,
        key: Option<&std::path::Path>,
    ) -> Result<Extras, String> {
        use rustls_pki_types::pem::PemObject;
        let shown = |path: &std::path::Path, err: &dyn std::fmt::Display| {
            format!("{}: {err}", path.display())
        };
        let certificates = |path: &std::path::Path| {
            let read: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
                .map_err(|err| shown(path, &err))?
                .collect();
            match read {
                Ok(found) if !found.is_empty() => Ok(found),
                Ok(_) => Err(shown(path, &"no PEM certificate in it")),
                Err(err) => Err(shown(path, &err)),
            }
        };
        let roots = match roots {
            Some(path) => certificates(path)?,
            None => Vec::new(),
        };
        let identity = match (cert, key) {
            (Some(cert), Some(key)) => Some((
                certificates(cert)?,
                PrivateKeyDer::from_pem_file(key).map_err(|err| shown(key, &err))?,
            )),
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                return Err(
                    "a client certificate needs its key, and a key its certificate".to_owned(),
                )
            }
        };
        Ok(Extras { roots, identity })
    }
}

/// [`client_config`] with `extras`.
pub fn client_config_with(
    insecure: bool,
    extras: &Extras,
) -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
    } else {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for root in &extras.roots {
            roots.add(root.clone())?;
        }
        builder.with_root_certificates(roots)
    };
    let mut config = match &extras.identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain.clone(), key.clone_key())?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The SNI name for a host (a DNS name or an IP literal).
pub fn server_name(
    host: &str,
) -> Result<ServerName<'static>, rustls_pki_types::InvalidDnsNameError> {
    ServerName::try_from(host.to_owned())
}

/// Accepts every certificate but still checks handshake signatures, so the connection is
/// encrypted, just not authenticated.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
