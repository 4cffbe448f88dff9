//! Reconciling many small resources in batches (topics, users): every change, and every resource
//! at each periodic full reconciliation, is queued under its group (such as the cluster it
//! belongs to); one worker per group takes whatever has queued up as one batch. So a thousand
//! changes cost a handful of broker requests, and a group that fails is retried with backoff
//! without holding up the others.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::{Debug, Display};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::BoxFuture;
use k8s_openapi::NamespaceResourceScope;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::{
    UnboundedReceiver, UnboundedSender, WeakUnboundedSender, unbounded_channel,
};
use tokio::task::JoinHandle;

mod frame;

pub use frame::{
    Batch, BatchOutcomes, Failure, Outcome, RESOURCE_CONFLICT, Unreachable, claim_owners,
    desired_status,
};

use crate::controller::backoff_delay;
use crate::finalizer::set_finalizer;
use crate::status::merge_status;
use crate::{Context, Namespaces};

/// How long a worker waits after the first queued change for the rest of a burst (one
/// `kubectl apply` of many resources) to arrive.
const LINGER: Duration = Duration::from_millis(50);

/// What a batched reconciler supplies: how resources group, and how one batch is reconciled.
pub trait BatchReconciler<K>: Send + Sync + 'static {
    /// Resources of one group are reconciled together, by one worker.
    type Group: Clone + Debug + Display + Eq + Hash + Send + Sync + 'static;

    fn group(&self, object: &K) -> Self::Group;

    /// Reconciles `due`, resources of `group`; `members` is every resource of the group, for
    /// decisions that involve the others. Returns the resources to look at again.
    fn reconcile<'a>(
        &'a self,
        group: &'a Self::Group,
        due: Vec<Arc<K>>,
        members: &'a [Arc<K>],
    ) -> BoxFuture<'a, Requeue>;

    /// Resources of the group to look at again because `deleted` is gone.
    fn after_delete(&self, _deleted: &K, _members: &[Arc<K>]) -> Vec<String> {
        Vec::new()
    }
}

/// The resources of a batch to look at again, by name.
#[derive(Default)]
pub struct Requeue {
    /// Failed: retried with backoff.
    pub failed: Vec<String>,
    /// Still moving toward their spec: looked at again every [`PROGRESS_POLL`].
    pub progressing: Vec<String>,
    /// The batch's last writes (its statuses), left to finish while the next batch runs;
    /// they end with the names to retry.
    pub finishing: Option<BoxFuture<'static, Vec<String>>>,
}

/// How often a resource whose change takes time (partitions moving) is looked at.
pub const PROGRESS_POLL: Duration = Duration::from_secs(5);

/// Runs `reconciler` over the watched namespaces until it stops.
pub async fn run<K, R>(namespaces: &Namespaces, context: Arc<Context>, reconciler: Arc<R>)
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    R: BatchReconciler<K>,
{
    let scopes = namespaces
        .scopes()
        .into_iter()
        .map(|scope| run_scope(scope, context.clone(), reconciler.clone()));
    futures::future::join_all(scopes).await;
}

