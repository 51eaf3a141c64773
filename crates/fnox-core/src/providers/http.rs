//! The HTTPS clients of the providers that speak HTTP themselves
//! (`vault-transit`), shared through the [`Context`](super::Context) that
//! owns them: one per CA file, TLS on rustls with an explicit crypto
//! provider (nothing process-wide is installed).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Mutex,
    time::Duration,
};

use super::vault_transit::error::TransitError;

/// The HTTPS clients of the transit providers, one per CA file, shared
/// by every transit provider that uses the same [`Context`]. Owned by
/// the context, not by the process.
///
/// [`Context`]: super::Context
#[derive(Debug, Default)]
pub struct HttpClients(Mutex<HashMap<Option<PathBuf>, reqwest::Client>>);

impl HttpClients {
    /// The client that trusts `ca_cert` (else the system's roots), built on
    /// first use.
    pub(crate) fn get(&self, ca_cert: Option<&Path>) -> Result<reqwest::Client, TransitError> {
        let key = ca_cert.map(Path::to_path_buf);
        let mut clients = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let built = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .redirect(redirect_policy())
            .tls_backend_preconfigured(tls_config(ca_cert)?)
            .build()
            .map_err(|e| TransitError::Client(e.into()))?;
        clients.insert(key, built.clone());
        Ok(built)
    }
}

/// TLS on rustls with ring, the crypto provider the AWS SDK already links,
/// given explicitly (no process-wide default is installed). With `ca_cert`
/// only its certificates are trusted; otherwise the system's roots.
fn tls_config(ca_cert: Option<&Path>) -> Result<rustls::ClientConfig, TransitError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransitError::Client(e.into()))?;
    let Some(path) = ca_cert else {
        let verifier = SystemRoots { provider, verifier: std::sync::OnceLock::new() };
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(std::sync::Arc::new(verifier))
            .with_no_client_auth());
    };
    let ca_error = |source: Box<dyn std::error::Error + Send + Sync>| TransitError::CaCert {
        path: path.to_path_buf(),
        source,
    };
    let pem = std::fs::read(path).map_err(|e| ca_error(e.into()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.map_err(|e| ca_error(e.into()))?).map_err(|e| ca_error(e.into()))?;
    }
    if roots.is_empty() {
        return Err(ca_error("no PEM certificate in the file".into()));
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// Follows a few redirects (a standby node points at the active one), never
/// from https to http.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let downgrade = attempt.url().scheme() == "http"
            && attempt.previous().iter().any(|u| u.scheme() == "https");
        if downgrade {
            attempt.error("refusing to follow a redirect from https to http")
        } else if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}

/// The system's trust roots (what reqwest itself uses), read at the first
/// handshake instead of when the client is built: a command whose values
/// the agent serves builds its providers but never connects, and need not
/// read the certificate store (about 150 files here). A store that cannot
/// be read fails that handshake, with the loader's words.
#[derive(Debug)]
struct SystemRoots {
    provider: std::sync::Arc<rustls::crypto::CryptoProvider>,
    verifier: std::sync::OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl SystemRoots {
    fn verifier(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        let loaded = self
            .verifier
            .get_or_init(|| rustls_platform_verifier::Verifier::new(self.provider.clone()));
        loaded.as_ref().map_err(Clone::clone)
    }
}

impl rustls::client::danger::ServerCertVerifier for SystemRoots {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        match self.verifier() {
            Ok(v) => v.supported_verify_schemes(),
            // The handshake fails at the certificate; offer what the
            // crypto provider can check until then.
            Err(_) => self.provider.signature_verification_algorithms.supported_schemes(),
        }
    }
}
