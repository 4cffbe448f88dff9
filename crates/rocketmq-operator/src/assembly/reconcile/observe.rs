//! What a Broker's reconcile reads besides the Broker: the NameServices, Controllers and
//! ConfigMaps its spec may depend on, and its own StatefulSets and pods.

use std::collections::BTreeMap;

use api::rocketmq::Broker;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use runtime::Error;
use runtime::labels::Labels;

use super::scale_in::decide_groups;
use crate::admin::RocketMQAdmins;
use crate::assembly::model::pod_selector;
use crate::assembly::user_config::referenced_config_maps;
use crate::assembly::{BrokerInputs, BrokerModel};
use operator_common::pod_security::PodPolicy;

/// What the reconcile reads before it validates: `validate`'s inputs (with what the masters of
/// groups beyond the size said), and the StatefulSets and pods as they are when it begins.
pub struct Observed {
    pub inputs: BrokerInputs,
    pub statefulsets: BTreeMap<String, StatefulSet>,
    pub pods: Vec<Pod>,
    /// The broker names of the groups that go.
    pub removed_groups: Vec<String>,
}

pub async fn observe(
    client: &Client,
    broker: &Broker,
    pods: PodPolicy,
    admins: &RocketMQAdmins,
) -> Result<Observed, Error> {
    let name = broker.name_any();
    let namespace = broker.namespace().unwrap_or_default();
    let owned = ListParams::default().labels(&Labels::owned_by("Broker", &name));
    let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    let statefulsets: BTreeMap<String, StatefulSet> = statefulsets
        .list(&owned)
        .await?
        .items
        .into_iter()
        .map(|set| (set.name_any(), set))
        .collect();
    let running = runtime::pods::list_selected(client, &namespace, &pod_selector(&name)).await?;
    let scale_in = decide_groups(broker, &statefulsets, &running, admins).await;
    let referenced = referenced_config_maps(&broker.spec.pod);
    let inputs = BrokerInputs {
        name_services: all_in(client, &namespace).await?,
        controllers: all_in(client, &namespace).await?,
        config_maps: config_maps(client, &namespace, &referenced).await?,
        pods,
        held_groups: scale_in.held,
    };
    Ok(Observed {
        inputs,
        statefulsets,
        pods: running,
        removed_groups: scale_in.removed,
    })
}

/// Every `K` of the namespace.
async fn all_in<K>(client: &Client, namespace: &str) -> Result<Vec<K>, Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    Ok(api.list(&ListParams::default()).await?.items)
}

/// The ConfigMaps named in `names` that exist.
async fn config_maps(
    client: &Client,
    namespace: &str,
    names: &[String],
) -> Result<BTreeMap<String, ConfigMap>, Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let mut found = BTreeMap::new();
    for name in names {
        if let Some(config_map) = api.get_opt(name).await? {
            found.insert(name.clone(), config_map);
        }
    }
    Ok(found)
}

/// The Broker's pods.
pub async fn pods(client: &Client, model: &BrokerModel) -> Result<Vec<Pod>, Error> {
    runtime::pods::list_selected(client, &model.namespace, &model.pod_selector()).await
}
