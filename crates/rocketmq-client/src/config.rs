//! What the client connects to and how: name servers, timeouts and ACL credentials.

use std::fmt;
use std::time::Duration;

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
    /// Signs every request (ACL 1.0 and 2.0) when set.
    pub credentials: Option<Credentials>,
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
            credentials: None,
        }
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
    use super::*;

    #[test]
    fn name_servers_split_on_semicolons_and_commas() {
        let config = ClientConfig::new(" a:9876; b:9876,,c:9876 ;");
        assert_eq!(config.name_servers, ["a:9876", "b:9876", "c:9876"]);
        assert_eq!(config.connect_timeout, Duration::from_secs(5));
        assert_eq!(config.request_timeout, Duration::from_secs(10));
        assert_eq!(config.credentials, None);
        assert!(ClientConfig::new(" ; ").name_servers.is_empty());
    }

    #[test]
    fn debug_hides_the_secret_key() {
        let credentials = Credentials {
            access_key: "admin".into(),
            secret_key: "hunter2".into(),
        };
        let printed = format!("{credentials:?}");
        assert!(printed.contains("admin"));
        assert!(!printed.contains("hunter2"));
    }
}
