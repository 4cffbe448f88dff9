//! What the client connects to and how: name servers, timeouts, TLS, ACL credentials, and what
//! opens the TCP connections.

use std::fmt;
use std::time::Duration;

pub use pipeline::Connector;

/// How to reach and authenticate to a RocketMQ cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// `host:port` of the name servers; brokers are addressed directly by the calls that need
    /// one.
    pub name_servers: Vec<String>,
    /// For the TCP connection, per address.
    pub connect_timeout: Duration,
    /// For one request and its response.
    pub request_timeout: Duration,
    /// TLS to brokers, and to name servers unless it says otherwise; `None`: plain TCP.
    pub tls: Option<TlsConfig>,
    /// Signs every request (ACL 1.0 and 2.0) when set.
    pub credentials: Option<Credentials>,
    /// Opens the TCP connections, to name servers and brokers alike; `None`:
    /// `TcpStream::connect`, through the machine's resolver.
    pub connector: Option<Connector>,
}

impl ClientConfig {
    /// Name servers as RocketMQ writes them (`namesrvAddr`: separated by `;`, commas accepted
    /// too), with the default timeouts and no credentials.
    pub fn new(name_servers: &str) -> ClientConfig {
        ClientConfig {
            name_servers: name_servers
                .split([';', ','])
                .map(str::trim)
                .filter(|server| !server.is_empty())
                .map(String::from)
                .collect(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            tls: None,
            credentials: None,
            connector: None,
        }
    }
}

/// TLS to the servers, trusting only `ca_pem`, as RocketMQ's clients do with `tls.enable` and
/// `tls.client.authServer`. The servers must run with `tls.server.mode` `enforcing` (or
/// `permissive`, which also accepts plain TCP) and a certificate chaining to `ca_pem` for the
/// host they are reached at, or for `server_name`.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// One or more PEM certificates the servers' certificates must chain to.
    pub ca_pem: String,
    /// The name every server's certificate must carry, in place of the host it is reached at:
    /// brokers register by pod IP, which no certificate issued before the pod started can
    /// name, so a cluster with a CA of its own names its Service instead.
    pub server_name: Option<String>,
    /// Whether name servers are reached over TLS too; `false`: brokers only, for name servers
    /// that serve plain TCP (they hold routes, never credentials).
    pub name_servers: bool,
}

impl TlsConfig {
    /// TLS to name servers and brokers alike, each verified for the host it is reached at.
    pub fn new(ca_pem: impl Into<String>) -> TlsConfig {
        TlsConfig {
            ca_pem: ca_pem.into(),
            server_name: None,
            name_servers: true,
        }
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca_pem", &format_args!("<{} bytes>", self.ca_pem.len()))
            .field("server_name", &self.server_name)
            .field("name_servers", &self.name_servers)
            .finish()
    }
}

/// An ACL user: RocketMQ calls the username the access key and the password the secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
}

// By hand: the derived form would print the secret key into logs.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpStream;

    use super::*;

    #[test]
    fn name_servers_split_on_semicolons_and_commas() {
        let config = ClientConfig::new(" a:9876; b:9876,,c:9876 ;");
        assert_eq!(config.name_servers, ["a:9876", "b:9876", "c:9876"]);
        assert_eq!(config.connect_timeout, Duration::from_secs(5));
        assert_eq!(config.request_timeout, Duration::from_secs(10));
        assert_eq!(config.tls, None);
        assert_eq!(config.credentials, None);
        assert_eq!(config.connector, None);
        assert!(ClientConfig::new(" ; ").name_servers.is_empty());
    }

    #[test]
    fn configurations_are_equal_only_with_the_same_connector() {
        let connector = || Connector::new(TcpStream::connect::<String>);
        let (one, other) = (connector(), connector());
        let with = |connector: &Connector| ClientConfig {
            connector: Some(connector.clone()),
            ..ClientConfig::new("a:9876")
        };
        assert_eq!(with(&one), with(&one));
        assert_ne!(with(&one), with(&other));
        assert_ne!(with(&one), ClientConfig::new("a:9876"));
    }

    #[test]
    fn debug_hides_the_secret_key() {
        let mut config = ClientConfig::new("a:9876");
        config.credentials = Some(Credentials {
            access_key: "admin".into(),
            secret_key: "hunter2".into(),
        });
        let printed = format!("{config:?}");
        assert!(printed.contains("admin"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
