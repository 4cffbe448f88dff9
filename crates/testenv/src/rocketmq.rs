//! Real RocketMQ on loopback: a name server and brokers run as plain `java` processes
//! (`NamesrvStartup`, `BrokerStartup`) from the jars `testenv tools` fetched from Maven Central,
//! for tests that need a real RocketMQ.
//!
//! Three levels:
//! - [`NameServer`] runs one name server on a free loopback port.
//! - [`Broker`] runs one broker, either from [`BrokerOptions`] (a small `broker.conf` written
//!   here, on free loopback ports) or from a complete `broker.conf` text of the caller's
//!   ([`Broker::start_with_config`], such as the operator's own).
//! - [`RocketMQCluster`] runs a name server and master brokers registered with it.
//!
//! ```no_run
//! # fn example() -> anyhow::Result<()> {
//! use testenv::rocketmq::{RocketMQCluster, RocketMQOptions};
//! let rocketmq = RocketMQCluster::start(&RocketMQOptions::default())?;
//! let name_server = rocketmq.name_server_addr(); // "127.0.0.1:40123"
//! # Ok(()) }
//! ```
//!
//! Every process is spawned like the control plane's: it dies with the test binary, and a
//! dropped server or cluster stops at once (`SIGKILL`, as a crash would). Each runs in a
//! directory of its own, which is also its `ROCKETMQ_HOME` and `user.home` (where RocketMQ puts
//! anything not configured elsewhere), and logs everything to `namesrv.log` or `broker.log` there.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

use crate::kafka::{LogFollower, accepts, escape_property, log_tail};
use crate::ports::free_broker_port;
use crate::process::Process;
use crate::tools::Tools;

/// How long a name server or broker may take to start on a loaded two-core machine (about 2 s
/// and 3 s when idle).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// Small heaps: a test broker holds little data, and several JVMs share two cores.
const JVM_OPTIONS: &[&str] = &[
    "-Xms64m",
    "-XX:+UseSerialGC",
    // No hsperfdata files in /tmp for every JVM.
    "-XX:-UsePerfData",
    "-Djava.awt.headless=true",
];
const NAME_SERVER_MAX_HEAP_MB: u32 = 256;
/// The default of [`BrokerOptions::max_heap_mb`].
pub const DEFAULT_BROKER_MAX_HEAP_MB: u32 = 512;

/// RocketMQ's shaded Logback, configured to log to stdout (the server's log file) rather than
/// to `~/logs/rocketmqlogs`, without the periodic statistics.
const LOGBACK_XML: &str = r#"<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss.SSS} %p [%t] %c - %m%n</pattern></encoder>
  </appender>
  <logger name="RocketmqPop" level="WARN"/>
  <logger name="RocketmqStats" level="WARN"/>
  <logger name="RocketmqWaterMark" level="WARN"/>
  <logger name="RocketmqNamesrvWaterMark" level="WARN"/>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
"#;

/// A name server or a broker.
#[derive(Clone, Copy)]
enum Kind {
    NameServer,
    Broker,
}

impl Kind {
    fn main_class(self) -> &'static str {
        match self {
            Kind::NameServer => "org.apache.rocketmq.namesrv.NamesrvStartup",
            Kind::Broker => "org.apache.rocketmq.broker.BrokerStartup",
        }
    }

    /// What the server prints once it serves: `The Name Server boot success. serializeType=...`,
    /// `The broker[broker-a, 127.0.0.1:10911] boot success. serializeType=...`.
    fn started_line(self) -> &'static str {
        match self {
            Kind::NameServer => "The Name Server boot success",
            Kind::Broker => "] boot success.",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::NameServer => "name server",
            Kind::Broker => "broker",
        }
    }

    fn log_file(self) -> &'static str {
        match self {
            Kind::NameServer => "namesrv.log",
            Kind::Broker => "broker.log",
        }
    }
}

