//! The RocketMQ assembly: a NameService becomes name servers and a Controller a quorum of
//! controllers, both with stable DNS names ([`name_service`], [`controller`], [`server_set`]);
//! a Broker becomes groups of a master and replicas ([`model::validate`] → [`BrokerModel`] →
//! the `build_*` functions → [`BrokerDesired`]). The I/O is in [`reconcile`].

pub mod annotations;
pub mod broker_conf;
pub mod config_maps;
pub mod console;
pub mod controller;
pub mod credentials;
pub mod elected;
pub mod heap;
pub mod jvm;
pub mod manifest;
pub mod metadata_copy;
pub mod model;
pub mod name_service;
pub mod names;
pub mod pod;
pub mod proxy;
pub mod reconcile;
pub mod render;
pub mod rolling;
pub mod scaling;
pub mod server_set;
pub mod services;
pub mod statefulset;
pub mod status;
pub mod storage;
#[cfg(test)]
mod testing;
pub mod tls;
pub mod user_config;
pub mod user_deployment;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service};

pub use model::{BrokerInputs, BrokerModel, Node, validate};
pub use server_set::{ServerSet, ServerSetDesired};

/// Every object a Broker needs but its credentials Secret (whose values are generated once, at
/// the first reconcile), in the order the reconciler applies them.
#[derive(Clone, Debug, PartialEq)]
pub struct BrokerDesired {
    pub service: Service,
    /// One per broker, in node order.
    pub config_maps: Vec<ConfigMap>,
    /// One per broker, in node order; last, because they mount everything above.
    pub statefulsets: Vec<StatefulSet>,
}

impl BrokerDesired {
    pub fn build(model: &BrokerModel) -> BrokerDesired {
        BrokerDesired {
            service: services::build_brokers_service(model),
            config_maps: model
                .nodes()
                .map(|node| config_maps::build_config_map(model, &node))
                .collect(),
            statefulsets: model
                .nodes()
                .map(|node| statefulset::build_statefulset(model, &node))
                .collect(),
        }
    }

    /// Every object as JSON (with `apiVersion` and `kind`), in apply order.
    pub fn to_json(&self) -> Vec<serde_json::Value> {
        fn json<T: serde::Serialize>(object: &T) -> serde_json::Value {
            serde_json::to_value(object).expect("Kubernetes objects serialize")
        }
        let mut objects = vec![json(&self.service)];
        objects.extend(self.config_maps.iter().map(json));
        objects.extend(self.statefulsets.iter().map(json));
        objects
    }
}
