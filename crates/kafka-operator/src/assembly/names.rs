//! Every name derived from a Kafka cluster, spelled as Strimzi spells it, because clients and
//! tools (and users' scripts) address these objects by name.

/// `<c>-kafka`: the component name of the nodes, their ServiceAccount and PodDisruptionBudget.
pub fn kafka(cluster: &str) -> String {
    format!("{cluster}-kafka")
}

pub fn service_account(cluster: &str) -> String {
    kafka(cluster)
}

pub fn pod_disruption_budget(cluster: &str) -> String {
    kafka(cluster)
}

pub fn network_policy(cluster: &str) -> String {
    format!("{cluster}-network-policy-kafka")
}

/// The ClusterIP Service in front of every broker's internal listeners.
pub fn bootstrap_service(cluster: &str) -> String {
    format!("{cluster}-kafka-bootstrap")
}

/// The headless Service that gives every node its DNS name.
pub fn brokers_service(cluster: &str) -> String {
    format!("{cluster}-kafka-brokers")
}

/// The bootstrap Service of a `cluster-ip`, `nodeport` or `loadbalancer` listener.
pub fn external_bootstrap_service(cluster: &str, listener: &str) -> String {
    format!("{cluster}-kafka-{listener}-bootstrap")
}

/// The Service of one broker on a `cluster-ip`, `nodeport` or `loadbalancer` listener.
pub fn per_broker_service(cluster: &str, pool: &str, listener: &str, node_id: i32) -> String {
    format!("{cluster}-{pool}-{listener}-{node_id}")
}

/// The StatefulSet of one node pool.
pub fn statefulset(cluster: &str, pool: &str) -> String {
    format!("{cluster}-{pool}")
}

/// The ConfigMap where clients find each listener's bootstrap servers without reading the
/// Kafka's status.
pub fn bootstrap_info_config_map(cluster: &str) -> String {
    format!("{cluster}-kafka-bootstrap-info")
}

/// The ConfigMap holding the `server.properties` of every node of a pool, one key per pod: a
/// StatefulSet's pods share one template, so they cannot each mount a ConfigMap of their own.
pub fn pool_config_map(cluster: &str, pool: &str) -> String {
    statefulset(cluster, pool)
}

pub fn pod(cluster: &str, pool: &str, node_id: i32) -> String {
    format!("{cluster}-{pool}-{node_id}")
}

/// The key of a node's `server.properties` in its pool's ConfigMap.
pub fn server_properties_key(pod: &str) -> String {
    format!("{pod}.properties")
}

/// The one Secret with every node's certificate (`<pod>.crt`) and key (`<pod>.key`), as Strimzi
/// named it before node pools. One Secret for all nodes keeps the pod template the same when a
/// pool scales, so scaling restarts nobody.
pub fn node_certificates_secret(cluster: &str) -> String {
    format!("{cluster}-kafka-brokers")
}

pub fn cluster_ca_secret(cluster: &str) -> String {
    format!("{cluster}-cluster-ca")
}

pub fn cluster_ca_cert_secret(cluster: &str) -> String {
    format!("{cluster}-cluster-ca-cert")
}

pub fn clients_ca_secret(cluster: &str) -> String {
    format!("{cluster}-clients-ca")
}

pub fn clients_ca_cert_secret(cluster: &str) -> String {
    format!("{cluster}-clients-ca-cert")
}

/// A node's DNS name through the headless Service, without the cluster domain, as Strimzi
/// advertises it (so it works whatever the cluster domain is).
pub fn pod_dns(cluster: &str, namespace: &str, pod: &str) -> String {
    format!("{pod}.{}.{namespace}.svc", brokers_service(cluster))
}

pub fn service_dns(service: &str, namespace: &str) -> String {
    format!("{service}.{namespace}.svc")
}

/// Common name of every node certificate. The nodes authenticate to each other with it, so its
/// principal is a super user when authorization is on.
pub fn node_common_name(cluster: &str) -> String {
    kafka(cluster)
}

/// Common name of the client certificate the operator (and its topic and user operators) uses
/// to talk to Kafka, as Strimzi's cluster operator names its own.
pub const OPERATOR_COMMON_NAME: &str = "cluster-operator";

/// The Kafka exporter's Deployment, and the common name of its client certificate.
pub fn kafka_exporter(cluster: &str) -> String {
    format!("{cluster}-kafka-exporter")
}

/// The Secret holding the Kafka exporter's client certificate, as Strimzi names it.
pub fn kafka_exporter_certificate_secret(cluster: &str) -> String {
    format!("{cluster}-kafka-exporter-certs")
}
