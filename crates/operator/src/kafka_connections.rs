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
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use cluster_operator::admin::AdminOverride;
use kafka_client::{ClientCertificate, ClientConfig, SaslConfig, TlsConfig};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Connection {
    cluster: String,
    namespace: Option<String>,
    bootstrap_servers: String,
    tls: Option<Tls>,
    sasl: Option<Sasl>,
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
    fn mistakes_in_the_file_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("connections.yaml");
        std::fs::write(&file, "- cluster: c\n  bootstrap: a:9092\n").unwrap();
        let error = format!("{:#}", load(&file).unwrap_err());
        assert!(error.contains("bootstrap"), "{error}");
    }
}
