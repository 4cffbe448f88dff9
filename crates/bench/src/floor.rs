//! The floor under the topic and user figures, measured in the same run: a bare client that
//! makes, for N resources, exactly the writes the operator's path makes (the user's create, the
//! finalizer, for users the Secret, then the status), each resource's writes in order and
//! nothing between them, as many resources at once as the API server takes best; and at the
//! same time the same Kafka requests (CreateTopics; AlterUserScramCredentials and CreateAcls),
//! one per 1,000 items as the operator sends them, all at once. A status waits only for what it
//! records (the topic's ID). Objects and statuses are built by the operator's own code. The
//! figure ends with the same check as the operator's (every resource Ready, every topic in
//! Kafka), so a figure over its floor is what the operator itself adds.
//!
//! Run before the operator starts and cleaned up after (Kafka's topics, credentials and ACLs,
//! the finalizers, the namespace), so the operator never sees these resources.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use api::kafka::{KafkaTopic, KafkaTopicStatus, KafkaUser, KafkaUserStatus};
use futures::future::{BoxFuture, FutureExt, Shared};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kafka_client::{
    AclBinding, AclBindingFilter, AdminClient, NewTopic, ScramAlteration, ScramMechanism,
};
use kafka_operator::topics::status::Topic;
use kafka_operator::users::plan::{ObservedUser, PASSWORD_DIGEST_ANNOTATION, plan};
use kafka_operator::users::secret::{build_secret, scram_data};
use kafka_operator::users::status::User;
use kafka_operator::{topics, users};
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use operator_common::users::password::password_digest;
use operator_common::users::secrets::FIELD_MANAGER;
use runtime::conditions;
use runtime::finalizer::set_finalizer;
use runtime::status::merge_status;

use crate::{Figure, resources, topics as topic_bench, users as user_bench};

/// Writes in flight tried with 1,000 topics; the fastest is taken as the API server's best, and
/// used for every floor.
const IN_FLIGHT_TRIED: [usize; 4] = [16, 64, 256, 1024];
/// Items per Kafka request, as the operator batches them.
const ITEMS_PER_REQUEST: usize = 1000;
/// As the operator salts SCRAM credentials.
const SCRAM_ITERATIONS: i32 = 4096;
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(600);
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Each floor's figure, named `<kind>_<size>_floor`.
pub async fn run(client: &Client, admin: &AdminClient) -> Result<Vec<Figure>> {
    let mut best = (Duration::MAX, 0);
    for in_flight in IN_FLIGHT_TRIED {
        let took = topics_floor(client, admin, 1_000, in_flight).await?;
        println!("floor: 1000 topics with {in_flight} writes in flight: {took:.2?}");
        best = best.min((took, in_flight));
    }
    let (topics_1000, in_flight) = best;
    let topics_10000 = topics_floor(client, admin, 10_000, in_flight).await?;
    println!("floor: 10000 topics: {topics_10000:.2?}");
    let users_1000 = users_floor(client, admin, 1_000, in_flight).await?;
    println!("floor: 1000 users: {users_1000:.2?}");
    let users_10000 = users_floor(client, admin, 10_000, in_flight).await?;
    println!("floor: 10000 users: {users_10000:.2?}");
    let seconds = |name, took: Duration| Figure {
        name,
        value: took.as_secs_f64(),
        unit: "s",
    };
    Ok(vec![
        Figure {
            name: "floor_writes_in_flight",
            value: in_flight as f64,
            unit: "writes",
        },
        seconds("topics_1000_floor", topics_1000),
        seconds("topics_10000_floor", topics_10000),
        seconds("users_1000_floor", users_1000),
        seconds("users_10000_floor", users_10000),
    ])
}

/// `<figure>_vs_floor` for every figure that has a floor among `figures`: how many times its
/// floor the operator took.
pub fn ratios(figures: &[Figure]) -> Vec<Figure> {
    const PAIRS: [(&str, &str, &str); 4] = [
        (
            "topics_1000_ready",
            "topics_1000_floor",
            "topics_1000_vs_floor",
        ),
        (
            "topics_10000_ready",
            "topics_10000_floor",
            "topics_10000_vs_floor",
        ),
        (
            "users_1000_ready",
            "users_1000_floor",
            "users_1000_vs_floor",
        ),
        (
            "users_10000_ready",
            "users_10000_floor",
            "users_10000_vs_floor",
        ),
    ];
    let value = |name: &str| {
        figures
            .iter()
            .find(|figure| figure.name == name)
            .map(|figure| figure.value)
    };
    PAIRS
        .iter()
        .filter_map(|(ready, floor, ratio)| {
            Some(Figure {
                name: ratio,
                value: value(ready)? / value(floor)?,
                unit: "x",
            })
        })
        .collect()
}

