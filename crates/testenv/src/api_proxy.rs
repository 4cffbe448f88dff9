//! A proxy in front of the API server that injects faults: the client under test talks plain
//! HTTP to it on loopback, and it forwards each request with the cluster's admin credentials.
//! It counts the mutating requests that pass, so a test can prove who wrote; it can stall: hold
//! every request until released, which is an API server that stopped answering; and it can trip
//! right after a chosen write, which the API server has carried out but whose answer the client
//! never gets: the client is killed then, or sees its request fail. It can also hide the events
//! of watches on one resource, keeping their connections open: events lost on the way. It
//! records which objects (by path and UID) the client deleted, so a test can tell the client's
//! restarts of a pod from those of its StatefulSet controller.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Result;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct ApiProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

struct Shared {
    upstream: Client,
    writes: AtomicU64,
    stalled: watch::Sender<bool>,
    /// The write (by count since the proxy started) after which to trip, and how.
    trip: Mutex<Option<(u64, Trip)>>,
    /// The watch events dropped, if any.
    hidden: watch::Sender<Option<Hidden>>,
    /// Per path deleted through the proxy, the UIDs of the objects deleted there.
    deleted: Mutex<BTreeMap<String, BTreeSet<String>>>,
}

/// What happens right after the chosen write.
#[derive(Clone, Copy, Debug)]
pub enum Trip {
    /// SIGKILL to this process, before it can see the answer.
    Kill { pid: u32 },
    /// The client gets a 502 instead of the answer; the write stands.
    FailResponse,
}

impl ApiProxy {
    /// Starts a proxy on a free loopback port that forwards to `upstream`'s API server.
    pub async fn start(upstream: Client) -> Result<ApiProxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            writes: AtomicU64::new(0),
            stalled: watch::Sender::new(false),
            trip: Mutex::new(None),
            hidden: watch::Sender::new(None),
            deleted: Mutex::default(),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(ApiProxy {
            address,
            shared,
            server,
        })
    }

    /// A client whose every request goes through this proxy.
    pub fn client(&self) -> Result<Client> {
        let url = format!("http://{}", self.address).parse()?;
        Ok(Client::try_from(kube::Config::new(url))?)
    }

    /// Mutating requests (anything but GET, HEAD and OPTIONS) forwarded so far.
    pub fn writes(&self) -> u64 {
        self.shared.writes.load(Ordering::SeqCst)
    }

    /// Trips right after the `n`-th write from now (1: the next one), once.
    pub fn trip_after(&self, n: u64, trip: Trip) {
        let at = self.writes() + n;
        *self
            .shared
            .trip
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((at, trip));
    }

    /// For each path under `prefix` (such as `/api/v1/namespaces/ns/pods/`) that was deleted
    /// through the proxy, the last segment (the name) and how many distinct objects went.
    pub fn deletions(&self, prefix: &str) -> BTreeMap<String, usize> {
        let deleted = self
            .shared
            .deleted
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        deleted
            .iter()
            .filter_map(|(path, uids)| Some((path.strip_prefix(prefix)?.to_string(), uids.len())))
            .collect()
    }

    /// Removes a trip that has not happened yet; returns whether the last one set happened.
    pub fn disarm(&self) -> bool {
        let mut trip = self
            .shared
            .trip
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        trip.take().is_none()
    }

    /// A kubeconfig that points a process (the operator binary) at this proxy.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<()> {
        let yaml = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: proxy\n  cluster:\n    server: http://{}\n\
             contexts:\n- name: proxy\n  context:\n    cluster: proxy\n    user: proxy\n\
             users:\n- name: proxy\n  user: {{}}\ncurrent-context: proxy\n",
            self.address
        );
        std::fs::write(path, yaml)?;
        Ok(())
    }

    /// Drops the events of open and new watches whose path contains `resource` (a plural
    /// such as `kafkatopics`) until called with `None`; the connections stay open, so the
    /// client cannot tell.
    pub fn hide_watch_events(&self, resource: Option<&str>) {
        self.shared
            .hidden
            .send_replace(resource.map(|resource| Hidden {
                resource: resource.to_string(),
                updates_only: false,
            }));
    }

    /// Drops only the `MODIFIED` events of watches on `resource` until
    /// [`hide_watch_events`](Self::hide_watch_events) is called with `None`: the client sees
    /// objects come and go, but keeps the view it had of each when it came.
    pub fn hide_watch_updates(&self, resource: &str) {
        self.shared.hidden.send_replace(Some(Hidden {
            resource: resource.to_string(),
            updates_only: true,
        }));
    }

    /// While stalled, requests are held (none reaches the API server, none is answered); when
    /// released, the held ones go on.
    pub fn set_stalled(&self, stalled: bool) {
        self.shared.stalled.send_replace(stalled);
    }
}

