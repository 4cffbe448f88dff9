//! Running reconcilers: one kube controller per watched namespace, reconciliations timed and
//! counted, failures retried with exponential backoff per object, and a periodic full
//! reconciliation.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::BoxFuture;
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;

use crate::{Error, Metrics};

/// Which namespaces the operator watches: `*` for all, or a comma-separated list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespaces {
    All,
    Only(Vec<String>),
}

impl Namespaces {
    pub fn parse(list: &str) -> Namespaces {
        let names: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(String::from)
            .collect();
        if names.is_empty() || names.iter().any(|name| name == "*") {
            Namespaces::All
        } else {
            Namespaces::Only(names)
        }
    }

    /// One scope per controller: `None` (cluster-wide) for all namespaces, else each name.
    pub fn scopes(&self) -> Vec<Option<String>> {
        match self {
            Namespaces::All => vec![None],
            Namespaces::Only(names) => names.iter().cloned().map(Some).collect(),
        }
    }

    /// An `Api` over one scope.
    pub fn api<K>(client: &Client, scope: Option<&str>) -> Api<K>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
    {
        match scope {
            Some(namespace) => Api::namespaced(client.clone(), namespace),
            None => Api::all(client.clone()),
        }
    }
}

/// What every reconcile gets: the client, the metrics, the event recorder and the operator's
/// settings.
pub struct Context {
    pub client: Client,
    pub metrics: Arc<Metrics>,
    /// How often an unchanged resource is reconciled anyway, to repair drift.
    pub resync: Duration,
    recorder: Recorder,
    backoff: Backoff,
}

impl Context {
    pub fn new(client: Client, metrics: Arc<Metrics>, resync: Duration) -> Context {
        let reporter = Reporter {
            controller: "brokerage".into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            metrics,
            resync,
            backoff: Backoff::default(),
        }
    }

    /// How every watch of the operator is opened: the API server ends each one after a resync
    /// interval, and the watch resumes from the last version this side received. An event lost
    /// on the way (a proxy or load balancer that dropped it, a connection that hung without
    /// closing) is then delivered again within one interval, instead of never, or at the next
    /// relist.
    pub fn watch_config(&self) -> watcher::Config {
        // kube's client waits 295 s for a watch's next byte; the server must end it first.
        let seconds = self.resync.as_secs().clamp(1, 290) as u32;
        watcher::Config::default().timeout(seconds)
    }

    /// Publishes a Kubernetes Event about `object` for a notable transition. Events are a
    /// courtesy to the user: failing to publish one is logged, never fatal.
    pub async fn publish<K: Resource<DynamicType = ()>>(
        &self,
        object: &K,
        warning: bool,
        reason: &str,
        note: String,
    ) {
        let event = Event {
            type_: if warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: reason.into(),
            note: Some(note),
            action: "Reconcile".into(),
            secondary: None,
        };
        if let Err(error) = self.recorder.publish(&event, &object.object_ref(&())).await {
            tracing::warn!(%error, reason, "could not publish an event");
        }
    }
}

/// Consecutive failures per object and when the last one was, for exponential backoff.
#[derive(Default)]
struct Backoff(Mutex<HashMap<String, (u32, Instant)>>);

/// A failure older than this is forgotten: an object still failing fails again within the
/// longest backoff, and one that was deleted while failing must not stay in the map forever.
const FORGET_FAILURES_AFTER: Duration = Duration::from_secs(600);

impl Backoff {
    /// The delay before retrying `key` after its latest failure.
    fn next(&self, key: &str) -> Duration {
        let now = Instant::now();
        let mut failures = self.0.lock().unwrap_or_else(|e| e.into_inner());
        failures.retain(|_, (_, last)| now.duration_since(*last) < FORGET_FAILURES_AFTER);
        let (count, last) = failures.entry(key.to_string()).or_insert((0, now));
        *count = count.saturating_add(1);
        *last = now;
        backoff_delay(*count)
    }

