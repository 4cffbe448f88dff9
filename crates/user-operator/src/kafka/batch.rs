//! One batch: the KafkaUsers of one cluster that changed or are due. Kafka is read with three
//! requests (every ACL, every SCRAM credential, every user quota) and changed with at most four
//! per thousand users, whatever the batch's size; the users' Secrets are listed once, and a
//! Secret not in that list is read by name before one is made.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use api::kafka::{Kafka, KafkaUser};
use certs::{CaConfig, CaKind, CertificateAuthority, OffsetDateTime, Subject};
use cluster_operator::admin::{ClusterRef, KafkaAdmins};
use cluster_operator::kafka::certificates::{ca_config, secret_content};
use cluster_operator::kafka::names;
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kafka_client::{
    AclBinding, AclBindingFilter, AclOperation, AclPermission, AdminClient, KafkaError,
    PatternType, QuotaAlteration, QuotaEntity, QuotaFilter, QuotaMatch, ResourceType,
    ScramAlteration, ScramMechanism,
};
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use runtime::batched::{
    BatchReconciler, set_finalizers, warn_cluster_gone, write_all, write_statuses,
};
use runtime::finalizer::has_finalizer;
use runtime::labels::{STRIMZI_CLUSTER, STRIMZI_KIND};
use runtime::{Applier, Context, managed, pause};

use super::model::{Credentials, FINALIZER, QUOTA_KEYS, UserModel, username, validate};
use super::plan::{
    ObservedUser, PASSWORD_DIGEST_ANNOTATION, ScramChange, UserPlan, acls_without_authorizer, plan,
    removal,
};
use super::secret::{
    CA_CRT, PASSWORD, USER_CRT, USER_KEY, USER_P12, USER_PASSWORD, build_secret, scram_data,
};
use super::status::{Outcome, desired_status};
use crate::claims::{Owners, sharing_user};
use crate::password::{password_digest, read_password};
use crate::secrets::{self, SecretFailure, foreign_secret, live_secret, write_secret};

/// The most items (ACLs, credentials, quotas) in one Kafka request.
const ITEMS_PER_REQUEST: usize = 1000;
/// Kafka's default for new SCRAM credentials.
const SCRAM_ITERATIONS: i32 = 4096;

/// Reconciles KafkaUsers in batches, one group per Kafka cluster.
pub struct UserReconciler {
    pub context: Arc<Context>,
    pub admins: Arc<KafkaAdmins>,
}

impl BatchReconciler<KafkaUser> for UserReconciler {
    type Group = ClusterRef;

    /// Users without a cluster label share one group per namespace, where they get their
    /// InvalidSpec status.
    fn group(&self, user: &KafkaUser) -> ClusterRef {
        ClusterRef::of(user).unwrap_or_else(|| ClusterRef {
            namespace: user.namespace().unwrap_or_default(),
            name: String::new(),
        })
    }

    fn reconcile<'a>(
        &'a self,
        cluster: &'a ClusterRef,
        due: Vec<Arc<KafkaUser>>,
        members: &'a [Arc<KafkaUser>],
    ) -> BoxFuture<'a, Vec<String>> {
        Box::pin(async move {
            let owners = Owners::index(members.iter().map(AsRef::as_ref), username);
            reconcile(self, cluster, due, &owners).await
        })
    }

    /// An older user that conflicted with others is gone: one of them owns the principal now.
    fn after_delete(&self, deleted: &KafkaUser, members: &[Arc<KafkaUser>]) -> Vec<String> {
        sharing_user(deleted, members, username)
    }
}

/// A user to bring in line, with what the batch learned about it.
#[derive(Clone)]
struct Sync {
    user: Arc<KafkaUser>,
    model: UserModel,
    plan: UserPlan,
    /// The Secret to write once Kafka has the credentials.
    secret: Option<Secret>,
    /// The user's own Secret as it is now.
    live: Option<Secret>,
    /// Why part of the spec could not be applied, for a Warning condition.
    warning: Option<String>,
}

