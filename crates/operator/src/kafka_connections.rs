//! `--kafka-connections <file>`: Kafka clusters the operator reaches at an address of the user's
//! choosing rather than through a Kafka resource it runs, such as clusters it did not create.
//!
//! ```yaml
//! - cluster: my-cluster          # the strimzi.io/cluster label of the topics and users
//!   namespace: team-a            # optional: every namespace when absent
//!   bootstrapServers: kafka-0.example.com:9093,kafka-1.example.com:9093
//!   tls:                         # optional
//!     caFile: /etc/kafka/ca.crt
//!     certificateFile: /etc/kafka/user.crt   # optional, with keyFile: mutual TLS
//!     keyFile: /etc/kafka/user.key
//!   sasl:                        # optional
//!     mechanism: scram-sha-512   # or plain
//!     username: admin
//!     passwordFile: /etc/kafka/password
//!   allowCleartextSasl: false    # true: sasl without tls, for a SASL_PLAINTEXT listener
//! ```
//!
//! SASL without TLS is refused unless `allowCleartextSasl` says the listener is plain: PLAIN
//! sends the password as is, and SCRAM's exchange can be read and attacked offline.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use kafka_client::{ClientCertificate, ClientConfig, SaslConfig, TlsConfig};
use kafka_operator::admin::AdminOverride;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Connection {
    cluster: String,
    namespace: Option<String>,
    bootstrap_servers: String,
    tls: Option<Tls>,
    sasl: Option<Sasl>,
    #[serde(default)]
    allow_cleartext_sasl: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Tls {
    ca_file: PathBuf,
    certificate_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Sasl {
    mechanism: String,
    username: String,
    password_file: PathBuf,
}

/// Reads the connections file; relative paths in it are relative to the file.
pub fn load(file: &Path) -> Result<Vec<AdminOverride>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the Kafka connections file {}", file.display()))?;
    let connections: Vec<Connection> = serde_yaml::from_str(&text)
        .with_context(|| format!("parsing the Kafka connections file {}", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let read = |path: &Path| {
        let path = base.join(path);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    connections
        .into_iter()
        .map(|connection| {
            if connection.sasl.is_some()
                && connection.tls.is_none()
                && !connection.allow_cleartext_sasl
            {
                bail!(
                    "the Kafka connection to {:?} has sasl but no tls, so its credentials would \
                     cross the network in clear: add tls, or set allowCleartextSasl: true if \
                     the listener is SASL_PLAINTEXT",
                    connection.cluster
                );
            }
            let mut config = ClientConfig::new([connection.bootstrap_servers]);
            if let Some(tls) = connection.tls {
                let client_certificate = match (tls.certificate_file, tls.key_file) {
                    (Some(certificate), Some(key)) => Some(ClientCertificate {
                        certificate_pem: read(&certificate)?,
                        key_pem: read(&key)?,
                    }),
                    (None, None) => None,
                    _ => bail!("tls.certificateFile and tls.keyFile go together"),
                };
                config.tls = Some(TlsConfig {
                    ca_pem: read(&tls.ca_file)?,
                    client_certificate,
                });
            }
            if let Some(sasl) = connection.sasl {
                let username = sasl.username;
                let password = read(&sasl.password_file)?.trim_end().to_string();
                config.sasl = Some(match sasl.mechanism.to_ascii_lowercase().as_str() {
                    "scram-sha-512" => SaslConfig::ScramSha512 { username, password },
                    "plain" => SaslConfig::Plain { username, password },
                    other => bail!("sasl.mechanism {other:?}: use scram-sha-512 or plain"),
                });
            }
            Ok(AdminOverride {
                namespace: connection.namespace,
                cluster: connection.cluster,
                config,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connections_file_reads_its_files_relative_to_itself() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), "CA").unwrap();
        std::fs::write(dir.path().join("password"), "secret\n").unwrap();
        let file = dir.path().join("connections.yaml");
        std::fs::write(
            &file,
            "- cluster: my-cluster\n  bootstrapServers: a:9093, b:9093\n  tls: {caFile: ca.crt}\n  \
             sasl: {mechanism: SCRAM-SHA-512, username: admin, passwordFile: password}\n",
        )
        .unwrap();
        let overrides = load(&file).unwrap();
        assert_eq!(overrides.len(), 1);
        let config = &overrides[0].config;
        assert_eq!(config.bootstrap_servers, ["a:9093", "b:9093"]);
        assert_eq!(config.tls.as_ref().unwrap().ca_pem, "CA");
        assert_eq!(
            config.sasl,
            Some(SaslConfig::ScramSha512 {
                username: "admin".into(),
                password: "secret".into()
            })
        );
        assert_eq!(overrides[0].namespace, None);
    }

    #[test]
    fn sasl_without_tls_needs_the_listener_declared_plain() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("password"), "secret\n").unwrap();
        let file = dir.path().join("connections.yaml");
        let connection = "- cluster: my-cluster\n  bootstrapServers: a:9092\n  \
             sasl: {mechanism: plain, username: admin, passwordFile: password}\n";
        std::fs::write(&file, connection).unwrap();
        let error = format!("{:#}", load(&file).unwrap_err());
        assert!(
            error.contains("\"my-cluster\" has sasl but no tls")
                && error.contains("allowCleartextSasl: true"),
            "{error}"
        );

        std::fs::write(&file, format!("{connection}  allowCleartextSasl: true\n")).unwrap();
        let overrides = load(&file).unwrap();
        assert!(overrides[0].config.tls.is_none());
        assert!(matches!(
            overrides[0].config.sasl,
            Some(SaslConfig::Plain { .. })
        ));
    }

    #[test]
    fn debug_hides_the_password() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), "CA").unwrap();
        std::fs::write(dir.path().join("password"), "hunter2\n").unwrap();
        let file = dir.path().join("connections.yaml");
        std::fs::write(
            &file,
            "- cluster: c\n  bootstrapServers: a:9093\n  tls: {caFile: ca.crt}\n  \
             sasl: {mechanism: plain, username: admin, passwordFile: password}\n",
        )
        .unwrap();
        let printed = format!("{:?}", load(&file).unwrap());
        assert!(printed.contains("admin"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn mistakes_in_the_file_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("connections.yaml");
        std::fs::write(&file, "- cluster: c\n  bootstrap: a:9092\n").unwrap();
        let error = format!("{:#}", load(&file).unwrap_err());
        assert!(error.contains("bootstrap"), "{error}");
    }
}
