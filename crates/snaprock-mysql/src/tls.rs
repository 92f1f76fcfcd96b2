//! TLS for the MySQL protocol: the server certificate and key (PEM) become a rustls acceptor,
//! and a connection is upgraded when the client's first packet is an SSLRequest.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The server side of TLS, built once at start.
#[derive(Clone)]
pub struct TlsSettings {
    pub acceptor: TlsAcceptor,
    /// Refuse clients that do not ask for TLS (`--require-secure-transport`).
    pub require_secure_transport: bool,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("require_secure_transport", &self.require_secure_transport)
            .finish()
    }
}

impl TlsSettings {
    /// Loads a PEM certificate chain and its private key; the error text names the file.
    pub fn load(cert: &Path, key: &Path, require_secure_transport: bool) -> Result<Self, String> {
        let certs = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("cannot read the certificate {}: {e}", cert.display()))?;
        if certs.is_empty() {
            return Err(format!("no certificate in {}", cert.display()));
        }
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| format!("cannot read the private key {}: {e}", key.display()))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
            .map_err(|e| format!("invalid TLS certificate or key: {e}"))?;
        Ok(TlsSettings {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            require_secure_transport,
        })
    }
}
