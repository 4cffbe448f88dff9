//! Watching KafkaTopics and batching their reconciles: every change, and every resource at each
//! periodic full reconciliation, is queued to its cluster's worker, which takes whatever has
//! queued up as one batch. A cluster that fails is retried with backoff without holding up the
//! others.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::kafka::KafkaTopic;
use futures::StreamExt;
use kube::ResourceExt;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event};
use runtime::Namespaces;
use runtime::controller::backoff_delay;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::batch::{self, Shared};
use crate::conflicts::Owners;
use crate::model::{ClusterRef, cluster_of, topic_name};

/// How long a worker waits after the first queued change for the rest of a burst (one
/// `kubectl apply` of many topics) to arrive.
const LINGER: Duration = Duration::from_millis(50);
const KIND: &str = "KafkaTopic";

/// Runs the topic operator over the watched namespaces until it stops.
pub async fn run(namespaces: &Namespaces, shared: Arc<Shared>) {
    let scopes = namespaces
        .scopes()
        .into_iter()
        .map(|scope| run_scope(scope, shared.clone()));
    futures::future::join_all(scopes).await;
}

async fn run_scope(scope: Option<String>, shared: Arc<Shared>) {
    let api = Namespaces::api::<KafkaTopic>(&shared.context.client, scope.as_deref());
    let (store, writer) = reflector::store();
    let watch = watcher::watcher(api, watcher::Config::default()).default_backoff();
    let events = reflector::reflector(writer, watch);
    let mut events = std::pin::pin!(events);
    let mut queues = Queues {
        store: store.clone(),
        shared: shared.clone(),
        workers: HashMap::new(),
    };
    let mut resync = tokio::time::interval_at(
        tokio::time::Instant::now() + shared.context.resync,
        shared.context.resync,
    );
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Apply(topic) | Event::InitApply(topic))) => queues.push(&topic),
                // An older resource that conflicted with others is gone: one of them may own
                // the Kafka topic now.
                Some(Ok(Event::Delete(topic))) => queues.push_same_topic(&topic),
                Some(Ok(Event::Init | Event::InitDone)) => {}
                Some(Err(error)) => tracing::warn!(kind = KIND, %error, "watch error"),
                None => break,
            },
            _ = resync.tick() => {
                for topic in store.state() {
                    queues.push(&topic);
                }
            }
        }
    }
}

/// A queue per cluster, each drained by its own worker.
struct Queues {
    store: Store<KafkaTopic>,
    shared: Arc<Shared>,
    workers: HashMap<ClusterRef, UnboundedSender<String>>,
}

impl Queues {
    fn push(&mut self, topic: &KafkaTopic) {
        let cluster = cluster_key(topic);
        let queue = self.workers.entry(cluster.clone()).or_insert_with(|| {
            let (sender, receiver) = unbounded_channel();
            let worker = Worker {
                cluster,
                store: self.store.clone(),
                shared: self.shared.clone(),
                requeue: sender.clone(),
            };
            tokio::spawn(worker.run(receiver));
            sender
        });
        // The worker lives as long as the operator; a send fails only while it shuts down.
        let _ = queue.send(topic.name_any());
    }

    fn push_same_topic(&mut self, deleted: &KafkaTopic) {
        let (cluster, name) = (cluster_key(deleted), topic_name(deleted));
        for topic in self.store.state() {
            if cluster_key(&topic) == cluster && topic_name(&topic) == name {
                self.push(&topic);
            }
        }
    }
}

/// The cluster a topic is queued under; topics without a cluster label share one queue per
/// namespace, where they get their InvalidSpec status.
fn cluster_key(topic: &KafkaTopic) -> ClusterRef {
    cluster_of(topic).unwrap_or_else(|| ClusterRef {
        namespace: topic.namespace().unwrap_or_default(),
        name: String::new(),
    })
}

struct Worker {
    cluster: ClusterRef,
    store: Store<KafkaTopic>,
    shared: Arc<Shared>,
    requeue: UnboundedSender<String>,
}

impl Worker {
    async fn run(self, mut queue: UnboundedReceiver<String>) {
        // Consecutive failures per resource, for its backoff.
        let mut failures: HashMap<String, u32> = HashMap::new();
        while let Some(first) = queue.recv().await {
            tokio::time::sleep(LINGER).await;
            let mut names = BTreeSet::from([first]);
            while let Ok(name) = queue.try_recv() {
                names.insert(name);
            }
            let of_cluster: Vec<Arc<KafkaTopic>> = self
                .store
                .state()
                .into_iter()
                .filter(|topic| cluster_key(topic) == self.cluster)
                .collect();
            let owners = Owners::index(of_cluster.iter().map(AsRef::as_ref));
            let due: Vec<Arc<KafkaTopic>> = of_cluster
                .iter()
                .filter(|topic| names.contains(&topic.name_any()))
                .cloned()
                .collect();

            let began = Instant::now();
            let retry = batch::reconcile(&self.shared, &self.cluster, &due, &owners).await;
            let metrics = &self.shared.context.metrics;
            metrics.observe_reconcile(KIND, began.elapsed());
            metrics.set_managed(KIND, self.store.state().len());
            tracing::debug!(cluster = %self.cluster, topics = due.len(), retry = retry.len(), took = ?began.elapsed(), "reconciled a batch");

            for name in names
                .iter()
                .filter(|name| retry.binary_search(name).is_err())
            {
                failures.remove(name);
            }
            if !retry.is_empty() {
                metrics.observe_failure(KIND, "batch");
            }
            let mut by_delay: BTreeMap<Duration, Vec<String>> = BTreeMap::new();
            for name in retry {
                let count = failures.entry(name.clone()).or_default();
                *count += 1;
                by_delay
                    .entry(backoff_delay(*count))
                    .or_default()
                    .push(name);
            }
            for (delay, names) in by_delay {
                let requeue = self.requeue.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    for name in names {
                        let _ = requeue.send(name);
                    }
                });
            }
        }
    }
}
