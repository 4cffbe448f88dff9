//! The batch frame: what every batch of topics or users does around its broker work, written
//! once. The resources of a batch are sorted into deleted, paused, unmanaged, invalid,
//! conflicting and to-sync; the finalizer goes on before anything is made in the broker; the
//! cluster is reached once; the kind plans and applies; an unreachable cluster that no longer
//! exists releases its deleted resources; statuses come last, written only where they changed.

use std::collections::HashMap;
use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::jiff::Timestamp;
use kube::core::object::HasStatus;
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use api::{Condition, HasConditions};

use super::{BatchReconciler, Requeue, set_finalizers, warn_cluster_gone, write_statuses};
use crate::conditions::{self, INVALID_SPEC, NOT_SUPPORTED};
use crate::finalizer::has_finalizer;
use crate::metrics::Timeline;
use crate::{Context, managed, pause};

/// A kind of resource reconciled in batches against one broker cluster per group.
pub trait Batch<K>: Send + Sync + 'static
where
    K: HasStatus<Status: HasConditions>,
{
    /// Resources of one group (one cluster) are reconciled together.
    type Group: Clone + Debug + Display + Eq + Hash + Send + Sync + 'static;
    /// A valid resource's model.
    type Model: Send;
    /// The cluster as one batch reached it: a connection, and what was read of it up front.
    type Reached: Send + Sync;
    /// What a Ready status records (the topic's name and ID, the user's name and Secret).
    type Ready: Send;
    /// Why the broker work for one resource failed; retried with backoff.
    type Error: Failure + Send;

    /// The finalizer that holds a deleted resource until the broker has let go of it.
    const FINALIZER: &'static str;

    fn context(&self) -> &Context;

    fn group(&self, resource: &K) -> Self::Group;

    /// What in the broker the resource stands for (a topic, a principal): of resources that
    /// claim the same, the oldest owns it. `None` claims nothing.
    fn claim(&self, resource: &K) -> Option<String>;

    fn validate(&self, resource: &K) -> Result<Self::Model, String>;

    /// Whether resources in sync carry the finalizer; without it, deleting one leaves the broker
    /// as it is (a topic operator that does not delete topics).
    fn finalizes(&self) -> bool {
        true
    }

    /// Whether deleting `resource`, which owns its claim, removes something from the broker.
    fn deletes_in_broker(&self, _resource: &K) -> bool {
        true
    }

    /// What a resource to sync is told when its cluster cannot be reached.
    fn unreachable(&self, unreachable: &Unreachable) -> Self::Error;

    /// Connects to the group's cluster and reads what every batch needs of it.
    fn reach<'a>(
        &'a self,
        group: &'a Self::Group,
    ) -> BoxFuture<'a, Result<Self::Reached, Unreachable>>;

    /// Brings the broker in line with `sync` and removes what `delete` stood for.
    fn apply<'a>(
        &'a self,
        group: &'a Self::Group,
        reached: &'a Self::Reached,
        sync: Vec<(Arc<K>, Self::Model)>,
        delete: Vec<Arc<K>>,
    ) -> BoxFuture<'a, BatchOutcomes<K, Self::Ready, Self::Error>>;

    /// What it means for the user that `owner`, an older resource, holds the claim.
    fn conflict(owner: &str) -> String;

    /// Warnings a Ready resource carries beside `Ready`.
    fn warnings(_ready: &Self::Ready) -> Vec<Condition> {
        Vec::new()
    }

    /// The status with `conditions` for the resource's generation, and what `ready` records
    /// (without it, what the last success recorded is kept). Pure.
    fn status(resource: &K, ready: Option<&Self::Ready>, conditions: Vec<Condition>) -> K::Status;
}

