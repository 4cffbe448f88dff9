//! The rustls client configuration: trust only the configured CA, optionally present a client
//! certificate. Built once per client, so PEM mistakes fail `connect` before any network I/O.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls;

use crate::config::TlsConfig;
use crate::error::Error;

pub(crate) fn client_config(tls: &TlsConfig) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates(&tls.ca_pem, "CA certificate")? {
        roots
            .add(certificate)
            .map_err(|e| Error::Tls(format!("unusable CA certificate: {e}")))?;
    }
    // ring, as kube's rustls already uses, so no second crypto library is built.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_root_certificates(roots);
    let config = match &tls.client_certificate {
        None => builder.with_no_client_auth(),
        Some(client) => {
            let chain = certificates(&client.certificate_pem, "client certificate")?;
            let key = PrivateKeyDer::from_pem_slice(client.key_pem.as_bytes()).map_err(|e| {
                Error::Tls(format!(
                    "no usable private key (PKCS#8, SEC1 or PKCS#1 PEM) for the client certificate: {e}"
                ))
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| Error::Tls(format!("unusable client certificate or key: {e}")))?
        }
    };
    Ok(Arc::new(config))
}

/// Every certificate in `pem`; at least one.
fn certificates(pem: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls(format!("invalid {what} PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(Error::Tls(format!("no {what} found in the PEM text")));
    }
    Ok(certificates)
}

/// The name the broker's certificate must have: the host part of `host:port`, which may be an
/// IP address (`127.0.0.1`, `[::1]`) that rustls then checks against the IP SANs.
pub(crate) fn server_name(address: &str) -> Result<ServerName<'static>, Error> {
    let host = host_of(address);
    ServerName::try_from(host.to_string())
        .map_err(|e| Error::Tls(format!("{host:?} is not a valid TLS server name: {e}")))
}

fn host_of(address: &str) -> &str {
    let host = address
        .rsplit_once(':')
        .map_or(address, |(host, _port)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientCertificate;

    fn tls_error(result: Result<Arc<rustls::ClientConfig>, Error>) -> String {
        match result {
            Err(Error::Tls(message)) => message,
            other => panic!("expected Error::Tls, got {other:?}"),
        }
    }

    #[test]
    fn a_ca_without_certificates_is_a_tls_error() {
        let message = tls_error(client_config(&TlsConfig {
            ca_pem: "not a certificate".into(),
            client_certificate: None,
        }));
        assert_eq!(message, "no CA certificate found in the PEM text");
    }

    #[test]
    fn broken_base64_is_a_tls_error() {
        let message = tls_error(client_config(&TlsConfig {
            ca_pem: "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".into(),
            client_certificate: None,
        }));
        assert!(
            message.starts_with("invalid CA certificate PEM"),
            "{message}"
        );
    }

    #[test]
    fn a_garbage_ca_certificate_is_a_tls_error() {
        // Valid PEM, but the DER inside is no certificate.
        let message = tls_error(client_config(&TlsConfig {
            ca_pem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
            client_certificate: None,
        }));
        assert!(message.starts_with("unusable CA certificate"), "{message}");
    }

    const CA_PEM: &str = include_str!("../tests/common/other-ca.pem");

    #[test]
    fn a_ca_alone_is_enough() {
        assert!(
            client_config(&TlsConfig {
                ca_pem: CA_PEM.into(),
                client_certificate: None,
            })
            .is_ok()
        );
    }

    #[test]
    fn a_missing_client_key_is_a_tls_error() {
        let message = tls_error(client_config(&TlsConfig {
            ca_pem: CA_PEM.into(),
            client_certificate: Some(ClientCertificate {
                certificate_pem: CA_PEM.into(),
                key_pem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
            }),
        }));
        assert!(
            message.starts_with("no usable private key (PKCS#8, SEC1 or PKCS#1 PEM)"),
            "{message}"
        );
    }

    #[test]
    fn a_client_certificate_without_certificates_is_a_tls_error() {
        let message = tls_error(client_config(&TlsConfig {
            ca_pem: CA_PEM.into(),
            client_certificate: Some(ClientCertificate {
                certificate_pem: String::new(),
                key_pem: String::new(),
            }),
        }));
        assert_eq!(message, "no client certificate found in the PEM text");
    }

    #[test]
    fn server_names_come_from_the_host() {
        assert_eq!(host_of("127.0.0.1:9093"), "127.0.0.1");
        assert_eq!(host_of("[::1]:9093"), "::1");
        assert_eq!(host_of("kafka-0.kafka:9093"), "kafka-0.kafka");
        assert!(matches!(
            server_name("127.0.0.1:9093"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name("kafka-0.kafka:9093"),
            Ok(ServerName::DnsName(_))
        ));
        assert!(matches!(server_name("bad name!:9093"), Err(Error::Tls(_))));
    }
}