/// The floor for `size` KafkaTopics (as the topic benchmark makes them), `in_flight` resources
/// at once.
async fn topics_floor(
    client: &Client,
    admin: &AdminClient,
    size: usize,
    in_flight: usize,
) -> Result<Duration> {
    let namespace = testenv::fresh_namespace(client, "bench-floor-topics").await?;
    let api: Api<KafkaTopic> = Api::namespaced(client.clone(), &namespace);
    let manifests: Vec<KafkaTopic> = (0..size)
        .map(|index| serde_json::from_value(topic_bench::manifest(&namespace, index)))
        .collect::<Result<_, _>>()?;
    let names: Vec<String> = manifests
        .iter()
        .map(|topic| topic.spec.topic_name.clone().unwrap_or_default())
        .collect();

    let began = Instant::now();
    let created: Vec<Created> = names
        .chunks(ITEMS_PER_REQUEST)
        .map(|chunk| {
            let new_topics = chunk
                .iter()
                .map(|name| NewTopic {
                    name: name.clone(),
                    partitions: Some(1),
                    replication_factor: Some(1),
                    configs: BTreeMap::new(),
                })
                .collect();
            in_background(create_topics(admin.clone(), new_topics))
        })
        .collect();
    let writes = manifests.into_iter().enumerate().map(|(index, manifest)| {
        let (api, created) = (&api, created[index / ITEMS_PER_REQUEST].clone());
        async move {
            let topic = api.create(&PostParams::default(), &manifest).await?;
            set_finalizer(client, &topic, topics::FINALIZER, true).await?;
            let topic_name = manifest.spec.topic_name.clone().unwrap_or_default();
            let created = created.await.map_err(|error| anyhow!(error))?;
            let topic_id = created.get(&topic_name).cloned().flatten();
            let ready = Topic {
                topic_name,
                topic_id,
                replicas_change: None,
            };
            let status = topics::status::status(&topic, Some(&ready), ready_conditions());
            merge_status(client, &topic, None::<&KafkaTopicStatus>, &status).await?;
            anyhow::Ok(())
        }
    });
    run_all(writes, in_flight).await?;
    for chunk in created {
        chunk.await.map_err(|error| anyhow!(error))?;
    }
    resources::until_all_ready(&api, size, topic_bench::is_ready, READY_TIMEOUT).await?;
    let in_kafka = admin.list_topics().await?;
    if !names.iter().all(|name| in_kafka.contains_key(name)) {
        bail!("the floor's {size} topics are not all in Kafka");
    }
    let took = began.elapsed();

    for chunk in names.chunks(ITEMS_PER_REQUEST) {
        admin.delete_topics(chunk).await?;
    }
    remove_namespace::<KafkaTopic>(client, &namespace, topics::FINALIZER).await?;
    Ok(took)
}

/// The floor for `size` SCRAM KafkaUsers with 5 ACLs each (as the user benchmark makes them),
/// `in_flight` resources at once.
async fn users_floor(
    client: &Client,
    admin: &AdminClient,
    size: usize,
    in_flight: usize,
) -> Result<Duration> {
    let namespace = testenv::fresh_namespace(client, "bench-floor-users").await?;
    let api: Api<KafkaUser> = Api::namespaced(client.clone(), &namespace);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let prefix = format!("floor-{size}");
    let mut manifests = Vec::new();
    let mut alterations = Vec::new();
    let mut acls: Vec<AclBinding> = Vec::new();
    for index in 0..size {
        let mut user: KafkaUser = serde_json::from_value(user_bench::manifest(&prefix, index))?;
        // The model reads the cluster from the label and the namespace.
        user.metadata.namespace = Some(namespace.clone());
        let model = users::model::validate(&user).map_err(|error| anyhow!(error))?;
        let password = certs::generate_password();
        let planned = plan(&model, &ObservedUser::default(), Some(&password), None);
        acls.extend(planned.create_acls);
        alterations.push(ScramAlteration::Upsert {
            user: model.username.clone(),
            mechanism: ScramMechanism::Sha512,
            iterations: SCRAM_ITERATIONS,
            password: password.clone(),
        });
        manifests.push((user, model, password));
    }

    let began = Instant::now();
    let mut kafka: Vec<Created> = alterations
        .chunks(ITEMS_PER_REQUEST)
        .map(|chunk| in_background(set_credentials(admin.clone(), chunk.to_vec())))
        .collect();
    kafka.extend(
        acls.chunks(ITEMS_PER_REQUEST)
            .map(|chunk| in_background(create_acls(admin.clone(), chunk.to_vec()))),
    );
    let writes = manifests.into_iter().map(|(manifest, model, password)| {
        let (api, secrets) = (&api, &secrets);
        async move {
            let user = api.create(&PostParams::default(), &manifest).await?;
            set_finalizer(client, &user, users::FINALIZER, true).await?;
            let annotations = BTreeMap::from([(
                PASSWORD_DIGEST_ANNOTATION.to_string(),
                password_digest(&password),
            )]);
            let data = scram_data(&model.username, &password);
            let secret = build_secret(&user, "bench", data, annotations);
            let params = PatchParams::apply(FIELD_MANAGER);
            (secrets)
                .patch(&model.secret, &params, &Patch::Apply(&secret))
                .await?;
            let ready = User {
                username: model.username.clone(),
                secret: Some(model.secret.clone()),
                warning: None,
            };
            let status = users::status::status(&user, Some(&ready), ready_conditions());
            merge_status(client, &user, None::<&KafkaUserStatus>, &status).await?;
            anyhow::Ok(())
        }
    });
    run_all(writes, in_flight).await?;
    for request in kafka {
        request.await.map_err(|error| anyhow!(error))?;
    }
    resources::until_all_ready(&api, size, user_bench::is_ready, READY_TIMEOUT).await?;
    let took = began.elapsed();

    let deletions: Vec<ScramAlteration> = alterations
        .iter()
        .filter_map(|alteration| match alteration {
            ScramAlteration::Upsert { user, .. } => Some(ScramAlteration::Delete {
                user: user.clone(),
                mechanism: ScramMechanism::Sha512,
            }),
            ScramAlteration::Delete { .. } => None,
        })
        .collect();
    for chunk in deletions.chunks(ITEMS_PER_REQUEST) {
        admin.alter_user_scram_credentials(chunk).await?;
    }
    admin.delete_acls(&[AclBindingFilter::any()]).await?;
    remove_namespace::<KafkaUser>(client, &namespace, users::FINALIZER).await?;
    Ok(took)
}