/// How one resource's reconcile in a batch ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<R, E> {
    /// The broker matches the spec.
    Ready(R),
    /// `strimzi.io/managed: "false"`: the operator leaves the resource alone.
    Unmanaged,
    Paused,
    InvalidSpec(String),
    /// An older resource, named here, claims the same topic or user.
    ResourceConflict(String),
    /// A valid spec asks for a change the broker cannot make.
    NotSupported(String),
    /// Retried with backoff.
    Failed(E),
    /// The broker's answers disagreed (one had not learned of a change yet): the status stays
    /// as it is, and the resource is looked at again shortly.
    LookAgain,
    /// The broker carries the spec out over minutes (partitions moving): `NotReady` with
    /// `reason` and `message`, the status records `ready`, and the resource is looked at again
    /// at a steady pace (not as a failure) until it is Ready.
    Progressing {
        ready: R,
        reason: &'static str,
        message: String,
    },
}

/// An error for a status condition: its reason, and its message for a person.
pub trait Failure: Display {
    fn reason(&self) -> &'static str;
}

/// Why a batch could not reach its cluster.
#[derive(Clone, Debug)]
pub struct Unreachable {
    pub message: String,
    /// The cluster no longer exists: deleted resources are released, as nothing is left to
    /// clean up in it.
    pub gone: bool,
}

/// What a batch's broker work did.
pub struct BatchOutcomes<K, R, E> {
    /// Each synced resource's outcome.
    pub outcomes: Vec<(Arc<K>, Outcome<R, E>)>,
    /// Deleted resources the broker has let go of, and those to retry.
    pub deleted: Vec<Arc<K>>,
    pub not_deleted: Vec<Arc<K>>,
}

impl<K, R, E> Default for BatchOutcomes<K, R, E> {
    fn default() -> Self {
        BatchOutcomes {
            outcomes: Vec::new(),
            deleted: Vec::new(),
            not_deleted: Vec::new(),
        }
    }
}

impl<K, B> BatchReconciler<K> for B
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasStatus<Status: HasConditions>,
    K: DeserializeOwned + Clone + Debug + Send + Sync + 'static,
    K::Status: Serialize + Clone + Send + Sync + 'static,
    B: Batch<K>,
{
    type Group = B::Group;

    fn group(&self, resource: &K) -> B::Group {
        Batch::group(self, resource)
    }

    fn reconcile<'a>(
        &'a self,
        group: &'a B::Group,
        due: Vec<Arc<K>>,
        members: &'a [Arc<K>],
    ) -> BoxFuture<'a, Requeue> {
        Box::pin(reconcile(self, group, due, members))
    }

    /// An older resource that conflicted with others is gone: one of them owns its claim now.
    fn after_delete(&self, deleted: &K, members: &[Arc<K>]) -> Vec<String> {
        let Some(claim) = self.claim(deleted) else {
            return Vec::new();
        };
        members
            .iter()
            .filter(|member| self.claim(member).as_ref() == Some(&claim))
            .map(|member| member.name_any())
            .collect()
    }
}

/// The owner of each claim of `members`: of the resources that claim the same, the oldest by
/// creation time, then by name (creation times have one-second precision). Pure.
pub fn claim_owners<K: Resource>(
    members: &[Arc<K>],
    claim: impl Fn(&K) -> Option<String>,
) -> HashMap<String, String> {
    let mut oldest = HashMap::new();
    for member in members {
        let Some(claimed) = claim(member) else {
            continue;
        };
        let age = (
            member.meta().creation_timestamp.as_ref().map(|time| time.0),
            member.name_any(),
        );
        oldest
            .entry(claimed)
            .and_modify(|owner: &mut (_, String)| *owner = owner.clone().min(age.clone()))
            .or_insert(age);
    }
    oldest
        .into_iter()
        .map(|(claimed, (_, owner))| (claimed, owner))
        .collect()
}

