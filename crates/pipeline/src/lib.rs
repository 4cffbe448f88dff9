//! One connection with any number of requests in flight, for the Kafka and the RocketMQ admin
//! clients alike: a writer task sends frames in order, a reader task reads length-prefixed
//! frames and hands each response to whoever waits for its key (Kafka's correlation ID,
//! RocketMQ's `opaque`). Written by hand because no crate multiplexes an arbitrary
//! length-prefixed protocol this way; written once, so its concurrency is right once.

mod connector;

pub use connector::Connector;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::rustls;
use tracing::debug;

/// What a protocol tells the pipeline about its frames. Every frame on the wire is a 4-byte
/// big-endian length, then that many bytes.
pub trait Codec: Send + Sync + 'static {
    /// A response, as handed to its requester.
    type Response: Send + 'static;
    /// The protocol's name, for a frame that cannot be one of its own.
    const PROTOCOL: &'static str;
    /// The largest frame read; a longer one closes the connection before anything is allocated.
    const MAX_FRAME: usize;

    /// The key of the request a frame (without its length) answers, and the response;
    /// `Ok(None)` for a frame that answers no request (a server asking something of its
    /// own); why not, when the stream cannot be read on.
    fn decode(frame: Bytes) -> Result<Option<(i32, Self::Response)>, String>;
}

/// A TCP or TLS stream.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Why a request got no response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The connection is closed, and why; `tls` when TLS refused us (an alert such as
    /// "certificate required", which TLS 1.3 sends only after the handshake), so that retrying
    /// elsewhere would not help.
    Closed { reason: String, tls: bool },
    /// No response in time: the connection is closed, as Kafka's own clients do, so the next
    /// request reconnects.
    TimedOut,
}

/// One connection, as its requesters share it.
pub struct Pipeline<C: Codec> {
    address: String,
    shared: Arc<Shared<C::Response>>,
    outgoing: mpsc::UnboundedSender<Bytes>,
    next_key: AtomicI32,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

/// What the reader task and the requesters share.
struct Shared<R> {
    state: Mutex<State<R>>,
}

struct State<R> {
    waiting: HashMap<i32, oneshot::Sender<R>>,
    /// Why the connection is unusable, once it is.
    closed: Option<Failure>,
}

impl<R> Shared<R> {
    fn state(&self) -> MutexGuard<'_, State<R>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fails every waiting request (their senders are dropped); later ones fail at once.
    fn close(&self, reason: String, tls: bool) {
        let mut state = self.state();
        if state.closed.is_none() {
            debug!("{reason}");
            state.closed = Some(Failure::Closed { reason, tls });
            state.waiting.clear();
        }
    }

    /// Closes for an I/O error, telling TLS failures apart.
    fn close_for_io(&self, what: &str, error: &std::io::Error) {
        let tls = error
            .get_ref()
            .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
        self.close(format!("{what}: {error}"), tls);
    }

