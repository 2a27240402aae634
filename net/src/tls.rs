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
    /// with its `key` (both or neither); an encrypted PKCS #8 key is opened with
    /// `passphrase`. The error names the file.
    pub fn from_pem_files(
        roots: Option<&std::path::Path>,
        cert: Option<&std::path::Path>,
        key: Option<&std::path::Path>,
        passphrase: Option<&str>,
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
                private_key(key, passphrase).map_err(|err| shown(key, &err))?,
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

/// The private key in the PEM file at `path`: unencrypted (PKCS #8, PKCS #1 or SEC1), or
/// an `ENCRYPTED PRIVATE KEY` (PKCS #8 PBES2 with AES or 3DES, what OpenSSL 3 writes)
/// opened with `passphrase`.
fn private_key(
    path: &std::path::Path,
    passphrase: Option<&str>,
) -> Result<PrivateKeyDer<'static>, String> {
    use pkcs8::der::SecretDocument;
    use rustls_pki_types::pem::PemObject;
    let text = std::fs::read_to_string(path).map_err(|err| err.to_string())?;
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err("a key encrypted the legacy OpenSSL way is not supported: convert it (openssl pkcs8 -topk8 -v2 aes256 -in key.pem -out key-pkcs8.pem)".to_owned());
    }
    let Some(begin) = text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") else {
        return PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|err| err.to_string());
    };
    let passphrase = passphrase.ok_or("the key is encrypted and no passphrase was given")?;
    let (_, document) = SecretDocument::from_pem(&text[begin..])
        .map_err(|err| format!("not an encrypted PKCS #8 key: {err}"))?;
    let encrypted = pkcs8::EncryptedPrivateKeyInfoRef::try_from(document.as_bytes())
        .map_err(|err| format!("not an encrypted PKCS #8 key: {err}"))?;
    let decrypted = encrypted
        .decrypt(passphrase)
        .map_err(|err| format!("cannot decrypt the key (wrong passphrase?): {err}"))?;
    Ok(PrivateKeyDer::Pkcs8(
        rustls_pki_types::PrivatePkcs8KeyDer::from(decrypted.as_bytes().to_vec()),
    ))
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

#[cfg(test)]
mod key_tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/keys")
            .join(name)
    }

    /// Keys OpenSSL encrypted (PBES2 with AES-256-CBC and with 3DES) open to the same
    /// key as the plain files.
    #[test]
    fn encrypted_keys_open_with_their_passphrase() {
        for (encrypted, plain) in [
            ("rsa-2048.aes256.pem", "rsa-2048.pem"),
            ("ec-p256.des3.pem", "ec-p256.pem"),
        ] {
            let opened = private_key(&fixture(encrypted), Some("vayu")).unwrap();
            let expected = private_key(&fixture(plain), None).unwrap();
            assert_eq!(opened.secret_der(), expected.secret_der(), "{encrypted}");
            let wrong = private_key(&fixture(encrypted), Some("other")).unwrap_err();
            assert!(wrong.contains("wrong passphrase"), "{wrong}");
            let missing = private_key(&fixture(encrypted), None).unwrap_err();
            assert!(missing.contains("no passphrase"), "{missing}");
        }
    }
}
