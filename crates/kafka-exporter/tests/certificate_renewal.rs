//! The exporter against a real Kafka node's mutual-TLS listener: the certificate files it was
//! started with are replaced (as the operator renews the mounted Secret) and the next scrape
//! uses the new ones, without a restart.

use std::time::Duration;

use certs::{CaKind, CertificateAuthority, Generations};
use kafka_exporter::{ExporterArgs, run};
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn renewed_certificate_files_are_used_on_the_next_scrape() {
    let kafka = tokio::task::spawn_blocking(|| {
        KafkaCluster::start(&KafkaOptions {
            listeners: vec![Listener::MutualTls],
            ..KafkaOptions::default()
        })
    })
    .await
    .unwrap()
    .expect("Kafka starts");
    let tls = kafka.tls().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, content: &str| std::fs::write(dir.path().join(name), content).unwrap();
    write("ca.crt", &tls.ca_pem);
    write("user.crt", &tls.client_cert_pem);
    write("user.key", &tls.client_key_pem);
    let listen = ([127, 0, 0, 1], testenv::ports::free_port().unwrap()).into();
    tokio::spawn(run(ExporterArgs {
        bootstrap_servers: kafka.bootstrap(Listener::MutualTls),
        ca_file: dir.path().join("ca.crt"),
        cert_file: dir.path().join("user.crt"),
        key_file: dir.path().join("user.key"),
        topic_regex: ".*".into(),
        topic_exclude_regex: None,
        group_regex: ".*".into(),
        group_exclude_regex: None,
        listen,
    }));

    let (status, body) = scrape(listen).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("kafka_brokers 1"), "{body}");

    // A CA that signed nothing the broker presents: a client that still used its first
    // connection would keep answering 200.
    let other = CertificateAuthority::generate(
        CaKind::Cluster,
        Generations::default(),
        time::OffsetDateTime::now_utc(),
        30,
    )
    .unwrap();
    write("ca.crt", other.cert_pem());
    let (status, body) = scrape(listen).await;
    assert_eq!(status, 503, "the replaced CA is used: {body}");

    write("ca.crt", &tls.ca_pem);
    let (status, body) = scrape(listen).await;
    assert_eq!(status, 200, "{body}");
    drop(kafka);
}

/// `GET /metrics` over a plain socket: the status code and the body.
async fn scrape(address: std::net::SocketAddr) -> (u16, String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut stream = loop {
        match tokio::net::TcpStream::connect(address).await {
            Ok(stream) => break stream,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(error) => panic!("the exporter listens: {error}"),
        }
    };
    let request = "GET /metrics HTTP/1.0\r\nHost: exporter\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body);
    (status, body.unwrap_or_default().to_string())
}