    fn failure(&self, address: &str) -> Failure {
        let closed = self.state().closed.clone();
        closed.unwrap_or_else(|| Failure::Closed {
            reason: format!("the connection to {address} is gone"),
            tls: false,
        })
    }
}

impl<C: Codec> Pipeline<C> {
    /// Starts the reader and writer tasks over `stream`, connected to `address`.
    pub fn start(address: &str, stream: Box<dyn Io>) -> Pipeline<C> {
        let (read_half, write_half) = tokio::io::split(stream);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                waiting: HashMap::new(),
                closed: None,
            }),
        });
        let (outgoing, frames) = mpsc::unbounded_channel();
        Pipeline {
            address: address.to_string(),
            reader: tokio::spawn(read_loop::<C>(
                read_half,
                shared.clone(),
                address.to_string(),
            )),
            writer: tokio::spawn(write_loop(
                write_half,
                frames,
                shared.clone(),
                address.to_string(),
            )),
            shared,
            outgoing,
            next_key: AtomicI32::new(1),
        }
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn is_closed(&self) -> bool {
        self.shared.state().closed.is_some()
    }

    /// Closes the connection for good: waiting requests fail, the socket is dropped.
    pub fn close(&self, reason: String) {
        self.shared.close(reason, false);
        self.reader.abort();
        self.writer.abort();
    }

    /// The key for the next request. It wraps around after 2^32 requests, long after the first
    /// ones were answered.
    pub fn next_key(&self) -> i32 {
        self.next_key.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends `frame` (its length prefix included), which carries `key`, and waits up to
    /// `timeout` for the response to it. `name` says what the request was, for the log.
    pub async fn round_trip(
        &self,
        key: i32,
        frame: Bytes,
        timeout: Duration,
        name: &str,
    ) -> Result<C::Response, Failure> {
        let (reply, response) = oneshot::channel();
        {
            let mut state = self.shared.state();
            if let Some(closed) = &state.closed {
                return Err(closed.clone());
            }
            state.waiting.insert(key, reply);
        }
        if self.outgoing.send(frame).is_err() {
            self.shared.state().waiting.remove(&key);
            return Err(self.shared.failure(&self.address));
        }
        match tokio::time::timeout(timeout, response).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(_)) => Err(self.shared.failure(&self.address)),
            Err(_) => {
                self.close(format!(
                    "closing the connection to {}: a {name} request timed out",
                    self.address
                ));
                Err(Failure::TimedOut)
            }
        }
    }
}

impl<C: Codec> Drop for Pipeline<C> {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}

async fn read_loop<C: Codec>(
    mut reader: ReadHalf<Box<dyn Io>>,
    shared: Arc<Shared<C::Response>>,
    address: String,
) {
    let reading = format!("reading from {address}");
    let reason = loop {
        let mut length = [0u8; 4];
        if let Err(e) = reader.read_exact(&mut length).await {
            return shared.close_for_io(&reading, &e);
        }
        let length = u32::from_be_bytes(length) as usize;
        if !(4..=C::MAX_FRAME).contains(&length) {
            break format!(
                "{address} sent a frame of {length} bytes: not {}, or corrupt",
                C::PROTOCOL
            );
        }
        let mut frame = BytesMut::zeroed(length);
        if let Err(e) = reader.read_exact(&mut frame).await {
            return shared.close_for_io(&reading, &e);
        }
        let (key, response) = match C::decode(frame.freeze()) {
            Ok(Some(answer)) => answer,
            Ok(None) => continue,
            Err(problem) => break format!("{address} sent an unreadable frame: {problem}"),
        };
        let reply = shared.state().waiting.remove(&key);
        match reply {
            Some(reply) => {
                let _ = reply.send(response);
            }
            // The requester gave up (timed out or was dropped) before the answer came.
            None => debug!("{address} answered abandoned request {key}"),
        }
    };
    shared.close(reason, false);
}

async fn write_loop<R>(
    mut writer: WriteHalf<Box<dyn Io>>,
    mut frames: mpsc::UnboundedReceiver<Bytes>,
    shared: Arc<Shared<R>>,
    address: String,
) {
    while let Some(frame) = frames.recv().await {
        let mut result = writer.write_all(&frame).await;
        // Flush once the queue is drained, so pipelined requests share TLS records and packets.
        if result.is_ok() && frames.is_empty() {
            result = writer.flush().await;
        }
        if let Err(e) = result {
            return shared.close_for_io(&format!("writing to {address}"), &e);
        }
    }
    let _ = writer.shutdown().await;
}

#[cfg(test)]
mod tests {
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// Frames of a key and a text: the key, 4 bytes, then UTF-8.
    struct Echo;

    impl Codec for Echo {
        type Response = String;
        const PROTOCOL: &'static str = "echo";
        const MAX_FRAME: usize = 64;