async fn run_scope<K, R>(scope: Option<String>, context: Arc<Context>, reconciler: Arc<R>)
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    R: BatchReconciler<K>,
{
    let api = Namespaces::api::<K>(&context.client, scope.as_deref());
    let (store, writer) = reflector::store();
    // The periodic full reconciliation is a fresh list: every resync interval the watch starts
    // over, and every listed resource is queued. A list, not the cache, since a watch event
    // lost on the way (the connection alive, the event gone, a bookmark moving the watch past
    // it) would otherwise never reach the cache.
    let (config, resync) = (context.watch_config(), context.resync);
    let watches = futures::stream::repeat_with(move || {
        watcher::watcher(api.clone(), config.clone()).take_until(tokio::time::sleep(resync))
    });
    // Managed fields are most of a small resource and nothing here reads them: thousands of
    // resources are cached without them.
    let watch = watches
        .flatten()
        .default_backoff()
        .modify(|object| object.managed_fields_mut().clear());
    let mut events = std::pin::pin!(reflector::reflector(writer, watch));
    let mut queues = Queues {
        store: store.clone(),
        context: context.clone(),
        reconciler,
        workers: HashMap::new(),
        seen: HashMap::new(),
        listed: Vec::new(),
    };
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Apply(object)) => queues.push_changed(&object),
            // A (re)list, at start and every resync interval: every resource is due, once the
            // whole list is in the cache (a batch takes its resources from there).
            Ok(Event::InitApply(object)) => queues.listed(&object),
            Ok(Event::InitDone) => queues.push_listed(),
            Ok(Event::Delete(object)) => queues.after_delete(&object),
            Ok(Event::Init) => {}
            Err(error) => tracing::warn!(kind = K::kind(&()).as_ref(), %error, "watch error"),
        }
    }
}

/// A queue per group, each drained by its own worker.
struct Queues<K: Resource<DynamicType = ()> + 'static, R: BatchReconciler<K>> {
    store: Store<K>,
    context: Arc<Context>,
    reconciler: Arc<R>,
    workers: HashMap<R::Group, UnboundedSender<String>>,
    /// What each resource last looked like to a reconcile, by `namespace/name`.
    seen: HashMap<String, u64>,
    /// The resources of a list under way, queued when it is complete.
    listed: Vec<(R::Group, String)>,
}

impl<K, R> Queues<K, R>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
    R: BatchReconciler<K>,
{
    /// Queues a resource that changed, unless only its status (or another field no reconcile
    /// reads, such as its finalizers) did: a batch's own status writes come back as changes,
    /// and would otherwise each cost another batch. Edits to the spec (the generation),
    /// labels, annotations or the deletion are what count.
    fn push_changed(&mut self, object: &K) {
        if self.remember(object) {
            self.push(object);
        }
    }

    /// Records what `object` looks like to a reconcile; whether that changed.
    fn remember(&mut self, object: &K) -> bool {
        let meta = object.meta();
        let mut hasher = std::hash::DefaultHasher::new();
        (meta.generation, &meta.labels, &meta.annotations).hash(&mut hasher);
        let deletion = meta
            .deletion_timestamp
            .as_ref()
            .map(|time| time.0.to_string());
        deletion.hash(&mut hasher);
        let fingerprint = hasher.finish();
        self.seen.insert(key(object), fingerprint) != Some(fingerprint)
    }

    fn push(&mut self, object: &K) {
        let group = self.reconciler.group(object);
        self.send(group, object.name_any());
    }

    /// Notes a resource of a list under way. The cache takes in a list only once it is
    /// complete: a batch begun before would not find the resource and drop it until the next
    /// list.
    fn listed(&mut self, object: &K) {
        self.remember(object);
        let group = self.reconciler.group(object);
        self.listed.push((group, object.name_any()));
    }

    /// Queues every resource of the list just completed.
    fn push_listed(&mut self) {
        for (group, name) in std::mem::take(&mut self.listed) {
            self.send(group, name);
        }
    }

    fn send(&mut self, group: R::Group, name: String) {
        if !self.workers.contains_key(&group) {
            let (sender, receiver) = unbounded_channel();
            let worker = Worker {
                group: group.clone(),
                store: self.store.clone(),
                context: self.context.clone(),
                reconciler: self.reconciler.clone(),
                requeue: sender.downgrade(),
            };
            tokio::spawn(worker.run(receiver));
            self.workers.insert(group.clone(), sender);
            self.count_workers();
        }
        // The worker lives while its sender is in the map; a send fails only while the
        // operator shuts down.
        let _ = self.workers[&group].send(name);
    }

    fn after_delete(&mut self, deleted: &K) {
        self.seen.remove(&key(deleted));
        let group = self.reconciler.group(deleted);
        let members = members(&self.store, self.reconciler.as_ref(), &group);
        if members.is_empty() {
            // The group's last resource is gone (its cluster's topics all deleted, say): its
            // worker ends once it has done what is queued, so groups do not pile up.
            self.workers.remove(&group);
            self.count_workers();
            return;
        }
        for name in self.reconciler.after_delete(deleted, &members) {
            self.send(group.clone(), name);
        }
    }
}