    fn reset(&self, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// The delay before a retry after `failures` failures in a row: 1 s doubling to 5 min.
pub fn backoff_delay(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(9);
    Duration::from_secs(1u64 << doublings).min(Duration::from_secs(300))
}

/// Reconciles of one kind that run at once. Without a bound, a burst of resources (or a
/// thousand that each wait on a slow broker) would open as many reconciles, connections and
/// buffers at once as there are resources; the rest queue.
const RECONCILES_IN_FLIGHT: u16 = 16;

/// The longest one reconcile may take. Steps requeue rather than wait, so a reconcile that runs
/// this long is stuck on something that does not answer; it is cut off and retried, and holds
/// none of the slots above meanwhile.
const RECONCILE_TIMEOUT: Duration = Duration::from_secs(300);

/// Drives `controller` until it ends, wrapping each reconcile (one object, its outcome mapped
/// to an `Action`) with metrics, a time-out and backoff, a bounded number at once.
pub async fn drive<K, R>(
    kind: &'static str,
    controller: Controller<K>,
    reconcile: R,
    context: Arc<Context>,
) where
    R: Fn(Arc<K>, Arc<Context>) -> BoxFuture<'static, Result<Action, Error>>
        + Clone
        + Send
        + Sync
        + 'static,
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    ObjectRef<K>: Hash + Eq,
{
    // The controller's cache of the primary kind: its size is the number of managed resources.
    let store = controller.store();
    let timed = move |object: Arc<K>, context: Arc<Context>| {
        let (store, reconcile) = (store.clone(), reconcile.clone());
        async move {
            let key = ObjectRef::from_obj(object.as_ref()).to_string();
            let began = Instant::now();
            let result =
                tokio::time::timeout(RECONCILE_TIMEOUT, reconcile(object, context.clone()))
                    .await
                    .unwrap_or_else(|_| {
                        Err(Error::transient(format!(
                            "the reconcile did not finish within {RECONCILE_TIMEOUT:?}"
                        )))
                    });
            context.metrics.observe_reconcile(kind, began.elapsed());
            context.metrics.set_managed(kind, store.state().len());
            match &result {
                Ok(_) => context.backoff.reset(&key),
                Err(error) => context.metrics.observe_failure(
                    kind,
                    error.step().unwrap_or_default(),
                    error.metric_label(),
                ),
            }
            result
        }
    };
    let error_policy = move |object: Arc<K>, error: &Error, context: Arc<Context>| {
        let key = ObjectRef::from_obj(object.as_ref()).to_string();
        let delay = error
            .retry_after()
            .unwrap_or_else(|| context.backoff.next(&key));
        tracing::warn!(kind, object = %key, %error, ?delay, "reconcile failed; retrying");
        Action::requeue(delay)
    };
    let config = kube::runtime::controller::Config::default().concurrency(RECONCILES_IN_FLIGHT);
    controller
        .with_config(config)
        .run(timed, error_policy, context)
        .for_each(|result| {
            // Reconcile failures are logged by the error policy; this reports the rest, such as
            // a watch the operator is not allowed to make.
            use kube::runtime::controller::Error as ControllerError;
            match result {
                Ok(_) | Err(ControllerError::ReconcilerFailed(..)) => {}
                // A child seen before its parent (a node pool applied before its Kafka): the
                // parent's own event reconciles it moments later.
                Err(error @ ControllerError::ObjectNotFound(..)) => {
                    tracing::debug!(kind, %error, "owner not seen yet")
                }
                Err(error) => tracing::warn!(kind, %error, "controller error"),
            }
            futures::future::ready(())
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_failure_up_to_five_minutes_and_resets_on_success() {
        let backoff = Backoff::default();
        let delays: Vec<u64> = (0..11).map(|_| backoff.next("a").as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff.next("b").as_secs(), 1);
        backoff.reset("a");
        assert_eq!(backoff.next("a").as_secs(), 1);
    }

    #[test]
    fn namespaces_parse_like_strimzi_watched_namespace() {
        assert_eq!(Namespaces::parse("*"), Namespaces::All);
        assert_eq!(Namespaces::parse(""), Namespaces::All);
        assert_eq!(
            Namespaces::parse("kafka, team-a"),
            Namespaces::Only(vec!["kafka".into(), "team-a".into()])
        );
    }
}
