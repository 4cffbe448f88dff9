//! How the operator opens TCP connections to brokers and name servers. Cluster-internal names
//! (`<pod>.<service>.<namespace>.svc`, `*.cluster.local`) are resolved by cluster DNS and nothing
//! else: the machine's resolver of an operator outside the cluster would send them to a DNS
//! server outside this machine, which cannot answer them anyway.
//!
//! - In a pod, the system resolver is cluster DNS, so it is used as it is.
//! - Outside, with a cluster DNS server given (`--cluster-dns`), that server alone is asked.
//! - Outside, without one, a cluster-internal name fails at once, saying how to fix it.
//!
//! IP addresses are connected to directly, and other names keep the system resolver.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
    ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use tokio::net::TcpStream;

/// The cluster's DNS domain, Kubernetes' default.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// Cluster DNS answers from memory: a server that has not answered by then is not there.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether `host` is a name only cluster DNS can answer: a Service or pod name ending in `.svc`,
/// or any name in the cluster domain.
pub fn is_cluster_internal(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host.ends_with(".svc") || host.ends_with(&format!(".{CLUSTER_DOMAIN}"))
}

/// The absolute name to ask cluster DNS for: `.svc` names are completed with the cluster
/// domain, since no search list applies.
fn fully_qualified(host: &str) -> String {
    let host = host.trim_end_matches('.');
    match host.to_ascii_lowercase().ends_with(".svc") {
        true => format!("{host}.{CLUSTER_DOMAIN}."),
        false => format!("{host}."),
    }
}

/// Opens the operator's connections to `host:port` addresses. Cheap to clone: clones share the
/// resolver and its cache.
#[derive(Clone)]
pub struct Connector {
    route: Arc<Route>,
}

enum Route {
    /// Outside the cluster: ask this server, and only it.
    ClusterDns {
        server: SocketAddr,
        resolver: Box<TokioResolver>,
    },
    /// In a pod: the system resolver is cluster DNS.
    System,
    /// Outside the cluster, and no server to ask.
    Refuse,
}

impl Connector {
    /// Cluster-internal names go to `cluster_dns` when given; without it, to the system resolver
    /// in a pod (`KUBERNETES_SERVICE_HOST` is set) and nowhere outside one.
    pub fn new(cluster_dns: Option<SocketAddr>) -> io::Result<Connector> {
        let in_pod = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some();
        Connector::placed(cluster_dns, in_pod)
    }

    fn placed(cluster_dns: Option<SocketAddr>, in_pod: bool) -> io::Result<Connector> {
        let route = match (cluster_dns, in_pod) {
            (Some(server), _) => Route::ClusterDns {
                server,
                resolver: Box::new(resolver(server)?),
            },
            (None, true) => Route::System,
            (None, false) => Route::Refuse,
        };
        Ok(Connector {
            route: Arc::new(route),
        })
    }

    /// A TCP connection to `address` (`host:port`, an IPv6 host in brackets). Owns what it needs,
    /// so it can serve as the clients' connect hook.
    pub fn connect(
        &self,
        address: String,
    ) -> impl Future<Output = io::Result<TcpStream>> + Send + use<> {
        let route = self.route.clone();
        async move { route.connect(&address).await }
    }
}

impl Route {
    async fn connect(&self, address: &str) -> io::Result<TcpStream> {
        let (host, port) = split(address)?;
        if let Ok(ip) = host.parse::<IpAddr>() {
            return TcpStream::connect((ip, port)).await;
        }
        if !is_cluster_internal(host) {
            return TcpStream::connect(address).await;
        }
        match self {
            Route::System => TcpStream::connect(address).await,
            Route::Refuse => Err(io::Error::other(format!(
                "{host} is a cluster-internal name and this operator runs outside the cluster: \
                 give --cluster-dns <address of the cluster's DNS> or \
                 --kafka-connections/--rocketmq-connections"
            ))),
            Route::ClusterDns { server, resolver } => {
                let name = fully_qualified(host);
                let not_found = |reason: String| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("cluster DNS at {server} has no address for {name}: {reason}"),
                    )
                };
                let found = resolver
                    .lookup_ip(name.as_str())
                    .await
                    .map_err(|e| not_found(e.to_string()))?;
                let addresses: Vec<SocketAddr> =
                    found.iter().map(|ip| SocketAddr::new(ip, port)).collect();
                if addresses.is_empty() {
                    return Err(not_found("an empty answer".into()));
                }
                // Each in turn, as the system path does with several addresses.
                TcpStream::connect(addresses.as_slice()).await
            }
        }
    }
}

/// `host` and `port` of `host:port` or `[v6]:port`.
fn split(address: &str) -> io::Result<(&str, u16)> {
    let invalid = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{address:?} is not a host:port address"),
        )
    };
    let (host, port) = address.rsplit_once(':').ok_or_else(invalid)?;
    let host = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    let port = port.parse().map_err(|_| invalid())?;
    match host.is_empty() {
        true => Err(invalid()),
        false => Ok((host, port)),
    }
}

