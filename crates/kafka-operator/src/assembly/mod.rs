//! The Kafka assembly: [`model::validate`] turns a Kafka and its node pools into a
//! [`KafkaModel`], and the `build_*` functions turn the model into the objects the cluster needs.

pub mod auto_rebalance;
pub mod availability;
pub mod broker_config;

pub mod certificates;
pub mod config;
pub mod config_map_key;
pub mod config_maps;
pub mod entity_operator;
pub mod identity;
pub mod jvm;
pub mod kafka_exporter;
pub mod legacy;
pub mod listeners;
pub mod logging;
pub mod manifest;
pub mod metrics;
pub mod model;
pub mod names;
pub mod network_policy;
pub mod node_ids;
pub mod pdb;
pub mod quorum;
pub mod rack;
pub mod reconcile;
pub mod rolling;
pub mod scale_down;
pub mod service_account;
pub mod services;
pub mod statefulset;
pub mod status;
pub mod template;
#[cfg(test)]
mod testing;
pub mod versions;

use api::kafka::{Kafka, KafkaNodePool};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

pub use model::{Inputs, KafkaModel, validate};

use operator_common::validation::InvalidSpec;

/// Every object a Kafka cluster needs, in the order the reconciler applies them.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    pub network_policy: NetworkPolicy,
    pub service_account: ServiceAccount,
    /// The bootstrap Service, the headless one, then the external listeners' Services.
    pub services: Vec<Service>,
    /// One per pool, in pool order.
    pub config_maps: Vec<ConfigMap>,
    pub pod_disruption_budget: PodDisruptionBudget,
    /// One per pool, in pool order; last, because they mount everything above.
    pub statefulsets: Vec<StatefulSet>,
    /// `spec.kafkaExporter`'s.
    pub kafka_exporter: Option<Deployment>,
}

impl Desired {
    pub fn build(model: &KafkaModel) -> Desired {
        let mut services = vec![
            services::build_bootstrap_service(model),
            services::build_brokers_service(model),
        ];
        services.extend(services::build_external_services(model));
        Desired {
            network_policy: network_policy::build_network_policy(model),
            service_account: service_account::build_service_account(model),
            services,
            config_maps: model
                .pools
                .iter()
                .map(|pool| config_maps::build_config_map(model, pool))
                .collect(),
            pod_disruption_budget: pdb::build_pod_disruption_budget(model),
            statefulsets: model
                .pools
                .iter()
                .map(|pool| statefulset::build_statefulset(model, pool))
                .collect(),
            kafka_exporter: (model.kafka_exporter.as_ref())
                .map(|exporter| kafka_exporter::build_deployment(model, exporter)),
        }
    }

    /// Every object as JSON (with `apiVersion` and `kind`), in apply order.
    pub fn to_json(&self) -> Vec<serde_json::Value> {
        fn json<T: serde::Serialize>(object: &T) -> serde_json::Value {
            serde_json::to_value(object).expect("Kubernetes objects serialize")
        }
        let mut objects = vec![json(&self.network_policy), json(&self.service_account)];
        objects.extend(self.services.iter().map(json));
        objects.extend(self.config_maps.iter().map(json));
        objects.push(json(&self.pod_disruption_budget));
        objects.extend(self.statefulsets.iter().map(json));
        objects.extend(self.kafka_exporter.iter().map(json));
        objects
    }
}

/// What `brokerage render` prints: the model (with its warnings) and every object, for a Kafka
/// and the node pools given, without a cluster.
pub fn render(
    kafka: &Kafka,
    pools: &[KafkaNodePool],
    inputs: &Inputs,
) -> Result<(KafkaModel, Desired), InvalidSpec> {
    let model = validate(kafka, pools, inputs)?;
    let desired = Desired::build(&model);
    Ok((model, desired))
}

/// [`render`]'s result as text: a comment line per warning, then every object as a YAML
/// document.
pub fn to_yaml(model: &KafkaModel, desired: &Desired) -> String {
    let mut text = String::new();
    for warning in &model.warnings {
        text.push_str(&format!(
            "# Warning ({}): {}\n",
            warning.reason, warning.message
        ));
    }
    for object in desired.to_json() {
        text.push_str("---\n");
        text.push_str(&serde_yaml::to_string(&object).expect("JSON becomes YAML"));
    }
    text
}
