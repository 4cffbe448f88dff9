use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition, JSONSchemaProps, ValidationRule,
};
use kube::CustomResourceExt;

use crate::kafka::{self, Kafka, KafkaNodePool, KafkaRebalance, KafkaTopic, KafkaUser};
use crate::rocketmq::{
    Broker, Console, Controller, NameService, Proxy, RocketMQTopic, RocketMQUser, TopicTransfer,
};

/// Every CRD Brokerage serves, ready to apply.
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![
        named(
            strimzi(
                Kafka::crd(),
                &[
                    ("Kafka version", "string", ".status.kafkaVersion"),
                    ("Metadata version", "string", ".status.kafkaMetadataVersion"),
                ],
            ),
            Some(DNS_1035_LABEL),
            40,
            "<name>-cluster-operator-certs, the longest name made from it, names and labels a Secret",
        ),
        named(
            strimzi(
                KafkaNodePool::crd(),
                &[
                    ("Desired replicas", "integer", ".spec.replicas"),
                    ("Roles", "string", ".spec.roles"),
                    ("NodeIds", "string", ".status.nodeIds"),
                ],
            ),
            Some(DNS_1123_LABEL),
            50,
            "the pool's StatefulSet, <kafka>-<pool>, may have at most 52",
        ),
        strimzi(
            KafkaTopic::crd(),
            &[
                ("Cluster", "string", CLUSTER_LABEL_PATH),
                ("Partitions", "integer", ".spec.partitions"),
                ("Replication factor", "integer", ".spec.replicas"),
            ],
        ),
        named(
            strimzi(
                KafkaUser::crd(),
                &[
                    ("Cluster", "string", CLUSTER_LABEL_PATH),
                    ("Authentication", "string", ".spec.authentication.type"),
                    ("Authorization", "string", ".spec.authorization.type"),
                ],
            ),
            None,
            63,
            "it names and labels the user's Secret",
        ),
        strimzi(
            KafkaRebalance::crd(),
            &[
                ("Cluster", "string", CLUSTER_LABEL_PATH),
                ("Mode", "string", ".spec.mode"),
                (
                    "PendingProposal",
                    "string",
                    &state_column("PendingProposal"),
                ),
                ("ProposalReady", "string", &state_column("ProposalReady")),
                ("Rebalancing", "string", &state_column("Rebalancing")),
                ("NotReady", "string", &state_column("NotReady")),
                ("Stopped", "string", &state_column("Stopped")),
            ],
        ),
        named(
            rocketmq(
                NameService::crd(),
                &[
                    ("Size", "integer", ".spec.size"),
                    ("Host-Network", "boolean", ".spec.hostNetwork"),
                ],
            ),
            Some(DNS_1035_LABEL),
            52,
            "it names the name servers' Service and StatefulSet",
        ),
        named(
            rocketmq(
                Broker::crd(),
                &[
                    ("Size", "integer", ".spec.size"),
                    ("Replica-Per-Group", "integer", ".spec.replicaPerGroup"),
                ],
            ),
            Some(DNS_1035_LABEL),
            40,
            "the StatefulSets of the first groups, such as <name>-0-replica-1, may have at most 52",
        ),
        named(
            rocketmq(Controller::crd(), &[("Size", "integer", ".spec.size")]),
            Some(DNS_1035_LABEL),
            50,
            "it names the controllers' StatefulSet and their Services <name>-svc and <name>-svc-headless",
        ),
        named(
            rocketmq(
                Console::crd(),
                &[("Size", "integer", ".spec.consoleDeployment.spec.replicas")],
            ),
            Some(DNS_1035_LABEL),
            63,
            "it names the dashboard's Deployment and Service",
        ),
        named(
            rocketmq(
                Proxy::crd(),
                &[("Size", "integer", ".spec.proxyDeployment.spec.replicas")],
            ),
            Some(DNS_1035_LABEL),
            63,
            "it names the proxy's Deployment and Service",
        ),
        rocketmq(
            TopicTransfer::crd(),
            &[
                ("Topic", "string", ".spec.topic"),
                ("Source", "string", ".spec.sourceCluster"),
                ("Target", "string", ".spec.targetCluster"),
                ("Phase", "string", ".status.phase"),
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
        named(
            rocketmq(
                RocketMQUser::crd(),
                &[
                    ("Cluster", "string", ".spec.clusterRef.name"),
                    ("User type", "string", ".spec.userType"),
                ],
            ),
            None,
            63,
            "it names and labels the user's Secret",
        ),
    ]
}

/// A name Kubernetes takes for a Service: it starts with a letter.
const DNS_1035_LABEL: (&str, &str) = (
    "^[a-z]([-a-z0-9]*[a-z0-9])?$",
    "start with a letter and hold only lower-case letters, digits and '-' (it names Services)",
);
/// A name Kubernetes takes for a pod's host name.
const DNS_1123_LABEL: (&str, &str) = (
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
    "hold only lower-case letters, digits and '-' (it names pods)",
);

/// Adds rules on `metadata.name` to every version: the names of the objects the operator makes
/// from it must be ones Kubernetes accepts. A name is otherwise any DNS subdomain of up to 253
/// characters, and the operator's first write would be refused. (A schema may restrict
/// `metadata.name` and nothing else of `metadata`.)
fn named(
    mut crd: CustomResourceDefinition,
    pattern: Option<(&str, &str)>,
    max_length: usize,
    why: &str,
) -> CustomResourceDefinition {
    let kind = crd.spec.names.kind.clone();
    let mut rules = Vec::new();
    if let Some((pattern, what)) = pattern {
        rules.push(ValidationRule {
            rule: format!("self.matches('{pattern}')"),
            message: Some(format!("the name of a {kind} must {what}")),
            ..ValidationRule::default()
        });
    }
    rules.push(ValidationRule {
        rule: format!("size(self) <= {max_length}"),
        message: Some(format!(
            "the name of a {kind} may have at most {max_length} characters: {why}"
        )),
        ..ValidationRule::default()
    });
    let name = JSONSchemaProps {
        type_: Some("string".into()),
        x_kubernetes_validations: Some(rules),
        ..JSONSchemaProps::default()
    };
    for version in &mut crd.spec.versions {
        let schema = version
            .schema
            .as_mut()
            .and_then(|schema| schema.open_api_v3_schema.as_mut())
            .expect("a derived CRD has a schema");
        let metadata = schema
            .properties
            .get_or_insert_with(Default::default)
            .entry("metadata".into())
            .or_default();
        metadata.type_ = Some("object".into());
        metadata
            .properties
            .get_or_insert_with(Default::default)
            .insert("name".into(), name.clone());
    }
    crd
}

const CLUSTER_LABEL_PATH: &str = r".metadata.labels.strimzi\.io/cluster";

/// A KafkaRebalance's state is the type of its `True` condition: one column per state, as
/// Strimzi lists them (`Ready` is among the standard columns).
fn state_column(state: &str) -> String {
    format!(r#".status.conditions[?(@.type=="{state}")].status"#)
}

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
