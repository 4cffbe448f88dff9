//! A proxy in front of the API server that injects faults: the client under test talks plain
//! HTTP to it on loopback, and it forwards each request with the cluster's admin credentials.
//! It counts the mutating requests that pass, so a test can prove who wrote, and it can stall:
//! hold every request until released, which is an API server that stopped answering.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
    let mutating = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let request = http::Request::from_parts(parts, kube::client::Body::from(body));
    match shared.upstream.send(request).await {
        Ok(response) => {
            if mutating {
                shared.writes.fetch_add(1, Ordering::SeqCst);
            }
            response.map(Body::new)
        }
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}
