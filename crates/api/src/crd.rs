use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition,
};
use kube::CustomResourceExt;

use crate::kafka::{self, Kafka, KafkaNodePool, KafkaTopic, KafkaUser};
use crate::rocketmq::{Broker, NameService, RocketMQTopic, RocketMQUser};

/// Every CRD Brokerage serves, ready to apply.
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![
        strimzi(
            Kafka::crd(),
            &[("Desired Kafka replicas", "integer", ".spec.kafka.replicas")],
        ),
        strimzi(
            KafkaNodePool::crd(),
            &[
                ("Desired replicas", "integer", ".spec.replicas"),
                ("Roles", "string", ".spec.roles"),
                ("NodeIds", "string", ".status.nodeIds"),
            ],
        ),
        strimzi(
            KafkaTopic::crd(),
            &[
                ("Cluster", "string", CLUSTER_LABEL_PATH),
                ("Partitions", "integer", ".spec.partitions"),
                ("Replication factor", "integer", ".spec.replicas"),
            ],
        ),
        strimzi(
            KafkaUser::crd(),
            &[
                ("Cluster", "string", CLUSTER_LABEL_PATH),
                ("Authentication", "string", ".spec.authentication.type"),
                ("Authorization", "string", ".spec.authorization.type"),
            ],
        ),
        rocketmq(
            NameService::crd(),
            &[
                ("Size", "integer", ".spec.size"),
                ("Host-Network", "boolean", ".spec.hostNetwork"),
            ],
        ),
        rocketmq(
            Broker::crd(),
            &[
                ("Size", "integer", ".spec.size"),
                ("Replica-Per-Group", "integer", ".spec.replicaPerGroup"),
            ],
        ),
        rocketmq(
            RocketMQTopic::crd(),
            &[
                ("Cluster", "string", ".spec.clusterRef.name"),
                ("Read queues", "integer", ".spec.readQueueNums"),
                ("Write queues", "integer", ".spec.writeQueueNums"),
                ("Message type", "string", ".spec.messageType"),
            ],
        ),
        rocketmq(
            RocketMQUser::crd(),
            &[
                ("Cluster", "string", ".spec.clusterRef.name"),
                ("User type", "string", ".spec.userType"),
            ],
        ),
    ]
}

const CLUSTER_LABEL_PATH: &str = r".metadata.labels.strimzi\.io/cluster";

/// A `kubectl get` column: name, type and JSONPath.
type Column<'a> = (&'a str, &'a str, &'a str);

/// A Strimzi kind is listed under `kubectl get strimzi` like Strimzi's own, and also served as
/// `v1beta2`, which most existing manifests name. The schema is the same as `v1`'s, so the apiserver
/// converts between them with no webhook.
fn strimzi(crd: CustomResourceDefinition, columns: &[Column]) -> CustomResourceDefinition {
    let mut crd = presented(crd, "strimzi", columns);
    let mut legacy = crd.spec.versions[0].clone();
    legacy.name = kafka::LEGACY_VERSION.to_string();
    legacy.storage = false;
    crd.spec.versions.push(legacy);
    crd
}

fn rocketmq(crd: CustomResourceDefinition, columns: &[Column]) -> CustomResourceDefinition {
    presented(crd, "rocketmq", columns)
}

/// Adds the categories and printer columns. Every kind ends with the columns that say whether the
/// operator is done with it (`Ready`), whether it ignored something (`Warnings`) and its age.
fn presented(
    mut crd: CustomResourceDefinition,
    family: &str,
    columns: &[Column],
) -> CustomResourceDefinition {
    crd.spec.names.categories = Some(vec![family.to_string(), "brokerage".to_string()]);
    let standard = [
        (
            "Ready",
            "string",
            r#".status.conditions[?(@.type=="Ready")].status"#,
        ),
        (
            "Warnings",
            "string",
            r#".status.conditions[?(@.type=="Warning")].status"#,
        ),
        ("Age", "date", ".metadata.creationTimestamp"),
    ];
    let columns: Vec<_> = columns
        .iter()
        .chain(&standard)
        .map(|(name, type_, json_path)| CustomResourceColumnDefinition {
            name: name.to_string(),
            type_: type_.to_string(),
            json_path: json_path.to_string(),
            ..Default::default()
        })
        .collect();
    for version in &mut crd.spec.versions {
        version.additional_printer_columns = Some(columns.clone());
    }
    crd
}
