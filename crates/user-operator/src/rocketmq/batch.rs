//! One batch: the RocketMQUsers of one cluster that changed or are due. Each broker's users and
//! ACLs are read with two requests; each user then costs requests only where a broker differs.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use api::rocketmq::RocketMQUser;
use cluster_operator::admin::ClusterRef;
use cluster_operator::rocketmq::admin::RocketMQAdmins;
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use rocketmq_client::{Acl, AdminClient, User};
use runtime::batched::{
    BatchReconciler, set_finalizers, warn_cluster_gone, write_all, write_statuses,
};
use runtime::finalizer::has_finalizer;
use runtime::labels::{STRIMZI_CLUSTER, STRIMZI_KIND};
use runtime::{Applier, Context, managed, pause};

use super::model::{FINALIZER, PasswordSource, UserModel, cluster_of, subject, username, validate};
use super::plan::{AclWrite, BrokerPlan, PASSWORD_DIGEST_ANNOTATION, UserChange, plan};
use super::secret::{KIND, PASSWORD, build_secret};
use super::status::{Outcome, desired_status};
use crate::claims::{Owners, sharing_user};
use crate::password::{password_digest, read_password};
use crate::secrets::{self, SecretFailure, foreign_secret, live_secret, write_secret};

/// Users changed at once; each change is a few requests per broker.
const USERS_IN_FLIGHT: usize = 16;

/// Reconciles RocketMQUsers in batches, one group per RocketMQ cluster.
pub struct UserReconciler {
    pub context: Arc<Context>,
    pub admins: Arc<RocketMQAdmins>,
}

impl BatchReconciler<RocketMQUser> for UserReconciler {
    type Group = ClusterRef;

    fn group(&self, user: &RocketMQUser) -> ClusterRef {
        cluster_of(user)
    }

    fn reconcile<'a>(
        &'a self,
        cluster: &'a ClusterRef,
        due: Vec<Arc<RocketMQUser>>,
        members: &'a [Arc<RocketMQUser>],
    ) -> BoxFuture<'a, Vec<String>> {
        Box::pin(async move {
            let owners = Owners::index(members.iter().map(AsRef::as_ref), username);
            reconcile(self, cluster, due, &owners).await
        })
    }

    /// An older user that conflicted with others is gone: one of them owns the user now.
    fn after_delete(&self, deleted: &RocketMQUser, members: &[Arc<RocketMQUser>]) -> Vec<String> {
        sharing_user(deleted, members, username)
    }
}

/// What every broker of the cluster has: users by name and ACLs by subject.
struct BrokerState {
    address: String,
    users: HashMap<String, User>,
    acls: HashMap<String, Acl>,
}

