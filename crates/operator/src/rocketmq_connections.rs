//! `--rocketmq-connections <file>`: RocketMQ clusters the operator reaches at addresses of the
//! user's choosing rather than through a Broker resource it runs, such as clusters it did not
//! create.
//!
//! ```yaml
//! - cluster: broker              # the Broker name RocketMQTopics and RocketMQUsers reference
//!   namespace: team-a            # optional: every namespace when absent
//!   clusterName: DefaultCluster  # optional: the brokers' brokerClusterName, else `cluster`
//!   nameServers: 10.0.0.1:9876;10.0.0.2:9876
//!   tls:                         # optional: the servers run tls.server.mode=enforcing
//!     caFile: /etc/rocketmq/ca.crt
//!   credentials:                 # optional: an ACL 2.0 super user
//!     accessKey: admin
//!     secretKeyFile: /etc/rocketmq/secret-key
//!   allowCleartextCredentials: false  # true: credentials without tls
//!   brokers:                     # optional: where each broker pod's broker listens
//!     broker-0-master-0: 10.0.0.3:10911
//! ```
//!
//! Credentials without TLS are refused unless `allowCleartextCredentials` says so: the secret
//! key itself only signs, but the users' passwords the operator creates, and reads back, travel
//! in the request and response bodies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use rocketmq_client::{Credentials, TlsConfig};
use rocketmq_operator::admin::RocketMQOverride;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Connection {
    cluster: String,
    namespace: Option<String>,
    cluster_name: Option<String>,
    name_servers: String,
    tls: Option<Tls>,
    credentials: Option<CredentialFiles>,
    #[serde(default)]
    allow_cleartext_credentials: bool,
    #[serde(default)]
    brokers: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Tls {
    ca_file: PathBuf,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CredentialFiles {
    access_key: String,
    secret_key_file: PathBuf,
}

/// Reads the connections file; relative paths in it are relative to the file.
pub fn load(file: &Path) -> Result<Vec<RocketMQOverride>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the RocketMQ connections file {}", file.display()))?;
    let connections: Vec<Connection> = serde_yaml::from_str(&text)
        .with_context(|| format!("parsing the RocketMQ connections file {}", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let read = |path: &Path| {
        let path = base.join(path);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    connections
        .into_iter()
        .map(|connection| {
            if connection.credentials.is_some()
                && connection.tls.is_none()
                && !connection.allow_cleartext_credentials
            {
                bail!(
                    "the RocketMQ connection to {:?} has credentials but no tls, so the users' \
                     passwords would cross the network in clear: add tls, or set \
                     allowCleartextCredentials: true",
                    connection.cluster
                );
            }
            let tls = match connection.tls {
                Some(tls) => Some(TlsConfig::new(read(&tls.ca_file)?)),
                None => None,
            };
            let credentials = match connection.credentials {
                Some(files) => Some(Credentials {
                    access_key: files.access_key,
                    secret_key: read(&files.secret_key_file)?.trim_end().to_string(),
                }),
                None => None,
            };
            Ok(RocketMQOverride {
                namespace: connection.namespace,
                cluster: connection.cluster,
                cluster_name: connection.cluster_name,
                name_servers: connection.name_servers,
                tls,
                credentials,
                brokers: connection.brokers,
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
        std::fs::write(dir.path().join("secret-key"), "s3cret\n").unwrap();
        std::fs::write(dir.path().join("ca.crt"), "CA").unwrap();
        let file = dir.path().join("connections.yaml");
        std::fs::write(
            &file,
            "- cluster: broker\n  namespace: team-a\n  nameServers: 127.0.0.1:9876\n  \
             tls: {caFile: ca.crt}\n  \
             credentials: {accessKey: admin, secretKeyFile: secret-key}\n  \
             brokers: {broker-0-master-0: 127.0.0.1:10911}\n",
        )
        .unwrap();
        let overrides = load(&file).unwrap();
        let found = &overrides[0];
        assert_eq!(
            (found.cluster.as_str(), found.namespace.as_deref()),
            ("broker", Some("team-a"))
        );
        assert_eq!(found.name_servers, "127.0.0.1:9876");
        assert_eq!(
            found.credentials,
            Some(Credentials {
                access_key: "admin".into(),
                secret_key: "s3cret".into()
            })
        );
        assert_eq!(found.brokers["broker-0-master-0"], "127.0.0.1:10911");
        assert_eq!(found.tls.as_ref().unwrap().ca_pem, "CA");
        let printed = format!("{found:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
    }

    #[test]
    fn credentials_without_tls_must_be_allowed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret-key"), "s3cret\n").unwrap();
        let file = dir.path().join("connections.yaml");
        let connection = "- cluster: broker\n  nameServers: 127.0.0.1:9876\n  \
             credentials: {accessKey: admin, secretKeyFile: secret-key}\n";
        std::fs::write(&file, connection).unwrap();
        let error = format!("{:#}", load(&file).unwrap_err());
        assert!(
            error.contains("\"broker\" has credentials but no tls")
                && error.contains("allowCleartextCredentials: true"),
            "{error}"
        );

        std::fs::write(
            &file,
            format!("{connection}  allowCleartextCredentials: true\n"),
        )
        .unwrap();
        let found = &load(&file).unwrap()[0];
        assert!(found.tls.is_none() && found.credentials.is_some());
    }

    #[test]
    fn mistakes_in_the_file_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("connections.yaml");
        std::fs::write(&file, "- cluster: c\n  nameserver: a:9876\n").unwrap();
        let error = format!("{:#}", load(&file).unwrap_err());
        assert!(error.contains("nameserver"), "{error}");
    }
}