/// A resolver that asks `server` alone, over UDP and then TCP: no resolv.conf, no hosts file, no
/// search domains.
fn resolver(server: SocketAddr) -> io::Result<TokioResolver> {
    let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
        .into_iter()
        .map(|mut connection| {
            connection.port = server.port();
            connection
        })
        .collect();
    let config = ResolverConfig::from_name_servers(vec![NameServerConfig::new(
        server.ip(),
        true,
        connections,
    )]);
    let mut options = ResolverOpts::default();
    options.timeout = QUERY_TIMEOUT;
    options.attempts = 1;
    options.use_hosts_file = ResolveHosts::Never;
    options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    options.try_tcp_on_error = true;
    TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(options)
        .build()
        .map_err(|e| io::Error::other(format!("a resolver for cluster DNS at {server}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::op::{Message, MessageType, OpCode};
    use hickory_resolver::proto::rr::rdata::A;
    use hickory_resolver::proto::rr::{RData, Record, RecordType};
    use std::net::Ipv4Addr;
    use std::sync::Mutex;
    use tokio::net::{TcpListener, UdpSocket};

    #[test]
    fn cluster_internal_names() {
        for internal in [
            "my-cluster-kafka-bootstrap.kafka.svc",
            "my-cluster-dual-role-0.my-cluster-kafka-brokers.kafka.svc",
            "name-service-0.name-service.mq.svc.cluster.local",
            "name-service-0.name-service.mq.svc.cluster.local.",
            "10-89-0-7.mq.pod.cluster.local",
            "Broker-0.Brokers.MQ.SVC",
        ] {
            assert!(is_cluster_internal(internal), "{internal}");
        }
        for external in [
            "localhost",
            "127.0.0.1",
            "kafka.example.com",
            "svc",
            "my.svcs",
            "service.namespace",
            "cluster.local.example.com",
            "notcluster.local",
        ] {
            assert!(!is_cluster_internal(external), "{external}");
        }
    }

    #[test]
    fn svc_names_get_the_cluster_domain() {
        assert_eq!(fully_qualified("a.b.svc"), "a.b.svc.cluster.local.");
        assert_eq!(fully_qualified("a.b.svc."), "a.b.svc.cluster.local.");
        assert_eq!(
            fully_qualified("a.b.svc.cluster.local"),
            "a.b.svc.cluster.local."
        );
    }

    #[test]
    fn addresses_split_into_host_and_port() {
        assert_eq!(split("a.b.svc:9091").unwrap(), ("a.b.svc", 9091));
        assert_eq!(split("[::1]:9093").unwrap(), ("::1", 9093));
        assert_eq!(split("127.0.0.1:1").unwrap(), ("127.0.0.1", 1));
        for invalid in ["a.b.svc", "a.b.svc:port", ":9091", "a:99999"] {
            let error = split(invalid).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{invalid}");
        }
    }

    #[tokio::test]
    async fn outside_a_pod_without_cluster_dns_a_cluster_name_is_refused() {
        let connector = Connector::placed(None, false).unwrap();
        let error = connector
            .connect("my-cluster-kafka-bootstrap.kafka.svc:9091".into())
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "my-cluster-kafka-bootstrap.kafka.svc is a cluster-internal name and this operator \
             runs outside the cluster: give --cluster-dns <address of the cluster's DNS> or \
             --kafka-connections/--rocketmq-connections"
        );
    }

    #[tokio::test]
    async fn ip_addresses_need_no_resolver() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let connector = Connector::placed(None, false).unwrap();
        let stream = connector.connect(address).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    }

    /// A DNS server on a loopback UDP port that answers every A question with 127.0.0.1 and
    /// every other one with no records, and records the names it was asked.
    async fn tiny_dns_server() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let address = socket.local_addr().unwrap();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        tokio::spawn(async move {
            let mut buffer = [0u8; 4096];
            while let Ok((size, client)) = socket.recv_from(&mut buffer).await {
                let Ok(query) = Message::from_vec(&buffer[..size]) else {
                    continue;
                };
                let mut response =
                    Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
                response.metadata.recursion_desired = query.metadata.recursion_desired;
                response.metadata.recursion_available = true;
                for question in &query.queries {
                    log.lock().unwrap().push(question.name().to_string());
                    if question.query_type() == RecordType::A {
                        let ip = RData::A(A(Ipv4Addr::LOCALHOST));
                        response.add_answer(Record::from_rdata(question.name().clone(), 5, ip));
                    }
                }
                response.add_queries(query.queries);
                let _ = socket.send_to(&response.to_vec().unwrap(), client).await;
            }
        });
        (address, asked)
    }

    #[tokio::test]
    async fn cluster_names_are_resolved_by_the_cluster_dns_server_alone() {
        let (dns, asked) = tiny_dns_server().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // In a pod or not: a given server is asked either way.
        for in_pod in [false, true] {
            let connector = Connector::placed(Some(dns), in_pod).unwrap();
            let stream = connector
                .connect(format!("broker-0.brokers.mq.svc:{port}"))
                .await
                .unwrap();
            assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
        }
        let asked = asked.lock().unwrap().clone();
        assert!(!asked.is_empty());
        assert!(
            asked
                .iter()
                .all(|name| name == "broker-0.brokers.mq.svc.cluster.local."),
            "{asked:?}"
        );
    }

    #[tokio::test]
    async fn an_unanswered_name_is_not_found() {
        // Bound and silent: no answer ever comes.
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let connector = Connector::placed(Some(silent.local_addr().unwrap()), false).unwrap();
        let error = connector
            .connect("broker-0.brokers.mq.svc:10911".into())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound, "{error}");
        assert!(
            error
                .to_string()
                .contains("no address for broker-0.brokers.mq.svc.cluster.local."),
            "{error}"
        );
    }
}
