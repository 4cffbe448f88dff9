//! Every name and address derived from a NameService, a Controller or a Broker. Objects are named as
//! apache/rocketmq-operator names them (StatefulSets `<broker>-<g>-master`, pods
//! `<broker>-<g>-replica-<r>-0`), since users' scripts and dashboards address them by name.

use api::rocketmq::{Controller, NameService};
use kube::ResourceExt;

/// The name server port, as the official image and upstream use it.
pub const NAME_SERVER_PORT: i32 = 9876;
/// A controller's port, as upstream's Services name it: its DLedger (Raft) peer address, on
/// which it serves brokers' and admin requests too (its `listenPort` is not used).
pub const CONTROLLER_PORT: i32 = 9878;
/// A broker's `listenPort`: clients and the admin protocol.
pub const BROKER_PORT: i32 = 10911;
/// A broker's `haListenPort`: replicas fetch the commit log from their master here.
pub const BROKER_HA_PORT: i32 = 10912;
/// The "VIP" (fast) channel, which RocketMQ derives as `listenPort - 2`.
pub const BROKER_FAST_PORT: i32 = 10909;

/// Keys of the admin credentials Secret.
pub const ACCESS_KEY: &str = "accessKey";
pub const SECRET_KEY: &str = "secretKey";

/// The name servers' StatefulSet, named after the NameService.
pub fn name_service_statefulset(name_service: &str) -> String {
    name_service.to_string()
}

/// The name servers' headless Service (the StatefulSet's `serviceName`).
pub fn name_service_service(name_service: &str) -> String {
    name_service.to_string()
}

/// Every name server of `name_service` by its stable DNS name.
pub fn name_server_addresses(name_service: &NameService) -> Vec<String> {
    let name = name_service.name_any();
    stable_addresses(
        &name_service.namespace().unwrap_or_default(),
        &name_service_service(&name),
        &name,
        name_service.spec.size,
        NAME_SERVER_PORT,
    )
}

/// The controllers' StatefulSet, named after the Controller, as upstream names it.
pub fn controller_statefulset(controller: &str) -> String {
    controller.to_string()
}

/// The controllers' headless Service (the StatefulSet's `serviceName`), as upstream names it.
pub fn controller_headless_service(controller: &str) -> String {
    format!("{controller}-svc-headless")
}

/// One address for all controllers, as upstream names it.
pub fn controller_service(controller: &str) -> String {
    format!("{controller}-svc")
}

/// Every controller of `controller` by its stable DNS name, as brokers name them in
/// `controllerAddr`.
pub fn controller_addresses(controller: &Controller) -> Vec<String> {
    let name = controller.name_any();
    stable_addresses(
        &controller.namespace().unwrap_or_default(),
        &controller_headless_service(&name),
        &name,
        controller.spec.size,
        CONTROLLER_PORT,
    )
}

/// `host:port` of the `size` pods of the StatefulSet `set` by their stable DNS names,
/// `<set>-<i>.<service>.<namespace>.svc`: pod IPs change with every restart, these never do.
pub fn stable_addresses(
    namespace: &str,
    service: &str,
    set: &str,
    size: i32,
    port: i32,
) -> Vec<String> {
    // Capped as validation caps it: this also lists the servers of invalid resources.
    (0..size.clamp(0, api::MAX_REPLICAS))
        .map(|ordinal| format!("{set}-{ordinal}.{service}.{namespace}.svc:{port}"))
        .collect()
}

/// RocketMQ's `brokerName` of group `group`: master and replicas share it.
pub fn broker_name(broker: &str, group: i32) -> String {
    format!("{broker}-{group}")
}

/// The StatefulSet of one broker: `<broker>-<g>-master`, or `<broker>-<g>-replica-<r>`.
pub fn broker_statefulset(broker: &str, group: i32, replica: i32) -> String {
    match replica {
        0 => format!("{broker}-{group}-master"),
        replica => format!("{broker}-{group}-replica-{replica}"),
    }
}

/// A broker's pod: the only pod of its StatefulSet.
pub fn broker_pod(broker: &str, group: i32, replica: i32) -> String {
    format!("{}-0", broker_statefulset(broker, group, replica))
}

/// The headless Service that gives every broker pod its DNS name.
pub fn brokers_service(broker: &str) -> String {
    format!("{broker}-brokers")
}

/// The ConfigMap holding one broker's `broker.conf`. Not `<broker>-config`: upstream's examples
/// name the user's own ConfigMap `broker-config`.
pub fn broker_config_map(statefulset: &str) -> String {
    format!("{statefulset}-config")
}

/// The Secret with the cluster's admin credentials (ACL 2.0 user and inner-client credentials).
pub fn admin_credentials_secret(broker: &str) -> String {
    format!("{broker}-admin-credentials")
}

/// The Secret with the private key of the Broker's CA, which signs its brokers' certificate.
/// Not `<broker>-cluster-ca`, which a Kafka of the same name owns.
pub fn broker_ca_secret(broker: &str) -> String {
    format!("{broker}-broker-ca")
}

/// The Secret with the Broker's CA certificates, which clients trust.
pub fn broker_ca_cert_secret(broker: &str) -> String {
    format!("{broker}-broker-ca-cert")
}

/// The Secret with the brokers' certificate and key (`tls.crt`, `tls.key`), which they mount.
pub fn broker_certificate_secret(broker: &str) -> String {
    format!("{broker}-broker-tls")
}

/// Where the broker in `pod` listens: its stable DNS name through the brokers' headless Service.
pub fn broker_pod_address(namespace: &str, broker: &str, pod: &str) -> String {
    let service = brokers_service(broker);
    format!("{pod}.{service}.{namespace}.svc:{BROKER_PORT}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::rocketmq::NameServiceSpec;
    use kube::api::ObjectMeta;

    #[test]
    fn name_servers_are_stable_dns_names() {
        let name_service = NameService {
            metadata: ObjectMeta {
                name: Some("name-service".into()),
                namespace: Some("mq".into()),
                ..ObjectMeta::default()
            },
            spec: NameServiceSpec {
                size: 2,
                ..NameServiceSpec::default()
            },
            status: None,
        };
        assert_eq!(
            name_server_addresses(&name_service),
            [
                "name-service-0.name-service.mq.svc:9876",
                "name-service-1.name-service.mq.svc:9876"
            ]
        );
    }

    #[test]
    fn broker_names_follow_the_upstream_operator() {
        assert_eq!(broker_name("broker", 1), "broker-1");
        assert_eq!(broker_statefulset("broker", 0, 0), "broker-0-master");
        assert_eq!(broker_statefulset("broker", 1, 2), "broker-1-replica-2");
        assert_eq!(broker_pod("broker", 1, 0), "broker-1-master-0");
        assert_eq!(broker_pod("broker", 0, 1), "broker-0-replica-1-0");
        assert_eq!(
            broker_pod_address("mq", "broker", "broker-0-master-0"),
            "broker-0-master-0.broker-brokers.mq.svc:10911"
        );
        assert_eq!(
            admin_credentials_secret("broker"),
            "broker-admin-credentials"
        );
        assert_eq!(
            broker_config_map("broker-0-master"),
            "broker-0-master-config"
        );
        assert_eq!(broker_ca_secret("broker"), "broker-broker-ca");
        assert_eq!(broker_ca_cert_secret("broker"), "broker-broker-ca-cert");
        assert_eq!(broker_certificate_secret("broker"), "broker-broker-tls");
    }
}