/// Reconciles `batch`, KafkaUsers of `cluster`; `owners` says which resource owns each
/// principal. Returns the names of the resources to retry later.
async fn reconcile(
    reconciler: &UserReconciler,
    cluster: &ClusterRef,
    batch: Vec<Arc<KafkaUser>>,
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
            // Another resource's principal is left alone; `strimzi.io/managed: "false"` lets go
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

    // The finalizer goes on before anything is made in Kafka, so its removal is never missed.
    let needs_finalizer: Vec<Arc<KafkaUser>> = valid
        .iter()
        .filter(|(user, _)| !has_finalizer(user.as_ref(), FINALIZER))
        .map(|(user, _)| user.clone())
        .collect();
    let mut retry = set_finalizers(client, needs_finalizer, FINALIZER, true).await;
    valid.retain(|(user, _)| !retry.contains(&user.name_any()));

    if !valid.is_empty() || !removing.is_empty() {
        match reconciler.admins.admin(cluster).await {
            Ok(admin) => {
                let sent = admin.requests_sent();
                let synced = sync(reconciler, cluster, &admin, valid, removing).await;
                let requests = admin.requests_sent().saturating_sub(sent);
                let metrics = &reconciler.context.metrics;
                metrics.observe_broker_requests("KafkaUser", requests);
                for (user, outcome) in synced.outcomes {
                    if matches!(outcome, Outcome::KafkaError(_) | Outcome::SecretConflict(_)) {
                        retry.push(user.name_any());
                    }
                    outcomes.push((user, outcome));
                }
                released.extend(synced.removed);
                retry.extend(synced.not_removed.iter().map(|user| user.name_any()));
            }
            Err(error) => {
                tracing::warn!(%cluster, %error, "cannot reach Kafka");
                if !removing.is_empty() && reconciler.admins.is_gone(cluster, &error).await {
                    let cluster = format!("Kafka {cluster}");
                    warn_cluster_gone(&reconciler.context, &removing, &cluster).await;
                    released.append(&mut removing);
                }
                retry.extend(removing.iter().map(|user| user.name_any()));
                for (user, _) in valid {
                    retry.push(user.name_any());
                    outcomes.push((user, Outcome::KafkaError(error.to_string())));
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

/// What [`sync`] did.
struct Synced {
    /// Each valid user's outcome.
    outcomes: Vec<(Arc<KafkaUser>, Outcome)>,
    /// Deleted users now gone from Kafka, and those whose removal failed.
    removed: Vec<Arc<KafkaUser>>,
    not_removed: Vec<Arc<KafkaUser>>,
}

/// Observes Kafka and the users' Secrets, plans every user, changes Kafka in batched requests,
/// then writes the Secrets.
async fn sync(
    reconciler: &UserReconciler,
    cluster: &ClusterRef,
    admin: &AdminClient,
    valid: Vec<(Arc<KafkaUser>, UserModel)>,
    removing: Vec<Arc<KafkaUser>>,
) -> Synced {
    let client = &reconciler.context.client;
    let observed = match observe(admin).await {
        Ok(observed) => observed,
        Err(error) => {
            let message = error.to_string();
            let outcomes = valid
                .into_iter()
                .map(|(user, _)| (user, Outcome::KafkaError(message.clone())));
            return Synced {
                outcomes: outcomes.collect(),
                removed: Vec::new(),
                not_removed: removing,
            };
        }
    };
    let secrets = match list_secrets(client, cluster).await {
        Ok(secrets) => secrets,
        Err(error) => {
            let message = format!("reading the users' Secrets: {error}");
            let outcomes = valid
                .into_iter()
                .map(|(user, _)| (user, Outcome::KafkaError(message.clone())));
            return Synced {
                outcomes: outcomes.collect(),
                removed: Vec::new(),
                not_removed: removing,
            };
        }
    };
    let api: Api<Secret> = Api::namespaced(client.clone(), &cluster.namespace);

    let mut outcomes = Vec::new();
    let mut syncs = Vec::new();
    let mut clients_ca = None;
    for (user, mut model) in valid {
        let keeps_secret = matches!(
            model.credentials,
            Credentials::Scram { .. } | Credentials::Tls
        );
        // Only a user that makes a Secret needs to know of one it did not label.
        let live = if keeps_secret {
            live_secret(&api, &secrets, &model.secret).await
        } else {
            Ok(secrets.get(&model.secret).cloned())
        };
        let mut live = match live {
            Ok(live) => live,
            Err(error) => {
                let message = format!("reading the Secret {}: {error}", model.secret);
                outcomes.push((user, Outcome::KafkaError(message)));
                continue;
            }
        };
        let uid = user.uid().unwrap_or_default();
        if let Some(message) = foreign_secret("KafkaUser", &uid, &model.secret, live.as_ref()) {
            if keeps_secret {
                outcomes.push((user, Outcome::SecretConflict(message)));
                continue;
            }
            live = None;
        }
        let warning = if observed.authorizer {
            None
        } else {
            acls_without_authorizer(&mut model)
        };
        let found = observed.users.get(&model.username).cloned();
        let credentials = credentials(
            client,
            cluster,
            &user,
            &model,
            live.as_ref(),
            &mut clients_ca,
        )
        .await;
        match credentials {
            Ok((password, secret)) => {
                let applied = live.as_ref().and_then(|secret| {
                    secret
                        .annotations()
                        .get(PASSWORD_DIGEST_ANNOTATION)
                        .cloned()
                });
                let found = found.unwrap_or_default();
                let plan = plan(&model, &found, password.as_deref(), applied.as_deref());
                syncs.push(Sync {
                    user,
                    model,
                    plan,
                    secret,
                    live,
                    warning,
                });
            }
            Err(message) => outcomes.push((user, Outcome::KafkaError(message))),
        }
    }
    let removals: Vec<(String, UserPlan)> = removing
        .iter()
        .map(|user| {
            let name = username(user);
            let plan = removal(&observed.users.get(&name).cloned().unwrap_or_default());
            (name, plan)
        })
        .collect();

    let mut plans: Vec<(&str, &UserPlan)> = syncs
        .iter()
        .map(|sync| (sync.model.username.as_str(), &sync.plan))
        .collect();
    plans.extend(removals.iter().map(|(name, plan)| (name.as_str(), plan)));
    let failures = execute(admin, &plans).await;

    let applier = Applier::new(
        client.clone(),
        "KafkaUser",
        reconciler.context.metrics.clone(),
    )
    .with_field_manager(secrets::FIELD_MANAGER);
    let written = write_all(syncs, |sync| {
        let (applier, api, failures) = (&applier, &api, &failures);
        async move {
            if let Some(failure) = failures.get(&sync.model.username) {
                return Ok((sync.user, Outcome::KafkaError(failure.clone())));
            }
            let name = &sync.model.secret;
            write_secret(applier, api, name, sync.secret.as_ref(), sync.live.as_ref()).await?;
            let outcome = Outcome::Ready {
                username: sync.model.username.clone(),
                secret: sync.secret.as_ref().map(|_| name.clone()),
                warning: sync.warning.clone(),
            };
            Ok((sync.user, outcome))
        }
    })
    .await;
    for result in written {
        outcomes.push(match result {
            Ok(pair) => pair,
            Err((sync, SecretFailure::Conflict(message))) => {
                (sync.user, Outcome::SecretConflict(message))
            }
            Err((sync, SecretFailure::Failed(message))) => {
                (sync.user, Outcome::KafkaError(message))
            }
        });
    }

    let (removed, not_removed) = removing
        .into_iter()
        .partition(|user| !failures.contains_key(&username(user)));
    Synced {
        outcomes,
        removed,
        not_removed,
    }
}

/// What Kafka holds for every user of the cluster.
struct Observed {
    /// Each user's ACLs, SCRAM credential and quotas, by user name.
    users: HashMap<String, ObservedUser>,
    /// Whether the cluster has an authorizer; without one Kafka refuses every ACL request.
    authorizer: bool,
}

/// Every user's ACLs, SCRAM credential and quotas in the cluster.
async fn observe(admin: &AdminClient) -> Result<Observed, kafka_client::Error> {
    let mut users: HashMap<String, ObservedUser> = HashMap::new();
    let acls = match admin.describe_acls(&every_acl()).await {
        Ok(acls) => Some(acls),
        Err(kafka_client::Error::Kafka(error)) if error.code == KafkaError::SECURITY_DISABLED => {
            None
        }
        Err(error) => return Err(error),
    };
    for acl in acls.iter().flatten() {
        if let Some(name) = acl.principal.strip_prefix("User:") {
            users
                .entry(name.to_string())
                .or_default()
                .acls
                .insert(acl.clone());
        }
    }
    for (name, credentials) in admin.describe_user_scram_credentials(None).await? {
        let scram = credentials.is_ok_and(|credentials| {
            credentials
                .iter()
                .any(|credential| credential.mechanism == ScramMechanism::Sha512)
        });
        users.entry(name).or_default().scram = scram;
    }
    let filter = QuotaFilter {
        components: vec![("user".to_string(), QuotaMatch::Any)],
        strict: true,
    };
    for (entity, quotas) in admin.describe_client_quotas(&filter).await? {
        let [(kind, Some(name))] = entity.0.as_slice() else {
            continue;
        };
        if kind == "user" {
            let managed = quotas
                .into_iter()
                .filter(|(key, _)| QUOTA_KEYS.contains(&key.as_str()));
            users.entry(name.clone()).or_default().quotas = managed.collect();
        }
    }
    Ok(Observed {
        users,
        authorizer: acls.is_some(),
    })
}

fn every_acl() -> AclBindingFilter {
    AclBindingFilter {
        resource_type: ResourceType::Any,
        resource_name: None,
        pattern_type: PatternType::Any,
        principal: None,
        host: None,
        operation: AclOperation::Any,
        permission: AclPermission::Any,
    }
}

/// Changes Kafka for every plan, in batched requests. Returns the users a change failed for,
/// with why.
async fn execute(admin: &AdminClient, plans: &[(&str, &UserPlan)]) -> BTreeMap<String, String> {
    let mut failures = BTreeMap::new();

    let alterations: Vec<(&str, ScramAlteration)> = plans
        .iter()
        .filter_map(|(user, plan)| {
            let alteration = match plan.scram.as_ref()? {
                ScramChange::Set(password) => ScramAlteration::Upsert {
                    user: user.to_string(),
                    mechanism: ScramMechanism::Sha512,
                    iterations: SCRAM_ITERATIONS,
                    password: password.clone(),
                },
                ScramChange::Delete => ScramAlteration::Delete {
                    user: user.to_string(),
                    mechanism: ScramMechanism::Sha512,
                },
            };
            Some((*user, alteration))
        })
        .collect();
    for chunk in alterations.chunks(ITEMS_PER_REQUEST) {
        let (users, request) = split(chunk);
        let results = admin
            .alter_user_scram_credentials(&request)
            .await
            .map(|mut results| {
                let missing = || Err(KafkaError::new(-1, Some("no answer for this user".into())));
                users
                    .iter()
                    .map(|user| results.remove(*user).unwrap_or_else(missing))
                    .collect()
            });
        record(
            &mut failures,
            &users,
            "setting the SCRAM credential",
            results,
        );
    }

    let creates: Vec<(&str, AclBinding)> = plans
        .iter()
        .flat_map(|(user, plan)| plan.create_acls.iter().map(move |acl| (*user, acl.clone())))
        .collect();
    for chunk in creates.chunks(ITEMS_PER_REQUEST) {
        let (users, request) = split(chunk);
        let results = admin.create_acls(&request).await;
        record(&mut failures, &users, "creating an ACL", results);
    }

    let deletes: Vec<(&str, AclBindingFilter)> = plans
        .iter()
        .flat_map(|(user, plan)| {
            plan.delete_acls
                .iter()
                .map(move |acl| (*user, AclBindingFilter::from(acl)))
        })
        .collect();
    for chunk in deletes.chunks(ITEMS_PER_REQUEST) {
        let (users, request) = split(chunk);
        let results = admin.delete_acls(&request).await;
        let results = results.map(|results| results.into_iter().map(|r| r.map(drop)).collect());
        record(&mut failures, &users, "deleting an ACL", results);
    }

    let quotas: Vec<(&str, QuotaAlteration)> = plans
        .iter()
        .filter(|(_, plan)| !plan.quotas.is_empty())
        .map(|(user, plan)| {
            let entity = QuotaEntity(vec![("user".to_string(), Some(user.to_string()))]);
            let ops = plan.quotas.clone();
            (*user, QuotaAlteration { entity, ops })
        })
        .collect();
    for chunk in quotas.chunks(ITEMS_PER_REQUEST) {
        let (users, request) = split(chunk);
        let results = admin.alter_client_quotas(&request).await;
        let results = results.map(|results| results.into_iter().map(|(_, r)| r).collect());
        record(&mut failures, &users, "setting quotas", results);
    }
    failures
}

/// A chunk of items tagged with their users, as the users and the request.
fn split<'a, T: Clone>(chunk: &[(&'a str, T)]) -> (Vec<&'a str>, Vec<T>) {
    chunk
        .iter()
        .map(|(user, item)| (*user, item.clone()))
        .unzip()
}

/// Records in `failures` the first failure of each user, from the answer to one request whose
/// items belong to `users`, in order.
fn record(
    failures: &mut BTreeMap<String, String>,
    users: &[&str],
    what: &str,
    answer: Result<Vec<Result<(), KafkaError>>, kafka_client::Error>,
) {
    let results: Vec<Result<(), String>> = match answer {
        Ok(results) => results
            .into_iter()
            .map(|result| result.map_err(|error| error.to_string()))
            .collect(),
        Err(error) => vec![Err(error.to_string()); users.len()],
    };
    for (user, result) in users.iter().zip(results) {
        if let Err(error) = result {
            failures
                .entry(user.to_string())
                .or_insert_with(|| format!("{what}: {error}"));
        }
    }
}

/// The users' Secrets in the namespace, by name: one list instead of a read per user.
async fn list_secrets(
    client: &Client,
    cluster: &ClusterRef,
) -> Result<BTreeMap<String, Secret>, kube::Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &cluster.namespace);
    let selector = format!(
        "{STRIMZI_KIND}=KafkaUser,{STRIMZI_CLUSTER}={}",
        cluster.name
    );
    let listed = api.list(&ListParams::default().labels(&selector)).await?;
    Ok(listed
        .items
        .into_iter()
        .map(|secret| (secret.name_any(), secret))
        .collect())
}