/// One RocketMQ JVM, started with `-c <config>` in its directory, killed when dropped.
struct Server {
    kind: Kind,
    dir: PathBuf,
    config: PathBuf,
    libs: PathBuf,
    max_heap_mb: u32,
    /// What must accept connections before the server counts as started.
    ports: Vec<u16>,
    /// RocketMQ reads its TLS settings from system properties: `-Dtls.*`, or none.
    tls_options: Vec<String>,
    process: Option<Process>,
    /// Removed when dropped, after the kill: the run directory of a server started on its own,
    /// or of a whole cluster (held by its name server, dropped last).
    owned_dir: Option<PathBuf>,
}

impl Server {
    /// Writes `config_text` to `dir/<config_name>` and starts the server on it, without waiting.
    #[allow(clippy::too_many_arguments)]
    fn spawn(
        kind: Kind,
        dir: &Path,
        config_name: &str,
        config_text: &str,
        ports: Vec<u16>,
        max_heap_mb: u32,
        tls: Option<&ServerTls>,
        owned_dir: Option<PathBuf>,
    ) -> Result<Server> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let tls_options = match tls {
            Some(tls) => tls.write_options(dir)?,
            None => Vec::new(),
        };
        let mut server = Server {
            kind,
            dir: dir.to_path_buf(),
            config: dir.join(config_name),
            libs: Tools::locate_rocketmq()?,
            max_heap_mb,
            ports,
            tls_options,
            process: None,
            owned_dir,
        };
        std::fs::write(&server.config, config_text)?;
        std::fs::write(dir.join("logback.xml"), LOGBACK_XML)?;
        server.respawn()?;
        Ok(server)
    }

    fn respawn(&mut self) -> Result<()> {
        let mut command = Command::new("java");
        command
            .current_dir(&self.dir)
            // Both startups refuse to run without it; nothing is read from it.
            .env("ROCKETMQ_HOME", &self.dir)
            // A broker would take its name servers from here when its config names none.
            .env_remove("NAMESRV_ADDR")
            .args(JVM_OPTIONS)
            .arg(format!("-Xmx{}m", self.max_heap_mb))
            // RocketMQ's default store, name server KV config and log paths are under it.
            .arg(format!("-Duser.home={}", self.dir.display()))
            .arg(format!(
                "-Drmq.logback.configurationFile={}",
                self.dir.join("logback.xml").display()
            ))
            .args(&self.tls_options)
            .arg("-cp")
            .arg(self.libs.join("*"))
            .arg(self.kind.main_class())
            .arg("-c")
            .arg(&self.config);
        let name = format!("rocketmq {} {}", self.kind.name(), self.dir.display());
        self.process = Some(Process::spawn(&name, command, &self.log())?);
        Ok(())
    }

    /// Waits until the server has logged that it booted (since it was last spawned) and every
    /// one of its ports accepts connections; fails early, with the log's tail, if it exits.
    fn wait_started(&mut self, deadline: Instant) -> Result<()> {
        let started_line = self.kind.started_line();
        let mut log = LogFollower::new(self.log());
        loop {
            if let Some(status) = self.process.as_mut().and_then(Process::exited) {
                bail!(
                    "the RocketMQ {} in {} exited ({status}) before it started:\n{}",
                    self.kind.name(),
                    self.dir.display(),
                    self.log_tail(40)
                );
            }
            if log.saw(started_line) && self.ports.iter().all(|port| accepts(*port)) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let closed: Vec<u16> = self
                    .ports
                    .iter()
                    .copied()
                    .filter(|port| !accepts(*port))
                    .collect();
                bail!(
                    "the RocketMQ {} in {} did not start in time (boot line seen: {}, ports not accepting: {closed:?}):\n{}",
                    self.kind.name(),
                    self.dir.display(),
                    log.saw(started_line),
                    self.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stop(&mut self) {
        self.process = None;
    }

    fn restart(&mut self) -> Result<()> {
        self.stop();
        self.respawn()?;
        self.wait_started(Instant::now() + STARTUP_TIMEOUT)
    }

    fn is_running(&mut self) -> bool {
        self.process
            .as_mut()
            .is_some_and(|process| process.exited().is_none())
    }

    fn log(&self) -> PathBuf {
        self.dir.join(self.kind.log_file())
    }

    fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log(), lines)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.owned_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A running name server on `127.0.0.1`, from `namesrv.properties` in its directory. Killed
/// (and its directory removed) when dropped.
pub struct NameServer {
    server: Server,
    port: u16,
}

impl NameServer {
    /// Starts a name server on a free loopback port and waits until it serves. Blocks (for a
    /// second or two); from async code, call it in `spawn_blocking`.
    pub fn start() -> Result<NameServer> {
        let mut name_server =
            in_new_dir(|dir| NameServer::spawn(dir, None, Some(dir.to_path_buf())))?;
        name_server
            .server
            .wait_started(Instant::now() + STARTUP_TIMEOUT)?;
        Ok(name_server)
    }

    fn spawn(
        dir: &Path,
        tls: Option<&ServerTls>,
        owned_dir: Option<PathBuf>,
    ) -> Result<NameServer> {
        let port = crate::ports::free_port()?;
        let properties =
            format!("# A testenv RocketMQ name server\nlistenPort={port}\nbindAddress=127.0.0.1\n");
        let server = Server::spawn(
            Kind::NameServer,
            dir,
            "namesrv.properties",
            &properties,
            vec![port],
            NAME_SERVER_MAX_HEAP_MB,
            tls,
            owned_dir,
        )?;
        Ok(NameServer { server, port })
    }

    /// `127.0.0.1:<port>`, as brokers and clients take it (`namesrvAddr`).
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the name server, as a crash would: it forgets every registration.
    pub fn stop(&mut self) {
        self.server.stop();
    }

    /// Starts the name server again on the same port and waits until it serves. Brokers
    /// register again on their next period (10 s for brokers from [`BrokerOptions`]).
    pub fn restart(&mut self) -> Result<()> {
        self.server.restart()
    }

    /// Whether the process is alive.
    pub fn is_running(&mut self) -> bool {
        self.server.is_running()
    }

    /// The last `lines` lines of the name server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        self.server.log_tail(lines)
    }
}

/// The credentials of an ACL 2.0 super user.
#[derive(Clone, PartialEq, Eq)]
pub struct AclAdmin {
    pub username: String,
    pub password: String,
}

// By hand: the derived form would print the password into test logs.
impl std::fmt::Debug for AclAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AclAdmin")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// TLS on a name server's or broker's port, as RocketMQ's `tls.*` system properties set it:
/// `tls.server.mode=enforcing` (plain TCP is refused), this certificate, no client
/// certificates asked for; the broker's own connections to the name server use TLS too and
/// verify it against `ca_pem`.
#[derive(Clone)]
pub struct ServerTls {
    /// The CA that signed the certificate, for clients to trust.
    pub ca_pem: String,
    /// For `127.0.0.1` and `localhost`.
    cert_pem: String,
    /// PKCS#8, as Netty reads it.
    key_pem: String,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("ca_pem", &self.ca_pem)
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

impl ServerTls {
    /// A new CA and a server certificate it signed for loopback.
    pub fn generate() -> Result<ServerTls> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "brokerage-testenv-rocketmq-ca");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let mut server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])?;
        server
            .distinguished_name
            .push(DnType::CommonName, "brokerage-testenv-rocketmq");
        let key = KeyPair::generate()?;
        let cert = server.signed_by(&key, &ca)?;
        Ok(ServerTls {
            ca_pem: ca.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Writes the PEM files into `dir` and returns the JVM options that use them.
    fn write_options(&self, dir: &Path) -> Result<Vec<String>> {
        let files = [
            ("tls-ca.pem", &self.ca_pem),
            ("tls-server.pem", &self.cert_pem),
            ("tls-server.key", &self.key_pem),
        ];
        for (name, pem) in files {
            std::fs::write(dir.join(name), pem)?;
        }
        let path = |name: &str| dir.join(name).display().to_string();
        Ok([
            ("tls.server.mode", "enforcing".to_string()),
            // Otherwise RocketMQ serves a self-signed certificate of its own.
            ("tls.test.mode.enable", "false".into()),
            ("tls.server.need.client.auth", "none".into()),
            ("tls.server.certPath", path("tls-server.pem")),
            ("tls.server.keyPath", path("tls-server.key")),
            // The broker's client side, towards the name server.
            ("tls.enable", "true".into()),
            ("tls.client.authServer", "true".into()),
            ("tls.client.trustCertPath", path("tls-ca.pem")),
            // Never /etc/rocketmq/tls.properties of the machine.
            ("tls.config.file", path("tls.properties")),
        ]
        .into_iter()
        .map(|(key, value)| format!("-D{key}={value}"))
        .collect())
    }
}

/// What [`Broker::start`] writes into `broker.conf`.
#[derive(Clone, Debug)]
pub struct BrokerOptions {
    /// `brokerClusterName`; `DefaultCluster` by default.
    pub cluster_name: String,
    /// `brokerName`, shared by a master and its replicas; `broker-a` by default.
    pub broker_name: String,
    /// `brokerId`: 0 (the default) is the master; more is a replica (`brokerRole=SLAVE`).
    pub broker_id: i64,
    /// `namesrvAddr`: name servers as `host:port`, `;`-separated.
    pub name_servers: String,
    /// With ACL 2.0: authentication and authorization on, with the local metadata providers,
    /// and this super user created at the first start (and used by the broker itself towards
    /// other brokers).
    pub acl: Option<AclAdmin>,
    /// More `broker.conf` settings; they override the defaults.
    pub config: BTreeMap<String, String>,
    /// The broker's maximum heap.
    pub max_heap_mb: u32,
    /// TLS on the broker's ports, and towards the name servers.
    pub tls: Option<ServerTls>,
}

impl BrokerOptions {
    /// A master `broker-a` in `DefaultCluster`, registering with `name_servers`.
    pub fn new(name_servers: &str) -> BrokerOptions {
        BrokerOptions {
            cluster_name: "DefaultCluster".into(),
            broker_name: "broker-a".into(),
            broker_id: 0,
            name_servers: name_servers.into(),
            acl: None,
            config: BTreeMap::new(),
            max_heap_mb: DEFAULT_BROKER_MAX_HEAP_MB,
            tls: None,
        }
    }

    /// The complete `broker.conf` settings for a broker in `dir` on `listen_port` (and, by
    /// RocketMQ's defaults, `listen_port - 2` and `listen_port + 1`).
    fn settings(&self, dir: &Path, listen_port: u16) -> BTreeMap<String, String> {
        let store = dir.join("store");
        let role = if self.broker_id > 0 {
            "SLAVE"
        } else {
            "ASYNC_MASTER"
        };
        let mut settings: BTreeMap<String, String> = [
            ("brokerClusterName", self.cluster_name.clone()),
            ("brokerName", self.broker_name.clone()),
            ("brokerId", self.broker_id.to_string()),
            ("brokerRole", role.into()),
            ("namesrvAddr", self.name_servers.clone()),
            // Registered with the name server: what clients and replicas connect to.
            ("brokerIP1", "127.0.0.1".into()),
            ("brokerIP2", "127.0.0.1".into()),
            ("bindAddress", "127.0.0.1".into()),
            ("listenPort", listen_port.to_string()),
            ("storePathRootDir", store.display().to_string()),
            (
                "storePathCommitLog",
                store.join("commitlog").display().to_string(),
            ),
            // Small files (1 GB commit log files, 6 MB per queue and 420 MB index files by
            // default), sparse but mapped whole.
            ("mappedFileSizeCommitLog", (64 << 20).to_string()),
            ("mappedFileSizeConsumeQueue", (20 * 30_000).to_string()),
            ("mappedFileSizeTimerLog", (8 << 20).to_string()),
            ("maxHashSlotNum", "10000".into()),
            ("maxIndexNum", "40000".into()),
            // The shortest period RocketMQ allows, so that a restarted name server learns
            // about the broker soon.
            ("registerNameServerPeriod", "10000".into()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value))
        .collect();
        if let Some(admin) = &self.acl {
            let user = serde_json::json!({"username": admin.username, "password": admin.password});
            let credentials =
                serde_json::json!({"accessKey": admin.username, "secretKey": admin.password});
            let provider = "org.apache.rocketmq.auth";
            for (key, value) in [
                ("authenticationEnabled", "true".to_string()),
                (
                    "authenticationProvider",
                    format!("{provider}.authentication.provider.DefaultAuthenticationProvider"),
                ),
                (
                    "authenticationMetadataProvider",
                    format!(
                        "{provider}.authentication.provider.LocalAuthenticationMetadataProvider"
                    ),
                ),
                ("authorizationEnabled", "true".to_string()),
                (
                    "authorizationProvider",
                    format!("{provider}.authorization.provider.DefaultAuthorizationProvider"),
                ),
                (
                    "authorizationMetadataProvider",
                    format!("{provider}.authorization.provider.LocalAuthorizationMetadataProvider"),
                ),
                ("initAuthenticationUser", user.to_string()),
                (
                    "innerClientAuthenticationCredentials",
                    credentials.to_string(),
                ),
            ] {
                settings.insert(key.to_string(), value);
            }
        }
        settings.extend(self.config.clone());
        settings
    }
}

/// A running broker, from `broker.conf` in its directory. Killed (and its directory removed)
/// when dropped.
pub struct Broker {
    server: Server,
    port: u16,
}

impl Broker {
    /// Starts a broker as `options` say, on free loopback ports, and waits until it serves.
    /// Blocks (for a few seconds); from async code, call it in `spawn_blocking`.
    pub fn start(options: &BrokerOptions) -> Result<Broker> {
        let mut broker = in_new_dir(|dir| Broker::spawn(options, dir, Some(dir.to_path_buf())))?;
        broker
            .server
            .wait_started(Instant::now() + STARTUP_TIMEOUT)?;
        Ok(broker)
    }

    fn spawn(options: &BrokerOptions, dir: &Path, owned_dir: Option<PathBuf>) -> Result<Broker> {
        if options.name_servers.trim().is_empty() {
            bail!("a testenv broker needs name servers (BrokerOptions::name_servers)");
        }
        let listen_port = free_broker_port()?;
        let settings = options.settings(dir, listen_port);
        let port = listen_port_of(settings.get("listenPort").map(String::as_str))?;
        let mut text = format!(
            "# Broker {} {} of a testenv RocketMQ\n",
            options.broker_name, options.broker_id
        );
        for (key, value) in &settings {
            text.push_str(&format!("{key}={}\n", escape_property(value)));
        }
        let server = Server::spawn(
            Kind::Broker,
            dir,
            "broker.conf",
            &text,
            fast_and_listen_ports(port),
            options.max_heap_mb,
            options.tls.as_ref(),
            owned_dir,
        )?;
        Ok(Broker { server, port })
    }

    /// Boots a complete broker.conf text as given (such as the operator's generated one with
    /// loopback ports, paths and name servers substituted by the caller); waits until it serves on
    /// the `listenPort` the text names (10911 when absent). Paths the text leaves out (the store,
    /// by default) are under [`dir`](Self::dir); the maximum heap is
    /// [`DEFAULT_BROKER_MAX_HEAP_MB`].
    pub fn start_with_config(broker_conf: &str) -> Result<Broker> {
        let port = listen_port_of(property(broker_conf, "listenPort").as_deref())?;
        let server = in_new_dir(|dir| {
            Server::spawn(
                Kind::Broker,
                dir,
                "broker.conf",
                broker_conf,
                fast_and_listen_ports(port),
                DEFAULT_BROKER_MAX_HEAP_MB,
                None,
                Some(dir.to_path_buf()),
            )
        })?;
        let mut broker = Broker { server, port };
        broker
            .server
            .wait_started(Instant::now() + STARTUP_TIMEOUT)?;
        Ok(broker)
    }

    /// `127.0.0.1:<listenPort>`, as clients connect to it (and as the name server lists it).
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The process ID of the broker's last start (`None` once [`stop`](Self::stop)ped): a test
    /// proves that nothing restarted the broker by comparing it.
    pub fn pid(&self) -> Option<u32> {
        self.server.process.as_ref().map(Process::id)
    }

    /// Where `broker.conf`, `broker.log` and (unless the config put it elsewhere) the store live.
    pub fn dir(&self) -> &Path {
        &self.server.dir
    }

    /// Kills the broker, as a crash would; its store stays for [`restart`](Self::restart).
    pub fn stop(&mut self) {
        self.server.stop();
    }

    /// Starts the broker again on its store and config and waits until it serves.
    pub fn restart(&mut self) -> Result<()> {
        self.server.restart()
    }

    /// Whether the process is alive.
    pub fn is_running(&mut self) -> bool {
        self.server.is_running()
    }

    /// The last `lines` lines of the broker's log.
    pub fn log_tail(&self, lines: usize) -> String {
        self.server.log_tail(lines)
    }
}

/// What [`RocketMQCluster::start`] runs: a name server and `brokers` master brokers
/// (`broker-a`, `broker-b`, ...) in cluster `DefaultCluster`.
#[derive(Clone, Debug, Default)]
pub struct RocketMQOptions {
    /// Master brokers; 0 means 1.
    pub brokers: usize,
    /// ACL 2.0 on every broker, as [`BrokerOptions::acl`].
    pub acl: Option<AclAdmin>,
    /// More `broker.conf` settings for every broker; they override the defaults.
    pub config: BTreeMap<String, String>,
    /// TLS only, on the name server and every broker, with a CA and certificate made for the
    /// cluster ([`RocketMQCluster::tls`]).
    pub tls: bool,
}

/// A running name server with its brokers, in one directory. Dropping it stops them all and
/// removes the directory.
pub struct RocketMQCluster {
    name_server: NameServer,
    brokers: Vec<Broker>,
    tls: Option<ServerTls>,
}

impl RocketMQCluster {
    /// Starts the name server, then every broker at once, and waits until all of them serve
    /// (brokers register with the name server as they start; see
    /// [`wait_registered`](Self::wait_registered)). Blocks (for a few seconds); from async
    /// code, call it in `spawn_blocking`.
    pub fn start(options: &RocketMQOptions) -> Result<RocketMQCluster> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        // The name server owns the cluster's directory: the cluster drops it last.
        let tls = options.tls.then(ServerTls::generate).transpose()?;
        let (mut name_server, dir) = in_new_dir(|dir| {
            let name_server =
                NameServer::spawn(&dir.join("namesrv"), tls.as_ref(), Some(dir.to_path_buf()))?;
            Ok((name_server, dir.to_path_buf()))
        })?;
        name_server.server.wait_started(deadline)?;
        let mut cluster = RocketMQCluster {
            name_server,
            brokers: Vec::new(),
            tls,
        };
        for index in 0..options.brokers.max(1) {
            let broker_options = BrokerOptions {
                broker_name: format!("broker-{}", broker_letter(index)),
                acl: options.acl.clone(),
                config: options.config.clone(),
                tls: cluster.tls.clone(),
                ..BrokerOptions::new(&cluster.name_server.addr())
            };
            let broker_dir = dir.join(&broker_options.broker_name);
            cluster
                .brokers
                .push(Broker::spawn(&broker_options, &broker_dir, None)?);
        }
        for broker in &mut cluster.brokers {
            broker.server.wait_started(deadline)?;
        }
        Ok(cluster)
    }

    pub fn name_server(&self) -> &NameServer {
        &self.name_server
    }

    pub fn name_server_mut(&mut self) -> &mut NameServer {
        &mut self.name_server
    }

    /// `broker-a`, `broker-b`, ... in order.
    pub fn brokers(&self) -> &[Broker] {
        &self.brokers
    }

    pub fn brokers_mut(&mut self) -> &mut [Broker] {
        &mut self.brokers
    }

    /// The name server's `127.0.0.1:<port>`, as clients take it.
    pub fn name_server_addr(&self) -> String {
        self.name_server.addr()
    }

    /// The CA and certificate of a cluster started with [`RocketMQOptions::tls`].
    pub fn tls(&self) -> Option<&ServerTls> {
        self.tls.as_ref()
    }

    /// Waits until the name server's cluster info (`GET_BROKER_CLUSTER_INFO`) lists every
    /// broker's address: after a name server restart, that takes up to 10 s. Asks over plain
    /// TCP, so not of a cluster started with [`RocketMQOptions::tls`].
    pub fn wait_registered(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let missing = match broker_cluster_info(&self.name_server_addr()) {
                Ok(info) => self
                    .brokers
                    .iter()
                    .map(Broker::addr)
                    .filter(|addr| !info.contains(&format!("\"{addr}\"")))
                    .collect::<Vec<_>>()
                    .join(", "),
                Err(error) => format!("all ({error:#})"),
            };
            if missing.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "brokers not registered with the name server at {} after {timeout:?}: {missing}",
                    self.name_server_addr()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for RocketMQCluster {
    fn drop(&mut self) {
        // Brokers first: the name server removes the directory.
        self.brokers.clear();
    }
}

/// Runs `spawn` in a new run directory, which the server it returns owns; removes the directory
/// if it fails before.
fn in_new_dir<T>(spawn: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    Tools::locate_rocketmq()?;
    let dir = crate::rundir::create()?;
    spawn(&dir).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&dir);
    })
}