/// The batch's resources, sorted.
struct Sorted<K, M, R, E> {
    /// Outcomes known without the broker.
    outcomes: Vec<(Arc<K>, Outcome<R, E>)>,
    /// Deleted resources whose claim goes from the broker.
    delete: Vec<Arc<K>>,
    /// Resources whose finalizer goes, with nothing to do in the broker.
    release: Vec<Arc<K>>,
    sync: Vec<(Arc<K>, M)>,
}

fn sort<K, B>(
    kind: &B,
    due: Vec<Arc<K>>,
    members: &[Arc<K>],
) -> Sorted<K, B::Model, B::Ready, B::Error>
where
    K: Resource + HasStatus<Status: HasConditions>,
    B: Batch<K>,
{
    let owners = claim_owners(members, |member| kind.claim(member));
    let mut sorted = Sorted {
        outcomes: Vec::new(),
        delete: Vec::new(),
        release: Vec::new(),
        sync: Vec::new(),
    };
    for resource in due {
        let finalized = has_finalizer(resource.as_ref(), B::FINALIZER);
        let unmanaged = !managed::is_managed(resource.meta());
        let conflict = kind
            .claim(&resource)
            .and_then(|claim| owners.get(&claim))
            .filter(|owner| **owner != resource.name_any())
            .cloned();
        if resource.meta().deletion_timestamp.is_some() {
            // Another resource's claim, and an unmanaged resource's, are left alone: marking a
            // resource unmanaged is the way out when its cluster cannot be reached.
            let owned = !unmanaged && conflict.is_none();
            match (finalized, owned && kind.deletes_in_broker(&resource)) {
                (false, _) => {}
                (true, true) => sorted.delete.push(resource),
                (true, false) => sorted.release.push(resource),
            }
            continue;
        }
        let outcome = if pause::is_paused(resource.meta()) {
            Outcome::Paused
        } else if unmanaged {
            if finalized {
                sorted.release.push(resource.clone());
            }
            Outcome::Unmanaged
        } else {
            match (kind.validate(&resource), conflict) {
                (Err(message), _) => Outcome::InvalidSpec(message),
                (Ok(_), Some(owner)) => Outcome::ResourceConflict(owner),
                (Ok(model), None) => {
                    sorted.sync.push((resource, model));
                    continue;
                }
            }
        };
        sorted.outcomes.push((resource, outcome));
    }
    sorted
}

