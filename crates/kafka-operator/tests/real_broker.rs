//! The `server.properties` the operator generates boots real Kafka: every node of an example,
//! with its configuration exactly as built, except that pod and Service names become 127.0.0.1,
//! ports become free loopback ports and the mount paths (data, certificates) become temporary
//! directories. The certificates are real ones from the certs crate, written where the pods' Secret
//! volumes would put them. Kafka comes from Maven Central through testenv (`make tools`).

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use api::kafka::{Kafka, KafkaNodePool};
use certs::{CaKind, OffsetDateTime, ReconciledCa, SecretContent, reconcile_ca};
use kafka_operator::assembly::certificates::{ca_config, node_subject_alt_names};
use kafka_operator::assembly::quorum::{self, ControllerQuorum};
use kafka_operator::assembly::statefulset::{
    CLIENTS_CA_CERTS_DIR, CLUSTER_CA_CERTS_DIR, NODE_CERTS_DIR,
};
use kafka_operator::assembly::{Inputs, KafkaModel, broker_config, names, render};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use testenv::kafka::{
    KafkaNode, STARTUP_TIMEOUT, api_versions, api_versions_on, random_cluster_id,
};

/// Where the pods mount their data volumes (`/var/lib/kafka/data`, `/var/lib/kafka/data-0`...).
const DATA_MOUNT_ROOT: &str = "/var/lib/kafka/";

/// An example (`examples/kafka/<name>.yaml`) or a fixture (`tests/fixtures/<name>.yaml`).
fn load(name: &str) -> (Kafka, Vec<KafkaNodePool>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let example = root.join(format!("examples/kafka/{name}.yaml"));
    let path = match example.exists() {
        true => example,
        false => root.join(format!("tests/fixtures/{name}.yaml")),
    };
    let text = std::fs::read_to_string(&path).expect("the manifest exists");
    kafka_operator::assembly::manifest::read(&text, "kafka").expect("a valid Kafka manifest")
}

/// A `key=value` line's value, if the properties text has the key.
fn setting<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
}

/// The listener names in a `listeners=` / `advertised.listeners=` value (`NAME://host:port,...`).
fn listener_names(value: &str) -> Vec<String> {
    value
        .split(',')
        .filter_map(|entry| Some(entry.split_once("://")?.0.to_string()))
        .collect()
}

/// `127.0.0.1:port` of each controller: the nodes with a control-plane listener.
fn controller_addresses(
    ports: &BTreeMap<i32, BTreeMap<String, u16>>,
    control_plane: &str,
) -> Vec<String> {
    (ports.values())
        .filter_map(|listeners| Some(format!("127.0.0.1:{}", listeners.get(control_plane)?)))
        .collect()
}

/// The storage tool's quorum arguments for a node, as the pods' start script passes them: a
/// controller of a new dynamic quorum names the initial voters (`id@host:port:directory-id`).
fn quorum_format_args(
    model: &KafkaModel,
    node: &LocalNode,
    ports: &BTreeMap<i32, BTreeMap<String, u16>>,
    control_plane: &str,
) -> Vec<String> {
    let is_controller = ports[&node.id].contains_key(control_plane);
    if !is_controller || model.quorum != (ControllerQuorum::Dynamic { formed: false }) {
        return Vec::new();
    }
    let voters: Vec<String> = (ports.iter())
        .filter_map(|(id, listeners)| {
            let port = listeners.get(control_plane)?;
            let directory = quorum::initial_directory_id(&model.cluster_id, *id);
            Some(format!("{id}@127.0.0.1:{port}:{directory}"))
        })
        .collect();
    vec!["--initial-controllers".into(), voters.join(",")]
}

/// One node of an example, ready to run on loopback.
struct LocalNode {
    id: i32,
    pod: String,
    dir: PathBuf,
    properties: String,
    /// Its loopback port for each listener name.
    ports: BTreeMap<String, u16>,
}

