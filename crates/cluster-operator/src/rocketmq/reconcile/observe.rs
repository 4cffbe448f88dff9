//! What a Broker's reconcile reads besides the Broker: the NameServices and ConfigMaps its spec
//! may depend on, and its own StatefulSets and pods.

use std::collections::BTreeMap;

use api::rocketmq::NameService;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use runtime::Error;
use runtime::labels::Labels;

use crate::rocketmq::BrokerModel;

pub async fn name_services(client: &Client, namespace: &str) -> Result<Vec<NameService>, Error> {
    let api: Api<NameService> = Api::namespaced(client.clone(), namespace);
    Ok(api.list(&ListParams::default()).await?.items)
}

/// The ConfigMaps named in `names` that exist.
pub async fn config_maps(
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

/// The Broker's StatefulSets, by name.
pub async fn statefulsets(
    client: &Client,
    model: &BrokerModel,
) -> Result<BTreeMap<String, StatefulSet>, Error> {
    let api: Api<StatefulSet> = Api::namespaced(client.clone(), &model.namespace);
    let selector = Labels::owned_by("Broker", &model.cluster);
    let listed = api.list(&ListParams::default().labels(&selector)).await?;
    Ok(listed
        .items
        .into_iter()
        .map(|set| (set.name_any(), set))
        .collect())
}

/// The Broker's pods.
pub async fn pods(client: &Client, model: &BrokerModel) -> Result<Vec<Pod>, Error> {
    runtime::pods::list_selected(client, &model.namespace, &model.pod_selector()).await
}
