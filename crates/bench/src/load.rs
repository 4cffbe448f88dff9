//! The operator's memory under the whole load the reliability issue names: 50 Kafka clusters,
//! 10,000 KafkaTopics and 10,000 KafkaUsers it manages, next to 10,000 each of Secrets,
//! ConfigMaps and pods not its own in watched namespaces. Run last on the topic and user
//! benchmarks' operator, which watches every namespace: it adds the users those benchmarks did
//! not make, and the clusters and unrelated objects unless the cluster benchmark left them.

use anyhow::{Result, bail};
use api::kafka::{Kafka, KafkaTopic, KafkaUser};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};

use crate::{Figure, kafka_cluster, users};
use testenv::operator::Operator;

const CLUSTERS: usize = 50;
const TOPICS: usize = 10_000;
const USERS: usize = 10_000;

pub async fn run(client: &Client, operator: &Operator) -> Result<Vec<Figure>> {
    let users_made = count::<KafkaUser>(client).await?;
    if users_made < USERS {
        users::create_until_ready(client, operator, "load-user", USERS - users_made).await?;
    }
    if !has_namespace(client, kafka_cluster::MANY_CLUSTERS_NAMESPACE).await? {
        kafka_cluster::manage_many_clusters(client, operator).await?;
    }
    if !has_namespace(client, kafka_cluster::UNRELATED_NAMESPACE).await? {
        kafka_cluster::add_unrelated_objects(client, operator).await?;
    }
    let found = (
        count::<Kafka>(client).await?,
        count::<KafkaTopic>(client).await?,
        count::<KafkaUser>(client).await?,
    );
    if found.0 < CLUSTERS || found.1 < TOPICS || found.2 < USERS {
        bail!(
            "the load is {found:?} Kafkas, KafkaTopics and KafkaUsers, short of what it should be"
        );
    }
    operator.check_running()?;
    Ok(vec![Figure {
        name: "operator_rss_50_clusters_10000_topics_10000_users",
        value: operator.resident_mib()?,
        unit: "MiB",
    }])
}

/// How many of `K` exist in every namespace.
async fn count<K>(client: &Client) -> Result<usize>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let api: Api<K> = Api::all(client.clone());
    Ok(api.list_metadata(&ListParams::default()).await?.items.len())
}

/// Whether a namespace made with `prefix` by [`testenv::fresh_namespace`] exists.
async fn has_namespace(client: &Client, prefix: &str) -> Result<bool> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let listed = namespaces.list_metadata(&ListParams::default()).await?;
    Ok(listed
        .items
        .iter()
        .any(|namespace| namespace.name_any().starts_with(&format!("{prefix}-"))))
}