        fn decode(frame: Bytes) -> Result<Option<(i32, String)>, String> {
            let key = i32::from_be_bytes(frame[..4].try_into().map_err(|_| "short")?);
            let text = String::from_utf8(frame[4..].to_vec()).map_err(|e| e.to_string())?;
            Ok((key >= 0).then_some((key, text)))
        }
    }

    fn frame(key: i32, text: &str) -> Bytes {
        let mut frame = ((4 + text.len()) as u32).to_be_bytes().to_vec();
        frame.extend(key.to_be_bytes());
        frame.extend(text.as_bytes());
        Bytes::from(frame)
    }

    /// A server that reads every request, then answers them in reverse order, after a frame
    /// that answers nothing; `reply` makes each answer's text.
    async fn server(listener: TcpListener, count: usize, reply: fn(&str) -> Vec<u8>) {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut requests = Vec::new();
        for _ in 0..count {
            let mut length = [0u8; 4];
            stream.read_exact(&mut length).await.unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(length) as usize];
            stream.read_exact(&mut body).await.unwrap();
            let key = i32::from_be_bytes(body[..4].try_into().unwrap());
            requests.push((key, String::from_utf8(body[4..].to_vec()).unwrap()));
        }
        stream
            .write_all(&frame(-1, "a question of the server's"))
            .await
            .unwrap();
        for (key, text) in requests.into_iter().rev() {
            let answer = reply(&text);
            let mut out = ((4 + answer.len()) as u32).to_be_bytes().to_vec();
            out.extend(key.to_be_bytes());
            out.extend(answer);
            stream.write_all(&out).await.unwrap();
        }
        // Hold the connection open until the client is done.
        let _ = stream.read(&mut [0u8; 1]).await;
    }

    async fn connected(count: usize, reply: fn(&str) -> Vec<u8>) -> Pipeline<Echo> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(server(listener, count, reply));
        let stream = TcpStream::connect(&address).await.unwrap();
        Pipeline::start(&address, Box::new(stream))
    }

    #[tokio::test]
    async fn responses_in_any_order_reach_their_own_requesters() {
        let pipeline = connected(3, |text| text.to_uppercase().into_bytes()).await;
        let asks = ["a", "b", "c"].map(|text| {
            let key = pipeline.next_key();
            pipeline.round_trip(key, frame(key, text), Duration::from_secs(5), "echo")
        });
        let [a, b, c] = asks;
        let answers = tokio::join!(a, b, c);
        assert_eq!(
            answers,
            (
                Ok("A".to_string()),
                Ok("B".to_string()),
                Ok("C".to_string())
            )
        );
        assert!(!pipeline.is_closed());
    }

    #[tokio::test]
    async fn a_frame_above_the_limit_closes_the_connection_and_fails_its_requester() {
        let pipeline = connected(1, |_| vec![b'x'; 100]).await;
        let key = pipeline.next_key();
        let answer = pipeline
            .round_trip(key, frame(key, "big"), Duration::from_secs(5), "echo")
            .await;
        let Err(Failure::Closed { reason, tls }) = answer else {
            panic!("{answer:?}");
        };
        assert!(reason.contains("not echo, or corrupt"), "{reason}");
        assert!(!tls);
        assert!(pipeline.is_closed());
        let again = pipeline
            .round_trip(
                pipeline.next_key(),
                frame(2, "again"),
                Duration::from_secs(5),
                "echo",
            )
            .await;
        assert!(matches!(again, Err(Failure::Closed { .. })), "{again:?}");
    }

    #[tokio::test]
    async fn a_request_without_an_answer_times_out_and_closes_the_connection() {
        // The server waits for two requests before it answers anything.
        let pipeline = connected(2, |text| text.as_bytes().to_vec()).await;
        let key = pipeline.next_key();
        let answer = pipeline
            .round_trip(key, frame(key, "alone"), Duration::from_millis(200), "echo")
            .await;
        assert_eq!(answer, Err(Failure::TimedOut));
        assert!(pipeline.is_closed());
    }
}
