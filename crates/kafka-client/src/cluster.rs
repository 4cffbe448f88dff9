//! The cluster as the client sees it: the brokers from the last Metadata response, a pool with
//! one connection per broker, and routing with retries (to any broker, a given one, or the
//! controller).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use tokio::time::Instant;
use tracing::debug;

use crate::client::BrokerInfo;
use crate::config::ClientConfig;
use crate::connection::{Connection, Settings};
use crate::error::{Error, KafkaError};
use crate::frame::AdminRequest;
use crate::tls;

const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Where a request goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Any live broker: for reads.
    Any,
    /// One broker: for what only it knows (its own configuration).
    Node(i32),
    /// The controller Metadata names; in KRaft that is a broker that forwards to the active
    /// controller, so any other live broker will do when it is gone.
    Controller,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Any => f.write_str("any broker"),
            Target::Node(id) => write!(f, "broker {id}"),
            Target::Controller => f.write_str("the controller"),
        }
    }
}

/// Per-item results of a call: the item's key and its outcome.
pub(crate) type ItemResults<K, T> = Vec<(K, Result<T, KafkaError>)>;

/// The growing pauses between the rounds of an operation that looks up its broker anew each
/// round (a partition's leader, a group's coordinator), within one request timeout.
pub(crate) struct Rounds {
    deadline: Instant,
    backoff: Duration,
}

