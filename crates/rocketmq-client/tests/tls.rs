//! TLS to a real RocketMQ 5.5.0 name server and broker that serve TLS only
//! (`tls.server.mode=enforcing`).

mod common;

use std::time::Duration;

use common::eventually;
use rocketmq_client::{AdminClient, ClientConfig, Error, TlsConfig, TopicConfig};
use testenv::rocketmq::{RocketMQCluster, RocketMQOptions};

const OTHER_CA_PEM: &str = include_str!("common/other-ca.pem");

fn client(rocketmq: &RocketMQCluster, ca_pem: Option<&str>) -> AdminClient {
    let mut config = ClientConfig::new(&rocketmq.name_server_addr());
    config.tls = ca_pem.map(TlsConfig::new);
    config.request_timeout = Duration::from_secs(5);
    AdminClient::new(config)
}

#[tokio::test]
async fn name_servers_and_brokers_are_reached_over_verified_tls() {
    let rocketmq = tokio::task::spawn_blocking(|| {
        RocketMQCluster::start(&RocketMQOptions {
            tls: true,
            ..RocketMQOptions::default()
        })
        .expect("RocketMQ starts with TLS")
    })
    .await
    .unwrap();
    let ca_pem = rocketmq.tls().unwrap().ca_pem.clone();
    let tls = client(&rocketmq, Some(&ca_pem));
    let broker = rocketmq.brokers()[0].addr();

    // The broker registers with the name server over TLS too.
    let masters = eventually("the broker registered", Duration::from_secs(60), || async {
        let info = tls.cluster_info().await.ok()?;
        Some(info.masters("DefaultCluster")).filter(|masters| !masters.is_empty())
    })
    .await;
    assert_eq!(masters, [("broker-a".to_string(), broker.clone())]);
    tls.create_topic(&broker, &TopicConfig::new("over-tls"))
        .await
        .unwrap();
    assert!(
        tls.topic_configs(&broker)
            .await
            .unwrap()
            .contains_key("over-tls")
    );

    // Without TLS, the servers answer nothing.
    let plain = client(&rocketmq, None);
    assert!(plain.cluster_info().await.is_err());
    assert!(plain.topic_configs(&broker).await.is_err());

    // A certificate that does not chain to the CA the client trusts is refused.
    let other = client(&rocketmq, Some(OTHER_CA_PEM));
    for result in [
        other.topic_configs(&broker).await.map(|_| ()),
        other.cluster_info().await.map(|_| ()),
    ] {
        match result {
            Err(Error::Tls(message)) => assert!(message.contains("certificate"), "{message}"),
            other => panic!("expected a TLS error, got {other:?}"),
        }
    }
}