/// `a`, `b`, ... `z`, then `27`, `28`...: broker names as RocketMQ's examples spell them.
fn broker_letter(index: usize) -> String {
    match u8::try_from(index) {
        Ok(index) if index < 26 => char::from(b'a' + index).to_string(),
        _ => (index + 1).to_string(),
    }
}

/// The port a `listenPort` value names: RocketMQ's default when absent.
fn listen_port_of(value: Option<&str>) -> Result<u16> {
    let Some(value) = value else {
        return Ok(10911);
    };
    match value.trim().parse::<u16>() {
        Ok(port) if port > 2 => Ok(port),
        _ => bail!("listenPort {value:?} is not a port a broker can listen on"),
    }
}

/// A broker listens on `listenPort` and on the "fast" (VIP) port below it, which RocketMQ derives.
fn fast_and_listen_ports(listen_port: u16) -> Vec<u16> {
    vec![listen_port, listen_port - 2]
}

/// The last value of `key` in a Java properties text (`key=value`, `key: value` or
/// `key value`; comments start with `#` or `!`), as `Properties.load` reads simple lines.
fn property(text: &str, key: &str) -> Option<String> {
    text.lines()
        .map(str::trim_start)
        .filter(|line| !line.starts_with('#') && !line.starts_with('!'))
        .filter_map(|line| {
            let end = line.find(['=', ':', ' ', '\t'])?;
            let value = line[end..].trim_start_matches([' ', '\t']);
            let value = value
                .strip_prefix(['=', ':'])
                .unwrap_or(value)
                .trim_matches([' ', '\t']);
            Some((&line[..end], value))
        })
        .rfind(|(name, _)| *name == key)
        .map(|(_, value)| value.to_string())
}