impl<K: Resource<DynamicType = ()> + 'static, R: BatchReconciler<K>> Queues<K, R> {
    fn count_workers(&self) {
        let kind = K::kind(&());
        (self.context.metrics).set_batch_workers(&kind, self.workers.len());
    }
}

fn key<K: Resource>(object: &K) -> String {
    format!(
        "{}/{}",
        object.namespace().unwrap_or_default(),
        object.name_any()
    )
}

fn members<K, R>(store: &Store<K>, reconciler: &R, group: &R::Group) -> Vec<Arc<K>>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
    R: BatchReconciler<K>,
{
    store
        .state()
        .into_iter()
        .filter(|object| reconciler.group(object) == *group)
        .collect()
}

struct Worker<K: Resource<DynamicType = ()> + 'static, R: BatchReconciler<K>> {
    group: R::Group,
    store: Store<K>,
    context: Arc<Context>,
    reconciler: Arc<R>,
    /// Weak, so that when [`Queues`] lets go of the group the queue closes and the worker ends;
    /// a retry due after that is for a resource that no longer exists.
    requeue: WeakUnboundedSender<String>,
}

impl<K, R> Worker<K, R>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
    R: BatchReconciler<K>,
{
    async fn run(self, mut queue: UnboundedReceiver<String>) {
        let kind = K::kind(&());
        // Consecutive failures per resource, for its backoff.
        let mut failures: HashMap<String, u32> = HashMap::new();
        // The previous batch's statuses, still being written.
        let mut finishing: Option<JoinHandle<()>> = None;
        while let Some(first) = queue.recv().await {
            tokio::time::sleep(LINGER).await;
            let mut names = BTreeSet::from([first]);
            while let Ok(name) = queue.try_recv() {
                names.insert(name);
            }
            let members = members(&self.store, self.reconciler.as_ref(), &self.group);
            let due: Vec<Arc<K>> = members
                .iter()
                .filter(|object| names.contains(&object.name_any()))
                .cloned()
                .collect();

            let began = Instant::now();
            let count = due.len();
            let Requeue {
                failed: mut retry,
                progressing,
                finishing: last_writes,
            } = self.reconciler.reconcile(&self.group, due, &members).await;
            // A pipeline of two: this batch's statuses are written while the next batch runs,
            // and only once the previous batch's are, so a resource's statuses land in order
            // and writes never pile up.
            if let Some(previous) = finishing.take() {
                let _ = previous.await;
            }
            finishing = last_writes.map(|writes| {
                let requeue = self.requeue.clone();
                tokio::spawn(async move {
                    let failed = writes.await;
                    if failed.is_empty() {
                        return;
                    }
                    tokio::time::sleep(backoff_delay(1)).await;
                    if let Some(requeue) = requeue.upgrade() {
                        for name in failed {
                            let _ = requeue.send(name);
                        }
                    }
                })
            });
            retry.sort();
            retry.dedup();
            let metrics = &self.context.metrics;
            metrics.observe_reconcile(&kind, began.elapsed());
            metrics.set_managed(&kind, self.store.state().len());
            tracing::debug!(group = %self.group, count, retry = retry.len(), took = ?began.elapsed(), "reconciled a batch");

            for name in names
                .iter()
                .filter(|name| retry.binary_search(name).is_err())
            {
                failures.remove(name);
            }
            if !retry.is_empty() {
                metrics.observe_failure(&kind, "", "batch");
            }
            let mut by_delay: BTreeMap<Duration, Vec<String>> = BTreeMap::new();
            for name in retry {
                let count = failures.entry(name.clone()).or_default();
                *count += 1;
                by_delay
                    .entry(backoff_delay(*count).min(MAX_RETRY_DELAY))
                    .or_default()
                    .push(name);
            }
            if !progressing.is_empty() {
                by_delay
                    .entry(PROGRESS_POLL)
                    .or_default()
                    .extend(progressing);
            }
            for (delay, names) in by_delay {
                let requeue = self.requeue.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Some(requeue) = requeue.upgrade() {
                        for name in names {
                            let _ = requeue.send(name);
                        }
                    }
                });
            }
        }
    }
}

