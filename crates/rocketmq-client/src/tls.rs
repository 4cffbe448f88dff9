//! The rustls client configuration: trust only the configured CA.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls;

use crate::config::TlsConfig;
use crate::error::Error;

pub(crate) fn client_config(tls: &TlsConfig) -> Result<Arc<rustls::ClientConfig>, Error> {
    let certificates = CertificateDer::pem_slice_iter(tls.ca_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls(format!("invalid CA certificate PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(Error::Tls("no CA certificate found in the PEM text".into()));
    }
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|e| Error::Tls(format!("unusable CA certificate: {e}")))?;
    }
    // ring, as kube's rustls already uses, so no second crypto library is built.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The name the server's certificate must have: `configured`, else the host part of `address`
/// (`host:port`). Brokers register with their IP address (`brokerIP1`), so without a configured
/// name their certificates need IP SANs.
pub(crate) fn server_name(
    configured: Option<&str>,
    address: &str,
) -> Result<ServerName<'static>, Error> {
    let host = configured.unwrap_or_else(|| {
        address
            .rsplit_once(':')
            .map_or(address, |(host, _port)| host)
            .trim_start_matches('[')
            .trim_end_matches(']')
    });
    ServerName::try_from(host.to_string())
        .map_err(|e| Error::Tls(format!("{host:?} is not a valid TLS server name: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls_error(ca_pem: &str) -> String {
        match client_config(&TlsConfig::new(ca_pem)) {
            Err(Error::Tls(message)) => message,
            other => panic!("expected Error::Tls, got {other:?}"),
        }
    }

    #[test]
    fn ca_mistakes_are_tls_errors() {
        assert_eq!(
            tls_error("not a certificate"),
            "no CA certificate found in the PEM text"
        );
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(tls_error(garbage).starts_with("unusable CA certificate"));
    }

    #[test]
    fn server_names_come_from_the_host() {
        assert!(matches!(
            server_name(None, "127.0.0.1:9876"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name(None, "[::1]:9876"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name(None, "broker-0.broker.ns.svc:10911"),
            Ok(ServerName::DnsName(_))
        ));
        assert!(matches!(
            server_name(None, "bad name!:9876"),
            Err(Error::Tls(_))
        ));
        let configured = server_name(Some("brokers.ns.svc"), "10.0.0.7:10911").unwrap();
        assert_eq!(configured.to_str(), "brokers.ns.svc");
    }
}
