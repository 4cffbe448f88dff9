//! Real Kafka on loopback: KRaft nodes run as plain `java kafka.Kafka` processes from the jars
//! `testenv tools` fetched from Maven Central, for tests that need a real broker.
//!
//! Two levels:
//! - [`KafkaNode`] runs one node from a complete `server.properties` text (such as the operator's
//!   own, with loopback addresses substituted): [`KafkaNode::format`], then [`KafkaNode::start`].
//! - [`KafkaCluster`] writes that text itself: one or more combined controller+broker nodes with
//!   plain, TLS, mutual TLS and SCRAM-SHA-512 listeners on free loopback ports.
//!
//! ```no_run
//! # fn example() -> anyhow::Result<()> {
//! use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};
//! let kafka = KafkaCluster::start(&KafkaOptions::default())?;
//! let bootstrap = kafka.bootstrap(Listener::Plain); // "127.0.0.1:40123"
//! # Ok(()) }
//! ```
//!
//! Every node is spawned like the control plane's processes: it dies with the test binary, and a
//! dropped node or cluster stops at once (`SIGKILL`, as a crash would).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::process::Process;
use crate::tools::{KAFKA_VERSION, Tools};

/// How long a node may take to start on a loaded two-core machine (about 3 s when idle).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// Small heaps by default: a test node holds little data, and three of them share two cores.
const JVM_OPTIONS: &[&str] = &["-Xms64m", "-XX:+UseSerialGC", "-Djava.awt.headless=true"];
pub const DEFAULT_MAX_HEAP_MB: u32 = 256;

/// What `kafka.Kafka` logs once the node (broker, controller or both) serves.
const STARTED_LINE: &str = "Kafka Server started";

/// Log4j 2 configuration for every Kafka process: INFO to stdout, which goes to the node's log.
const LOG4J2_PROPERTIES: &str = "status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = warn
";

/// One KRaft node (controller, broker or both) running from a directory of its own:
/// `server.properties`, `log4j2.properties`, `format.log` / `format.err` (the storage tool's
/// output) and `kafka.log` (the node's). Killed when dropped; the directory is the caller's.
pub struct KafkaNode {
    dir: PathBuf,
    libs: PathBuf,
    process: Option<Process>,
    startup: Duration,
    max_heap_mb: u32,
}