/// The longest a failed resource waits for its retry. A batch mostly fails while its cluster
/// starts (not reachable yet), and a retry costs one read of that cluster, so a new cluster's
/// topics and users follow it to Ready within this, however long it took to start.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// Kubernetes requests (finalizers, statuses, Secrets) a batch keeps in flight at once.
const WRITES_IN_FLIGHT: usize = 32;

/// Runs `call` (a Kubernetes request) for every item of a batch, a bounded number at once; a
/// failure comes back with its item.
pub async fn each_bounded<T, F, Fut, O, E>(items: Vec<T>, call: F) -> Vec<Result<O, (T, E)>>
where
    T: Clone,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<O, E>>,
{
    futures::stream::iter(items)
        .map(|item| {
            let attempt = call(item.clone());
            async move { attempt.await.map_err(|error| (item, error)) }
        })
        .buffer_unordered(WRITES_IN_FLIGHT)
        .collect()
        .await
}

/// Adds (`present`) or removes `finalizer` on each object, a bounded number at once. Returns the
/// names of those it could not write (after a concurrent change, say), to retry.
pub async fn set_finalizers<K>(
    client: &Client,
    objects: Vec<Arc<K>>,
    finalizer: &str,
    present: bool,
) -> Vec<String>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: DeserializeOwned + Clone + Debug,
{
    let written = each_bounded(objects, |object| async move {
        set_finalizer(client, object.as_ref(), finalizer, present).await
    })
    .await;
    failed_names(written, "could not write the finalizer; retrying")
}

/// Says on each of `objects`, in a Warning Event, that its finalizer is released although
/// nothing was cleaned up in `cluster`, because that cluster no longer exists. The Event is what
/// a user still finds (`kubectl get events`) once the resource itself is gone.
pub async fn warn_cluster_gone<K>(context: &Context, objects: &[Arc<K>], cluster: &str)
where
    K: Resource<DynamicType = ()>,
{
    let note = format!(
        "The cluster {cluster} no longer exists, so nothing was deleted in it; the finalizer is \
         released so that this deletion (and its namespace's) can finish"
    );
    futures::stream::iter(objects)
        .for_each_concurrent(WRITES_IN_FLIGHT, |object| {
            context.publish(object.as_ref(), true, "ClusterGone", note.clone())
        })
        .await;
}

/// Writes each object's desired status where it differs from its current one (`(object,
/// current, desired)`), a bounded number at once. Returns the names of those it could not
/// write, to retry.
pub async fn write_statuses<K, S>(
    client: &Client,
    statuses: Vec<(Arc<K>, Option<S>, S)>,
) -> Vec<String>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: DeserializeOwned + Clone + Debug,
    S: Serialize + Clone,
{
    let written = each_bounded(statuses, |(object, current, desired)| async move {
        merge_status(client, object.as_ref(), current.as_ref(), &desired).await
    })
    .await;
    let failed = written
        .into_iter()
        .map(|result| result.map_err(|((object, _, _), error)| (object, error)));
    failed_names(failed, "could not write the status; retrying")
}

fn failed_names<K: Resource, O, E: Display>(
    results: impl IntoIterator<Item = Result<O, (Arc<K>, E)>>,
    what: &str,
) -> Vec<String> {
    results
        .into_iter()
        .filter_map(|result| {
            let (object, error) = result.err()?;
            tracing::debug!(object = %object.name_any(), %error, "{what}");
            Some(object.name_any())
        })
        .collect()
}
