//! Starting testenv's real Kafka from async tests, and waiting for what Kafka applies
//! asynchronously (brokers serve metadata a moment after the controller committed it).

#![allow(dead_code)] // each test binary uses its own part

pub mod wire;

use std::future::Future;
use std::time::{Duration, Instant};

use kafka_client::{AdminClient, ClientConfig};
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};

/// A self-signed CA that signed nothing the test clusters use.
pub const OTHER_CA_PEM: &str = include_str!("other-ca.pem");

/// Starts a cluster (which blocks for seconds) off the async runtime.
pub async fn start(options: KafkaOptions) -> KafkaCluster {
    tokio::task::spawn_blocking(move || KafkaCluster::start(&options))
        .await
        .expect("the start does not panic")
        .expect("Kafka starts")
}

pub fn bootstrap(kafka: &KafkaCluster, listener: Listener) -> Vec<String> {
    kafka
        .bootstrap(listener)
        .split(',')
        .map(str::to_string)
        .collect()
}

pub async fn plain_client(kafka: &KafkaCluster) -> AdminClient {
    AdminClient::connect(ClientConfig::new(bootstrap(kafka, Listener::Plain)))
        .await
        .expect("connects to the plain listener")
}

/// Polls `check` until it returns `Some`, for up to `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() > deadline {
            panic!("{what}: not within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
