//! `--rocketmq-connections <file>`: RocketMQ clusters the operator reaches at addresses of the
//! user's choosing rather than through a Broker resource it runs, such as clusters it did not
//! create.
//!
//! ```yaml
//! - cluster: broker              # the Broker name RocketMQTopics and RocketMQUsers reference
//!   namespace: team-a            # optional: every namespace when absent
//!   clusterName: DefaultCluster  # optional: the brokers' brokerClusterName, else `cluster`
//!   nameServers: 10.0.0.1:9876;10.0.0.2:9876
//!   credentials:                 # optional: an ACL 2.0 super user
//!     accessKey: admin
//!     secretKeyFile: /etc/rocketmq/secret-key
//!   brokers:                     # optional: where each broker pod's broker listens
//!     broker-0-master-0: 10.0.0.3:10911
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use cluster_operator::rocketmq::admin::RocketMQOverride;
use rocketmq_client::Credentials;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Connection {
    cluster: String,
    namespace: Option<String>,
    cluster_name: Option<String>,
    name_servers: String,
    credentials: Option<CredentialFiles>,
    #[serde(default)]
    brokers: BTreeMap<String, String>,
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
    connections
        .into_iter()
        .map(|connection| {
            let credentials = match connection.credentials {
                Some(files) => {
                    let path = base.join(&files.secret_key_file);
                    let secret_key = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Some(Credentials {
                        access_key: files.access_key,
                        secret_key: secret_key.trim_end().to_string(),
                    })
                }
                None => None,
            };
            Ok(RocketMQOverride {
                namespace: connection.namespace,
                cluster: connection.cluster,
                cluster_name: connection.cluster_name,
                name_servers: connection.name_servers,
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
        let file = dir.path().join("connections.yaml");
        std::fs::write(
            &file,
            "- cluster: broker\n  namespace: team-a\n  nameServers: 127.0.0.1:9876\n  \
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
