//! NameServices, Controllers, Consoles, Proxies, Brokers and the ConfigMaps they read, from a multi-document YAML manifest,
//! completed with what the apiserver would fill in: for `brokerage render` and the tests.

use api::rocketmq::{Broker, Console, Controller, NameService, Proxy};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Resource;
use serde::Deserialize;

use operator_common::manifest::PLACEHOLDER_UID;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("invalid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
}

#[derive(Clone, Debug, Default)]
pub struct Manifest {
    pub name_services: Vec<NameService>,
    pub controllers: Vec<Controller>,
    pub consoles: Vec<Console>,
    pub proxies: Vec<Proxy>,
    pub brokers: Vec<Broker>,
    pub config_maps: Vec<ConfigMap>,
}

impl Manifest {
    /// Whether it holds no resource that becomes objects (ConfigMaps are only inputs).
    pub fn renders_nothing(&self) -> bool {
        self.name_services.is_empty()
            && self.controllers.is_empty()
            && self.consoles.is_empty()
            && self.proxies.is_empty()
            && self.brokers.is_empty()
    }
}

/// Every NameService, Controller, Console, Proxy, Broker and ConfigMap in `yaml` (other kinds are skipped), placed in
/// `namespace` unless they name their own.
pub fn read(yaml: &str, namespace: &str) -> Result<Manifest, ManifestError> {
    let mut manifest = Manifest::default();
    for document in serde_yaml::Deserializer::from_str(yaml) {
        let value = serde_yaml::Value::deserialize(document)?;
        match value.get("kind").and_then(|kind| kind.as_str()) {
            Some("NameService") => manifest
                .name_services
                .push(complete(serde_yaml::from_value(value)?, namespace)),
            Some("Console") => manifest
                .consoles
                .push(complete(serde_yaml::from_value(value)?, namespace)),
            Some("Proxy") => manifest
                .proxies
                .push(complete(serde_yaml::from_value(value)?, namespace)),
            Some("Controller") => manifest
                .controllers
                .push(complete(serde_yaml::from_value(value)?, namespace)),
            Some("Broker") => manifest
                .brokers
                .push(complete(serde_yaml::from_value(value)?, namespace)),
            Some("ConfigMap") => manifest
                .config_maps
                .push(complete(serde_yaml::from_value(value)?, namespace)),
            _ => {}
        }
    }
    Ok(manifest)
}

fn complete<K: Resource>(mut object: K, namespace: &str) -> K {
    let meta = object.meta_mut();
    meta.namespace.get_or_insert_with(|| namespace.into());
    meta.uid.get_or_insert_with(|| PLACEHOLDER_UID.into());
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::ISSUE_EXAMPLE;

    #[test]
    fn reads_and_completes_every_rocketmq_resource() {
        let manifest = read(ISSUE_EXAMPLE, "team-a").unwrap();
        assert_eq!(manifest.name_services.len(), 1);
        assert_eq!(manifest.brokers.len(), 1);
        let broker = &manifest.brokers[0];
        assert_eq!(broker.metadata.namespace.as_deref(), Some("team-a"));
        assert_eq!(broker.metadata.uid.as_deref(), Some(PLACEHOLDER_UID));
    }
}
