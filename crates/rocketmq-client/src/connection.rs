//! One connection to one name server or broker, with any number of requests in flight, matched
//! to their responses by `opaque` (the pipeline the Kafka client shares).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pipeline::{Codec, Failure, Io, Pipeline};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;
use tracing::debug;

use crate::config::Connector;
use crate::error::Error;
use crate::frame::{self, Command, MAX_FRAME};
use crate::tls;

/// RocketMQ's remoting frames, matched by `opaque`.
struct Remoting;

impl Codec for Remoting {
    type Response = Command;
    const PROTOCOL: &'static str = "RocketMQ";
    const MAX_FRAME: usize = MAX_FRAME;

    fn decode(frame: Bytes) -> Result<Option<(i32, Command)>, String> {
        let command = frame::decode(&frame).map_err(|e| e.to_string())?;
        if !command.is_response() {
            // Servers ask clients things (consumer status, transaction checks) only of the
            // producers and consumers that registered with a heartbeat, which this client
            // never sends.
            debug!("request code {} from a server; ignored", command.code);
            return Ok(None);
        }
        Ok(Some((command.opaque, command)))
    }
}

pub(crate) struct Connection {
    pipeline: Pipeline<Remoting>,
}

impl Connection {
    /// Connects through `connector`, else the machine's resolver, then, with `tls`, makes the
    /// TLS handshake, verifying the certificate for its server name if it has one, else for
    /// the host of `address`; `timeout` bounds each.
    pub(crate) async fn open(
        address: &str,
        connector: Option<&Connector>,
        tls: Option<(Arc<rustls::ClientConfig>, Option<&str>)>,
        timeout: Duration,
    ) -> Result<Connection, Error> {
        let connect_error = |source| Error::Connect {
            address: address.to_string(),
            source,
        };
        let connect = async {
            match connector {
                Some(connector) => connector.connect(address).await,
                None => TcpStream::connect(address).await,
            }
        };
        let tcp = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| {
                connect_error(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no connection after {timeout:?}"),
                ))
            })?
            .map_err(connect_error)?;
        // Requests are small and latency matters more than packet count.
        tcp.set_nodelay(true).map_err(connect_error)?;
        let stream: Box<dyn Io> = match tls {
            None => Box::new(tcp),
            Some((config, server_name)) => {
                let server_name = tls::server_name(server_name, address)?;
                let handshake = TlsConnector::from(config).connect(server_name, tcp);
                let stream = tokio::time::timeout(timeout, handshake)
                    .await
                    .map_err(|_| {
                        Error::Tls(format!("no TLS handshake with {address} after {timeout:?}"))
                    })?
                    .map_err(|e| match e.kind() {
                        // What rustls refused: the certificate, or a server that speaks no TLS.
                        std::io::ErrorKind::InvalidData => {
                            Error::Tls(format!("handshake with {address} failed: {e}"))
                        }
                        _ => connect_error(e),
                    })?;
                Box::new(stream)
            }
        };
        debug!("connected to {address}");
        Ok(Connection {
            pipeline: Pipeline::start(address, stream),
        })
    }

    pub(crate) fn address(&self) -> &str {
        self.pipeline.address()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.pipeline.is_closed()
    }

    /// Closes the connection for good: waiting requests fail, the socket is dropped.
    pub(crate) fn close(&self, reason: String) {
        self.pipeline.close(reason);
    }

    /// Sends `command` (its opaque is set here) and waits for the response to it. A request
    /// not answered in time closes the connection: the next one reconnects.
    pub(crate) async fn request(
        &self,
        mut command: Command,
        name: &'static str,
        timeout: Duration,
    ) -> Result<Command, Error> {
        command.opaque = self.pipeline.next_key();
        let frame = Bytes::from(frame::encode(&command)?);
        let answer = self
            .pipeline
            .round_trip(command.opaque, frame, timeout, name);
        answer.await.map_err(|failure| match failure {
            Failure::Closed { reason, tls: true } => Error::Tls(reason),
            Failure::Closed { reason, tls: false } => Error::ConnectionClosed {
                address: self.address().to_string(),
                reason,
            },
            Failure::TimedOut => Error::Timeout {
                request: name,
                address: self.address().to_string(),
                timeout,
            },
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Reads one frame as a server does; `None` at the end of the stream.
    pub(crate) async fn read_command(stream: &mut TcpStream) -> Option<Command> {
        let mut length = [0u8; 4];
        stream.read_exact(&mut length).await.ok()?;
        let mut frame = vec![0u8; u32::from_be_bytes(length) as usize];
        stream.read_exact(&mut frame).await.ok()?;
        Some(frame::decode(&frame).expect("the client sends valid frames"))
    }

    pub(crate) async fn write_command(stream: &mut TcpStream, command: &Command) {
        let frame = frame::encode(command).unwrap();
        stream.write_all(&frame).await.unwrap();
    }

    fn request(topic: &str) -> Command {
        Command {
            code: 105,
            ext_fields: [("topic".to_string(), topic.to_string())].into(),
            ..Command::default()
        }
    }

    /// Takes two requests, sends a request of its own, then answers them in reverse order, each
    /// with the topic it asked for, then reads whatever comes without answering.
    async fn fake_server(listener: TcpListener) -> Vec<String> {
        let (mut stream, _) = listener.accept().await.unwrap();
        let first = read_command(&mut stream).await.unwrap();
        let second = read_command(&mut stream).await.unwrap();
        assert_ne!(first.opaque, second.opaque);
        let server_request = Command {
            code: 40, // NOTIFY_CONSUMER_IDS_CHANGED
            opaque: first.opaque,
            ..Command::default()
        };
        write_command(&mut stream, &server_request).await;
        let mut answered = Vec::new();
        for request in [second, first] {
            let topic = request.ext_fields["topic"].clone();
            write_command(
                &mut stream,
                &Command::response(request.opaque, 0, topic.as_bytes()),
            )
            .await;
            answered.push(topic);
        }
        while read_command(&mut stream).await.is_some() {}
        answered
    }

    #[tokio::test]
    async fn requests_are_pipelined_and_matched_by_opaque() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(fake_server(listener));
        let connection = Connection::open(&address, None, None, Duration::from_secs(5))
            .await
            .unwrap();

        let timeout = Duration::from_secs(5);
        let (one, two) = tokio::join!(
            connection.request(request("one"), "GET_ROUTEINFO_BY_TOPIC", timeout),
            connection.request(request("two"), "GET_ROUTEINFO_BY_TOPIC", timeout),
        );
        assert_eq!(one.unwrap().body, b"one");
        assert_eq!(two.unwrap().body, b"two");

        // Unanswered: a timeout, after which the connection is closed for good.
        let unanswered = connection
            .request(
                request("three"),
                "GET_ROUTEINFO_BY_TOPIC",
                Duration::from_millis(300),
            )
            .await;
        assert!(matches!(
            unanswered,
            Err(Error::Timeout {
                request: "GET_ROUTEINFO_BY_TOPIC",
                ..
            })
        ));
        assert!(connection.is_closed());
        let after = connection
            .request(request("four"), "GET_ROUTEINFO_BY_TOPIC", timeout)
            .await;
        assert!(matches!(after, Err(Error::ConnectionClosed { .. })));

        // Both were in flight before either was answered.
        assert_eq!(server.await.unwrap(), ["two", "one"]);
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        // Accepts and holds the connection, never answering.
        let silent = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            while read_command(&mut stream).await.is_some() {}
        });
        let connection = Connection::open(&address, None, None, Duration::from_secs(5))
            .await
            .unwrap();
        let started = tokio::time::Instant::now();
        let result = connection
            .request(
                request("t"),
                "GET_ROUTEINFO_BY_TOPIC",
                Duration::from_millis(200),
            )
            .await;
        assert!(
            matches!(result, Err(Error::Timeout { timeout, .. }) if timeout == Duration::from_millis(200))
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(connection);
        silent.await.unwrap();
    }

    #[tokio::test]
    async fn a_length_above_the_frame_limit_closes_the_connection_without_allocating() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            read_command(&mut stream).await.unwrap();
            let length = u32::try_from(MAX_FRAME + 1).unwrap();
            stream.write_all(&length.to_be_bytes()).await.unwrap();
            while read_command(&mut stream).await.is_some() {}
        });
        let connection = Connection::open(&address, None, None, Duration::from_secs(5))
            .await
            .unwrap();
        let result = connection
            .request(
                request("t"),
                "GET_ROUTEINFO_BY_TOPIC",
                Duration::from_secs(5),
            )
            .await;
        match result {
            Err(Error::ConnectionClosed { reason, .. }) => {
                assert!(
                    reason.contains(&format!("{} bytes", MAX_FRAME + 1)),
                    "{reason}"
                )
            }
            other => panic!("expected a closed connection, got {other:?}"),
        }
        assert_eq!(MAX_FRAME, 16 * 1024 * 1024);
    }

    #[tokio::test]
    async fn nothing_listening_is_a_connect_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        drop(listener);
        match Connection::open(&address, None, None, Duration::from_secs(5)).await {
            Err(Error::Connect {
                address: failed, ..
            }) => assert_eq!(failed, address),
            Err(other) => panic!("expected a connect error, got {other}"),
            Ok(_) => panic!("connected to nothing"),
        }
    }
}