/// `text` with every address made local: listeners bind and advertise 127.0.0.1 on the node's
/// own ports, the voters (or a dynamic quorum's bootstrap servers) are the controllers' loopback
/// ports, and the mount paths are `dir`'s.
fn localize(
    text: &str,
    dir: &Path,
    ports: &BTreeMap<i32, BTreeMap<String, u16>>,
    id: i32,
) -> String {
    let control_plane = setting(text, "controller.listener.names").expect("a controller listener");
    let mut lines = Vec::new();
    for line in text.lines() {
        let rewritten = match line.split_once('=') {
            Some((key @ ("listeners" | "advertised.listeners"), value)) => {
                let entries: Vec<String> = listener_names(value)
                    .into_iter()
                    .map(|name| format!("{name}://127.0.0.1:{}", ports[&id][&name]))
                    .collect();
                format!("{key}={}", entries.join(","))
            }
            // A dynamic quorum's controllers, which the pods read from their pool's ConfigMap.
            Some((key @ "controller.quorum.bootstrap.servers", _)) => {
                format!(
                    "{key}={}",
                    controller_addresses(ports, control_plane).join(",")
                )
            }
            Some(("controller.quorum.voters", value)) => {
                let voters: Vec<String> = value
                    .split(',')
                    .map(|voter| {
                        let voter_id: i32 = voter.split('@').next().unwrap().parse().unwrap();
                        format!("{voter_id}@127.0.0.1:{}", ports[&voter_id][control_plane])
                    })
                    .collect();
                format!("controller.quorum.voters={}", voters.join(","))
            }
            _ => line.to_string(),
        };
        lines.push(rewritten);
    }
    let mut text = lines.join("\n") + "\n";
    for (mount, local) in [
        (NODE_CERTS_DIR, "node-certs"),
        (CLUSTER_CA_CERTS_DIR, "cluster-ca-certs"),
        (CLIENTS_CA_CERTS_DIR, "client-ca-certs"),
        (DATA_MOUNT_ROOT, "var-lib-kafka/"),
    ] {
        text = text.replace(mount, &dir.join(local).display().to_string());
    }
    text
}

/// Writes a Secret's content as its volume would show it: one file per key.
fn write_secret(dir: &Path, content: &SecretContent) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for (key, value) in &content.data {
        std::fs::write(dir.join(key), value)?;
    }
    Ok(())
}

/// Every node of `example`, configured by the operator and started on loopback.
struct Booted {
    nodes: Vec<LocalNode>,
    /// The trust a client needs, and client certificates: the operator's (cluster CA) and a
    /// user's (clients CA).
    cluster_ca_pem: String,
    operator_cert: certs::IssuedCert,
    user_cert: certs::IssuedCert,
    /// Killed before the directory goes (fields drop in order).
    processes: Vec<KafkaNode>,
    _dir: tempfile::TempDir,
    startup: Duration,
}

/// One example at a time: eight JVMs starting at once on two cores are slower than in turn.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn boot(example: &str) -> Result<Booted> {
    boot_with(example, |_| {})
}

