//! One pooled connection per address, opened on first use and reopened after it fails, and the
//! signing and counting of every request sent through it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::config::{ClientConfig, Connector, Credentials, TlsConfig};
use crate::connection::Connection;
use crate::error::{Error, RemotingError};
use crate::frame::Command;
use crate::request::Request;
use crate::{signature, tls};

/// The async mutex makes concurrent callers share one connect.
type Slot = Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>;

pub(crate) struct Pool {
    /// To tell name servers from brokers, which the TLS settings may treat apart.
    name_servers: Vec<String>,
    connect_timeout: Duration,
    request_timeout: Duration,
    tls: Option<TlsConfig>,
    credentials: Option<Credentials>,
    connector: Option<Connector>,
    slots: Mutex<HashMap<String, Slot>>,
    /// Requests sent, for metrics and benchmarks.
    requests: AtomicU64,
}

impl Pool {
    pub(crate) fn new(config: &ClientConfig) -> Pool {
        Pool {
            name_servers: config.name_servers.clone(),
            connect_timeout: config.connect_timeout,
            request_timeout: config.request_timeout,
            tls: config.tls.clone(),
            credentials: config.credentials.clone(),
            connector: config.connector.clone(),
            slots: Mutex::default(),
            requests: AtomicU64::new(0),
        }
    }

    pub(crate) fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `request` to `address` and returns the response, whatever its code.
    pub(crate) async fn send(&self, address: &str, request: &Request) -> Result<Command, Error> {
        let mut fields = request.fields.clone();
        if let Some(credentials) = &self.credentials {
            signature::sign(&mut fields, &request.body, credentials);
        }
        let command = Command {
            code: request.code.code,
            ext_fields: fields,
            body: request.body.clone(),
            ..Command::default()
        };
        let connection = self.connection(address).await?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let result = connection
            .request(command, request.code.name, self.request_timeout)
            .await;
        if let Err(error) = &result
            && error.is_connection_failure()
        {
            self.forget(&connection, error);
        }
        result
    }

    /// Sends `request` and returns the body of a SUCCESS response; other codes are errors.
    pub(crate) async fn call(&self, address: &str, request: &Request) -> Result<Vec<u8>, Error> {
        let response = self.send(address, request).await?;
        success(address, request, response)
    }

    /// The pooled connection to `address`, opened if there is none or it broke.
    async fn connection(&self, address: &str) -> Result<Arc<Connection>, Error> {
        let slot = self.slots().entry(address.to_string()).or_default().clone();
        let mut slot = slot.lock().await;
        if let Some(connection) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(connection.clone());
        }
        let tls = self.tls.as_ref().filter(|tls| {
            tls.name_servers || !self.name_servers.iter().any(|server| server == address)
        });
        // Built for each connection, which is rare: AdminClient::new stays infallible, and a
        // CA that cannot be used fails every call with the reason.
        let handshake = tls
            .map(|tls| Ok::<_, Error>((tls::client_config(tls)?, tls.server_name.as_deref())))
            .transpose()?;
        let connection = Arc::new(
            Connection::open(
                address,
                self.connector.as_ref(),
                handshake,
                self.connect_timeout,
            )
            .await?,
        );
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Closes a broken connection and drops it from the pool.
    fn forget(&self, connection: &Connection, error: &Error) {
        let address = connection.address();
        connection.close(format!("dropping the connection to {address}: {error}"));
        self.slots().remove(address);
    }
}

/// The body of a SUCCESS response, or the typed error for its code.
pub(crate) fn success(
    address: &str,
    request: &Request,
    response: Command,
) -> Result<Vec<u8>, Error> {
    match response.code {
        0 => Ok(response.body),
        _ => Err(remoting_error(address, request, response).into_error()),
    }
}

pub(crate) fn remoting_error(address: &str, request: &Request, response: Command) -> RemotingError {
    RemotingError {
        address: address.to_string(),
        request: request.code.name,
        code: response.code,
        remark: response.remark.unwrap_or_default(),
    }
}
