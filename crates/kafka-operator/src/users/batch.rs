//! One batch: the KafkaUsers of one cluster that changed or are due. Kafka is read with three
//! requests (every ACL, every SCRAM credential, every user quota) and changed with at most four
//! per thousand users, whatever the batch's size; the users' Secrets are listed once, and a
//! Secret not in that list is read by name before one is made.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::admin::KafkaAdmins;
use crate::assembly::certificates::ca_config;
use crate::assembly::names;
use api::Condition;
use api::kafka::{Kafka, KafkaUser, KafkaUserStatus};
use certs::{CaConfig, CaKind, CertificateAuthority, OffsetDateTime, Subject};
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Secret;
use kafka_client::{
    AclBinding, AclBindingFilter, AdminClient, KafkaError, QuotaAlteration, QuotaEntity,
    QuotaFilter, QuotaMatch, ScramAlteration, ScramMechanism,
};
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use operator_common::cluster_ref::ClusterRef;
use operator_common::secret_content::secret_content;
use runtime::batched::{Batch, BatchOutcomes, Unreachable, each_bounded};
use runtime::labels::{STRIMZI_CLUSTER, STRIMZI_KIND};
use runtime::metrics::Timeline;
use runtime::{Applier, Context};

use super::model::{
    Credentials, FINALIZER, QUOTA_KEYS, UserModel, certificate_days, username, validate,
};
use super::plan::{
    ObservedUser, PASSWORD_DIGEST_ANNOTATION, ScramChange, UserPlan, acls_without_authorizer, plan,
    removal,
};
use super::secret::{
    CA_CRT, PASSWORD, USER_CRT, USER_KEY, USER_P12, USER_PASSWORD, build_secret, scram_data,
};
use super::status::{self, Outcome, User};
use operator_common::users::UserError;
use operator_common::users::password::{password_digest, read_password};
use operator_common::users::secrets::{
    self, SecretFailure, foreign_secret, live_secrets, write_secret,
};

/// The most items (ACLs, credentials, quotas) in one Kafka request.
const ITEMS_PER_REQUEST: usize = 1000;
/// Kafka's default for new SCRAM credentials.
const SCRAM_ITERATIONS: i32 = 4096;

/// Reconciles KafkaUsers in batches, one group per Kafka cluster.
pub struct UserReconciler {
    pub context: Arc<Context>,
    pub admins: Arc<KafkaAdmins>,
}

impl Batch<KafkaUser> for UserReconciler {
    type Group = ClusterRef;
    type Model = UserModel;
    type Reached = AdminClient;
    type Ready = User;
    type Error = UserError;
    const FINALIZER: &'static str = FINALIZER;

    fn context(&self) -> &Context {
        &self.context
    }

    fn group(&self, user: &KafkaUser) -> ClusterRef {
        ClusterRef::of_or_unlabelled(user)
    }

    /// The principal: two KafkaUsers (or a `spec.userName`) may not share one.
    fn claim(&self, user: &KafkaUser) -> Option<String> {
        Some(username(user))
    }

    fn validate(&self, user: &KafkaUser) -> Result<UserModel, String> {
        validate(user)
    }

    fn unreachable(&self, unreachable: &Unreachable) -> UserError {
        UserError::Kafka(unreachable.message.clone())
    }

