//! The admin client itself, and how it picks a name server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::{StreamExt, TryStreamExt};
use tracing::debug;

use crate::config::ClientConfig;
use crate::error::{Error, RemotingError, Result};
use crate::frame::Command;
use crate::pool::{self, Pool};
use crate::request::Request;

/// An admin client for one RocketMQ cluster. Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct AdminClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    pool: Pool,
    /// The name server that answered last, asked first next time.
    preferred: AtomicUsize,
}

impl AdminClient {
    /// Connects lazily: each address on its first request.
    pub fn new(config: ClientConfig) -> AdminClient {
        AdminClient {
            inner: Arc::new(Inner {
                pool: Pool::new(&config),
                config,
                preferred: AtomicUsize::new(0),
            }),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Requests sent so far, by this client and its clones.
    pub fn requests_sent(&self) -> u64 {
        self.inner.pool.requests_sent()
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// Sends `request` to one name server after the other, starting with the one that answered
    /// last, until one answers; returns its address and response, whatever its code. Only
    /// failures worth retrying elsewhere (unreachable, timed out, busy) move on to the next.
    pub(crate) async fn ask_name_server(&self, request: &Request) -> Result<(String, Command)> {
        let servers = &self.inner.config.name_servers;
        if servers.is_empty() {
            return Err(Error::NoNameServer("none configured".into()));
        }
        let first = self.inner.preferred.load(Ordering::Relaxed) % servers.len();
        let mut failures = Vec::new();
        for index in (first..servers.len()).chain(0..first) {
            let address = &servers[index];
            let result = match self.pool().send(address, request).await {
                Ok(response) if response.code == RemotingError::SYSTEM_BUSY => {
                    Err(pool::remoting_error(address, request, response).into_error())
                }
                other => other,
            };
            match result {
                Ok(response) => {
                    self.inner.preferred.store(index, Ordering::Relaxed);
                    return Ok((address.clone(), response));
                }
                Err(error) if error.is_retriable() => {
                    debug!(
                        "name server {address} failed {}: {error}",
                        request.code.name
                    );
                    failures.push(error.to_string());
                }
                Err(error) => return Err(error),
            }
        }
        Err(Error::NoNameServer(failures.join("; ")))
    }

    /// Like [`ask_name_server`](Self::ask_name_server), for requests whose only good answer is
    /// SUCCESS: returns its body.
    pub(crate) async fn call_name_server(&self, request: &Request) -> Result<Vec<u8>> {
        let (address, response) = self.ask_name_server(request).await?;
        pool::success(&address, request, response)
    }

    /// Sends `request` to the broker at `broker`; returns the body of a SUCCESS response.
    pub(crate) async fn call(&self, broker: &str, request: &Request) -> Result<Vec<u8>> {
        self.pool().call(broker, request).await
    }
}

/// Requests in flight at once for calls that send many: enough to keep a pipelined connection
/// busy, few enough that the last waits for at most a few before the broker's (one at a time)
/// admin processing reaches it, within the request timeout.
const IN_FLIGHT: usize = 16;

/// Runs `calls` with at most [`IN_FLIGHT`] at once; the first error ends it.
pub(crate) async fn bounded<T>(
    calls: impl IntoIterator<Item = impl Future<Output = Result<T>>>,
) -> Result<Vec<T>> {
    // Collected first: a lazy iterator's closure kept across awaits makes callers' futures
    // fail the `Send` check that spawned tasks need.
    let calls: Vec<_> = calls.into_iter().collect();
    futures::stream::iter(calls)
        .buffer_unordered(IN_FLIGHT)
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::net::TcpListener;

    use super::*;
    use crate::connection::tests::{read_command, write_command};
    use crate::request::GET_BROKER_CLUSTER_INFO;

    /// Answers every request with `code` and a body naming `name`.
    async fn fake_name_server(name: &'static str, code: i32) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    while let Some(request) = read_command(&mut stream).await {
                        let response = Command::response(request.opaque, code, name.as_bytes());
                        write_command(&mut stream, &response).await;
                    }
                });
            }
        });
        address
    }

    async fn dead_address() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().to_string()
    }

    fn client(servers: &[&str]) -> AdminClient {
        let mut config = ClientConfig::new(&servers.join(";"));
        config.request_timeout = Duration::from_secs(2);
        AdminClient::new(config)
    }

    #[tokio::test]
    async fn name_servers_are_tried_in_turn_and_the_one_that_answered_is_kept() {
        let dead = dead_address().await;
        let busy = fake_name_server("busy", 2).await;
        let good = fake_name_server("good", 0).await;
        let client = client(&[&dead, &busy, &good]);
        let request = Request::new(GET_BROKER_CLUSTER_INFO);
        let body = client.call_name_server(&request).await.unwrap();
        assert_eq!(body, b"good");
        // The refused connect is not a request sent; the busy one and the good one are.
        assert_eq!(client.requests_sent(), 2);
        let body = client.clone().call_name_server(&request).await.unwrap();
        assert_eq!(body, b"good");
        assert_eq!(
            client.requests_sent(),
            3,
            "straight to the one that answered"
        );
    }

    #[tokio::test]
    async fn a_definite_error_is_not_retried_elsewhere() {
        let denied = fake_name_server("denied", 16).await;
        let good = fake_name_server("good", 0).await;
        let client = client(&[&denied, &good]);
        let result = client
            .call_name_server(&Request::new(GET_BROKER_CLUSTER_INFO))
            .await;
        assert!(matches!(result, Err(Error::NoPermission(e)) if e.remark.is_empty()));
    }

    #[tokio::test]
    async fn no_name_server_answering_lists_what_failed() {
        let dead = dead_address().await;
        let client = client(&[&dead]);
        match client
            .call_name_server(&Request::new(GET_BROKER_CLUSTER_INFO))
            .await
        {
            Err(Error::NoNameServer(message)) => assert!(message.contains(&dead), "{message}"),
            other => panic!("expected NoNameServer, got {other:?}"),
        }
        let none = AdminClient::new(ClientConfig::new(""));
        assert!(matches!(
            none.call_name_server(&Request::new(GET_BROKER_CLUSTER_INFO))
                .await,
            Err(Error::NoNameServer(_))
        ));
    }

    #[tokio::test]
    async fn name_servers_and_brokers_are_reached_through_the_connector() {
        let name_server = fake_name_server("names", 0).await;
        let broker = fake_name_server("broker", 0).await;
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = asked.clone();
        let connector = crate::Connector::new(move |address: String| {
            log.lock().unwrap().push(address.clone());
            let target = match address.as_str() {
                "names-0.names.mq.svc:9876" => name_server.clone(),
                _ => broker.clone(),
            };
            tokio::net::TcpStream::connect(target)
        });
        let mut config = ClientConfig::new("names-0.names.mq.svc:9876");
        config.connector = Some(connector);
        let client = AdminClient::new(config);
        let request = Request::new(GET_BROKER_CLUSTER_INFO);
        assert_eq!(client.call_name_server(&request).await.unwrap(), b"names");
        let body = client
            .pool()
            .call("broker-0.brokers.mq.svc:10911", &request);
        assert_eq!(body.await.unwrap(), b"broker");
        assert_eq!(
            *asked.lock().unwrap(),
            ["names-0.names.mq.svc:9876", "broker-0.brokers.mq.svc:10911"]
        );
    }

    #[test]
    fn the_client_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<AdminClient>();
    }
}