/// Reconciles `batch`, RocketMQUsers of `cluster`; `owners` says which resource owns each user
/// name. Returns the names of the resources to retry later.
async fn reconcile(
    reconciler: &UserReconciler,
    cluster: &ClusterRef,
    batch: Vec<Arc<RocketMQUser>>,
    owners: &Owners,
) -> Vec<String> {
    let client = &reconciler.context.client;
    let mut outcomes = Vec::new();
    let mut removing = Vec::new();
    let mut released = Vec::new();
    let mut valid = Vec::new();
    for user in batch {
        let owner = owners.conflicting_owner(&username(&user), &user.name_any());
        if user.metadata.deletion_timestamp.is_some() {
            // Another resource's user is left alone; `strimzi.io/managed: "false"` lets go
            // without touching the broker, the way out when its cluster cannot be reached.
            let leave_alone = owner.is_some() || !managed::is_managed(&user.metadata);
            match (has_finalizer(user.as_ref(), FINALIZER), leave_alone) {
                (false, _) => {}
                (true, true) => released.push(user),
                (true, false) => removing.push(user),
            }
            continue;
        }
        if pause::is_paused(&user.metadata) {
            outcomes.push((user, Outcome::Paused));
            continue;
        }
        match (validate(&user), owner) {
            (Err(message), _) => outcomes.push((user, Outcome::InvalidSpec(message))),
            (Ok(_), Some(owner)) => {
                let owner = owner.to_string();
                outcomes.push((user, Outcome::ResourceConflict(owner)));
            }
            (Ok(model), None) => valid.push((user, model)),
        }
    }

    // The finalizer goes on before anything is made in RocketMQ, so its removal is never missed.
    let needs_finalizer: Vec<Arc<RocketMQUser>> = valid
        .iter()
        .filter(|(user, _)| !has_finalizer(user.as_ref(), FINALIZER))
        .map(|(user, _)| user.clone())
        .collect();
    let mut retry = set_finalizers(client, needs_finalizer, FINALIZER, true).await;
    valid.retain(|(user, _)| !retry.contains(&user.name_any()));

    if !valid.is_empty() || !removing.is_empty() {
        let admins = &reconciler.admins;
        let reached = match admins.admin(cluster).await {
            Ok(admin) => observe(&admin, &admins.cluster_name(cluster))
                .await
                .map(|brokers| (admin, brokers)),
            Err(error) => {
                if !removing.is_empty() && admins.is_gone(cluster, &error).await {
                    let cluster = format!("RocketMQ {cluster}");
                    warn_cluster_gone(&reconciler.context, &removing, &cluster).await;
                    released.append(&mut removing);
                }
                Err(error.to_string())
            }
        };
        match reached {
            Ok((admin, brokers)) => {
                let sent = admin.requests_sent();
                // The operator's own admin user is never a RocketMQUser's to change or delete.
                let operator = admin.config().credentials.as_ref();
                let is_operator =
                    |name: &str| operator.is_some_and(|admin| admin.access_key == name);
                let (left_alone, removing): (Vec<_>, Vec<_>) = removing
                    .into_iter()
                    .partition(|user| is_operator(&username(user)));
                released.extend(left_alone);
                let (refused, valid): (Vec<_>, Vec<_>) = valid
                    .into_iter()
                    .partition(|(_, model)| is_operator(&model.username));
                for (user, model) in refused {
                    let message = format!(
                        "the user name {} is the cluster's admin user, which the operator signs                          its requests with; choose another spec.username",
                        model.username
                    );
                    outcomes.push((user, Outcome::InvalidSpec(message)));
                }
                let (removed, failed) = remove(&admin, &brokers, removing).await;
                released.extend(removed);
                retry.extend(failed.iter().map(|user| user.name_any()));
                for (user, outcome) in sync(reconciler, cluster, &admin, &brokers, valid).await {
                    if matches!(
                        outcome,
                        Outcome::RocketMQError(_) | Outcome::SecretConflict(_)
                    ) {
                        retry.push(user.name_any());
                    }
                    outcomes.push((user, outcome));
                }
                let requests = admin.requests_sent().saturating_sub(sent);
                let metrics = &reconciler.context.metrics;
                metrics.observe_broker_requests("RocketMQUser", requests);
            }
            Err(message) => {
                tracing::warn!(%cluster, %message, "cannot reach RocketMQ");
                retry.extend(removing.iter().map(|user| user.name_any()));
                for (user, _) in valid {
                    retry.push(user.name_any());
                    outcomes.push((user, Outcome::RocketMQError(message.clone())));
                }
            }
        }
    }

    retry.extend(set_finalizers(client, released, FINALIZER, false).await);
    let now = Timestamp::now();
    let statuses = outcomes
        .into_iter()
        .map(|(user, outcome)| {
            let desired = desired_status(&user, &outcome, now);
            (user.clone(), user.status.clone(), desired)
        })
        .collect();
    retry.extend(write_statuses(client, statuses).await);
    retry
}

/// Every broker of `cluster_name` (masters and replicas) with its users and ACLs.
async fn observe(admin: &AdminClient, cluster_name: &str) -> Result<Vec<BrokerState>, String> {
    let info = admin
        .cluster_info()
        .await
        .map_err(|error| format!("asking the name servers for the brokers: {error}"))?;
    let addresses = info.addresses(cluster_name);
    if addresses.is_empty() {
        return Err(format!(
            "no broker of the cluster {cluster_name} is registered with the name servers {}",
            admin.config().name_servers.join(";")
        ));
    }
    let reading: Vec<_> = addresses
        .into_iter()
        .map(|address| async move {
            let failed = |error: rocketmq_client::Error| {
                format!("reading the users and ACLs of the broker {address}: {error}")
            };
            let users = admin.list_users(&address).await.map_err(failed)?;
            let acls = admin.list_acls(&address).await.map_err(failed)?;
            Ok::<_, String>(BrokerState {
                users: users
                    .into_iter()
                    .map(|user| (user.username.clone(), user))
                    .collect(),
                acls: acls
                    .into_iter()
                    .map(|acl| (acl.subject.clone(), acl))
                    .collect(),
                address,
            })
        })
        .collect();
    futures::future::try_join_all(reading).await
}