impl KafkaNode {
    /// Writes `properties` to `dir/server.properties` and formats the storage it names with
    /// `cluster_id` (`kafka-storage format --ignore-formatted`, so formatting twice is harmless).
    /// `extra_args` go to the storage tool as they are: `--release-version 4.1-IV1`,
    /// `--add-scram SCRAM-SHA-512=[name=alice,password=alice-secret]`, `--standalone`...
    /// `version` is the Kafka release (one of `KAFKA_VERSIONS`) whose jars run.
    pub fn format(
        version: &str,
        dir: &Path,
        properties: &str,
        cluster_id: &str,
        extra_args: &[String],
    ) -> Result<()> {
        let libs = Tools::locate_kafka(version)?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join("server.properties"), properties)?;
        std::fs::write(dir.join("log4j2.properties"), LOG4J2_PROPERTIES)?;
        let log = dir.join("format.log");
        let mut command = java(&libs, dir, DEFAULT_MAX_HEAP_MB)?;
        command
            .arg("kafka.tools.StorageTool")
            .arg("format")
            .arg("--config")
            .arg(dir.join("server.properties"))
            .args(["--cluster-id", cluster_id, "--ignore-formatted"])
            .args(extra_args)
            .stdout(File::create(&log)?)
            .stderr(File::create(dir.join("format.err"))?);
        let status = command
            .status()
            .context("running java (Java 17 or newer is needed to run Kafka)")?;
        if !status.success() {
            let errors = std::fs::read_to_string(dir.join("format.err")).unwrap_or_default();
            bail!(
                "formatting the Kafka storage of {} failed ({status}):\n{}\n{}",
                dir.display(),
                errors.trim(),
                log_tail(&log, 20)
            );
        }
        Ok(())
    }

    /// Starts the node [`format`](Self::format)ted in `dir` and waits until it logged that it
    /// started and every one of `ports` accepts connections on loopback.
    pub fn start(version: &str, dir: &Path, ports: &[u16]) -> Result<KafkaNode> {
        let mut node = KafkaNode::spawn(version, dir)?;
        node.wait_started(ports, Instant::now() + STARTUP_TIMEOUT)?;
        Ok(node)
    }

    /// Starts the node formatted in `dir` without waiting; see [`wait_started`](Self::wait_started).
    pub fn spawn(version: &str, dir: &Path) -> Result<KafkaNode> {
        KafkaNode::spawn_with_heap(version, dir, DEFAULT_MAX_HEAP_MB)
    }

    /// [`spawn`](Self::spawn) with a larger (or smaller) maximum heap.
    pub fn spawn_with_heap(version: &str, dir: &Path, max_heap_mb: u32) -> Result<KafkaNode> {
        let mut node = KafkaNode {
            dir: dir.to_path_buf(),
            libs: Tools::locate_kafka(version)?,
            process: None,
            startup: Duration::ZERO,
            max_heap_mb,
        };
        node.respawn()?;
        Ok(node)
    }

    fn respawn(&mut self) -> Result<()> {
        let mut command = java(&self.libs, &self.dir, self.max_heap_mb)?;
        command
            .arg("kafka.Kafka")
            .arg(self.dir.join("server.properties"));
        let name = format!("kafka {}", self.dir.display());
        self.process = Some(Process::spawn(&name, command, &self.log())?);
        self.startup = Duration::ZERO;
        Ok(())
    }

    /// Waits until the node has logged that it started (since it was last spawned) and every
    /// one of `ports` accepts TCP connections; fails early, with the log's tail, if it exits.
    pub fn wait_started(&mut self, ports: &[u16], deadline: Instant) -> Result<()> {
        let began = Instant::now();
        let mut log = LogFollower::new(self.log());
        loop {
            if let Some(status) = self.process.as_mut().and_then(Process::exited) {
                bail!(
                    "Kafka in {} exited ({status}) before it started:\n{}",
                    self.dir.display(),
                    self.log_tail(40)
                );
            }
            if log.saw(STARTED_LINE) && ports.iter().all(|port| accepts(*port)) {
                self.startup = began.elapsed();
                return Ok(());
            }
            if Instant::now() > deadline {
                let closed: Vec<u16> = ports.iter().copied().filter(|p| !accepts(*p)).collect();
                bail!(
                    "Kafka in {} did not start in time (started line seen: {}, ports not accepting: {closed:?}):\n{}",
                    self.dir.display(),
                    log.saw(STARTED_LINE),
                    self.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the node (as a crash would); its storage stays for [`restart`](Self::restart).
    pub fn stop(&mut self) {
        self.process = None;
    }

    /// Starts the node again on its storage and waits as [`start`](Self::start) does.
    pub fn restart(&mut self, ports: &[u16]) -> Result<()> {
        self.stop();
        self.respawn()?;
        self.wait_started(ports, Instant::now() + STARTUP_TIMEOUT)
    }

    /// Whether the process is alive.
    pub fn is_running(&mut self) -> bool {
        self.process
            .as_mut()
            .is_some_and(|process| process.exited().is_none())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The node's output (Kafka's log at INFO).
    pub fn log(&self) -> PathBuf {
        self.dir.join("kafka.log")
    }

    /// The last `lines` lines of the node's log.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log(), lines)
    }

    /// Wall time from spawning until the node served, for the last start.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }
}

/// `java` with a small heap, the Kafka jars and the log configuration, in `dir`. The class path
/// leaves out the JMX exporter's agent, as the pods' start script does for Strimzi's metrics
/// reporter: the agent carries an older copy of the Prometheus client that would shadow the
/// reporter's.
fn java(libs: &Path, dir: &Path, max_heap_mb: u32) -> Result<Command> {
    let mut jars = Vec::new();
    for entry in std::fs::read_dir(libs).with_context(|| format!("listing {}", libs.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with(".jar") && !name.starts_with("jmx_prometheus_javaagent") {
            jars.push(path);
        }
    }
    jars.sort();
    let mut command = Command::new("java");
    command
        .current_dir(dir)
        .args(JVM_OPTIONS)
        .arg(format!("-Xmx{max_heap_mb}m"))
        .arg(format!(
            "-Dlog4j2.configurationFile={}",
            dir.join("log4j2.properties").display()
        ))
        .arg(format!("-Dkafka.logs.dir={}", dir.display()))
        .arg("-cp")
        .arg(std::env::join_paths(jars)?);
    Ok(command)
}

/// A listener of a [`KafkaCluster`], on every node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Listener {
    /// PLAINTEXT, no authentication; also the inter-broker listener, so always present.
    Plain,
    /// SSL with the cluster's certificate; clients trust [`KafkaTls::ca_pem`].
    Tls,
    /// SSL requiring a client certificate signed by [`KafkaTls::ca_pem`].
    MutualTls,
    /// SASL_PLAINTEXT with SCRAM-SHA-512, for [`KafkaOptions::scram_users`].
    Scram,
}

impl Listener {
    fn name(self) -> &'static str {
        match self {
            Listener::Plain => "PLAIN",
            Listener::Tls => "TLS",
            Listener::MutualTls => "MTLS",
            Listener::Scram => "SCRAM",
        }
    }

    fn protocol(self) -> &'static str {
        match self {
            Listener::Plain => "PLAINTEXT",
            Listener::Tls | Listener::MutualTls => "SSL",
            Listener::Scram => "SASL_PLAINTEXT",
        }
    }
}

