//! The ConfigMaps of the user's that the pods mount (the exporter's rules, an external logging
//! file): the cluster is held until each is there with its key, with a condition naming it,
//! rather than pods waiting in ContainerCreating with nothing on the Kafka saying why.

use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use runtime::{Error, Flow, Readiness};

use super::state::KafkaReconcile;

/// How soon a held cluster looks for the ConfigMap again.
const RECHECK: Duration = Duration::from_secs(15);

pub fn check(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let config_maps: Api<ConfigMap> =
            Api::namespaced(state.applier.client().clone(), &state.model.namespace);
        for (field, reference) in state.model.mounted_config_maps() {
            let found = config_maps.get_opt(&reference.config_map).await?;
            let has_key = found.as_ref().is_some_and(|config_map| {
                let in_data = config_map
                    .data
                    .as_ref()
                    .is_some_and(|d| d.contains_key(&reference.key));
                let in_binary = (config_map.binary_data.as_ref())
                    .is_some_and(|d| d.contains_key(&reference.key));
                in_data || in_binary
            });
            if !has_key {
                let what = match found {
                    None => "does not exist",
                    Some(_) => "has no such key",
                };
                state.progress.readiness = Readiness::Held {
                    reason: "ConfigMapMissing",
                    message: format!(
                        "{field} names key {} of ConfigMap {}, which {what}",
                        reference.key, reference.config_map
                    ),
                };
                // The operator does not watch the user's ConfigMaps: it looks again.
                return Ok(Flow::Requeue(RECHECK));
            }
        }
        Ok(Flow::Continue)
    })
}
