//! TLS to PostgreSQL, chosen the way libpq chooses it: the URL's `sslmode` and `sslrootcert`.
//!
//! - `disable`: plain TCP.
//! - `prefer` (the default, as in libpq): TLS when the server offers it, else plain; the
//!   server's certificate is not checked.
//! - `require`: TLS or no connection; the certificate is not checked, unless `sslrootcert`
//!   names a file, which makes it `verify-ca` (libpq does the same).
//! - `verify-ca`: the certificate must chain to `sslrootcert` (or, without it, to the Mozilla
//!   roots built in); the host name is not compared.
//! - `verify-full`: as `verify-ca`, and the certificate must name the host connected to.
//!
//! The driver knows only the first three modes and no `sslrootcert`, so both parameters are
//! taken out of the URL here and the driver is told only whether TLS is off, optional or
//! required.

use std::{path::PathBuf, sync::Arc};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode` values (`allow` is refused: it tries plain first and TLS second).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Option<Self> {
        [
            Self::Disable,
            Self::Prefer,
            Self::Require,
            Self::VerifyCa,
            Self::VerifyFull,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == text)
    }

    /// The URL's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }

    /// What the driver is told: whether TLS is off, optional or required.
    pub fn for_driver(self) -> DriverSslMode {
        match self {
            Self::Disable => DriverSslMode::Disable,
            Self::Prefer => DriverSslMode::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => DriverSslMode::Require,
        }
    }
}

/// The TLS settings a database URL asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    /// PEM file of the certificate authorities to trust instead of the built-in roots.
    pub root_cert: Option<PathBuf>,
}

/// Why the TLS settings cannot be used. Messages never quote the URL (it may hold a password).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("sslmode must be disable, prefer, require, verify-ca or verify-full")]
    UnknownMode,
    #[error("client certificates (sslcert, sslkey) are not supported")]
    ClientCertificate,
    #[error("sslrootcert {path} cannot be read: {reason}")]
    RootCert { path: String, reason: String },
    #[error("sslrootcert {0} holds no certificate")]
    NoRootCert(String),
    #[error("cannot set up TLS: {0}")]
    Setup(#[from] rustls::Error),
}

/// Takes `sslmode` and `sslrootcert` out of `url`'s query: the URL left for the driver, and
/// the settings. Other parameters stay as they are.
pub fn split_url(url: &str) -> Result<(String, TlsSettings), TlsError> {
    let mut settings = TlsSettings {
        mode: SslMode::Prefer,
        root_cert: None,
    };
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), settings));
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
        match key {
            "sslmode" => settings.mode = SslMode::parse(&value).ok_or(TlsError::UnknownMode)?,
            "sslrootcert" => settings.root_cert = Some(PathBuf::from(value.as_ref())),
            "sslcert" | "sslkey" | "sslpassword" => return Err(TlsError::ClientCertificate),
            _ => kept.push(pair),
        }
    }
    if settings.mode == SslMode::Require && settings.root_cert.is_some() {
        settings.mode = SslMode::VerifyCa;
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, settings))
}

/// The connector for `settings`. With `disable` the driver never calls it.
pub fn connector(settings: &TlsSettings) -> Result<MakeRustlsConnect, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match settings.mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => {
            Arc::new(EncryptOnly(Arc::clone(&provider)))
        }
        SslMode::VerifyCa => Arc::new(AnyHostName(web_pki(settings, &provider)?)),
        SslMode::VerifyFull => web_pki(settings, &provider)?,
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn web_pki(
    settings: &TlsSettings,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, TlsError> {
    let roots = match &settings.root_cert {
        Some(path) => roots_from(path)?,
        None => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
        .build()
        .map_err(|error| TlsError::Setup(rustls::Error::General(error.to_string())))
}

fn roots_from(path: &PathBuf) -> Result<RootCertStore, TlsError> {
    let shown = path.display().to_string();
    let unreadable = |reason: String| TlsError::RootCert {
        path: shown.clone(),
        reason,
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(e.to_string()))? {
        let cert = cert.map_err(|e| unreadable(e.to_string()))?;
        roots
            .add(cert)
            .map_err(|e| unreadable(format!("not a usable certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(TlsError::NoRootCert(shown));
    }
    Ok(roots)
}

/// `prefer` and `require`: the connection is encrypted and the handshake's signatures are
/// checked, but any certificate is taken, as libpq does in these modes.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
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
            &self.0.signature_verification_algorithms,
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
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain is checked in full; only a certificate naming another host is
/// accepted.
#[derive(Debug)]
struct AnyHostName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let checked =
            self.0
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match checked {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_query_tls_is_preferred_and_unchecked() {
        let (rest, settings) = split_url("postgres://u:p@db.internal:5432/ln").unwrap();
        assert_eq!(rest, "postgres://u:p@db.internal:5432/ln");
        assert_eq!(settings.mode, SslMode::Prefer);
        assert_eq!(settings.root_cert, None);
    }

    #[test]
    fn the_tls_parameters_are_taken_out_and_the_others_kept() {
        let url = "postgres://db/ln?application_name=a&sslmode=verify-full\
                   &sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3";
        let (rest, settings) = split_url(url).unwrap();
        assert_eq!(
            rest,
            "postgres://db/ln?application_name=a&connect_timeout=3"
        );
        assert_eq!(settings.mode, SslMode::VerifyFull);
        assert_eq!(settings.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(settings.mode.for_driver(), DriverSslMode::Require);
    }

    #[test]
    fn require_with_a_root_certificate_checks_the_chain() {
        let (_, settings) =
            split_url("postgres://db/ln?sslmode=require&sslrootcert=ca.pem").unwrap();
        assert_eq!(settings.mode, SslMode::VerifyCa);
    }

    #[test]
    fn disable_keeps_tls_off() {
        let (rest, settings) = split_url("postgres://db/ln?sslmode=disable").unwrap();
        assert_eq!(rest, "postgres://db/ln");
        assert_eq!(settings.mode.for_driver(), DriverSslMode::Disable);
    }

    #[test]
    fn unknown_modes_are_refused() {
        for mode in ["allow", "REQUIRE", "", "verify"] {
            let url = format!("postgres://db/ln?sslmode={mode}");
            assert!(
                matches!(split_url(&url), Err(TlsError::UnknownMode)),
                "{mode}"
            );
        }
    }

    #[test]
    fn client_certificates_are_refused_by_name() {
        let refused = split_url("postgres://db/ln?sslmode=verify-full&sslcert=c.pem&sslkey=k.pem");
        assert!(matches!(refused, Err(TlsError::ClientCertificate)));
    }

    #[test]
    fn a_missing_root_certificate_file_is_named() {
        let settings = TlsSettings {
            mode: SslMode::VerifyFull,
            root_cert: Some(PathBuf::from("/nonexistent/ca.pem")),
        };
        let error = connector(&settings).err().expect("refused").to_string();
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
    }

    #[test]
    fn a_root_certificate_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let settings = TlsSettings {
            mode: SslMode::VerifyCa,
            root_cert: Some(path),
        };
        assert!(matches!(connector(&settings), Err(TlsError::NoRootCert(_))));
    }
}
