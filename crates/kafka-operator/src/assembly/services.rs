//! The Services: the bootstrap Service and the headless one for every cluster, and for each
//! `cluster-ip`, `nodeport` and `loadbalancer` listener a bootstrap Service plus one per broker.

use std::collections::BTreeMap;

use api::kafka::{BootstrapConfiguration, BrokerListenerConfiguration, ListenerType};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::listeners::{CONTROL_PLANE_PORT, Listener, REPLICATION_PORT};
use super::model::KafkaModel;
use super::names;
use super::template::Metadata;

/// The label a StatefulSet puts on each of its pods, which per-broker Services select on.
const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";

/// `<c>-kafka-bootstrap`: the internal listeners and the replication port of every broker.
pub fn build_bootstrap_service(model: &KafkaModel) -> Service {
    let mut ports = vec![port("tcp-replication", REPLICATION_PORT, None)];
    ports.extend(internal_listener_ports(model));
    let name = names::bootstrap_service(&model.cluster);
    let metadata = model.metadata(&name, model.labels(&name));
    Service {
        metadata: templated(metadata, &model.service_templates.bootstrap),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(model.broker_selector()),
            ports: Some(ports),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// `<c>-kafka-brokers`: headless, so that every node has a DNS name; it publishes nodes that are
/// not ready yet, because controllers must find each other before any of them is ready.
pub fn build_brokers_service(model: &KafkaModel) -> Service {
    let mut ports = vec![
        port("tcp-ctrlplane", CONTROL_PLANE_PORT, None),
        port("tcp-replication", REPLICATION_PORT, None),
    ];
    ports.extend(internal_listener_ports(model));
    let name = names::brokers_service(&model.cluster);
    let metadata = model.metadata(&name, model.labels(&name));
    Service {
        metadata: templated(metadata, &model.service_templates.brokers),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some("None".into()),
            publish_not_ready_addresses: Some(true),
            selector: Some(model.node_selector()),
            ports: Some(ports),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// The Services of every external listener: its bootstrap Service, then one per broker.
pub fn build_external_services(model: &KafkaModel) -> Vec<Service> {
    let mut services = Vec::new();
    for listener in model.listeners.iter().filter(|l| l.is_external()) {
        let bootstrap = listener.configuration.bootstrap.clone().unwrap_or_default();
        services.push(external_service(
            model,
            listener,
            &names::external_bootstrap_service(&model.cluster, &listener.name),
            model.broker_selector(),
            &ServiceOverrides::from_bootstrap(&bootstrap),
            &model.service_templates.external_bootstrap,
        ));
        for node in model.nodes().filter(|node| node.roles.broker) {
            let broker = listener
                .configuration
                .brokers
                .iter()
                .flatten()
                .find(|broker| broker.broker == node.id)
                .cloned()
                .unwrap_or_default();
            let pod = model.pod_name(&node);
            let mut overrides = ServiceOverrides::from_broker(&broker);
            // The listener's per-broker templates, under the broker's own labels and annotations.
            let configuration = &listener.configuration;
            for (own, template) in [
                (
                    &mut overrides.labels,
                    &configuration.per_broker_labels_template,
                ),
                (
                    &mut overrides.annotations,
                    &configuration.per_broker_annotations_template,
                ),
            ] {
                let mut merged = Listener::per_broker_metadata(template.as_ref(), node.id, &pod);
                merged.extend(own.take().into_iter().flatten());
                *own = Some(merged).filter(|merged| !merged.is_empty());
            }
            services.push(external_service(
                model,
                listener,
                &names::per_broker_service(&model.cluster, &node.pool, &listener.name, node.id),
                BTreeMap::from([(POD_NAME_LABEL.to_string(), pod)]),
                &overrides,
                &model.service_templates.per_pod,
            ));
        }
    }
    services
}

/// What a listener's `bootstrap` or `brokers[]` configuration sets on one Service.
struct ServiceOverrides {
    node_port: Option<i32>,
    load_balancer_ip: Option<String>,
    external_ips: Option<Vec<String>>,
    annotations: Option<BTreeMap<String, String>>,
    labels: Option<BTreeMap<String, String>>,
}

impl ServiceOverrides {
    fn from_bootstrap(bootstrap: &BootstrapConfiguration) -> ServiceOverrides {
        ServiceOverrides {
            node_port: bootstrap.node_port,
            load_balancer_ip: bootstrap.load_balancer_ip.clone(),
            external_ips: bootstrap.external_ips.clone(),
            annotations: bootstrap.annotations.clone(),
            labels: bootstrap.labels.clone(),
        }
    }

    fn from_broker(broker: &BrokerListenerConfiguration) -> ServiceOverrides {
        ServiceOverrides {
            node_port: broker.node_port,
            load_balancer_ip: broker.load_balancer_ip.clone(),
            external_ips: broker.external_ips.clone(),
            annotations: broker.annotations.clone(),
            labels: broker.labels.clone(),
        }
    }
}

fn external_service(
    model: &KafkaModel,
    listener: &Listener,
    name: &str,
    selector: BTreeMap<String, String>,
    overrides: &ServiceOverrides,
    template: &Metadata,
) -> Service {
    let configuration = &listener.configuration;
    let node_port = listener.type_ == ListenerType::NodePort;
    let load_balancer = listener.type_ == ListenerType::LoadBalancer;
    let type_ = match listener.type_ {
        ListenerType::NodePort => "NodePort",
        ListenerType::LoadBalancer => "LoadBalancer",
        _ => "ClusterIP",
    };
    let mut labels = model.labels(name);
    for (key, value) in overrides.labels.iter().flatten() {
        labels = labels.with(key, value);
    }
    let mut metadata = model.metadata(name, labels);
    metadata.annotations = overrides.annotations.clone();
    let mut metadata = templated(metadata, template);
    if load_balancer {
        metadata.finalizers = configuration.finalizers.clone();
    }
    // The API's enum variants are spelled as Kubernetes spells the values.
    let external_traffic_policy = configuration
        .external_traffic_policy
        .filter(|_| node_port || load_balancer)
        .map(|policy| format!("{policy:?}"));
    Service {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some(type_.into()),
            selector: Some(selector),
            ports: Some(vec![port(
                &format!("tcp-{}", listener.name),
                listener.port,
                overrides.node_port.filter(|_| node_port),
            )]),
            external_traffic_policy,
            external_ips: overrides.external_ips.clone(),
            load_balancer_ip: overrides.load_balancer_ip.clone().filter(|_| load_balancer),
            load_balancer_source_ranges: configuration
                .load_balancer_source_ranges
                .clone()
                .filter(|_| load_balancer),
            load_balancer_class: configuration.class.clone().filter(|_| load_balancer),
            allocate_load_balancer_node_ports: configuration
                .allocate_load_balancer_node_ports
                .filter(|_| load_balancer),
            publish_not_ready_addresses: configuration.publish_not_ready_addresses,
            ip_family_policy: configuration
                .ip_family_policy
                .map(|policy| format!("{policy:?}")),
            ip_families: configuration.ip_families.as_ref().map(|families| {
                families
                    .iter()
                    .map(|family| format!("{family:?}"))
                    .collect()
            }),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// `metadata` with a template's labels and annotations added; its own win where keys meet, so a
/// template cannot change what selects or names the Service.
fn templated(mut metadata: ObjectMeta, template: &Metadata) -> ObjectMeta {
    for (own, added) in [
        (&mut metadata.labels, &template.labels),
        (&mut metadata.annotations, &template.annotations),
    ] {
        if let Some(added) = added {
            let mut merged = added.clone();
            merged.extend(own.take().unwrap_or_default());
            *own = Some(merged);
        }
    }
    metadata
}

fn internal_listener_ports(model: &KafkaModel) -> Vec<ServicePort> {
    model
        .listeners
        .iter()
        .filter(|listener| !listener.is_external())
        .map(|listener| port(&format!("tcp-{}", listener.name), listener.port, None))
        .collect()
}

fn port(name: &str, number: i32, node_port: Option<i32>) -> ServicePort {
    ServicePort {
        name: Some(name.into()),
        port: number,
        target_port: Some(IntOrString::Int(number)),
        protocol: Some("TCP".into()),
        node_port,
        ..ServicePort::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::{NODEPORT_CLUSTER, example_model, inputs, parse};
    use crate::assembly::validate;

    fn spec(service: &Service) -> &ServiceSpec {
        service.spec.as_ref().unwrap()
    }

    #[test]
    fn a_templates_labels_and_annotations_join_the_services_own() {
        let mut model = example_model("ephemeral-single-node");
        model.service_templates.bootstrap = Metadata {
            labels: Some(BTreeMap::from([
                ("team".to_string(), "payments".to_string()),
                ("strimzi.io/cluster".to_string(), "someone-else".to_string()),
            ])),
            annotations: Some(BTreeMap::from([("lb".to_string(), "internal".to_string())])),
        };
        let bootstrap = build_bootstrap_service(&model);
        let labels = bootstrap.metadata.labels.unwrap();
        assert_eq!(labels["team"], "payments");
        assert_eq!(labels["strimzi.io/cluster"], "my-cluster");
        assert_eq!(bootstrap.metadata.annotations.unwrap()["lb"], "internal");
        let headless = build_brokers_service(&model);
        assert!(!headless.metadata.labels.unwrap().contains_key("team"));
    }

    #[test]
    fn bootstrap_and_headless_services_carry_strimzi_names() {
        let model = example_model("ephemeral-single-node");
        let bootstrap = build_bootstrap_service(&model);
        assert_eq!(
            bootstrap.metadata.name.as_deref(),
            Some("my-cluster-kafka-bootstrap")
        );
        let ports: Vec<i32> = spec(&bootstrap)
            .ports
            .iter()
            .flatten()
            .map(|p| p.port)
            .collect();
        assert_eq!(ports, [9091, 9092, 9093]);
        assert_eq!(
            spec(&bootstrap).selector.as_ref().unwrap()["strimzi.io/broker-role"],
            "true"
        );

        let headless = build_brokers_service(&model);
        assert_eq!(
            headless.metadata.name.as_deref(),
            Some("my-cluster-kafka-brokers")
        );
        assert_eq!(spec(&headless).cluster_ip.as_deref(), Some("None"));
        assert_eq!(spec(&headless).publish_not_ready_addresses, Some(true));
        let ports: Vec<i32> = spec(&headless)
            .ports
            .iter()
            .flatten()
            .map(|p| p.port)
            .collect();
        assert_eq!(ports, [9090, 9091, 9092, 9093]);
        assert!(build_external_services(&model).is_empty());
    }

    #[test]
    fn nodeport_listener_has_a_bootstrap_service_and_one_per_broker() {
        let (kafka, pools) = parse(NODEPORT_CLUSTER);
        let model = validate(&kafka, &pools, &inputs()).unwrap();
        let services = build_external_services(&model);
        let names: Vec<&str> = services
            .iter()
            .map(|service| service.metadata.name.as_deref().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "np-kafka-external-bootstrap",
                "np-brokers-external-0",
                "np-brokers-external-1"
            ]
        );
        for service in &services {
            assert_eq!(spec(service).type_.as_deref(), Some("NodePort"));
            assert_eq!(
                service.metadata.owner_references.as_ref().unwrap()[0].name,
                "np"
            );
        }
        let node_port = |service: &Service| spec(service).ports.as_ref().unwrap()[0].node_port;
        assert_eq!(node_port(&services[0]), Some(32094));
        // Kubernetes assigns the brokers' node ports: none is given.
        assert_eq!(node_port(&services[1]), None);
        assert_eq!(
            spec(&services[2]).selector.as_ref().unwrap()[POD_NAME_LABEL],
            "np-brokers-1"
        );
    }
}
