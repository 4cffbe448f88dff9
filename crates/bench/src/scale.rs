//! Under the whole load (50 Kafka clusters, 10,000 KafkaTopics and 10,000 KafkaUsers on one
//! operator): how long one edit takes to reach Kafka and a Ready status while the rest sit idle,
//! over 100 edits of a topic and of a user; and what a restart costs, until the new process has
//! reconciled everything once (nothing changed, so it should write nothing).

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use api::kafka::{Kafka, KafkaTopic, KafkaUser};
use kafka_client::{AdminClient, ConfigResource, QuotaFilter, QuotaMatch};
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::{Figure, topics, users};
use testenv::operator::Operator;

const EDITS: usize = 100;
const EDIT_TIMEOUT: Duration = Duration::from_secs(60);
/// No reconciliation for this long after a restart means the first full one is over.
const QUIET: Duration = Duration::from_secs(3);
const RESTART_TIMEOUT: Duration = Duration::from_secs(600);

/// p50 and p99 of 100 edits of one KafkaTopic's config and of one KafkaUser's quota.
pub async fn edit_latencies(client: &Client, admin: &AdminClient) -> Result<Vec<Figure>> {
    let topic = find::<KafkaTopic>(client, "bench-topics-1000-", "topic-0").await?;
    let topic_name = topic
        .status
        .as_ref()
        .and_then(|status| status.topic_name.clone())
        .unwrap_or_default();
    let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), &topic.namespace().unwrap());
    let mut topic_edits = Vec::new();
    for edit in 0..EDITS {
        let retention = (3_600_000 + edit).to_string();
        let patch = json!({"spec": {"config": {"retention.ms": retention}}});
        let began = Instant::now();
        let generation = patched(&topics, &topic.name_any(), &patch).await?;
        wait_ready(&topics, &topic.name_any(), generation, topics::is_ready).await?;
        topic_edits.push(began.elapsed());
        let resource = ConfigResource::Topic(topic_name.clone());
        let described = admin
            .describe_configs(std::slice::from_ref(&resource))
            .await?;
        let in_kafka = described
            .get(&resource)
            .and_then(|entries| entries.as_ref().ok())
            .and_then(|entries| entries.iter().find(|entry| entry.name == "retention.ms"))
            .and_then(|entry| entry.value.clone());
        if in_kafka.as_deref() != Some(retention.as_str()) {
            bail!("the topic is Ready but Kafka has retention.ms {in_kafka:?}, not {retention}");
        }
    }

    let user = find::<KafkaUser>(client, "bench-users-", "user-0").await?;
    let users: Api<KafkaUser> = Api::namespaced(client.clone(), &user.namespace().unwrap());
    let mut user_edits = Vec::new();
    for edit in 0..EDITS {
        let rate = 1_048_576 + edit;
        let patch = json!({"spec": {"quotas": {"producerByteRate": rate}}});
        let began = Instant::now();
        let generation = patched(&users, &user.name_any(), &patch).await?;
        wait_ready(&users, &user.name_any(), generation, users::is_ready).await?;
        user_edits.push(began.elapsed());
        let filter = QuotaFilter {
            components: vec![("user".into(), QuotaMatch::Exact(user.name_any()))],
            strict: true,
        };
        let quotas = admin.describe_client_quotas(&filter).await?;
        let in_kafka = quotas
            .first()
            .and_then(|(_, quotas)| quotas.get("producer_byte_rate").copied());
        if in_kafka != Some(rate as f64) {
            bail!("the user is Ready but Kafka has producer_byte_rate {in_kafka:?}, not {rate}");
        }
    }
    let (topic_p50, topic_p99) = percentiles(topic_edits);
    let (user_p50, user_p99) = percentiles(user_edits);
    let seconds = |name, value: Duration| Figure {
        name,
        value: value.as_secs_f64(),
        unit: "s",
    };
    Ok(vec![
        seconds("topic_edit_under_load_p50", topic_p50),
        seconds("topic_edit_under_load_p99", topic_p99),
        seconds("user_edit_under_load_p50", user_p50),
        seconds("user_edit_under_load_p99", user_p99),
    ])
}