/// [`boot`] with the Kafka changed by `edit` first.
fn boot_with(example: &str, edit: impl FnOnce(&mut Kafka)) -> Result<Booted> {
    let began = Instant::now();
    let (mut kafka, pools) = load(example);
    edit(&mut kafka);
    let inputs = Inputs {
        new_cluster_id: random_cluster_id(),
        ..Inputs::default()
    };
    let (model, _) = render(&kafka, &pools, &inputs).expect("the example is valid");
    let dir = tempfile::Builder::new()
        .prefix(&format!("real-broker-{example}-"))
        .tempdir()?;

    let now = OffsetDateTime::now_utc();
    let ca = |kind, spec| -> Result<ReconciledCa> {
        Ok(reconcile_ca(kind, &ca_config(spec), None, None, now)?)
    };
    let cluster_ca = ca(CaKind::Cluster, kafka.spec.cluster_ca.as_ref())?;
    let clients_ca = ca(CaKind::Clients, kafka.spec.clients_ca.as_ref())?;
    let validity_days = ca_config(kafka.spec.cluster_ca.as_ref()).validity_days;

    // The files as built, and a loopback port for each listener each node has.
    let built: Vec<(String, Vec<String>)> = model
        .nodes()
        .map(|node| {
            let text = broker_config::build_server_properties(&model, &node);
            let names = listener_names(setting(&text, "listeners").expect("listeners"));
            (text, names)
        })
        .collect();
    let mut free =
        testenv::ports::free_ports(built.iter().map(|(_, names)| names.len()).sum())?.into_iter();
    let mut nodes = Vec::new();
    for (node, (text, names)) in model.nodes().zip(built) {
        nodes.push(LocalNode {
            id: node.id,
            pod: model.pod_name(&node),
            dir: dir.path().join(model.pod_name(&node)),
            properties: text,
            ports: names.into_iter().zip(&mut free).collect(),
        });
    }
    let all_ports: BTreeMap<i32, BTreeMap<String, u16>> = nodes
        .iter()
        .map(|node| (node.id, node.ports.clone()))
        .collect();

    for (node, local) in model.nodes().zip(&mut nodes) {
        local.properties = localize(&local.properties, &local.dir, &all_ports, local.id);
        for pod_address in ["0.0.0.0", ".svc", "/opt/kafka", DATA_MOUNT_ROOT] {
            assert!(
                !local.properties.contains(pod_address),
                "{pod_address} left in\n{}",
                local.properties
            );
        }
        // The node's certificate, as the certificates step issues it, plus the loopback names.
        let mut sans = node_subject_alt_names(&model, &node);
        sans.extend(["127.0.0.1".to_string(), "localhost".into()]);
        let issued = cluster_ca.authority.issue_server_cert(
            &names::node_common_name(&model.cluster),
            &sans,
            now,
            validity_days,
        )?;
        let node_certs = SecretContent {
            data: BTreeMap::from([
                (format!("{}.crt", local.pod), issued.cert_pem.into_bytes()),
                (format!("{}.key", local.pod), issued.key_pem.into_bytes()),
            ]),
            annotations: BTreeMap::new(),
        };
        write_secret(&local.dir.join("node-certs"), &node_certs)?;
        write_secret(&local.dir.join("cluster-ca-certs"), &cluster_ca.cert_secret)?;
        write_secret(&local.dir.join("client-ca-certs"), &clients_ca.cert_secret)?;
    }
    // As the pods' start script does, every node at once.
    let control_plane = setting(&nodes[0].properties, "controller.listener.names")
        .expect("a controller listener")
        .to_string();
    std::thread::scope(|scope| {
        let formatting: Vec<_> = nodes
            .iter()
            .map(|node| {
                let mut args = vec!["--release-version".into(), model.metadata_version.clone()];
                args.extend(quorum_format_args(&model, node, &all_ports, &control_plane));
                let (cluster_id, version) = (&model.cluster_id, model.release.version);
                scope.spawn(move || {
                    KafkaNode::format(version, &node.dir, &node.properties, cluster_id, &args)
                        .with_context(|| format!("formatting {}", node.pod))
                })
            })
            .collect();
        formatting
            .into_iter()
            .try_for_each(|thread| thread.join().expect("formatting does not panic"))
    })?;
    // The nodes log as the pool's ConfigMap says.
    for node in &nodes {
        std::fs::write(
            node.dir.join("log4j2.properties"),
            model.logging.levels().log4j2(),
        )?;
    }

    // All at once: the nodes wait for a controller quorum.
    let mut processes = Vec::new();
    for node in &nodes {
        processes.push(KafkaNode::spawn(model.release.version, &node.dir)?);
    }
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    for (node, process) in nodes.iter().zip(&mut processes) {
        let ports: Vec<u16> = node.ports.values().copied().collect();
        process
            .wait_started(&ports, deadline)
            .with_context(|| format!("{} with\n{}", node.pod, node.properties))?;
    }
    Ok(Booted {
        nodes,
        cluster_ca_pem: cluster_ca.authority.cert_pem().to_string(),
        operator_cert: cluster_ca.authority.issue_client_cert(
            &certs::Subject::Component(names::OPERATOR_COMMON_NAME.into()),
            now,
            validity_days,
        )?,
        user_cert: clients_ca.authority.issue_client_cert(
            &certs::Subject::User("admin".into()),
            now,
            validity_days,
        )?,
        processes,
        _dir: dir,
        startup: began.elapsed(),
    })
}