/// The body of the name server's answer to `GET_BROKER_CLUSTER_INFO`: fastjson, so not quite
/// JSON (integer map keys are not quoted), but it names every broker and its addresses.
fn broker_cluster_info(name_server: &str) -> Result<String> {
    const GET_BROKER_CLUSTER_INFO: i32 = 106;
    let (code, body) = remoting_request(name_server, GET_BROKER_CLUSTER_INFO)
        .with_context(|| format!("asking {name_server} for the cluster info"))?;
    if code != 0 {
        bail!(
            "the name server at {name_server} answered the cluster info request with code {code}"
        );
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Sends a RocketMQ remoting request without fields or body and returns the response's code
/// and body. A frame: total length, header length (its top byte the serialization, 0 for
/// JSON), the JSON header, the body.
fn remoting_request(address: &str, code: i32) -> Result<(i32, Vec<u8>)> {
    let address: SocketAddr = address.parse().context("a name server address")?;
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let header = serde_json::json!({
        "code": code,
        "flag": 0,
        "language": "JAVA",
        "opaque": 1,
        "serializeTypeCurrentRPC": "JSON",
        "version": 453,
    })
    .to_string();
    let header_len = u32::try_from(header.len())?;
    let mut frame = Vec::new();
    frame.extend_from_slice(&(4 + header_len).to_be_bytes());
    frame.extend_from_slice(&header_len.to_be_bytes());
    frame.extend_from_slice(header.as_bytes());
    stream.write_all(&frame)?;

    let mut word = [0u8; 4];
    stream.read_exact(&mut word)?;
    let total = u32::from_be_bytes(word) as usize;
    if !(4..=64 << 20).contains(&total) {
        bail!("a response frame of {total} bytes: not RocketMQ");
    }
    let mut rest = vec![0u8; total];
    stream.read_exact(&mut rest)?;
    let (word, rest) = rest.split_at(4);
    let word = u32::from_be_bytes(word.try_into()?);
    let (serialization, header_len) = (word >> 24, (word & 0xFF_FFFF) as usize);
    if serialization != 0 {
        bail!("a response header serialized as {serialization}, not JSON");
    }
    if header_len > rest.len() {
        bail!("a response header of {header_len} bytes in a frame of {total}");
    }
    let (header, body) = rest.split_at(header_len);
    let header: serde_json::Value = serde_json::from_slice(header)?;
    let code = header["code"]
        .as_i64()
        .context("a response header without a code")?;
    Ok((i32::try_from(code)?, body.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_are_read_like_java_reads_simple_lines() {
        let text =
            "# listenPort=1\n! listenPort=2\nlistenPort = 30911\nbrokerName: a\nbrokerId 1\n";
        assert_eq!(property(text, "listenPort").as_deref(), Some("30911"));
        assert_eq!(property(text, "brokerName").as_deref(), Some("a"));
        assert_eq!(property(text, "brokerId").as_deref(), Some("1"));
        assert_eq!(property(text, "namesrvAddr"), None);
        assert_eq!(
            property("listenPort=1\nlistenPort=2\n", "listenPort").as_deref(),
            Some("2")
        );
    }

    #[test]
    fn listen_ports_default_to_rocketmqs() {
        assert_eq!(listen_port_of(None).unwrap(), 10911);
        assert_eq!(listen_port_of(Some(" 20911 ")).unwrap(), 20911);
        assert!(listen_port_of(Some("x")).is_err());
        assert!(listen_port_of(Some("1")).is_err());
    }

    #[test]
    fn brokers_are_named_by_letter() {
        assert_eq!(broker_letter(0), "a");
        assert_eq!(broker_letter(25), "z");
        assert_eq!(broker_letter(26), "27");
    }

    #[test]
    fn acl_settings_name_the_admin_and_the_default_providers() {
        let options = BrokerOptions {
            acl: Some(AclAdmin {
                username: "admin".into(),
                password: "pa\"ss".into(),
            }),
            config: BTreeMap::from([("brokerRole".to_string(), "SYNC_MASTER".to_string())]),
            ..BrokerOptions::new("127.0.0.1:9876")
        };
        let settings = options.settings(Path::new("/run/b"), 20911);
        assert_eq!(settings["authenticationEnabled"], "true");
        assert_eq!(settings["authorizationEnabled"], "true");
        assert_eq!(
            settings["initAuthenticationUser"],
            r#"{"password":"pa\"ss","username":"admin"}"#
        );
        assert_eq!(
            settings["innerClientAuthenticationCredentials"],
            r#"{"accessKey":"admin","secretKey":"pa\"ss"}"#
        );
        assert_eq!(settings["brokerRole"], "SYNC_MASTER");
        assert_eq!(settings["storePathRootDir"], "/run/b/store");
        assert!(
            !BrokerOptions::new("x")
                .settings(Path::new("/b"), 3)
                .contains_key("authenticationEnabled")
        );
    }
}