/// Reconciles `due`, resources of `group`; `members` is every resource of the group. Returns the
/// names of the resources to look at again.
async fn reconcile<K, B>(
    kind: &B,
    group: &B::Group,
    due: Vec<Arc<K>>,
    members: &[Arc<K>],
) -> Requeue
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasStatus<Status: HasConditions>,
    K: DeserializeOwned + Clone + Debug + Send + Sync + 'static,
    K::Status: Serialize + Clone + Send + Sync + 'static,
    B: Batch<K>,
{
    let client = &kind.context().client;
    let kind_name = K::kind(&());
    let mut timeline = Timeline::new(&kind.context().metrics, &kind_name);
    let Sorted {
        mut outcomes,
        mut delete,
        mut release,
        mut sync,
    } = sort(kind, due, members);

    // The finalizer goes on before anything is made in the broker, so its removal is never
    // missed; without finalizers, any left from before goes.
    let (finalized, not_finalized): (Vec<_>, Vec<_>) = sync
        .iter()
        .map(|(resource, _)| resource.clone())
        .partition(|resource| has_finalizer(resource.as_ref(), B::FINALIZER));
    let needs_finalizer = match kind.finalizes() {
        true => not_finalized,
        false => {
            release.extend(finalized);
            Vec::new()
        }
    };
    let mut retry = set_finalizers(client, needs_finalizer, B::FINALIZER, true).await;
    sync.retain(|(resource, _)| !retry.contains(&resource.name_any()));
    timeline.done(FINALIZERS);

    if !sync.is_empty() || !delete.is_empty() {
        match kind.reach(group).await {
            Ok(reached) => {
                let applied = kind.apply(group, &reached, sync, delete).await;
                outcomes.extend(applied.outcomes);
                release.extend(applied.deleted);
                retry.extend(
                    applied
                        .not_deleted
                        .iter()
                        .map(|resource| resource.name_any()),
                );
            }
            Err(unreachable) => {
                tracing::warn!(%group, error = %unreachable.message, "cannot reach the cluster");
                if unreachable.gone && !delete.is_empty() {
                    let cluster = format!("{group}");
                    warn_cluster_gone(kind.context(), &delete, &cluster).await;
                    release.append(&mut delete);
                }
                retry.extend(delete.iter().map(|resource| resource.name_any()));
                for (resource, _) in sync {
                    let error = kind.unreachable(&unreachable);
                    outcomes.push((resource, Outcome::Failed(error)));
                }
            }
        }
    }

    timeline.done(BROKER);
    retry.extend(set_finalizers(client, release, B::FINALIZER, false).await);
    timeline.done(RELEASE);
    let now = Timestamp::now();
    let mut statuses = Vec::new();
    let mut progressing = Vec::new();
    for (resource, outcome) in outcomes {
        match outcome {
            Outcome::Failed(_) | Outcome::LookAgain => retry.push(resource.name_any()),
            Outcome::Progressing { .. } => progressing.push(resource.name_any()),
            _ => {}
        }
        if let Some(desired) = desired_status::<K, B>(&resource, &outcome, now) {
            let current = resource.status().cloned();
            statuses.push((resource, current, desired));
        }
    }
    let client = client.clone();
    let metrics = kind.context().metrics.clone();
    let finishing = async move {
        let began = Instant::now();
        let failed = write_statuses(&client, statuses).await;
        metrics.observe_step(&kind_name, STATUSES, began.elapsed());
        failed
    };
    Requeue {
        failed: retry,
        progressing,
        finishing: Some(Box::pin(finishing)),
    }
}

/// A batch's phases, as steps of its kind's `brokerage_step_duration_seconds`: where the time
/// between a change and its status goes.
const FINALIZERS: &str = "batch finalizers";
const BROKER: &str = "batch broker";
const RELEASE: &str = "batch release";
const STATUSES: &str = "batch statuses";

/// The status `outcome` gives `resource` (pure); `None` leaves it as it is.
pub fn desired_status<K, B>(
    resource: &K,
    outcome: &Outcome<B::Ready, B::Error>,
    now: Timestamp,
) -> Option<K::Status>
where
    K: HasStatus<Status: HasConditions>,
    B: Batch<K>,
{
    let current = resource.status().and_then(HasConditions::conditions);
    let (ready, warnings) = match outcome {
        Outcome::Ready(ready) => (Some(ready), B::warnings(ready)),
        Outcome::Progressing { ready, .. } => (Some(ready), Vec::new()),
        _ => (None, Vec::new()),
    };
    let conditions = outcome_conditions(outcome, warnings, B::conflict, current, now)?;
    Some(B::status(resource, ready, conditions))
}

/// The conditions `outcome` gives a resource of any batched kind, stamped against `current`:
/// `Ready` (with `warnings`) on success, else `NotReady` with the reason users know.
/// `conflict` says, for the kind, what an older owner (named) means. `None` for `LookAgain`,
/// which leaves the status as it is.
fn outcome_conditions<R, E: Failure>(
    outcome: &Outcome<R, E>,
    warnings: Vec<Condition>,
    conflict: impl FnOnce(&str) -> String,
    current: Option<&[Condition]>,
    now: Timestamp,
) -> Option<Vec<Condition>> {
    let condition = match outcome {
        Outcome::Ready(_) | Outcome::Unmanaged => conditions::ready(),
        Outcome::Paused => conditions::paused(),
        Outcome::InvalidSpec(message) => conditions::not_ready(INVALID_SPEC, message),
        Outcome::ResourceConflict(owner) => {
            conditions::not_ready(RESOURCE_CONFLICT, &conflict(owner))
        }
        Outcome::NotSupported(message) => conditions::not_ready(NOT_SUPPORTED, message),
        Outcome::Failed(error) => conditions::not_ready(error.reason(), &error.to_string()),
        Outcome::LookAgain => return None,
        Outcome::Progressing {
            reason, message, ..
        } => conditions::not_ready(reason, message),
    };
    let warnings = warnings
        .into_iter()
        .filter(|_| matches!(outcome, Outcome::Ready(_)));
    let mut desired: Vec<Condition> = std::iter::once(condition).chain(warnings).collect();
    conditions::stamp_transitions(&mut desired, current.unwrap_or_default(), now);
    Some(desired)
}

