//! Proof that testenv runs real Kafka: KRaft nodes that start, answer Kafka requests on every
//! listener, survive a restart, and stop when dropped.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::Result;
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener, api_versions};

/// ApiVersions, Metadata, Produce and CreateTopics: what any client needs first.
const API_KEYS: [i16; 4] = [18, 3, 0, 19];

fn accepts(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok()
}

#[test]
fn a_single_node_starts_answers_and_stops_when_dropped() -> Result<()> {
    let kafka = KafkaCluster::start(&KafkaOptions::default())?;
    eprintln!(
        "single node started in {:.1} s",
        kafka.startup_time().as_secs_f64()
    );
    let address = kafka.address(0, Listener::Plain);
    assert_eq!(kafka.bootstrap(Listener::Plain), address.to_string());
    let versions = api_versions(address)?;
    for key in API_KEYS {
        assert!(
            versions.contains_key(&key),
            "API {key} missing: {versions:?}"
        );
    }
    assert_eq!(kafka.cluster_id().len(), 22);

    let dir = kafka.node(0).dir().to_path_buf();
    drop(kafka);
    assert!(!accepts(address), "{address} still accepts connections");
    assert!(!dir.exists(), "{} was not removed", dir.display());
    Ok(())
}

#[test]
fn three_nodes_with_every_listener_form_a_quorum_and_survive_a_restart() -> Result<()> {
    let options = KafkaOptions {
        listeners: vec![Listener::Tls, Listener::MutualTls, Listener::Scram],
        scram_users: vec![("alice".into(), "alice-secret".into())],
        ..KafkaOptions::nodes(3)
    };
    let mut kafka = KafkaCluster::start(&options)?;
    eprintln!(
        "three nodes started in {:.1} s",
        kafka.startup_time().as_secs_f64()
    );
    assert_eq!(kafka.len(), 3);
    for id in 0..3 {
        api_versions(kafka.address(id, Listener::Plain))?;
        for listener in [Listener::Tls, Listener::MutualTls, Listener::Scram] {
            assert!(accepts(kafka.address(id, listener)), "{listener:?} of {id}");
        }
    }
    let tls = kafka
        .tls()
        .expect("a cluster with TLS listeners has certificates");
    assert!(tls.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(kafka.bootstrap(Listener::Scram).split(',').count(), 3);

    // A node that crashes comes back on its storage and rejoins the quorum.
    let address = kafka.address(2, Listener::Plain);
    kafka.stop_node(2);
    assert!(!accepts(address));
    kafka.restart_node(2)?;
    eprintln!(
        "node 2 restarted in {:.1} s",
        kafka.node(2).startup_time().as_secs_f64()
    );
    api_versions(address)?;
    Ok(())
}
