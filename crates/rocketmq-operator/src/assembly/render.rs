//! What `brokerage render` prints for NameServices, Controllers, Consoles, Proxies and Brokers: every object the
//! operator would create, with the warnings it would report, without a cluster.

use api::rocketmq::Broker;
use kube::ResourceExt;

use super::manifest::Manifest;
use super::model::{BrokerInputs, BrokerModel, validate};
use super::proxy::{self, ProxyInputs};
use super::user_deployment::UserDeployment;
use super::{BrokerDesired, console, controller, name_service, names};
use operator_common::pod_security::PodPolicy;
use operator_common::validation::InvalidSpec;

#[derive(Debug, thiserror::Error)]
#[error("{kind} {name} is invalid: {invalid}")]
pub struct RenderError {
    pub kind: &'static str,
    pub name: String,
    pub invalid: InvalidSpec,
}

impl RenderError {
    fn of(kind: &'static str, resource: &impl ResourceExt, invalid: InvalidSpec) -> RenderError {
        RenderError {
            kind,
            name: resource.name_any(),
            invalid,
        }
    }
}

pub fn render_broker(
    broker: &Broker,
    inputs: &BrokerInputs,
) -> Result<(BrokerModel, BrokerDesired), InvalidSpec> {
    let model = validate(broker, inputs)?;
    let desired = BrokerDesired::build(&model);
    Ok((model, desired))
}

/// Every NameService's, Controller's, Console's, Proxy's and Broker's objects in `manifest` as one multi-document
/// YAML. A Broker's inputs are the manifest's NameServices and ConfigMaps of its namespace.
pub fn render_manifest(manifest: &Manifest) -> Result<String, RenderError> {
    let mut text = String::new();
    for name_service in &manifest.name_services {
        let set = name_service::validate(name_service, PodPolicy::default())
            .map_err(|invalid| RenderError::of("NameService", name_service, invalid))?;
        push_objects(&mut text, name_service::build(&set).to_json());
    }
    for resource in &manifest.controllers {
        let set = controller::validate(resource, PodPolicy::default())
            .map_err(|invalid| RenderError::of("Controller", resource, invalid))?;
        push_objects(&mut text, controller::build(&set).to_json());
    }
    for resource in &manifest.consoles {
        let namespace = resource.namespace();
        let name_services = in_namespace(&manifest.name_services, &namespace);
        let model = console::validate(resource, &name_services, PodPolicy::default())
            .map_err(|invalid| RenderError::of("Console", resource, invalid))?;
        let (service, deployment) = (
            console::build_service(&model),
            console::build_deployment(&model),
        );
        push_objects(&mut text, UserDeployment::to_json(&service, &deployment));
    }
    for resource in &manifest.proxies {
        let namespace = resource.namespace();
        let inputs = ProxyInputs {
            name_services: in_namespace(&manifest.name_services, &namespace),
            brokers: in_namespace(&manifest.brokers, &namespace),
            config_maps: config_maps_in(manifest, &namespace),
            pods: PodPolicy::default(),
        };
        let model = proxy::validate(resource, &inputs)
            .map_err(|invalid| RenderError::of("Proxy", resource, invalid))?;
        let (service, deployment) = (
            proxy::build_service(&model),
            proxy::build_deployment(&model),
        );
        push_objects(&mut text, UserDeployment::to_json(&service, &deployment));
    }
    for broker in &manifest.brokers {
        let namespace = broker.namespace();
        let inputs = BrokerInputs {
            name_services: in_namespace(&manifest.name_services, &namespace),
            controllers: in_namespace(&manifest.controllers, &namespace),
            config_maps: config_maps_in(manifest, &namespace),
            // As an operator run with its default flags.
            pods: PodPolicy::default(),
            // Nothing runs yet, so there is nothing to scale in.
            held_groups: Default::default(),
        };
        let (model, desired) = render_broker(broker, &inputs)
            .map_err(|invalid| RenderError::of("Broker", broker, invalid))?;
        for warning in &model.warnings {
            text.push_str(&format!(
                "# Warning ({}): {}\n",
                warning.reason, warning.message
            ));
        }
        text.push_str(&format!(
            "# The Secret {} is generated at the first reconcile.\n",
            names::admin_credentials_secret(&model.cluster)
        ));
        push_objects(&mut text, desired.to_json());
    }
    Ok(text)
}

fn config_maps_in(
    manifest: &Manifest,
    namespace: &Option<String>,
) -> std::collections::BTreeMap<String, k8s_openapi::api::core::v1::ConfigMap> {
    (manifest.config_maps.iter())
        .filter(|config_map| &config_map.namespace() == namespace)
        .map(|config_map| (config_map.name_any(), config_map.clone()))
        .collect()
}

fn in_namespace<K: ResourceExt + Clone>(all: &[K], namespace: &Option<String>) -> Vec<K> {
    let all = all
        .iter()
        .filter(|resource| &resource.namespace() == namespace);
    all.cloned().collect()
}

fn push_objects(text: &mut String, objects: Vec<serde_json::Value>) {
    for object in objects {
        text.push_str("---\n");
        text.push_str(&serde_yaml::to_string(&object).expect("JSON becomes YAML"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::manifest::read;
    use crate::assembly::testing::ISSUE_EXAMPLE;

    #[test]
    fn the_issue_example_renders_every_object() {
        let text = render_manifest(&read(ISSUE_EXAMPLE, "rocketmq").unwrap()).unwrap();
        let kinds: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("kind: "))
            .collect();
        assert_eq!(
            kinds,
            [
                "Service",
                "StatefulSet",
                "Service",
                "ConfigMap",
                "ConfigMap",
                "ConfigMap",
                "ConfigMap",
                "StatefulSet",
                "StatefulSet",
                "StatefulSet",
                "StatefulSet"
            ]
        );
        assert!(text.contains("# The Secret broker-admin-credentials is generated"));
    }

    #[test]
    fn an_invalid_broker_names_itself() {
        let mut manifest = read(ISSUE_EXAMPLE, "rocketmq").unwrap();
        manifest.name_services.clear();
        let error = render_manifest(&manifest).unwrap_err();
        assert_eq!(error.kind, "Broker");
        assert!(
            error
                .to_string()
                .starts_with("Broker broker is invalid: spec.nameServers")
        );
    }
}