/// What [`KafkaCluster::start`] runs.
#[derive(Clone, Debug)]
pub struct KafkaOptions {
    /// Combined controller+broker nodes, with IDs `0..nodes`; all are voters.
    pub nodes: usize,
    /// Listeners besides [`Listener::Plain`], which every cluster has.
    pub listeners: Vec<Listener>,
    /// SCRAM-SHA-512 users (name, password), created when the storage is formatted.
    pub scram_users: Vec<(String, String)>,
    /// More `server.properties` settings; they override the defaults.
    pub config: BTreeMap<String, String>,
    /// Each node's maximum heap: enough for tests by default; benchmarks with thousands of
    /// topics need more.
    pub max_heap_mb: u32,
    /// The KRaft metadata version to format with (`--release-version`); Kafka's newest when
    /// `None`.
    pub metadata_version: Option<String>,
}

impl Default for KafkaOptions {
    fn default() -> KafkaOptions {
        KafkaOptions {
            nodes: 1,
            listeners: Vec::new(),
            scram_users: Vec::new(),
            config: BTreeMap::new(),
            max_heap_mb: DEFAULT_MAX_HEAP_MB,
            metadata_version: None,
        }
    }
}

impl KafkaOptions {
    /// `nodes` combined nodes with only the plain listener.
    pub fn nodes(nodes: usize) -> KafkaOptions {
        KafkaOptions {
            nodes,
            ..KafkaOptions::default()
        }
    }
}

