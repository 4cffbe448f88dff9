//! One batch: the RocketMQUsers of one cluster that changed or are due. Each broker's users and
//! ACLs are read with two requests; each user then costs requests only where a broker differs.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::admin::RocketMQAdmins;
use api::Condition;
use api::rocketmq::{RocketMQUser, RocketMQUserStatus};
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use operator_common::cluster_ref::ClusterRef;
use rocketmq_client::{Acl, AdminClient, User as BrokerUser};
use runtime::batched::{Batch, BatchOutcomes, Unreachable, each_bounded};
use runtime::labels::{STRIMZI_CLUSTER, STRIMZI_KIND};
use runtime::{Applier, Context};

use super::model::{FINALIZER, PasswordSource, UserModel, cluster_of, subject, username, validate};
use super::plan::{AclWrite, BrokerPlan, PASSWORD_DIGEST_ANNOTATION, UserChange, plan};
use super::secret::{KIND, PASSWORD, build_secret};
use super::status::{self, Outcome, User};
use operator_common::users::UserError;
use operator_common::users::password::{password_digest, read_password};
use operator_common::users::secrets::{
    self, SecretFailure, foreign_secret, live_secrets, write_secret,
};

/// Users changed at once; each change is a few requests per broker.
const USERS_IN_FLIGHT: usize = 16;

/// Reconciles RocketMQUsers in batches, one group per RocketMQ cluster.
pub struct UserReconciler {
    pub context: Arc<Context>,
    pub admins: Arc<RocketMQAdmins>,
}

/// A RocketMQ cluster as a batch reached it: the connection and every broker's users and ACLs.
pub struct Reached {
    admin: AdminClient,
    brokers: Vec<BrokerState>,
}

impl Batch<RocketMQUser> for UserReconciler {
    type Group = ClusterRef;
    type Model = UserModel;
    type Reached = Reached;
    type Ready = User;
    type Error = UserError;
    const FINALIZER: &'static str = FINALIZER;

    fn context(&self) -> &Context {
        &self.context
    }

    fn group(&self, user: &RocketMQUser) -> ClusterRef {
        cluster_of(user)
    }

    /// The user name: two RocketMQUsers of one cluster may not share one.
    fn claim(&self, user: &RocketMQUser) -> Option<String> {
        Some(username(user))
    }

    fn validate(&self, user: &RocketMQUser) -> Result<UserModel, String> {
        validate(user)
    }

    fn unreachable(&self, unreachable: &Unreachable) -> UserError {
        UserError::RocketMQ(unreachable.message.clone())
    }

    fn reach<'a>(&'a self, cluster: &'a ClusterRef) -> BoxFuture<'a, Result<Reached, Unreachable>> {
        Box::pin(async move {
            let admin = self.admins.reach(cluster).await?;
            match observe(&admin, &self.admins.cluster_name(cluster)).await {
                Ok(brokers) => Ok(Reached { admin, brokers }),
                Err(message) => Err(Unreachable {
                    message,
                    gone: false,
                }),
            }
        })
    }

    fn apply<'a>(
        &'a self,
        cluster: &'a ClusterRef,
        reached: &'a Reached,
        sync: Vec<(Arc<RocketMQUser>, UserModel)>,
        delete: Vec<Arc<RocketMQUser>>,
    ) -> BoxFuture<'a, BatchOutcomes<RocketMQUser, User, UserError>> {
        Box::pin(async move {
            let Reached { admin, brokers } = reached;
            let sent = admin.requests_sent();
            let mut applied = BatchOutcomes::default();
            // The operator's own admin user is never a RocketMQUser's to change or delete.
            let operator = admin.config().credentials.as_ref();
            let is_operator = |name: &str| operator.is_some_and(|admin| admin.access_key == name);
            let (left_alone, delete): (Vec<_>, Vec<_>) = delete
                .into_iter()
                .partition(|user| is_operator(&username(user)));
            applied.deleted.extend(left_alone);
            let (refused, sync): (Vec<_>, Vec<_>) = sync
                .into_iter()
                .partition(|(_, model)| is_operator(&model.username));
            for (user, model) in refused {
                let message = format!(
                    "the user name {} is the cluster's admin user, which the operator signs its \
                     requests with; choose another spec.username",
                    model.username
                );
                applied.outcomes.push((user, Outcome::InvalidSpec(message)));
            }
            let (removed, not_removed) = remove(admin, brokers, delete).await;
            applied.deleted.extend(removed);
            applied.not_deleted = not_removed;
            applied
                .outcomes
                .extend(sync_users(self, cluster, admin, brokers, sync).await);
            let requests = admin.requests_sent().saturating_sub(sent);
            (self.context.metrics).observe_broker_requests("RocketMQUser", requests);
            applied
        })
    }

    fn conflict(owner: &str) -> String {
        status::conflict(owner)
    }

    fn status(
        resource: &RocketMQUser,
        ready: Option<&User>,
        conditions: Vec<Condition>,
    ) -> RocketMQUserStatus {
        status::status(resource, ready, conditions)
    }
}

/// What every broker of the cluster has: users by name and ACLs by subject.
struct BrokerState {
    address: String,
    users: HashMap<String, BrokerUser>,
    acls: HashMap<String, Acl>,
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
async fn sync_users(
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
                .map(|(user, _)| (user, failed(message.clone())))
                .collect();
        }
    };

    let api: Api<Secret> = Api::namespaced(client.clone(), &cluster.namespace);
    let named = valid
        .iter()
        .map(|(_, model)| model.secret.clone())
        .collect();
    let named = live_secrets(&api, &secrets, named).await;
    let mut outcomes = Vec::new();
    let mut ready = Vec::new();
    for (user, model) in valid {
        let live = match named.get(&model.secret).cloned().unwrap_or(Ok(None)) {
            Ok(live) => live,
            Err(error) => {
                let message = format!("reading the Secret {}: {error}", model.secret);
                outcomes.push((user, failed(message)));
                continue;
            }
        };
        let uid = user.uid().unwrap_or_default();
        if let Some(message) = foreign_secret(KIND, &uid, &model.secret, live.as_ref()) {
            outcomes.push((user, Outcome::Failed(UserError::SecretConflict(message))));
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
            Err(message) => outcomes.push((user, failed(message))),
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
            Some(message) => outcomes.push((user, failed(message))),
            None => to_write.push((user, model, secret)),
        }
    }
    let written = each_bounded(to_write, |(user, model, (secret, live))| {
        let (applier, api) = (&applier, &api);
        async move {
            write_secret(applier, api, &model.secret, Some(&secret), live.as_ref()).await?;
            let outcome = Outcome::Ready(User {
                username: model.username.clone(),
                secret: model.secret.clone(),
            });
            Ok((user, outcome))
        }
    })
    .await;
    for result in written {
        outcomes.push(match result {
            Ok(pair) => pair,
            Err(((user, _, _), SecretFailure::Conflict(message))) => {
                (user, Outcome::Failed(UserError::SecretConflict(message)))
            }
            Err(((user, _, _), SecretFailure::Failed(message))) => (user, failed(message)),
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

fn failed(message: String) -> Outcome {
    Outcome::Failed(UserError::RocketMQ(message))
}