    fn reach<'a>(
        &'a self,
        cluster: &'a ClusterRef,
    ) -> BoxFuture<'a, Result<AdminClient, Unreachable>> {
        Box::pin(self.admins.reach(cluster))
    }

    fn apply<'a>(
        &'a self,
        cluster: &'a ClusterRef,
        admin: &'a AdminClient,
        sync: Vec<(Arc<KafkaUser>, UserModel)>,
        delete: Vec<Arc<KafkaUser>>,
    ) -> BoxFuture<'a, BatchOutcomes<KafkaUser, User, UserError>> {
        Box::pin(async move {
            let sent = admin.requests_sent();
            let applied = sync_users(self, cluster, admin, sync, delete).await;
            let requests = admin.requests_sent().saturating_sub(sent);
            (self.context.metrics).observe_broker_requests("KafkaUser", requests);
            applied
        })
    }

    fn conflict(owner: &str) -> String {
        status::conflict(owner)
    }

    fn warnings(ready: &User) -> Vec<Condition> {
        status::warnings(ready)
    }

    fn status(
        resource: &KafkaUser,
        ready: Option<&User>,
        conditions: Vec<Condition>,
    ) -> KafkaUserStatus {
        status::status(resource, ready, conditions)
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

/// Observes Kafka and the users' Secrets, plans every user, changes Kafka in batched requests,
/// then writes the Secrets.
async fn sync_users(
    reconciler: &UserReconciler,
    cluster: &ClusterRef,
    admin: &AdminClient,
    valid: Vec<(Arc<KafkaUser>, UserModel)>,
    removing: Vec<Arc<KafkaUser>>,
) -> BatchOutcomes<KafkaUser, User, UserError> {
    let client = &reconciler.context.client;
    let mut timeline = Timeline::new(&reconciler.context.metrics, "KafkaUser");
    let mut names: Vec<String> = (valid.iter().map(|(_, model)| model.username.clone()))
        .chain(removing.iter().map(|user| username(user)))
        .collect();
    // Kafka refuses a name asked for twice.
    names.sort();
    names.dedup();
    let observed = match observe(admin, &names).await {
        Ok(observed) => observed,
        Err(error) => {
            let message = error.to_string();
            let outcomes = valid
                .into_iter()
                .map(|(user, _)| (user, failed(message.clone())));
            return BatchOutcomes {
                outcomes: outcomes.collect(),
                deleted: Vec::new(),
                not_deleted: removing,
            };
        }
    };
    let secrets = match list_secrets(client, cluster).await {
        Ok(secrets) => secrets,
        Err(error) => {
            let message = format!("reading the users' Secrets: {error}");
            let outcomes = valid
                .into_iter()
                .map(|(user, _)| (user, failed(message.clone())));
            return BatchOutcomes {
                outcomes: outcomes.collect(),
                deleted: Vec::new(),
                not_deleted: removing,
            };
        }
    };
    let api: Api<Secret> = Api::namespaced(client.clone(), &cluster.namespace);
    let keeps_secret = |model: &UserModel| {
        matches!(
            model.credentials,
            Credentials::Scram { .. } | Credentials::Tls
        )
    };
    // Only a user that makes a Secret needs to know of one it did not label.
    let named = (valid.iter())
        .filter(|(_, model)| keeps_secret(model))
        .map(|(_, model)| model.secret.clone())
        .collect();
    let named = live_secrets(&api, &secrets, named).await;
    timeline.done("users read");

    let mut outcomes = Vec::new();
    let mut syncs = Vec::new();
    let mut clients_ca = None;
    for (user, mut model) in valid {
        let keeps_secret = keeps_secret(&model);
        let live = match keeps_secret {
            true => named.get(&model.secret).cloned().unwrap_or(Ok(None)),
            false => Ok(secrets.get(&model.secret).cloned()),
        };
        let mut live = match live {
            Ok(live) => live,
            Err(error) => {
                let message = format!("reading the Secret {}: {error}", model.secret);
                outcomes.push((user, failed(message)));
                continue;
            }
        };
        let uid = user.uid().unwrap_or_default();
        if let Some(message) = foreign_secret("KafkaUser", &uid, &model.secret, live.as_ref()) {
            if keeps_secret {
                outcomes.push((user, Outcome::Failed(UserError::SecretConflict(message))));
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
            Err(message) => outcomes.push((user, failed(message))),
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
    timeline.done("users planned");
    let failures = execute(admin, &plans).await;
    timeline.done("users changed in Kafka");

    let applier = Applier::new(
        client.clone(),
        "KafkaUser",
        reconciler.context.metrics.clone(),
    )
    .with_field_manager(secrets::FIELD_MANAGER);
    let written = each_bounded(syncs, |sync| {
        let (applier, api, failures) = (&applier, &api, &failures);
        async move {
            if let Some(failure) = failures.get(&sync.model.username) {
                return Ok((sync.user, failed(failure.clone())));
            }
            let name = &sync.model.secret;
            write_secret(applier, api, name, sync.secret.as_ref(), sync.live.as_ref()).await?;
            let outcome = Outcome::Ready(User {
                username: sync.model.username.clone(),
                secret: sync.secret.as_ref().map(|_| name.clone()),
                warning: sync.warning.clone(),
            });
            Ok((sync.user, outcome))
        }
    })
    .await;
    timeline.done("users' Secrets written");
    for result in written {
        outcomes.push(match result {
            Ok(pair) => pair,
            Err((sync, SecretFailure::Conflict(message))) => (
                sync.user,
                Outcome::Failed(UserError::SecretConflict(message)),
            ),
            Err((sync, SecretFailure::Failed(message))) => (sync.user, failed(message)),
        });
    }

    let (deleted, not_deleted) = removing
        .into_iter()
        .partition(|user| !failures.contains_key(&username(user)));
    BatchOutcomes {
        outcomes,
        deleted,
        not_deleted,
    }
}

/// What Kafka holds for every user of the cluster.
struct Observed {
    /// Each user's ACLs, SCRAM credential and quotas, by user name.
    users: HashMap<String, ObservedUser>,
    /// Whether the cluster has an authorizer; without one Kafka refuses every ACL request.
    authorizer: bool,
}

/// A batch of up to this many users reads only its own users' ACLs (a request each) and
/// credentials; a larger one reads every user's, cheaper than as many requests. So one edit
/// among ten thousand users does not read fifty thousand ACLs.
const READ_ONE_BY_ONE_UP_TO: usize = 16;

/// The ACLs, SCRAM credentials and quotas of the users `names` (and maybe of others), read at
/// once.
async fn observe(admin: &AdminClient, names: &[String]) -> Result<Observed, kafka_client::Error> {
    let one_by_one = (1..=READ_ONE_BY_ONE_UP_TO).contains(&names.len());
    let acl_filters = match one_by_one {
        true => (names.iter())
            .map(|name| AclBindingFilter::principal(&format!("User:{name}")))
            .collect(),
        false => vec![AclBindingFilter::any()],
    };
    let quota_filter = QuotaFilter {
        components: vec![("user".to_string(), QuotaMatch::Any)],
        strict: true,
    };
    let (acls, credentials, quotas) = futures::join!(
        describe_acls(admin, acl_filters),
        admin.describe_user_scram_credentials(one_by_one.then_some(names)),
        admin.describe_client_quotas(&quota_filter),
    );
    let acls = acls?;
    let mut users: HashMap<String, ObservedUser> = HashMap::new();
    for acl in acls.iter().flatten() {
        if let Some(name) = acl.principal.strip_prefix("User:") {
            users
                .entry(name.to_string())
                .or_default()
                .acls
                .insert(acl.clone());
        }
    }
    for (name, credentials) in credentials? {
        let scram = credentials.is_ok_and(|credentials| {
            credentials
                .iter()
                .any(|credential| credential.mechanism == ScramMechanism::Sha512)
        });
        users.entry(name).or_default().scram = scram;
    }
    for (entity, quotas) in quotas? {
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

/// The ACLs every filter matches, at once; `None` when the cluster has no authorizer.
async fn describe_acls(
    admin: &AdminClient,
    filters: Vec<AclBindingFilter>,
) -> Result<Option<Vec<AclBinding>>, kafka_client::Error> {
    let described =
        futures::future::join_all(filters.iter().map(|filter| admin.describe_acls(filter))).await;
    let mut acls = Vec::new();
    for result in described {
        match result {
            Ok(found) => acls.extend(found),
            Err(kafka_client::Error::Kafka(error))
                if error.code == KafkaError::SECURITY_DISABLED =>
            {
                return Ok(None);
            }
            Err(error) => return Err(error),
        }
    }
    Ok(Some(acls))
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
            let (validity, renewal) = certificate_days(user, config);
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
                        .issue_client_cert(&subject, now, validity)
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

fn failed(message: String) -> Outcome {
    Outcome::Failed(UserError::Kafka(message))
}