/// The certificates of a cluster with a TLS listener, as PEM.
pub struct KafkaTls {
    /// The CA that signed the nodes' certificate (SANs `127.0.0.1`, `localhost`) and the client's.
    pub ca_pem: String,
    /// Its key, for tests that issue more certificates with it (as a clients CA).
    pub ca_key_pem: String,
    /// A client certificate (`CN=admin`, so principal `User:CN=admin`) for [`Listener::MutualTls`].
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

/// A running KRaft cluster on loopback. Dropping it stops every node and removes its files.
pub struct KafkaCluster {
    dir: PathBuf,
    cluster_id: String,
    nodes: Vec<KafkaNode>,
    /// Per node, the port of each listener (and of the controller listener, `None`).
    ports: Vec<BTreeMap<Option<Listener>, u16>>,
    tls: Option<KafkaTls>,
    startup: Duration,
}

impl KafkaCluster {
    /// Formats and starts every node, and waits until all of them serve on every listener.
    /// Blocks (for a few seconds); from async code, call it in `spawn_blocking`.
    pub fn start(options: &KafkaOptions) -> Result<KafkaCluster> {
        let began = Instant::now();
        if options.nodes == 0 {
            bail!("a Kafka cluster needs at least one node");
        }
        let dir = crate::rundir::create()?;
        let mut listeners = vec![Listener::Plain];
        listeners.extend(options.listeners.iter().copied());
        listeners.sort();
        listeners.dedup();

        let ports_per_node = listeners.len() + 1;
        let mut free = crate::ports::free_ports(options.nodes * ports_per_node)?.into_iter();
        let ports: Vec<BTreeMap<Option<Listener>, u16>> = (0..options.nodes)
            .map(|_| {
                std::iter::once(None)
                    .chain(listeners.iter().copied().map(Some))
                    .map(|listener| (listener, free.next().expect("enough free ports")))
                    .collect()
            })
            .collect();

        let (tls, server_pem) = match listeners
            .iter()
            .any(|listener| matches!(listener, Listener::Tls | Listener::MutualTls))
        {
            true => {
                let (tls, server) = make_tls()?;
                (Some(tls), Some(server))
            }
            false => (None, None),
        };
        let cluster_id = random_cluster_id();
        let mut format_args = Vec::new();
        if let Some(version) = &options.metadata_version {
            format_args.extend(["--release-version".to_string(), version.clone()]);
        }
        for (user, password) in &options.scram_users {
            format_args.push("--add-scram".to_string());
            format_args.push(format!("SCRAM-SHA-512=[name={user},password={password}]"));
        }

        let mut cluster = KafkaCluster {
            dir,
            cluster_id,
            nodes: Vec::new(),
            ports,
            tls,
            startup: Duration::ZERO,
        };
        let server_pem = server_pem
            .as_ref()
            .map(|(chain, key)| (chain.as_str(), key.as_str()));
        let formats: Vec<(PathBuf, String)> = (0..options.nodes)
            .map(|id| {
                let properties = cluster.node_properties(id, &listeners, options, server_pem);
                (cluster.node_dir(id), properties)
            })
            .collect();
        // In parallel: each format is a JVM start.
        std::thread::scope(|scope| {
            let formatting: Vec<_> = formats
                .iter()
                .map(|(dir, properties)| {
                    let (cluster_id, args) = (&cluster.cluster_id, &format_args);
                    scope.spawn(move || {
                        KafkaNode::format(KAFKA_VERSION, dir, properties, cluster_id, args)
                    })
                })
                .collect();
            formatting
                .into_iter()
                .try_for_each(|thread| thread.join().expect("formatting does not panic"))
        })?;
        // All at once: a node serves only once the controllers have a quorum.
        for id in 0..options.nodes {
            let node = KafkaNode::spawn_with_heap(
                KAFKA_VERSION,
                &cluster.node_dir(id),
                options.max_heap_mb,
            )?;
            cluster.nodes.push(node);
        }
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        for id in 0..options.nodes {
            let ports: Vec<u16> = cluster.ports[id].values().copied().collect();
            cluster.nodes[id].wait_started(&ports, deadline)?;
        }
        cluster.startup = began.elapsed();
        Ok(cluster)
    }

    fn node_dir(&self, id: usize) -> PathBuf {
        self.dir.join(format!("node-{id}"))
    }