impl Rounds {
    /// Pauses before another round; `false`, at once, when the pause would outlast the deadline.
    pub(crate) async fn pause(&mut self) -> bool {
        if Instant::now() + self.backoff >= self.deadline {
            return false;
        }
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        true
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>;

#[derive(Default)]
struct Metadata {
    cluster_id: Option<String>,
    controller_id: Option<i32>,
    brokers: BTreeMap<i32, BrokerInfo>,
    /// Addresses that failed lately; tried only after the others.
    down: HashSet<String>,
}

pub(crate) struct Cluster {
    bootstrap: Vec<String>,
    request_timeout: Duration,
    settings: Settings,
    metadata: Mutex<Metadata>,
    /// One slot per broker address; the async mutex makes concurrent callers share one connect.
    pool: Mutex<HashMap<String, Slot>>,
    /// Admin and metadata requests sent, retries included, for metrics and benchmarks.
    requests: AtomicU64,
}

impl Cluster {
    /// Checks the TLS material, then asks the bootstrap servers for the cluster's brokers.
    pub(crate) async fn connect(config: ClientConfig) -> Result<Cluster, Error> {
        if config.bootstrap_servers.is_empty() {
            return Err(Error::NoBroker("no bootstrap servers configured".into()));
        }
        let tls = config.tls.as_ref().map(tls::client_config).transpose()?;
        let cluster = Cluster {
            bootstrap: config.bootstrap_servers.clone(),
            request_timeout: config.request_timeout,
            settings: Settings {
                client_id: config.client_id,
                tls,
                sasl: config.sasl,
                connector: config.connector,
                connect_timeout: config.connect_timeout,
                request_timeout: config.request_timeout,
            },
            metadata: Mutex::default(),
            pool: Mutex::default(),
            requests: AtomicU64::new(0),
        };
        cluster.refresh(cluster.deadline()).await?;
        Ok(cluster)
    }

    pub(crate) fn deadline(&self) -> Instant {
        Instant::now() + self.request_timeout
    }

    /// Rounds that end with this request timeout from now.
    pub(crate) fn rounds(&self) -> Rounds {
        Rounds {
            deadline: self.deadline(),
            backoff: FIRST_BACKOFF,
        }
    }

    /// The broker-side timeout to ask for (CreateTopics and the like): half the client's, so
    /// the broker's answer arrives before the client gives up.
    pub(crate) fn broker_timeout_ms(&self) -> i32 {
        i32::try_from(self.request_timeout.as_millis() / 2).unwrap_or(i32::MAX)
    }

    fn metadata(&self) -> MutexGuard<'_, Metadata> {
        self.metadata.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn pool(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub(crate) fn cluster_id(&self) -> Option<String> {
        self.metadata().cluster_id.clone()
    }

    /// Sends a request to `target` and parses the response, retrying what is retriable (on
    /// another broker after a metadata refresh, with a growing pause) until the request timeout.
    pub(crate) async fn call<R: AdminRequest, T>(
        &self,
        target: Target,
        build: impl Fn(i16) -> R,
        parse: impl Fn(R::Response) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.call_until(target, build, parse, self.deadline()).await
    }

    async fn call_until<R: AdminRequest, T>(
        &self,
        target: Target,
        build: impl Fn(i16) -> R,
        parse: impl Fn(R::Response) -> Result<T, Error>,
        deadline: Instant,
    ) -> Result<T, Error> {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let attempt = tokio::time::timeout_at(deadline, self.attempt(target, &build, deadline));
            let error = match attempt.await {
                Ok(Ok(response)) => match parse(response) {
                    Ok(value) => return Ok(value),
                    Err(error) => error,
                },
                Ok(Err(error)) => error,
                Err(_) => Error::Timeout {
                    api: R::NAME,
                    address: target.to_string(),
                },
            };
            if !error.is_retriable() || Instant::now() + backoff >= deadline {
                return Err(error);
            }
            debug!("{} to {target} failed, retrying: {error}", R::NAME);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            if let Err(error) = self.refresh(deadline).await {
                debug!("refreshing the metadata failed: {error}");
            }
        }
    }

    /// Like [`call`](Self::call) for requests about many items (topics, resources...), where
    /// the answer is per item: items that failed with NOT_CONTROLLER are sent again (after a
    /// metadata refresh) until they get another answer or the request timeout is up.
    pub(crate) async fn call_per_item<R: AdminRequest, K, T>(
        &self,
        target: Target,
        items: Vec<K>,
        build: impl Fn(&[K], i16) -> R,
        parse: impl Fn(&[K], R::Response) -> Result<ItemResults<K, T>, Error>,
    ) -> Result<ItemResults<K, T>, Error> {
        let deadline = self.deadline();
        let mut done = Vec::with_capacity(items.len());
        let mut pending = items;
        let mut backoff = FIRST_BACKOFF;
        while !pending.is_empty() {
            let results = self
                .call_until(
                    target,
                    |version| build(&pending, version),
                    |response| parse(&pending, response),
                    deadline,
                )
                .await?;
            let (retry, finished): (ItemResults<K, T>, ItemResults<K, T>) =
                results.into_iter().partition(
                    |(_, result)| matches!(result, Err(e) if e.code == KafkaError::NOT_CONTROLLER),
                );
            done.extend(finished);
            if retry.is_empty() || Instant::now() + backoff >= deadline {
                done.extend(retry);
                break;
            }
            debug!(
                "{} items of {} answered NOT_CONTROLLER, retrying",
                retry.len(),
                R::NAME
            );
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            if let Err(error) = self.refresh(deadline).await {
                debug!("refreshing the metadata failed: {error}");
            }
            pending = retry.into_iter().map(|(item, _)| item).collect();
        }
        Ok(done)
    }

    /// One try: the first candidate broker that accepts a connection gets the request.
    async fn attempt<R: AdminRequest>(
        &self,
        target: Target,
        build: &impl Fn(i16) -> R,
        deadline: Instant,
    ) -> Result<R::Response, Error> {
        let mut failures = Vec::new();
        for address in self.candidates(target)? {
            let connection = match self.connection(&address).await {
                Ok(connection) => connection,
                Err(error) if error.is_retriable() => {
                    failures.push(format!("{address}: {error}"));
                    continue;
                }
                Err(error) => return Err(error),
            };
            self.requests.fetch_add(1, Ordering::Relaxed);
            let result = connection.request(build, attempt_timeout(deadline)).await;
            if let Err(error) = &result
                && error.is_connection_failure()
            {
                self.forget(&connection, error);
            }
            return result;
        }
        Err(Error::NoBroker(format!(
            "for {target}: {}",
            failures.join("; ")
        )))
    }

    /// The addresses to try for `target`, best first: brokers that failed lately go last.
    fn candidates(&self, target: Target) -> Result<Vec<String>, Error> {
        let metadata = self.metadata();
        let mut ids: Vec<i32> = match target {
            Target::Node(id) if metadata.brokers.contains_key(&id) => vec![id],
            Target::Node(id) => {
                return Err(Error::NoBroker(format!(
                    "broker {id} is not in the cluster metadata"
                )));
            }
            Target::Any => metadata.brokers.keys().copied().collect(),
            Target::Controller => {
                let controller = metadata
                    .controller_id
                    .filter(|id| metadata.brokers.contains_key(id));
                controller
                    .into_iter()
                    .chain(
                        metadata
                            .brokers
                            .keys()
                            .copied()
                            .filter(|id| Some(*id) != controller),
                    )
                    .collect()
            }
        };
        let mut addresses: Vec<String> = ids
            .drain(..)
            .filter_map(|id| metadata.brokers.get(&id).map(BrokerInfo::address))
            .collect();
        if addresses.is_empty() {
            addresses = self.bootstrap.clone();
        }
        // Stable: the preferred order stays among the healthy ones and among the others.
        addresses.sort_by_key(|address| metadata.down.contains(address));
        Ok(addresses)
    }

    /// The pooled connection to `address`, opened if there is none or it broke.
    async fn connection(&self, address: &str) -> Result<Arc<Connection>, Error> {
        let slot = self.pool().entry(address.to_string()).or_default().clone();
        let mut slot = slot.lock().await;
        if let Some(connection) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(connection.clone());
        }
        *slot = None;
        match Connection::open(address, &self.settings).await {
            Ok(connection) => {
                let connection = Arc::new(connection);
                *slot = Some(connection.clone());
                self.metadata().down.remove(address);
                Ok(connection)
            }
            Err(error) => {
                if error.is_retriable() {
                    self.metadata().down.insert(address.to_string());
                }
                Err(error)
            }
        }
    }

    /// Drops a broken connection from the pool; its broker is tried last from now on.
    fn forget(&self, connection: &Connection, error: &Error) {
        let address = connection.address();
        connection.close(format!("dropping the connection to {address}: {error}"));
        self.pool().remove(address);
        self.metadata().down.insert(address.to_string());
    }

    /// Asks the known brokers, then the bootstrap servers, for the current brokers and
    /// controller. Authentication and TLS failures end it at once: other brokers would fail alike.
    pub(crate) async fn refresh(&self, deadline: Instant) -> Result<(), Error> {
        let mut addresses = self.candidates(Target::Any)?;
        for address in &self.bootstrap {
            if !addresses.contains(address) {
                addresses.push(address.clone());
            }
        }
        let mut failures = Vec::new();
        for address in addresses {
            let attempt = async {
                let connection = self.connection(&address).await?;
                self.requests.fetch_add(1, Ordering::Relaxed);
                let result = connection
                    .request(metadata_request(Some(&[])), attempt_timeout(deadline))
                    .await;
                if let Err(error) = &result
                    && error.is_connection_failure()
                {
                    self.forget(&connection, error);
                }
                result
            };
            let result = match tokio::time::timeout_at(deadline, attempt).await {
                Ok(result) => result,
                Err(_) => Err(Error::Timeout {
                    api: "Metadata",
                    address: address.clone(),
                }),
            };
            match result.and_then(|response| self.apply(&response)) {
                Ok(()) => return Ok(()),
                Err(error) if error.is_retriable() => failures.push(format!("{address}: {error}")),
                Err(error) => return Err(error),
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        Err(Error::NoBroker(failures.join("; ")))
    }

    /// Fetches Metadata (for `topics`, `None` meaning all) from any broker, and keeps its
    /// broker list.
    pub(crate) async fn fetch_metadata(
        &self,
        topics: Option<&[String]>,
    ) -> Result<MetadataResponse, Error> {
        self.call(Target::Any, metadata_request(topics), |response| {
            self.apply(&response)?;
            Ok(response)
        })
        .await
    }

    fn apply(&self, response: &MetadataResponse) -> Result<(), Error> {
        KafkaError::check(response.error_code, None)?;
        if response.brokers.is_empty() {
            return Err(Error::NoBroker(
                "the cluster metadata lists no brokers".into(),
            ));
        }
        let mut metadata = self.metadata();
        metadata.brokers = response
            .brokers
            .iter()
            .map(|broker| {
                let info = BrokerInfo {
                    id: broker.node_id.0,
                    host: broker.host.to_string(),
                    port: broker.port,
                    rack: broker.rack.as_ref().map(|rack| rack.to_string()),
                };
                (info.id, info)
            })
            .collect();
        metadata.controller_id = Some(response.controller_id.0).filter(|id| *id >= 0);
        metadata.cluster_id = response.cluster_id.as_ref().map(|id| id.to_string());
        Ok(())
    }
}

/// A Metadata request for `topics` (`None`: all), which never creates topics.
pub(crate) fn metadata_request(
    topics: Option<&[String]>,
) -> impl Fn(i16) -> MetadataRequest + use<> {
    let topics: Option<Vec<MetadataRequestTopic>> = topics.map(|names| {
        names
            .iter()
            .map(|name| {
                MetadataRequestTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_string(name.clone()))))
            })
            .collect()
    });
    move |version| {
        MetadataRequest::default()
            .with_topics(topics.clone())
            // Before v4 the field does not exist and must keep its default (true).
            .with_allow_auto_topic_creation(version < 4)
    }
}

/// How long one try may wait for its response: most of what is left, but not all of it when
/// enough is left, so that a broker that hangs leaves time to try another.
fn attempt_timeout(deadline: Instant) -> Duration {
    let left = deadline.saturating_duration_since(Instant::now());
    if left >= Duration::from_secs(4) {
        left * 3 / 4
    } else {
        left
    }
}