impl Drop for ApiProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let mut stalled = shared.stalled.subscribe();
    // Err only when the sender is gone, and the proxy with it.
    let _ = stalled.wait_for(|stalled| !stalled).await;
    let (mut parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    // The upstream client sets its own host and credentials.
    parts.headers.remove(header::HOST);
    let watch = parts
        .uri
        .query()
        .is_some_and(|query| query.contains("watch=true"));
    let path = parts.uri.path().to_string();
    let mutating = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let deleting = parts.method == Method::DELETE;
    let request = http::Request::from_parts(parts, kube::client::Body::from(body));
    match shared.upstream.send(request).await {
        Ok(response) => {
            let response = match deleting && response.status().is_success() {
                true => shared.record_deletion(&path, response).await,
                false => response.map(Body::new),
            };
            if mutating {
                let count = shared.writes.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some(trip) = shared.take_trip(count) {
                    return match trip {
                        Trip::Kill { pid } => {
                            crate::operator::kill(pid);
                            (StatusCode::BAD_GATEWAY, "the client was killed").into_response()
                        }
                        Trip::FailResponse => {
                            (StatusCode::BAD_GATEWAY, "tripped after the write").into_response()
                        }
                    };
                }
            }
            match watch {
                true => response.map(|body| hide_events(&shared, path, body)),
                false => response,
            }
        }
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}

impl Shared {
    /// Notes the UID of the object a successful delete answered with, and passes the answer on.
    async fn record_deletion(
        &self,
        path: &str,
        response: http::Response<kube::client::Body>,
    ) -> Response {
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(Body::new(body), usize::MAX)
            .await
            .unwrap_or_default();
        let uid = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|object| object["metadata"]["uid"].as_str().map(str::to_string));
        if let Some(uid) = uid {
            let mut deleted = self.deleted.lock().unwrap_or_else(PoisonError::into_inner);
            deleted.entry(path.to_string()).or_default().insert(uid);
        }
        Response::from_parts(parts, Body::from(body))
    }

    /// The trip due at write `count`, taken so that it happens once.
    fn take_trip(&self, count: u64) -> Option<Trip> {
        let mut trip = self.trip.lock().unwrap_or_else(PoisonError::into_inner);
        match *trip {
            Some((at, _)) if at == count => trip.take().map(|(_, trip)| trip),
            _ => None,
        }
    }
}

/// Which watch events the proxy drops.
struct Hidden {
    /// A part of the watched path, such as `/kafkatopics`.
    resource: String,
    /// Only `MODIFIED` events; otherwise every event.
    updates_only: bool,
}

/// A watch's body, one JSON event per line, with the lines dropped while `path` is hidden.
fn hide_events(shared: &Shared, path: String, body: Body) -> Body {
    let hidden = shared.hidden.subscribe();
    let lines = futures::stream::unfold(
        (body.into_data_stream(), Vec::new()),
        move |(mut chunks, mut pending)| {
            let hidden = hidden.clone();
            let path = path.clone();
            async move {
                loop {
                    if let Some(end) = pending.iter().position(|byte| *byte == b'\n') {
                        let line: Vec<u8> = pending.drain(..=end).collect();
                        let hide = hidden.borrow().as_ref().is_some_and(|hidden| {
                            path.contains(&hidden.resource)
                                && (!hidden.updates_only
                                    || line.starts_with(br#"{"type":"MODIFIED""#))
                        });
                        if !hide {
                            let line = axum::body::Bytes::from(line);
                            return Some((Ok::<_, axum::Error>(line), (chunks, pending)));
                        }
                        continue;
                    }
                    match futures::StreamExt::next(&mut chunks).await {
                        Some(Ok(chunk)) => pending.extend_from_slice(&chunk),
                        Some(Err(error)) => return Some((Err(error), (chunks, pending))),
                        None => return None,
                    }
                }
            }
        },
    );
    Body::from_stream(lines)
}