    fn node_properties(
        &self,
        id: usize,
        listeners: &[Listener],
        options: &KafkaOptions,
        tls: Option<(&str, &str)>,
    ) -> String {
        let replication = options.nodes.min(3).to_string();
        let min_isr = if options.nodes >= 3 { "2" } else { "1" };
        let voters: Vec<String> = self
            .ports
            .iter()
            .enumerate()
            .map(|(voter, ports)| format!("{voter}@127.0.0.1:{}", ports[&None]))
            .collect();
        let own = &self.ports[id];
        let mut protocols = vec!["CONTROLLER:PLAINTEXT".to_string()];
        let mut addresses = vec![format!("CONTROLLER://127.0.0.1:{}", own[&None])];
        for listener in listeners {
            protocols.push(format!("{}:{}", listener.name(), listener.protocol()));
            addresses.push(format!(
                "{}://127.0.0.1:{}",
                listener.name(),
                own[&Some(*listener)]
            ));
        }
        let data = self.node_dir(id).join("data");
        let mut settings: BTreeMap<String, String> = [
            ("node.id", id.to_string()),
            ("process.roles", "broker,controller".into()),
            ("controller.listener.names", "CONTROLLER".into()),
            ("controller.quorum.voters", voters.join(",")),
            ("listeners", addresses.join(",")),
            ("advertised.listeners", addresses.join(",")),
            ("listener.security.protocol.map", protocols.join(",")),
            ("inter.broker.listener.name", "PLAIN".into()),
            ("log.dirs", data.display().to_string()),
            ("num.partitions", "1".into()),
            ("offsets.topic.replication.factor", replication.clone()),
            ("transaction.state.log.replication.factor", replication),
            ("transaction.state.log.min.isr", min_isr.into()),
            (
                "share.coordinator.state.topic.replication.factor",
                "1".into(),
            ),
            ("share.coordinator.state.topic.min.isr", "1".into()),
            ("group.initial.rebalance.delay.ms", "0".into()),
            ("sasl.enabled.mechanisms", String::new()),
            // The log cleaner takes its whole dedupe buffer (128 MiB by default) at start: a
            // test node's small heap, beside two other nodes', cannot spare it.
            (
                "log.cleaner.dedupe.buffer.size",
                (16 * 1024 * 1024).to_string(),
            ),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value))
        .collect();
        for listener in listeners {
            let prefix = format!("listener.name.{}.", listener.name().to_lowercase());
            let mut set = |key: &str, value: &str| {
                settings.insert(format!("{prefix}{key}"), value.to_string());
            };
            match listener {
                Listener::Plain => {}
                Listener::Tls | Listener::MutualTls => {
                    let (chain, key) = tls.expect("TLS material for a TLS listener");
                    set("ssl.keystore.type", "PEM");
                    set("ssl.keystore.certificate.chain", chain);
                    set("ssl.keystore.key", key);
                    if *listener == Listener::MutualTls {
                        let ca = &self.tls.as_ref().expect("TLS material").ca_pem;
                        set("ssl.truststore.type", "PEM");
                        set("ssl.truststore.certificates", ca);
                        set("ssl.client.auth", "required");
                    }
                }
                Listener::Scram => {
                    set("sasl.enabled.mechanisms", "SCRAM-SHA-512");
                    set(
                        "scram-sha-512.sasl.jaas.config",
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                    );
                }
            }
        }
        settings.extend(options.config.clone());
        let mut text = format!("# Node {id} of a testenv Kafka cluster\n");
        for (key, value) in settings {
            text.push_str(&format!("{key}={}\n", escape_property(&value)));
        }
        text
    }