/// A Kafka request running by itself from now on, whose answer any number may await: for each
/// topic it created, its ID.
type Created = Shared<BoxFuture<'static, Result<Arc<BTreeMap<String, Option<String>>>, String>>>;

fn in_background(
    request: impl Future<Output = Result<BTreeMap<String, Option<String>>, String>> + Send + 'static,
) -> Created {
    let shared = request.map(|answer| answer.map(Arc::new)).boxed().shared();
    tokio::spawn(shared.clone());
    shared
}

async fn create_topics(
    admin: AdminClient,
    new_topics: Vec<NewTopic>,
) -> Result<BTreeMap<String, Option<String>>, String> {
    let answers = admin
        .create_topics(&new_topics)
        .await
        .map_err(|error| error.to_string())?;
    answers
        .into_iter()
        .map(|(name, answer)| match answer {
            Ok(created) => Ok((name, created.topic_id)),
            Err(error) => Err(format!("creating {name}: {error}")),
        })
        .collect()
}

async fn set_credentials(
    admin: AdminClient,
    alterations: Vec<ScramAlteration>,
) -> Result<BTreeMap<String, Option<String>>, String> {
    let answers = admin
        .alter_user_scram_credentials(&alterations)
        .await
        .map_err(|error| error.to_string())?;
    match answers.into_iter().find(|(_, answer)| answer.is_err()) {
        Some((user, error)) => Err(format!("setting {user}'s credential: {error:?}")),
        None => Ok(BTreeMap::new()),
    }
}

async fn create_acls(
    admin: AdminClient,
    acls: Vec<AclBinding>,
) -> Result<BTreeMap<String, Option<String>>, String> {
    let answers = admin
        .create_acls(&acls)
        .await
        .map_err(|error| error.to_string())?;
    match answers.into_iter().find_map(Result::err) {
        Some(error) => Err(format!("creating an ACL: {error}")),
        None => Ok(BTreeMap::new()),
    }
}

/// Runs every resource's writes, `in_flight` resources at once.
async fn run_all(
    writes: impl Iterator<Item = impl Future<Output = Result<()>>>,
    in_flight: usize,
) -> Result<()> {
    futures::stream::iter(writes)
        .buffer_unordered(in_flight)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// What the operator writes on a resource it made Ready.
fn ready_conditions() -> Vec<api::Condition> {
    let mut ready = vec![conditions::ready()];
    conditions::stamp_transitions(&mut ready, &[], k8s_openapi::jiff::Timestamp::now());
    ready
}

/// Takes `finalizer` off every `K` of `namespace`, deletes the namespace and waits until it is
/// gone, so that nothing of the floor is left for the operator to see.
async fn remove_namespace<K>(client: &Client, namespace: &str, finalizer: &str) -> Result<()>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
    K: Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let listed = api.list(&ListParams::default()).await?;
    futures::stream::iter(listed.items)
        .map(|object| async move { set_finalizer(client, &object, finalizer, false).await })
        .buffer_unordered(64)
        .try_collect::<Vec<()>>()
        .await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .delete(namespace, &DeleteParams::default())
        .await?;
    let deadline = Instant::now() + CLEANUP_TIMEOUT;
    while namespaces.get_opt(namespace).await?.is_some() {
        if Instant::now() > deadline {
            bail!("the namespace {namespace} was not gone after {CLEANUP_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}
