//! One connection to one broker: TCP, then TLS and SASL if configured, then any number of
//! requests in flight at once, matched to their responses by correlation ID (the pipeline the
//! RocketMQ client shares).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiVersionsRequest, ApiVersionsResponse, SaslAuthenticateRequest, SaslAuthenticateResponse,
    SaslHandshakeRequest,
};
use kafka_protocol::protocol::{StrBytes, VersionRange};
use pipeline::{Codec, Failure, Io, Pipeline};
use tokio::net::TcpStream;
use tokio_rustls::{TlsConnector, rustls};
use tracing::debug;

use crate::config::{Connector, SaslConfig};
use crate::error::{Error, KafkaError};
use crate::frame::{self, AdminRequest, MAX_FRAME};
use crate::scram::ScramClient;
use crate::tls;

/// What every connection of a client is opened with.
pub(crate) struct Settings {
    pub(crate) client_id: String,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    pub(crate) sasl: Option<SaslConfig>,
    pub(crate) connector: Option<Connector>,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
}

/// Kafka's frames, matched by correlation ID.
struct Kafka;

impl Codec for Kafka {
    type Response = Bytes;
    const PROTOCOL: &'static str = "Kafka";
    const MAX_FRAME: usize = MAX_FRAME;

    fn decode(frame: Bytes) -> Result<Option<(i32, Bytes)>, String> {
        let correlation_id =
            frame::correlation_id(&frame).ok_or("a response without a correlation ID")?;
        Ok(Some((correlation_id, frame)))
    }
}

pub(crate) struct Connection {
    pipeline: Pipeline<Kafka>,
    client_id: String,
    /// The broker's supported versions per API key, from ApiVersions.
    versions: HashMap<i16, VersionRange>,
}