/// Every node answers ApiVersions on every listener it has: plain and SASL ones directly (a SASL
/// client asks for API versions before it authenticates), TLS ones after a handshake that checks
/// the node's certificate against the cluster CA for 127.0.0.1, with the client certificate the
/// listener asks for: the operator's where it trusts the cluster CA (control plane, replication),
/// a user's where it trusts the clients CA. Returns how many listeners answered.
fn check_every_listener_answers(booted: &Booted) -> Result<usize> {
    let mut answered = 0;
    for node in &booted.nodes {
        let protocols = setting(&node.properties, "listener.security.protocol.map").unwrap();
        let controller = setting(&node.properties, "controller.listener.names").unwrap();
        for entry in protocols.split(',') {
            let (name, protocol) = entry.split_once(':').unwrap();
            let Some(port) = node.ports.get(name) else {
                // A broker-only node reaches the control plane without listening on it.
                continue;
            };
            let address = SocketAddr::from(([127, 0, 0, 1], *port));
            let prefix = format!("listener.name.{}.", name.to_lowercase());
            let versions = match protocol {
                "PLAINTEXT" | "SASL_PLAINTEXT" => api_versions(address),
                "SSL" => {
                    let client_auth =
                        setting(&node.properties, &format!("{prefix}ssl.client.auth"));
                    let truststore = setting(
                        &node.properties,
                        &format!("{prefix}ssl.truststore.certificates"),
                    );
                    let client = match (client_auth, truststore) {
                        (Some("required"), Some(store)) if store.contains("cluster-ca-certs") => {
                            Some(&booted.operator_cert)
                        }
                        (Some("required"), Some(store)) if store.contains("client-ca-certs") => {
                            Some(&booted.user_cert)
                        }
                        (Some("required"), other) => {
                            bail!("{name}: unexpected truststore {other:?}")
                        }
                        _ => None,
                    };
                    let versions = tls_api_versions(address, &booted.cluster_ca_pem, client);
                    if client.is_some() {
                        // And nobody gets in without a certificate.
                        let anonymous = tls_api_versions(address, &booted.cluster_ca_pem, None);
                        assert!(
                            anonymous.is_err(),
                            "{name} of {} answered a client without a certificate",
                            node.pod
                        );
                    }
                    versions
                }
                other => bail!("{name}: unexpected protocol {other}"),
            }
            .with_context(|| format!("ApiVersions on {name} of {}", node.pod))?;
            // Brokers serve Metadata, what every client asks next; controllers their own APIs.
            let needed = if name == controller { 18 } else { 3 };
            if !versions.contains_key(&needed) {
                bail!("{name} of {} lacks API {needed}: {versions:?}", node.pod);
            }
            answered += 1;
        }
    }
    Ok(answered)
}

/// ApiVersions over TLS, trusting `ca_pem` for the name 127.0.0.1.
fn tls_api_versions(
    address: SocketAddr,
    ca_pem: &str,
    client: Option<&certs::IssuedCert>,
) -> Result<BTreeMap<i16, (i16, i16)>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca_pem.as_bytes())?)?;
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots);
    let config = match client {
        Some(issued) => builder.with_client_auth_cert(
            vec![CertificateDer::from_pem_slice(issued.cert_pem.as_bytes())?],
            PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes())?,
        )?,
        None => builder.with_no_client_auth(),
    };
    let connection =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("127.0.0.1")?)?;
    let tcp = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut stream = rustls::StreamOwned::new(connection, tcp);
    api_versions_on(&mut stream)
}

fn report(example: &str, booted: &Booted) {
    eprintln!(
        "{example}: {} node(s) formatted and started in {:.1} s",
        booted.processes.len(),
        booted.startup.as_secs_f64()
    );
}

#[test]
fn the_single_node_example_boots_a_real_broker() -> Result<()> {
    let _serial = one_at_a_time();
    let booted = boot("ephemeral-single-node")?;
    report("ephemeral-single-node", &booted);
    // Control plane, replication, plain and TLS.
    assert_eq!(check_every_listener_answers(&booted)?, 4);
    Ok(())
}

#[test]
fn the_tls_and_scram_example_boots_a_real_broker() -> Result<()> {
    let _serial = one_at_a_time();
    let booted = boot("tls-scram-listeners")?;
    report("tls-scram-listeners", &booted);
    // Control plane, replication, SCRAM, mutual TLS and the external SCRAM one.
    assert_eq!(check_every_listener_answers(&booted)?, 5);
    Ok(())
}