    /// `host:port` of `listener` on every node, comma-separated, as clients take bootstrap
    /// servers. Panics if the cluster has no such listener.
    pub fn bootstrap(&self, listener: Listener) -> String {
        (0..self.nodes.len())
            .map(|id| self.address(id, listener).to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The address of `listener` on node `id`.
    pub fn address(&self, id: usize, listener: Listener) -> SocketAddr {
        let port = self.ports[id]
            .get(&Some(listener))
            .unwrap_or_else(|| panic!("the cluster has no {listener:?} listener"));
        SocketAddr::from(([127, 0, 0, 1], *port))
    }

    /// The KRaft cluster ID the storage was formatted with.
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// The certificates, when the cluster has a TLS listener.
    pub fn tls(&self) -> Option<&KafkaTls> {
        self.tls.as_ref()
    }

    pub fn node(&self, id: usize) -> &KafkaNode {
        &self.nodes[id]
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Kills node `id`, as a crash would.
    pub fn stop_node(&mut self, id: usize) {
        self.nodes[id].stop();
    }

    /// Starts node `id` again on its storage, and waits until it serves. After a kill this takes
    /// about 9 s: the controllers refuse the new incarnation until the old one's session expires
    /// (`broker.session.timeout.ms`, which `KafkaOptions::config` may lower).
    pub fn restart_node(&mut self, id: usize) -> Result<()> {
        let ports: Vec<u16> = self.ports[id].values().copied().collect();
        self.nodes[id].restart(&ports)
    }

    /// Wall time from `start` until every node served.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// Writes `records` records of `record_size` bytes to `topic` with `acks=all`, through
    /// Kafka's own `ProducerPerformance` on the plain listener. Blocks until they are written.
    pub fn produce(&self, topic: &str, records: u64, record_size: u32) -> Result<()> {
        let libs = Tools::locate_kafka(KAFKA_VERSION)?;
        let output = java(&libs, &self.node_dir(0), 256)?
            .arg("org.apache.kafka.tools.ProducerPerformance")
            .args(["--topic", topic, "--throughput", "-1"])
            .args(["--num-records", &records.to_string()])
            .args(["--record-size", &record_size.to_string()])
            .arg("--producer-props")
            .arg(format!(
                "bootstrap.servers={}",
                self.bootstrap(Listener::Plain)
            ))
            .arg("acks=all")
            .output()
            .context("running ProducerPerformance")?;
        if !output.status.success() {
            bail!(
                "ProducerPerformance failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for KafkaCluster {
    fn drop(&mut self) {
        self.nodes.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A CA, a client certificate and a server certificate for loopback (chain and key, as PEM),
/// all signed by the CA.
fn make_tls() -> Result<(KafkaTls, (String, String))> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "brokerage-testenv-kafka-ca");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate()?;
    let ca_key_pem = ca_key.serialize_pem();
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key)?;

    let mut server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])?;
    server
        .distinguished_name
        .push(DnType::CommonName, "brokerage-testenv-kafka");
    server.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let server_key = KeyPair::generate()?;
    let server_cert = server.signed_by(&server_key, &ca)?;

    let mut client = CertificateParams::new(Vec::<String>::new())?;
    client.distinguished_name.push(DnType::CommonName, "admin");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_key = KeyPair::generate()?;
    let client_cert = client.signed_by(&client_key, &ca)?;
    let tls = KafkaTls {
        ca_pem: ca.pem(),
        ca_key_pem,
        client_cert_pem: client_cert.pem(),
        client_key_pem: client_key.serialize_pem(),
    };
    Ok((tls, (server_cert.pem(), server_key.serialize_pem())))
}

/// Whether something accepts TCP connections on `port` on loopback.
pub(crate) fn accepts(port: u16) -> bool {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
}

/// Reads a growing log from where it last stopped, remembering whether a line was seen.
pub(crate) struct LogFollower {
    path: PathBuf,
    offset: u64,
    /// The unread end of the last chunk, which may hold the start of a line.
    partial: String,
    seen: bool,
}

impl LogFollower {
    pub(crate) fn new(path: PathBuf) -> LogFollower {
        LogFollower {
            path,
            offset: 0,
            partial: String::new(),
            seen: false,
        }
    }

    pub(crate) fn saw(&mut self, needle: &str) -> bool {
        if self.seen {
            return true;
        }
        let Ok(mut file) = File::open(&self.path) else {
            return false;
        };
        let mut chunk = Vec::new();
        if file.seek(SeekFrom::Start(self.offset)).is_err() || file.read_to_end(&mut chunk).is_err()
        {
            return false;
        }
        self.offset += chunk.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&chunk));
        self.seen = self.partial.contains(needle);
        // Keep only the last line, which may be incomplete.
        if let Some(end) = self.partial.rfind('\n') {
            self.partial.drain(..=end);
        }
        self.seen
    }
}

/// The last `lines` lines of the log at `path`, after the first few that name an exception or
/// an error: a JVM that fails at start logs why early, then pages of its orderly shutdown.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let tail = &all[all.len().saturating_sub(lines)..];
    let causes: Vec<&str> = all[..all.len() - tail.len()]
        .iter()
        .filter(|line| line.contains("Exception") || line.contains("ERROR"))
        .take(5)
        .copied()
        .collect();
    match causes.is_empty() {
        true => tail.join("\n"),
        false => format!("{}\n[...]\n{}", causes.join("\n"), tail.join("\n")),
    }
}