/// Resolves each user's password, brings every broker in line, then writes the Secrets.
async fn sync(
    reconciler: &UserReconciler,
    cluster: &ClusterRef,
    admin: &AdminClient,
    brokers: &[BrokerState],
    valid: Vec<(Arc<RocketMQUser>, UserModel)>,
) -> Vec<(Arc<RocketMQUser>, Outcome)> {
    let client = &reconciler.context.client;
    let secrets = match list_secrets(client, cluster).await {
        Ok(secrets) => secrets,
        Err(error) => {
            let message = format!("reading the users' Secrets: {error}");
            return valid
                .into_iter()
                .map(|(user, _)| (user, Outcome::RocketMQError(message.clone())))
                .collect();
        }
    };

    let api: Api<Secret> = Api::namespaced(client.clone(), &cluster.namespace);
    let mut outcomes = Vec::new();
    let mut ready = Vec::new();
    for (user, model) in valid {
        let live = match live_secret(&api, &secrets, &model.secret).await {
            Ok(live) => live,
            Err(error) => {
                let message = format!("reading the Secret {}: {error}", model.secret);
                outcomes.push((user, Outcome::RocketMQError(message)));
                continue;
            }
        };
        let uid = user.uid().unwrap_or_default();
        if let Some(message) = foreign_secret(KIND, &uid, &model.secret, live.as_ref()) {
            outcomes.push((user, Outcome::SecretConflict(message)));
            continue;
        }
        let existing = live.as_ref();
        match password(client, cluster, &model, existing).await {
            Ok(password) => {
                let digest = password_digest(&password);
                let applied = existing
                    .and_then(|secret| secret.annotations().get(PASSWORD_DIGEST_ANNOTATION))
                    .is_some_and(|applied| *applied == digest);
                let plans: Vec<(&str, BrokerPlan)> = brokers
                    .iter()
                    .map(|broker| {
                        let found = broker.users.get(&model.username);
                        let acl = broker.acls.get(&model.subject());
                        let plan = plan(&model, &password, found, acl, applied);
                        (broker.address.as_str(), plan)
                    })
                    .collect();
                let secret =
                    build_secret(&user, &cluster.name, &model.username, &password, &digest);
                ready.push((user, model, plans, (secret, live)));
            }
            Err(message) => outcomes.push((user, Outcome::RocketMQError(message))),
        }
    }

    let executing: Vec<_> = ready
        .into_iter()
        .map(|(user, model, plans, secret)| async move {
            let mut failure = None;
            for (broker, plan) in &plans {
                if let Err(error) = execute(admin, broker, &model, plan).await {
                    failure = Some(format!("changing the broker {broker}: {error}"));
                    break;
                }
            }
            (user, model, secret, failure)
        })
        .collect();
    let executed: Vec<_> = stream::iter(executing)
        .buffer_unordered(USERS_IN_FLIGHT)
        .collect()
        .await;

    let applier = Applier::new(
        client.clone(),
        "RocketMQUser",
        reconciler.context.metrics.clone(),
    )
    .with_field_manager(secrets::FIELD_MANAGER);
    let mut to_write = Vec::new();
    for (user, model, secret, failure) in executed {
        match failure {
            Some(message) => outcomes.push((user, Outcome::RocketMQError(message))),
            None => to_write.push((user, model, secret)),
        }
    }
    let written = write_all(to_write, |(user, model, (secret, live))| {
        let (applier, api) = (&applier, &api);
        async move {
            write_secret(applier, api, &model.secret, Some(&secret), live.as_ref()).await?;
            let outcome = Outcome::Ready {
                username: model.username.clone(),
                secret: model.secret.clone(),
            };
            Ok((user, outcome))
        }
    })
    .await;
    for result in written {
        outcomes.push(match result {
            Ok(pair) => pair,
            Err(((user, _, _), SecretFailure::Conflict(message))) => {
                (user, Outcome::SecretConflict(message))
            }
            Err(((user, _, _), SecretFailure::Failed(message))) => {
                (user, Outcome::RocketMQError(message))
            }
        });
    }
    outcomes
}

