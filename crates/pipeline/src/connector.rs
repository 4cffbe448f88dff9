//! How a client opens its TCP connections, when not with the machine's resolver.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use tokio::net::TcpStream;

type Connect =
    dyn Fn(String) -> Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>> + Send + Sync;

/// Turns a `host:port` into a connected `TcpStream`, in place of `TcpStream::connect`: e.g. to
/// resolve cluster-internal names through cluster DNS. TLS still verifies the server's
/// certificate against the host of the address.
#[derive(Clone)]
pub struct Connector(Arc<Connect>);

impl Connector {
    pub fn new<F, Fut>(connect: F) -> Connector
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<TcpStream>> + Send + 'static,
    {
        Connector(Arc::new(move |address| Box::pin(connect(address))))
    }

    pub async fn connect(&self, address: &str) -> io::Result<TcpStream> {
        (self.0)(address.to_string()).await
    }
}

/// Functions cannot be compared: configurations are equal only with clones of one connector.
impl PartialEq for Connector {
    fn eq(&self, other: &Connector) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Connector {}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Connector")
    }
}