/// Kills `operator` and starts another with `start`; measures until the new one has
/// reconciled every Kafka, KafkaTopic and KafkaUser once: how long, how many Kafka requests,
/// how many Kubernetes writes.
pub async fn restart<F, Fut>(
    client: &Client,
    operator: Operator,
    start: F,
) -> Result<(Vec<Figure>, Operator)>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Operator>>,
{
    let before = versions(client).await?;
    operator.kill().await?;
    let began = Instant::now();
    let operator = start().await?;
    let managed = |kind: &str| format!("brokerage_managed_resources{{kind=\"{kind}\"}}");
    let counts = (
        count::<KafkaTopic>(client).await?,
        count::<KafkaUser>(client).await?,
    );
    let deadline = began + RESTART_TIMEOUT;
    let (mut last, mut last_change) = (0.0, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        operator.check_running()?;
        let reconciled = reconciliations(&operator).await?;
        if reconciled != last {
            (last, last_change) = (reconciled, Instant::now());
        }
        let every_one = operator.counter(&managed("KafkaTopic")).await? as usize >= counts.0
            && operator.counter(&managed("KafkaUser")).await? as usize >= counts.1;
        if every_one && last_change.elapsed() >= QUIET {
            break;
        }
        if Instant::now() > deadline {
            bail!("the restarted operator was still reconciling after {RESTART_TIMEOUT:?}");
        }
    }
    let took = last_change - began;
    let requests: f64 = (operator.series("brokerage_broker_requests_total{").await?)
        .iter()
        .map(|(_, value)| value)
        .sum();
    let applied: f64 = (operator.series("brokerage_api_writes_total{").await?)
        .iter()
        .map(|(_, value)| value)
        .sum();
    let after = versions(client).await?;
    let rewritten = before
        .iter()
        .filter(|(key, version)| after.get(*key) != Some(*version))
        .count();
    Ok((
        vec![
            Figure {
                name: "restart_full_reconciliation",
                value: took.as_secs_f64(),
                unit: "s",
            },
            Figure {
                name: "restart_kafka_requests",
                value: requests,
                unit: "requests",
            },
            Figure {
                name: "restart_api_writes",
                value: applied + rewritten as f64,
                unit: "writes",
            },
        ],
        operator,
    ))
}

async fn reconciliations(operator: &Operator) -> Result<f64> {
    let series = operator.series("brokerage_reconciliations_total{").await?;
    Ok(series.iter().map(|(_, value)| value).sum())
}

/// The resourceVersion of every Kafka, KafkaTopic and KafkaUser, by kind, namespace and name.
async fn versions(client: &Client) -> Result<BTreeMap<String, String>> {
    let mut versions = BTreeMap::new();
    collect_versions::<Kafka>(client, &mut versions).await?;
    collect_versions::<KafkaTopic>(client, &mut versions).await?;
    collect_versions::<KafkaUser>(client, &mut versions).await?;
    Ok(versions)
}

async fn collect_versions<K>(client: &Client, into: &mut BTreeMap<String, String>) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let api: Api<K> = Api::all(client.clone());
    for object in api.list_metadata(&ListParams::default()).await? {
        let key = format!(
            "{}/{}/{}",
            K::kind(&()),
            object.namespace().unwrap_or_default(),
            object.name_any()
        );
        into.insert(key, object.resource_version().unwrap_or_default());
    }
    Ok(())
}

async fn count<K>(client: &Client) -> Result<usize>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let api: Api<K> = Api::all(client.clone());
    Ok(api.list_metadata(&ListParams::default()).await?.items.len())
}

/// The object `name` in the namespace whose name starts with `namespace_prefix`.
async fn find<K>(client: &Client, namespace_prefix: &str, name: &str) -> Result<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let api: Api<K> = Api::all(client.clone());
    let listed = api.list(&ListParams::default()).await?;
    listed
        .items
        .into_iter()
        .find(|object| {
            object.name_any() == name
                && object
                    .namespace()
                    .is_some_and(|namespace| namespace.starts_with(namespace_prefix))
        })
        .ok_or_else(|| anyhow::anyhow!("no {name} in a namespace {namespace_prefix}*"))
}

/// Merge-patches `name` and returns its new generation.
async fn patched<K>(api: &Api<K>, name: &str, patch: &serde_json::Value) -> Result<i64>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let object = api
        .patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    Ok(object.meta().generation.unwrap_or_default())
}

async fn wait_ready<K>(
    api: &Api<K>,
    name: &str,
    generation: i64,
    is_ready: fn(&K) -> bool,
) -> Result<()>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let deadline = Instant::now() + EDIT_TIMEOUT;
    loop {
        let object = api.get(name).await?;
        if object.meta().generation == Some(generation) && is_ready(&object) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{name} was not Ready for generation {generation} after {EDIT_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The median and the 99th percentile.
fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |quantile: f64| {
        let index = ((samples.len() as f64 * quantile).ceil() as usize).saturating_sub(1);
        samples.get(index).copied().unwrap_or_default()
    };
    (at(0.5), at(0.99))
}
