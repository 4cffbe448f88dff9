//! The brokers' headless Service: every broker pod gets a stable DNS name,
//! `<pod>.<broker>-brokers.<namespace>.svc`, through which the operator reaches it.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::model::BrokerModel;
use super::names;

pub fn build_brokers_service(model: &BrokerModel) -> Service {
    let name = names::brokers_service(&model.cluster);
    Service {
        metadata: model.metadata(&name, model.labels(&name)),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            // Names resolve while brokers start, so replicas find their master early.
            publish_not_ready_addresses: Some(true),
            selector: Some(model.pod_selector()),
            ports: Some(vec![
                port("vip", names::BROKER_FAST_PORT),
                port("main", names::BROKER_PORT),
                port("ha", names::BROKER_HA_PORT),
            ]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// A TCP port of a headless Service.
pub fn port(name: &str, number: i32) -> ServicePort {
    ServicePort {
        name: Some(name.into()),
        port: number,
        target_port: Some(IntOrString::Int(number)),
        protocol: Some("TCP".into()),
        ..ServicePort::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_model;

    #[test]
    fn one_headless_service_selects_every_broker_pod() {
        let service = build_brokers_service(&example_model());
        assert_eq!(service.metadata.name.as_deref(), Some("broker-brokers"));
        let spec = service.spec.unwrap();
        assert_eq!(spec.cluster_ip.as_deref(), Some("None"));
        assert_eq!(spec.publish_not_ready_addresses, Some(true));
        let selector = spec.selector.unwrap();
        assert_eq!(selector["strimzi.io/kind"], "Broker");
        assert_eq!(selector["strimzi.io/cluster"], "broker");
        let ports: Vec<i32> = spec.ports.unwrap().iter().map(|p| p.port).collect();
        assert_eq!(ports, [10909, 10911, 10912]);
    }
}