/// Escapes what Java's `Properties` would otherwise read as an escape or a line break (PEM
/// values span lines).
pub(crate) fn escape_property(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// A new KRaft cluster ID: 16 random bytes, URL-safe base64 without padding, as
/// `kafka-storage random-uuid` prints it, and like Kafka never starting with `-`, which
/// `kafka-storage format --cluster-id` would take for an option.
pub fn random_cluster_id() -> String {
    use base64::Engine;
    loop {
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}

/// Asks the broker at `address` which API versions it supports (an `ApiVersions` v0 request on
/// a plain or SASL listener: SASL clients ask before they authenticate): proof that what listens
/// there speaks Kafka. Returns the API keys with their supported version ranges.
pub fn api_versions(address: SocketAddr) -> Result<BTreeMap<i16, (i16, i16)>> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
        .with_context(|| format!("connecting to {address}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    api_versions_on(&mut stream).with_context(|| format!("ApiVersions on {address}"))
}

/// [`api_versions`] over a connection of the caller's, such as a TLS stream.
pub fn api_versions_on(stream: &mut (impl Read + Write)) -> Result<BTreeMap<i16, (i16, i16)>> {
    const API_VERSIONS: i16 = 18;
    const CORRELATION_ID: i32 = 7;
    let client_id = b"brokerage-testenv";
    let mut request = Vec::new();
    request.extend_from_slice(&API_VERSIONS.to_be_bytes());
    request.extend_from_slice(&0i16.to_be_bytes());
    request.extend_from_slice(&CORRELATION_ID.to_be_bytes());
    request.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    request.extend_from_slice(client_id);
    stream.write_all(&(request.len() as i32).to_be_bytes())?;
    stream.write_all(&request)?;
    stream.flush()?;

    let mut size = [0u8; 4];
    stream
        .read_exact(&mut size)
        .context("reading the ApiVersions response")?;
    let size = i32::from_be_bytes(size);
    if !(0..=1 << 20).contains(&size) {
        bail!("an ApiVersions response of {size} bytes: not Kafka");
    }
    let mut response = vec![0u8; size as usize];
    stream.read_exact(&mut response)?;
    let mut reader = Reader(&response);
    let correlation_id = reader.i32()?;
    if correlation_id != CORRELATION_ID {
        bail!("ApiVersions response with correlation ID {correlation_id}, not {CORRELATION_ID}");
    }
    let error_code = reader.i16()?;
    if error_code != 0 {
        bail!("ApiVersions failed with error code {error_code}");
    }
    let count = reader.i32()?;
    let mut versions = BTreeMap::new();
    for _ in 0..count.max(0) {
        let key = reader.i16()?;
        let min = reader.i16()?;
        let max = reader.i16()?;
        versions.insert(key, (min, max));
    }
    Ok(versions)
}

/// Big-endian integers from a response.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        if self.0.len() < N {
            bail!("the response ended early");
        }
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        Ok(head.try_into().expect("N bytes"))
    }

    fn i16(&mut self) -> Result<i16> {
        Ok(i16::from_be_bytes(self.take()?))
    }

    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.take()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ids_are_22_url_safe_characters_and_differ() {
        let first = random_cluster_id();
        assert_eq!(first.len(), 22);
        assert!(
            first
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(first, random_cluster_id());
    }

    #[test]
    fn property_values_keep_pem_on_one_line() {
        assert_eq!(escape_property("a\\b\nc"), "a\\\\b\\nc");
    }

    #[test]
    fn the_log_follower_finds_a_line_split_across_reads() {
        let dir = std::env::temp_dir().join(format!("testenv-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        std::fs::write(&path, "one\n[x] Kafka Ser").unwrap();
        let mut follower = LogFollower::new(path.clone());
        assert!(!follower.saw(STARTED_LINE));
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"ver started (kafka)\n").unwrap();
        assert!(follower.saw(STARTED_LINE));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
