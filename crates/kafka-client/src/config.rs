//! What the client connects to and how: bootstrap servers, TLS, SASL, timeouts, and what opens
//! the TCP connections.

use std::fmt;
use std::time::Duration;

pub use pipeline::Connector;

/// How to reach and authenticate to a Kafka cluster.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// `host:port` of one or more brokers; the rest of the cluster is found through them.
    pub bootstrap_servers: Vec<String>,
    /// Sent with every request; shows up in broker logs and quotas.
    pub client_id: String,
    pub tls: Option<TlsConfig>,
    pub sasl: Option<SaslConfig>,
    /// For the TCP connection and the TLS handshake, per broker.
    pub connect_timeout: Duration,
    /// For a whole call, retries included.
    pub request_timeout: Duration,
    /// Opens the TCP connections; `None`: `TcpStream::connect`, through the machine's resolver.
    pub connector: Option<Connector>,
}

impl ClientConfig {
    /// A plain-text, unauthenticated configuration with the default client ID and timeouts.
    /// Each entry may list several servers separated by commas, as Kafka's
    /// `bootstrap.servers` does.
    pub fn new(bootstrap_servers: impl IntoIterator<Item = impl Into<String>>) -> ClientConfig {
        let bootstrap_servers = bootstrap_servers
            .into_iter()
            .flat_map(|servers| {
                let servers: String = servers.into();
                servers
                    .split(',')
                    .map(str::trim)
                    .filter(|server| !server.is_empty())
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect();
        ClientConfig {
            bootstrap_servers,
            client_id: "brokerage".to_string(),
            tls: None,
            sasl: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            connector: None,
        }
    }
}

// By hand: the derived form would print passwords and private keys into logs.
impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("client_id", &self.client_id)
            .field("tls", &self.tls)
            .field("sasl", &self.sasl)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("connector", &self.connector)
            .finish()
    }
}

/// TLS to the brokers, trusting only `ca_pem`.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// One or more PEM certificates the brokers' certificates must chain to.
    pub ca_pem: String,
    /// For listeners that require client authentication (mutual TLS).
    pub client_certificate: Option<ClientCertificate>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca_pem", &format_args!("<{} bytes>", self.ca_pem.len()))
            .field("client_certificate", &self.client_certificate)
            .finish()
    }
}

/// A client certificate chain and its private key (PKCS#8, SEC1 or PKCS#1), as PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    pub certificate_pem: String,
    pub key_pem: String,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field(
                "certificate_pem",
                &format_args!("<{} bytes>", self.certificate_pem.len()),
            )
            .field("key_pem", &format_args!("<redacted>"))
            .finish()
    }
}

/// SASL authentication after connecting (and after the TLS handshake, if any).
#[derive(Clone, PartialEq, Eq)]
pub enum SaslConfig {
    Plain { username: String, password: String },
    ScramSha512 { username: String, password: String },
}

impl SaslConfig {
    pub(crate) fn mechanism(&self) -> &'static str {
        match self {
            SaslConfig::Plain { .. } => "PLAIN",
            SaslConfig::ScramSha512 { .. } => "SCRAM-SHA-512",
        }
    }
}

impl fmt::Debug for SaslConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, username) = match self {
            SaslConfig::Plain { username, .. } => ("Plain", username),
            SaslConfig::ScramSha512 { username, .. } => ("ScramSha512", username),
        };
        f.debug_struct(name)
            .field("username", username)
            .field("password", &format_args!("<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpStream;

    use super::*;

    #[test]
    fn bootstrap_servers_may_be_comma_separated() {
        let config = ClientConfig::new(["a:9092, b:9092", "c:9092"]);
        assert_eq!(config.bootstrap_servers, ["a:9092", "b:9092", "c:9092"]);
    }

    #[test]
    fn defaults() {
        let config = ClientConfig::new(["a:9092", "b:9092"]);
        assert_eq!(config.bootstrap_servers, ["a:9092", "b:9092"]);
        assert_eq!(config.client_id, "brokerage");
        assert_eq!(config.connect_timeout, Duration::from_secs(10));
        assert_eq!(config.request_timeout, Duration::from_secs(30));
        assert!(config.tls.is_none() && config.sasl.is_none());
        assert!(config.connector.is_none());
    }

    #[test]
    fn configurations_are_equal_only_with_the_same_connector() {
        let connector = || Connector::new(TcpStream::connect::<String>);
        let (one, other) = (connector(), connector());
        let with = |connector: &Connector| ClientConfig {
            connector: Some(connector.clone()),
            ..ClientConfig::new(["a:9092"])
        };
        assert_eq!(with(&one), with(&one));
        assert_ne!(with(&one), with(&other));
        assert_ne!(with(&one), ClientConfig::new(["a:9092"]));
    }

    #[test]
    fn debug_hides_secrets() {
        let mut config = ClientConfig::new(["a:9092"]);
        config.sasl = Some(SaslConfig::ScramSha512 {
            username: "alice".into(),
            password: "hunter2".into(),
        });
        config.tls = Some(TlsConfig {
            ca_pem: "CA-PEM".into(),
            client_certificate: Some(ClientCertificate {
                certificate_pem: "CERT-PEM".into(),
                key_pem: "SECRET-KEY".into(),
            }),
        });
        let printed = format!("{config:?}");
        assert!(printed.contains("alice"), "{printed}");
        for secret in ["hunter2", "SECRET-KEY"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}
