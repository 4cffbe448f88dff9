//! TLS and mutual TLS listeners of a real Kafka node.

mod common;

use std::time::{Duration, Instant};

use common::{OTHER_CA_PEM, bootstrap, start};
use kafka_client::{AdminClient, ClientCertificate, ClientConfig, Error, NewTopic, TlsConfig};
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};
use tokio::sync::OnceCell;

static KAFKA: OnceCell<KafkaCluster> = OnceCell::const_new();

async fn kafka() -> &'static KafkaCluster {
    KAFKA
        .get_or_init(|| {
            start(KafkaOptions {
                listeners: vec![Listener::Tls, Listener::MutualTls],
                ..KafkaOptions::default()
            })
        })
        .await
}

fn config(kafka: &KafkaCluster, listener: Listener, tls: TlsConfig) -> ClientConfig {
    let mut config = ClientConfig::new(bootstrap(kafka, listener));
    config.tls = Some(tls);
    config.connect_timeout = Duration::from_secs(5);
    config.request_timeout = Duration::from_secs(10);
    config
}

fn ca_only(kafka: &KafkaCluster) -> TlsConfig {
    TlsConfig {
        ca_pem: kafka.tls().unwrap().ca_pem.clone(),
        client_certificate: None,
    }
}

fn with_client_certificate(kafka: &KafkaCluster) -> TlsConfig {
    let tls = kafka.tls().unwrap();
    TlsConfig {
        ca_pem: tls.ca_pem.clone(),
        client_certificate: Some(ClientCertificate {
            certificate_pem: tls.client_cert_pem.clone(),
            key_pem: tls.client_key_pem.clone(),
        }),
    }
}

#[tokio::test]
async fn the_tls_listener_serves_admin_requests() {
    let kafka = kafka().await;
    let client = AdminClient::connect(config(kafka, Listener::Tls, ca_only(kafka)))
        .await
        .unwrap();
    let cluster = client.describe_cluster().await.unwrap();
    // Brokers are advertised on the listener the client came through.
    assert_eq!(
        cluster.brokers[0].address(),
        kafka.address(0, Listener::Tls).to_string()
    );
    let created = client
        .create_topics(&[NewTopic {
            name: "over-tls".into(),
            partitions: Some(1),
            replication_factor: Some(1),
            configs: Default::default(),
        }])
        .await
        .unwrap();
    assert!(created["over-tls"].is_ok(), "{created:?}");
}

#[tokio::test]
async fn the_mutual_tls_listener_takes_the_client_certificate() {
    let kafka = kafka().await;
    let client = AdminClient::connect(config(
        kafka,
        Listener::MutualTls,
        with_client_certificate(kafka),
    ))
    .await
    .unwrap();
    let cluster = client.describe_cluster().await.unwrap();
    assert_eq!(
        cluster.brokers[0].address(),
        kafka.address(0, Listener::MutualTls).to_string()
    );
    assert!(client.list_topics().await.is_ok());
}

#[tokio::test]
async fn the_mutual_tls_listener_refuses_a_client_without_certificate() {
    let kafka = kafka().await;
    let began = Instant::now();
    let result = AdminClient::connect(config(kafka, Listener::MutualTls, ca_only(kafka))).await;
    let error = result.err().expect("no client certificate, no connection");
    // TLS 1.3 servers send their "certificate required" alert after the handshake: it shows
    // up on the first read, and must still be a TLS error rather than a retried disconnect.
    assert!(matches!(error, Error::Tls(_)), "{error}");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
}

#[tokio::test]
async fn a_wrong_ca_fails_the_handshake_at_once() {
    let kafka = kafka().await;
    let began = Instant::now();
    let wrong = TlsConfig {
        ca_pem: OTHER_CA_PEM.to_string(),
        client_certificate: None,
    };
    let result = AdminClient::connect(config(kafka, Listener::Tls, wrong)).await;
    match result {
        Err(Error::Tls(message)) => {
            assert!(message.contains("certificate"), "{message}")
        }
        Err(other) => panic!("expected a TLS error, got {other}"),
        Ok(_) => panic!("connected while trusting another CA"),
    }
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
}

#[tokio::test]
async fn tls_to_a_plain_listener_fails_rather_than_hangs() {
    let kafka = kafka().await;
    let began = Instant::now();
    let result = AdminClient::connect(config(kafka, Listener::Plain, ca_only(kafka))).await;
    assert!(matches!(result, Err(Error::Tls(_))), "{:?}", result.err());
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
}
