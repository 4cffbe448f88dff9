//! Starting testenv's real RocketMQ from async tests, and waiting for what RocketMQ applies
//! asynchronously (brokers register with name servers on a timer).

#![allow(dead_code)] // each test binary uses its own part

use std::future::Future;
use std::time::{Duration, Instant};

use rocketmq_client::{AdminClient, ClientConfig, Credentials};
use testenv::rocketmq::{RocketMQCluster, RocketMQOptions};

/// Starts a cluster (which blocks for seconds) off the async runtime, and waits until every
/// broker registered.
pub async fn start(options: RocketMQOptions) -> RocketMQCluster {
    tokio::task::spawn_blocking(move || {
        let cluster = RocketMQCluster::start(&options).expect("RocketMQ starts");
        cluster
            .wait_registered(Duration::from_secs(60))
            .expect("the brokers register");
        cluster
    })
    .await
    .expect("the start does not panic")
}

pub fn client(name_servers: &str) -> AdminClient {
    AdminClient::new(ClientConfig::new(name_servers))
}

/// A client signing its requests as `username`.
pub fn client_as(name_servers: &str, username: &str, password: &str) -> AdminClient {
    let mut config = ClientConfig::new(name_servers);
    config.credentials = Some(Credentials {
        access_key: username.into(),
        secret_key: password.into(),
    });
    AdminClient::new(config)
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