/// The reason on a resource whose topic or user an older resource claims.
pub const RESOURCE_CONFLICT: &str = "ResourceConflict";

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kube::api::ObjectMeta;

    use super::*;

    #[derive(Debug)]
    struct Down;

    impl Display for Down {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the broker is down")
        }
    }

    impl Failure for Down {
        fn reason(&self) -> &'static str {
            "KafkaError"
        }
    }

    fn reasons(outcome: &Outcome<(), Down>) -> Option<Vec<(String, Option<String>)>> {
        let warning = conditions::warning("Careful", "mind the ACLs");
        let conflict = |owner: &str| format!("{owner} is older");
        let made = outcome_conditions(
            outcome,
            vec![warning],
            conflict,
            None,
            Timestamp::UNIX_EPOCH,
        );
        made.map(|made| made.into_iter().map(|c| (c.type_, c.reason)).collect())
    }

    fn created(name: &str, claim: &str, at: &str) -> Arc<ConfigMap> {
        Arc::new(ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                creation_timestamp: Some(Time(at.parse().unwrap())),
                labels: Some([("claim".to_string(), claim.to_string())].into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        })
    }

    #[test]
    fn the_oldest_resource_owns_a_claim_and_the_name_breaks_ties() {
        let members = [
            created("orders-a", "orders", "2026-01-02T00:00:00Z"),
            created("orders-b", "orders", "2026-01-01T00:00:00Z"),
            created("payments-b", "payments", "2026-01-03T00:00:00Z"),
            created("payments-a", "payments", "2026-01-03T00:00:00Z"),
            created("nothing", "", "2026-01-01T00:00:00Z"),
        ];
        let claim = |member: &ConfigMap| {
            let claimed = member.labels().get("claim")?;
            (!claimed.is_empty()).then(|| claimed.clone())
        };
        let owners = claim_owners(&members, claim);
        assert_eq!(owners.len(), 2);
        assert_eq!(owners["orders"], "orders-b");
        assert_eq!(owners["payments"], "payments-a");
    }

    #[test]
    fn each_outcome_is_the_condition_users_know() {
        let pair =
            |type_: &str, reason: Option<&str>| (type_.to_string(), reason.map(String::from));
        assert_eq!(
            reasons(&Outcome::Ready(())),
            Some(vec![pair("Ready", None), pair("Warning", Some("Careful"))])
        );
        assert_eq!(
            reasons(&Outcome::Unmanaged),
            Some(vec![pair("Ready", None)])
        );
        let moving = Outcome::Progressing {
            ready: (),
            reason: "Moving",
            message: "half way".into(),
        };
        assert_eq!(
            reasons(&moving),
            Some(vec![pair("NotReady", Some("Moving"))])
        );
        assert_eq!(
            reasons(&Outcome::Failed(Down)),
            Some(vec![pair("NotReady", Some("KafkaError"))])
        );
        assert_eq!(
            reasons(&Outcome::ResourceConflict("older".into())),
            Some(vec![pair("NotReady", Some("ResourceConflict"))])
        );
        assert_eq!(reasons(&Outcome::LookAgain), None);
    }
}
