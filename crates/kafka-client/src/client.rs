//! The admin client itself, and what it tells about the cluster as a whole.

use std::sync::Arc;

use crate::cluster::Cluster;
use crate::config::ClientConfig;
use crate::error::Error;

/// An admin client for one Kafka cluster. Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct AdminClient {
    pub(crate) cluster: Arc<Cluster>,
}

/// The brokers Metadata lists, and the controller it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterDescription {
    pub cluster_id: Option<String>,
    /// In KRaft, a broker that forwards to the active controller, not the controller itself:
    /// see [`AdminClient::active_controller`].
    pub controller_id: i32,
    pub brokers: Vec<BrokerInfo>,
}

/// A broker as it advertises itself to this client's listener.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: i32,
    pub rack: Option<String>,
}

impl BrokerInfo {
    /// `host:port`, with an IPv6 host in brackets.
    pub fn address(&self) -> String {
        match self.host.contains(':') {
            true => format!("[{}]:{}", self.host, self.port),
            false => format!("{}:{}", self.host, self.port),
        }
    }
}

impl AdminClient {
    /// Connects to the first bootstrap server that answers (and authenticates), and learns the
    /// cluster's brokers from it.
    pub async fn connect(config: ClientConfig) -> Result<AdminClient, Error> {
        let cluster = Cluster::connect(config).await?;
        Ok(AdminClient {
            cluster: Arc::new(cluster),
        })
    }

    /// Requests sent to the cluster so far (metadata refreshes and retries included), by this
    /// client and its clones.
    pub fn requests_sent(&self) -> u64 {
        self.cluster.requests_sent()
    }

    pub async fn describe_cluster(&self) -> Result<ClusterDescription, Error> {
        let metadata = self.cluster.fetch_metadata(Some(&[])).await?;
        Ok(ClusterDescription {
            cluster_id: metadata
                .cluster_id
                .map(|id| id.to_string())
                .or_else(|| self.cluster.cluster_id()),
            controller_id: metadata.controller_id.0,
            brokers: metadata
                .brokers
                .iter()
                .map(|broker| BrokerInfo {
                    id: broker.node_id.0,
                    host: broker.host.to_string(),
                    port: broker.port,
                    rack: broker.rack.as_ref().map(|rack| rack.to_string()),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;
    use tokio::time::Instant;

    use super::*;

    /// A hung broker: it accepts connections and reads requests, but never answers.
    #[tokio::test]
    async fn a_broker_that_never_answers_fails_the_call_within_the_request_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut ignored = Vec::new();
                    let _ = stream.read_to_end(&mut ignored).await;
                });
            }
        });
        let mut config = ClientConfig::new([address.as_str()]);
        config.request_timeout = Duration::from_millis(500);
        let started = Instant::now();
        let result = tokio::time::timeout(Duration::from_secs(10), AdminClient::connect(config))
            .await
            .expect("the call never ended");
        let elapsed = started.elapsed();
        match result {
            Err(Error::NoBroker(message)) => {
                assert!(message.contains(&address), "{message}");
                assert!(message.contains("timed out"), "{message}");
            }
            Err(other) => panic!("expected no broker, got {other}"),
            Ok(_) => panic!("connected to a broker that never answers"),
        }
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    }
}