impl Connection {
    /// Connects, negotiates API versions and authenticates.
    pub(crate) async fn open(address: &str, settings: &Settings) -> Result<Connection, Error> {
        let connect_error = |source| Error::Connect {
            address: address.to_string(),
            source,
        };
        let connect = async {
            match &settings.connector {
                Some(connector) => connector.connect(address).await,
                None => TcpStream::connect(address).await,
            }
        };
        let tcp = tokio::time::timeout(settings.connect_timeout, connect)
            .await
            .map_err(|_| {
                connect_error(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no connection after {:?}", settings.connect_timeout),
                ))
            })?
            .map_err(connect_error)?;
        // Requests are small and latency matters more than packet count.
        tcp.set_nodelay(true).map_err(connect_error)?;
        let stream: Box<dyn Io> = match &settings.tls {
            None => Box::new(tcp),
            Some(config) => {
                let server_name = tls::server_name(address)?;
                let handshake = TlsConnector::from(config.clone()).connect(server_name, tcp);
                let stream = tokio::time::timeout(settings.connect_timeout, handshake)
                    .await
                    .map_err(|_| {
                        Error::Tls(format!(
                            "no TLS handshake with {address} after {:?}",
                            settings.connect_timeout
                        ))
                    })?
                    .map_err(|e| Error::Tls(format!("handshake with {address} failed: {e}")))?;
                Box::new(stream)
            }
        };
        let mut connection = Connection::start(address, &settings.client_id, stream);
        connection.versions = connection.negotiate(settings.request_timeout).await?;
        if let Some(sasl) = &settings.sasl {
            connection
                .authenticate(sasl, settings.request_timeout)
                .await?;
        }
        Ok(connection)
    }

    fn start(address: &str, client_id: &str, stream: Box<dyn Io>) -> Connection {
        Connection {
            pipeline: Pipeline::start(address, stream),
            client_id: client_id.to_string(),
            versions: HashMap::new(),
        }
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

    /// Sends a request at the highest version both sides support, built for that version.
    pub(crate) async fn request<R: AdminRequest>(
        &self,
        build: impl FnOnce(i16) -> R,
        timeout: Duration,
    ) -> Result<R::Response, Error> {
        let version = self.version::<R>()?;
        self.request_at(version, &build(version), timeout).await
    }

    fn version<R: AdminRequest>(&self) -> Result<i16, Error> {
        self.versions
            .get(&(R::KEY as i16))
            .map(|theirs| R::VERSIONS.intersect(theirs))
            .filter(|both| !both.is_empty())
            .map(|both| both.max)
            .ok_or_else(|| Error::UnsupportedVersion {
                api: R::NAME,
                address: self.address().to_string(),
            })
    }

    async fn request_at<R: AdminRequest>(
        &self,
        version: i16,
        request: &R,
        timeout: Duration,
    ) -> Result<R::Response, Error> {
        let frame = self.round_trip::<R>(version, request, timeout).await?;
        frame::decode_response::<R>(frame, version).map_err(|e| self.with_address(e))
    }

    async fn round_trip<R: AdminRequest>(
        &self,
        version: i16,
        request: &R,
        timeout: Duration,
    ) -> Result<Bytes, Error> {
        let correlation_id = self.pipeline.next_key();
        let frame = frame::encode_request(request, version, correlation_id, &self.client_id)?;
        let answer = self
            .pipeline
            .round_trip(correlation_id, frame, timeout, R::NAME);
        answer.await.map_err(|failure| match failure {
            Failure::Closed { reason, tls: true } => Error::Tls(reason),
            Failure::Closed { reason, tls: false } => Error::ConnectionClosed(reason),
            Failure::TimedOut => Error::Timeout {
                api: R::NAME,
                address: self.address().to_string(),
            },
        })
    }

    fn with_address(&self, error: Error) -> Error {
        match error {
            Error::Protocol(message) => {
                Error::Protocol(format!("{message} (from {})", self.address()))
            }
            other => other,
        }
    }

    /// ApiVersions at our highest version; a broker that does not know it answers at v0 with
    /// UNSUPPORTED_VERSION and its own range, and is asked again within that range.
    async fn negotiate(&self, timeout: Duration) -> Result<HashMap<i16, VersionRange>, Error> {
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("brokerage-kafka-client"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let ours = <ApiVersionsRequest as AdminRequest>::VERSIONS;
        let mut version = ours.max;
        let response = loop {
            let frame = self.round_trip(version, &request, timeout).await?;
            // The response header of ApiVersions is always v0 (4 bytes), and every version's
            // body starts with the error code.
            let code = frame
                .get(4..6)
                .map(|code| i16::from_be_bytes([code[0], code[1]]));
            if code == Some(KafkaError::UNSUPPORTED_VERSION) && version > 0 {
                let v0: ApiVersionsResponse =
                    frame::decode_response::<ApiVersionsRequest>(frame, 0)
                        .map_err(|e| self.with_address(e))?;
                let theirs = v0
                    .api_keys
                    .iter()
                    .find(|key| key.api_key == ApiVersionsRequest::KEY as i16)
                    .map_or(0, |key| key.max_version);
                version = theirs.clamp(ours.min, version - 1);
                continue;
            }
            break frame::decode_response::<ApiVersionsRequest>(frame, version)
                .map_err(|e| self.with_address(e))?;
        };
        KafkaError::check(response.error_code, None).map_err(Error::Kafka)?;
        Ok(response
            .api_keys
            .iter()
            .map(|key| {
                let range = VersionRange {
                    min: key.min_version,
                    max: key.max_version,
                };
                (key.api_key, range)
            })
            .collect())
    }

    async fn authenticate(&self, sasl: &SaslConfig, timeout: Duration) -> Result<(), Error> {
        let mechanism = sasl.mechanism();
        let handshake = self
            .request(
                |_| {
                    SaslHandshakeRequest::default()
                        .with_mechanism(StrBytes::from_static_str(mechanism))
                },
                timeout,
            )
            .await?;
        if handshake.error_code == KafkaError::UNSUPPORTED_SASL_MECHANISM {
            let offered: Vec<&str> = handshake.mechanisms.iter().map(|m| m.as_str()).collect();
            return Err(Error::Authentication(format!(
                "{} does not offer {mechanism} (it offers: {})",
                self.address(),
                offered.join(", ")
            )));
        }
        KafkaError::check(handshake.error_code, None).map_err(|e| {
            Error::Authentication(format!("SASL handshake with {}: {e}", self.address()))
        })?;
        match sasl {
            SaslConfig::Plain { username, password } => {
                // authzid (empty), authcid, password, separated by NUL.
                let token = format!("\0{username}\0{password}");
                self.sasl_step(Bytes::from(token), timeout).await?;
            }
            SaslConfig::ScramSha512 { username, password } => {
                let mut scram = ScramClient::new(username, password);
                let server_first = self
                    .sasl_step(Bytes::from(scram.first_message()), timeout)
                    .await?;
                let client_final = scram.final_message(&server_first)?;
                let server_final = self.sasl_step(Bytes::from(client_final), timeout).await?;
                scram.verify_server_final(&server_final)?;
            }
        }
        debug!("authenticated to {} with {mechanism}", self.address());
        Ok(())
    }

    /// One SaslAuthenticate round trip: our token out, the server's back.
    async fn sasl_step(&self, token: Bytes, timeout: Duration) -> Result<Bytes, Error> {
        let response: SaslAuthenticateResponse = self
            .request(
                |_| SaslAuthenticateRequest::default().with_auth_bytes(token),
                timeout,
            )
            .await?;
        KafkaError::check(
            response.error_code,
            response.error_message.as_ref().map(|m| m.as_str()),
        )
        .map_err(|e| {
            let name = e.name();
            Error::Authentication(e.message.unwrap_or_else(|| name.to_string()))
        })?;
        Ok(response.auth_bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::cluster::metadata_request;
    use kafka_protocol::messages::{CreateTopicsRequest, MetadataRequest, MetadataResponse};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    async fn read_frame(stream: &mut TcpStream) -> Option<Vec<u8>> {
        let mut size = [0u8; 4];
        stream.read_exact(&mut size).await.ok()?;
        let mut frame = vec![0u8; i32::from_be_bytes(size) as usize];
        stream.read_exact(&mut frame).await.ok()?;
        Some(frame)
    }

    async fn write_frame(stream: &mut TcpStream, frame: &[u8]) {
        stream
            .write_all(&(frame.len() as i32).to_be_bytes())
            .await
            .unwrap();
        stream.write_all(frame).await.unwrap();
    }

    fn i16_at(frame: &[u8], at: usize) -> i16 {
        i16::from_be_bytes([frame[at], frame[at + 1]])
    }

    /// ApiVersions v0 body: the error code and the API keys this fake serves.
    fn api_versions(correlation_id: &[u8], error_code: i16) -> Vec<u8> {
        let mut frame = correlation_id.to_vec();
        frame.extend_from_slice(&error_code.to_be_bytes());
        frame.extend_from_slice(&2i32.to_be_bytes());
        for (key, min, max) in [(18i16, 0i16, 0i16), (3, 1, 1)] {
            for value in [key, min, max] {
                frame.extend_from_slice(&value.to_be_bytes());
            }
        }
        frame
    }

    /// The first topic name of a Metadata v1 request, and a v1 response naming it back.
    fn metadata_echo(request: &[u8]) -> (String, Vec<u8>) {
        // Header v1: key, version, correlation ID, client ID (int16 length + bytes).
        let client_id_length = i16_at(request, 8) as usize;
        let body = &request[10 + client_id_length..];
        let name_length = i16_at(body, 4) as usize;
        let name = String::from_utf8(body[6..6 + name_length].to_vec()).unwrap();

        let mut response = request[4..8].to_vec(); // correlation ID
        response.extend_from_slice(&1i32.to_be_bytes()); // one broker
        response.extend_from_slice(&0i32.to_be_bytes());
        response.extend_from_slice(&4i16.to_be_bytes());
        response.extend_from_slice(b"fake");
        response.extend_from_slice(&9092i32.to_be_bytes());
        response.extend_from_slice(&(-1i16).to_be_bytes()); // no rack
        response.extend_from_slice(&0i32.to_be_bytes()); // controller
        response.extend_from_slice(&1i32.to_be_bytes()); // one topic
        response.extend_from_slice(&0i16.to_be_bytes());
        response.extend_from_slice(&(name.len() as i16).to_be_bytes());
        response.extend_from_slice(name.as_bytes());
        response.push(0); // not internal
        response.extend_from_slice(&0i32.to_be_bytes()); // no partitions
        (name, response)
    }

    /// A broker that knows only ApiVersions v0 and Metadata v1, takes two Metadata requests,
    /// answers them in reverse order, then reads whatever comes without answering.
    async fn fake_broker(listener: TcpListener) -> Vec<String> {
        let (mut stream, _) = listener.accept().await.unwrap();
        let request = read_frame(&mut stream).await.unwrap();
        assert_eq!(i16_at(&request, 0), 18, "ApiVersions first");
        assert_eq!(i16_at(&request, 2), 4, "at our highest version");
        write_frame(&mut stream, &api_versions(&request[4..8], 35)).await;
        let request = read_frame(&mut stream).await.unwrap();
        assert_eq!(
            (i16_at(&request, 0), i16_at(&request, 2)),
            (18, 0),
            "v0 next"
        );
        write_frame(&mut stream, &api_versions(&request[4..8], 0)).await;

        let first = metadata_echo(&read_frame(&mut stream).await.unwrap());
        let second = metadata_echo(&read_frame(&mut stream).await.unwrap());
        write_frame(&mut stream, &second.1).await;
        write_frame(&mut stream, &first.1).await;
        while read_frame(&mut stream).await.is_some() {}
        vec![second.0, first.0]
    }

    #[tokio::test]
    async fn requests_are_pipelined_and_matched_by_correlation_id() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let broker = tokio::spawn(fake_broker(listener));
        let settings = Settings {
            client_id: "test".into(),
            tls: None,
            sasl: None,
            connector: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
        };
        let connection = Connection::open(&address, &settings).await.unwrap();
        assert_eq!(connection.version::<MetadataRequest>().unwrap(), 1);
        assert!(matches!(
            connection.version::<CreateTopicsRequest>(),
            Err(Error::UnsupportedVersion {
                api: "CreateTopics",
                ..
            })
        ));

        let timeout = Duration::from_secs(5);
        let (one, two) = tokio::join!(
            connection.request(metadata_request(Some(&["one".to_string()])), timeout),
            connection.request(metadata_request(Some(&["two".to_string()])), timeout),
        );
        let name =
            |response: MetadataResponse| response.topics[0].name.as_ref().unwrap().to_string();
        assert_eq!(name(one.unwrap()), "one");
        assert_eq!(name(two.unwrap()), "two");

        // Unanswered: a timeout, after which the connection is closed for good.
        let unanswered = connection
            .request(
                metadata_request(Some(&["three".to_string()])),
                Duration::from_millis(300),
            )
            .await;
        assert!(matches!(
            unanswered,
            Err(Error::Timeout {
                api: "Metadata",
                ..
            })
        ));
        assert!(connection.is_closed());
        let after = connection
            .request(metadata_request(Some(&[])), timeout)
            .await;
        assert!(matches!(after, Err(Error::ConnectionClosed(_))));

        // Both requests were in flight before either was answered.
        let answered = broker.await.unwrap();
        assert_eq!(answered.len(), 2);
        assert_ne!(answered[0], answered[1]);
    }

    #[tokio::test]
    async fn nothing_listening_is_a_connect_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        drop(listener);
        let settings = Settings {
            client_id: "test".into(),
            tls: None,
            sasl: None,
            connector: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
        };
        let result = Connection::open(&address, &settings).await;
        match result {
            Err(Error::Connect {
                address: failed, ..
            }) => assert_eq!(failed, address),
            Err(other) => panic!("expected a connect error, got {other}"),
            Ok(_) => panic!("connected to nothing"),
        }
    }

    #[tokio::test]
    async fn a_response_above_the_frame_limit_closes_the_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            read_frame(&mut stream).await.unwrap();
            let size = i32::try_from(MAX_FRAME + 1).unwrap();
            stream.write_all(&size.to_be_bytes()).await.unwrap();
            while read_frame(&mut stream).await.is_some() {}
        });
        let settings = Settings {
            client_id: "test".into(),
            tls: None,
            sasl: None,
            connector: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
        };
        match Connection::open(&address, &settings).await {
            Err(error) => {
                let expected = format!("a frame of {} bytes", MAX_FRAME + 1);
                assert!(error.to_string().contains(&expected), "{error}");
            }
            Ok(_) => panic!("accepted a response of {} bytes", MAX_FRAME + 1),
        }
        assert_eq!(MAX_FRAME, 16 * 1024 * 1024);
    }

    /// Answers the two ApiVersions requests of a negotiation, then reads until closed.
    async fn negotiating_broker(listener: TcpListener) {
        let (mut stream, _) = listener.accept().await.unwrap();
        for error_code in [KafkaError::UNSUPPORTED_VERSION, 0] {
            let request = read_frame(&mut stream).await.unwrap();
            write_frame(&mut stream, &api_versions(&request[4..8], error_code)).await;
        }
        while read_frame(&mut stream).await.is_some() {}
    }

    #[tokio::test]
    async fn a_connector_opens_the_connection_to_the_name_it_is_given() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let local = listener.local_addr().unwrap();
        let broker = tokio::spawn(negotiating_broker(listener));
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let connector = Connector::new(move |address: String| {
            log.lock().unwrap().push(address.clone());
            async move {
                match address.as_str() {
                    "broker-0.brokers.kafka.svc:9093" => TcpStream::connect(local).await,
                    _ => Err(std::io::Error::other(format!("{address} is refused"))),
                }
            }
        });
        let settings = Settings {
            client_id: "test".into(),
            tls: None,
            sasl: None,
            connector: Some(connector),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
        };

        let connection = Connection::open("broker-0.brokers.kafka.svc:9093", &settings)
            .await
            .unwrap();
        assert_eq!(connection.address(), "broker-0.brokers.kafka.svc:9093");
        drop(connection);
        broker.await.unwrap();

        match Connection::open("elsewhere.svc:9093", &settings).await {
            Err(Error::Connect { address, source }) => {
                assert_eq!(address, "elsewhere.svc:9093");
                assert_eq!(source.to_string(), "elsewhere.svc:9093 is refused");
            }
            Err(other) => panic!("expected a connect error, got {other}"),
            Ok(_) => panic!("connected past the connector"),
        }
        assert_eq!(
            *asked.lock().unwrap(),
            ["broker-0.brokers.kafka.svc:9093", "elsewhere.svc:9093"]
        );
    }
}