/// The user's SCRAM password (when it has one) and the Secret it should have (when it has
/// credentials to keep), or why they cannot be made yet.
async fn credentials(
    client: &Client,
    cluster: &ClusterRef,
    user: &KafkaUser,
    model: &UserModel,
    existing: Option<&Secret>,
    clients_ca: &mut Option<Result<(CertificateAuthority, CaConfig), String>>,
) -> Result<(Option<String>, Option<Secret>), String> {
    let stored = |key: &str| {
        existing
            .and_then(|secret| secret.data.as_ref()?.get(key))
            .and_then(|bytes| String::from_utf8(bytes.0.clone()).ok())
            .filter(|text| !text.is_empty())
    };
    match &model.credentials {
        Credentials::None | Credentials::TlsExternal => Ok((None, None)),
        Credentials::Scram { password_from } => {
            let password = match password_from {
                Some((secret, key)) => {
                    read_password(
                        client,
                        &cluster.namespace,
                        secret,
                        key,
                        "authentication.password",
                    )
                    .await?
                }
                None => stored(PASSWORD).unwrap_or_else(certs::generate_password),
            };
            let annotations = BTreeMap::from([(
                PASSWORD_DIGEST_ANNOTATION.to_string(),
                password_digest(&password),
            )]);
            let secret = build_secret(
                user,
                &cluster.name,
                scram_data(&model.username, &password),
                annotations,
            );
            Ok((Some(password), Some(secret)))
        }
        Credentials::Tls => {
            if clients_ca.is_none() {
                *clients_ca = Some(load_clients_ca(client, cluster).await);
            }
            let (ca, config) = clients_ca
                .as_ref()
                .expect("loaded")
                .as_ref()
                .map_err(Clone::clone)?;
            let now = OffsetDateTime::now_utc();
            let common_name = user
                .spec
                .user_name
                .clone()
                .unwrap_or_else(|| user.name_any());
            let subject = Subject::User(common_name.clone());
            let renewal = config.renewal_days;
            let leaf = (stored(USER_CRT), stored(USER_KEY));
            let current = certs::kept_leaf(leaf, ca, (&subject, &[]), (now, renewal));
            let kept = match (current, stored(USER_PASSWORD)) {
                (Some((cert, key)), Some(password)) => {
                    let p12 = existing
                        .and_then(|secret| secret.data.as_ref()?.get(USER_P12))
                        .map(|bytes| bytes.0.clone());
                    p12.map(|p12| (cert, key, p12, password))
                }
                _ => None,
            };
            let (cert, key, p12, password) = match kept {
                Some(kept) => kept,
                None => {
                    let issued = ca
                        .issue_client_cert(&subject, now, config.validity_days)
                        .map_err(|error| format!("issuing the user certificate: {error}"))?;
                    let password = certs::generate_password();
                    let p12 = certs::keystore(&common_name, &issued, ca.cert_pem(), &password)
                        .map_err(|error| format!("making user.p12: {error}"))?;
                    (issued.cert_pem, issued.key_pem, p12, password)
                }
            };
            let data = BTreeMap::from([
                (CA_CRT.to_string(), ca.cert_pem().as_bytes().to_vec()),
                (USER_CRT.to_string(), cert.into_bytes()),
                (USER_KEY.to_string(), key.into_bytes()),
                (USER_P12.to_string(), p12),
                (USER_PASSWORD.to_string(), password.into_bytes()),
            ]);
            Ok((
                None,
                Some(build_secret(user, &cluster.name, data, BTreeMap::new())),
            ))
        }
    }
}

/// The cluster's clients CA, which signs TLS users' certificates, and its settings.
async fn load_clients_ca(
    client: &Client,
    cluster: &ClusterRef,
) -> Result<(CertificateAuthority, CaConfig), String> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &cluster.namespace);
    let read = async |name: String| {
        secrets.get_opt(&name).await.map_err(|error| format!("reading the Secret {name}: {error}"))?.ok_or_else(|| {
            format!(
                "the clients CA Secret {name} does not exist (yet): TLS users need the clients CA of a Kafka this operator runs"
            )
        })
    };
    let key = read(names::clients_ca_secret(&cluster.name)).await?;
    let cert = read(names::clients_ca_cert_secret(&cluster.name)).await?;
    let ca = certs::load_ca(
        CaKind::Clients,
        &secret_content(&key),
        &secret_content(&cert),
    )
    .map_err(|error| format!("loading the clients CA: {error}"))?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &cluster.namespace);
    let kafka = kafkas.get_opt(&cluster.name).await.ok().flatten();
    let config = ca_config(
        kafka
            .as_ref()
            .and_then(|kafka| kafka.spec.clients_ca.as_ref()),
    );
    Ok((ca, config))
}