/// The ZooKeeper-era seed resource runs on the oldest release, Kafka 3.9.0, since its 3.4.0
/// has no image: two dual-role nodes of the implicit pool, each with its plain and TLS listeners.
/// (The examples run the newest.)
#[test]
fn the_zookeeper_era_seed_boots_the_oldest_release() -> Result<()> {
    let _serial = one_at_a_time();
    let booted = boot("legacy-zookeeper-kafka")?;
    report("legacy-zookeeper-kafka", &booted);
    let pods: Vec<&str> = booted.nodes.iter().map(|node| node.pod.as_str()).collect();
    assert_eq!(pods, ["my-cluster-kafka-0", "my-cluster-kafka-1"]);
    for process in &booted.processes {
        let log = std::fs::read_to_string(process.log())?;
        assert!(
            log.contains("Kafka version: 3.9.0"),
            "{}",
            process.log_tail(20)
        );
    }
    // Each node: control plane, replication, plain and TLS.
    assert_eq!(check_every_listener_answers(&booted)?, 2 * 4);
    Ok(())
}

/// `spec.kafka.logging` reaches a real broker: a logger set to DEBUG logs at DEBUG, and the
/// quietened ones stay quiet.
#[test]
fn inline_logging_sets_a_real_brokers_levels() -> Result<()> {
    let _serial = one_at_a_time();
    let booted = boot_with("ephemeral-single-node", |kafka| {
        let logging = serde_json::json!({"type": "inline", "loggers": {
            "logger.raft.name": "org.apache.kafka.raft",
            "logger.raft.level": "DEBUG",
        }});
        kafka.spec.kafka.logging = Some(serde_json::from_value(logging).unwrap());
    })?;
    let log = std::fs::read_to_string(booted.processes[0].log())?;
    let debug: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("] DEBUG "))
        .collect();
    let (raft, others): (Vec<&str>, Vec<&str>) = debug
        .iter()
        .partition(|line| line.contains("(org.apache.kafka.raft"));
    assert!(
        !raft.is_empty(),
        "no DEBUG line of org.apache.kafka.raft:\n{}",
        booted.processes[0].log_tail(30)
    );
    // The root stays at INFO.
    assert!(
        others.is_empty(),
        "DEBUG lines of other loggers: {:?}",
        &others[..others.len().min(5)]
    );
    Ok(())
}

/// `metricsConfig` of type `strimziMetricsReporter` reaches a real broker: it serves Kafka's
/// broker metrics (Yammer's) and its own (Kafka's metrics) to Prometheus on port 9404.
#[test]
fn the_metrics_reporter_serves_a_real_brokers_metrics() -> Result<()> {
    let _serial = one_at_a_time();
    let booted = boot_with("ephemeral-single-node", |kafka| {
        let metrics = serde_json::json!({"type": "strimziMetricsReporter",
            "values": {"allowList": ["kafka_server.*", "kafka_network.*"]}});
        kafka.spec.kafka.metrics_config = Some(serde_json::from_value(metrics).unwrap());
    })?;
    let metrics = scrape("127.0.0.1:9404").with_context(|| booted.processes[0].log_tail(30))?;
    for family in [
        "kafka_server_brokertopicmetrics",
        "kafka_network_requestmetrics",
    ] {
        assert!(
            metrics.contains(family),
            "no {family} in {} bytes: {}\n{}",
            metrics.len(),
            &metrics[..metrics.len().min(500)],
            booted.processes[0].log_tail(40)
        );
    }
    // Not on the allow list.
    assert!(
        !metrics.contains("kafka_log_"),
        "{}",
        &metrics[..metrics.len().min(500)]
    );
    Ok(())
}

/// What a Prometheus endpoint serves at `address`, over plain HTTP.
fn scrape(address: &str) -> Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: kafka\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

#[test]
fn the_dual_pool_example_boots_three_controllers_and_three_brokers() -> Result<()> {
    let _serial = one_at_a_time();
    let booted = boot("persistent-dual-pool")?;
    report("persistent-dual-pool", &booted);
    // Each controller: control plane. Each broker: replication and its two user listeners.
    assert_eq!(check_every_listener_answers(&booted)?, 3 + 3 * 3);
    Ok(())
}