/// One broker's plan for one user, in order: the user, stale resources, then the policy.
async fn execute(
    admin: &AdminClient,
    broker: &str,
    model: &UserModel,
    plan: &BrokerPlan,
) -> Result<(), rocketmq_client::Error> {
    match &plan.user {
        Some(UserChange::Create(user)) => admin.create_user(broker, user).await?,
        Some(UserChange::Update(user)) => admin.update_user(broker, user).await?,
        None => {}
    }
    for resource in &plan.remove_resources {
        admin
            .delete_acl(broker, &model.subject(), Some(resource))
            .await?;
    }
    match &plan.write_acl {
        Some(AclWrite::Create(acl)) => admin.create_acl(broker, acl).await?,
        Some(AclWrite::Update(acl)) => admin.update_acl(broker, acl).await?,
        None => {}
    }
    Ok(())
}

/// Removes deleted users' ACLs and the users from every broker that has them. Returns the
/// resources whose finalizer can go, and those to retry.
async fn remove(
    admin: &AdminClient,
    brokers: &[BrokerState],
    users: Vec<Arc<RocketMQUser>>,
) -> (Vec<Arc<RocketMQUser>>, Vec<Arc<RocketMQUser>>) {
    let removing: Vec<_> = users.into_iter().map(|user| async move {
        let name = username(&user);
        let subject = subject(&name);
        let mut result = Ok(());
        for broker in brokers {
            if result.is_ok() && broker.acls.contains_key(&subject) {
                result = admin.delete_acl(&broker.address, &subject, None).await;
            }
            if result.is_ok() && broker.users.contains_key(&name) {
                result = admin.delete_user(&broker.address, &name).await;
            }
        }
        if let Err(error) = &result {
            tracing::warn!(user = %user.name_any(), %error, "could not remove the RocketMQ user");
        }
        (user, result.is_ok())
    }).collect();
    let results: Vec<_> = stream::iter(removing)
        .buffer_unordered(USERS_IN_FLIGHT)
        .collect()
        .await;
    let (removed, failed): (Vec<_>, Vec<_>) = results.into_iter().partition(|(_, ok)| *ok);
    (
        removed.into_iter().map(|(user, _)| user).collect(),
        failed.into_iter().map(|(user, _)| user).collect(),
    )
}

/// The user's password: from the Secret the spec names, else the one kept in the user's own
/// Secret, else a new one.
async fn password(
    client: &Client,
    cluster: &ClusterRef,
    model: &UserModel,
    existing: Option<&Secret>,
) -> Result<String, String> {
    match &model.password {
        PasswordSource::SecretKey { secret, key } => {
            read_password(client, &cluster.namespace, secret, key, "spec.password").await
        }
        PasswordSource::Generated => Ok(existing
            .and_then(|secret| secret.data.as_ref()?.get(PASSWORD))
            .and_then(|bytes| String::from_utf8(bytes.0.clone()).ok())
            .filter(|password| !password.is_empty())
            .unwrap_or_else(certs::generate_password)),
    }
}

/// The Secrets of the cluster's RocketMQUsers, by name.
async fn list_secrets(
    client: &Client,
    cluster: &ClusterRef,
) -> Result<BTreeMap<String, Secret>, kube::Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &cluster.namespace);
    let selector = format!("{STRIMZI_KIND}={KIND},{STRIMZI_CLUSTER}={}", cluster.name);
    let listed = api.list(&ListParams::default().labels(&selector)).await?;
    Ok(listed
        .items
        .into_iter()
        .map(|secret| (secret.name_any(), secret))
        .collect())
}
