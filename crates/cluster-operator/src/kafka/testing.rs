//! Fixtures shared by the unit tests: the repository's examples, loaded as the operator sees them.

use api::kafka::{Kafka, KafkaNodePool};
use serde::Deserialize;

use super::model::{Inputs, KafkaModel, validate};

pub const NAMESPACE: &str = "kafka";

/// The nodeport listener from the issue, which must work as written, on a two-node cluster.
pub const NODEPORT_CLUSTER: &str = r#"
apiVersion: kafka.strimzi.io/v1
kind: KafkaNodePool
metadata: {name: brokers, labels: {strimzi.io/cluster: np}}
spec: {replicas: 2, roles: [controller, broker], storage: {type: ephemeral}}
---
apiVersion: kafka.strimzi.io/v1
kind: Kafka
metadata: {name: np}
spec:
  kafka:
    listeners:
      - name: plain
        port: 9092
        tls: false
        type: internal
      - name: tls
        port: 9093
        tls: true
        type: internal
      - configuration:
          bootstrap:
            nodePort: 32094
          brokers:
            - advertisedHost: 203.0.113.10
              broker: 0
        name: external
        port: 9094
        tls: false
        type: nodeport
"#;

/// The Kafka and node pools of `examples/kafka/<name>.yaml`, placed in [`NAMESPACE`].
pub fn example(name: &str) -> (Kafka, Vec<KafkaNodePool>) {
    let path = format!(
        "{}/../../examples/kafka/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("the example exists");
    parse(&text)
}

/// A Kafka and its node pools from a multi-document YAML text.
pub fn parse(text: &str) -> (Kafka, Vec<KafkaNodePool>) {
    let mut kafka = None;
    let mut pools = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = serde_yaml::Value::deserialize(document).expect("valid YAML");
        match value["kind"].as_str() {
            Some("Kafka") => {
                let mut parsed: Kafka = serde_yaml::from_value(value).expect("a valid Kafka");
                parsed.metadata.namespace = Some(NAMESPACE.into());
                parsed.metadata.uid = Some("00000000-0000-0000-0000-000000000001".into());
                kafka = Some(parsed);
            }
            Some("KafkaNodePool") => {
                let mut pool: KafkaNodePool =
                    serde_yaml::from_value(value).expect("a valid KafkaNodePool");
                pool.metadata.namespace = Some(NAMESPACE.into());
                pools.push(pool);
            }
            _ => {}
        }
    }
    (kafka.expect("the text has a Kafka"), pools)
}

pub fn inputs() -> Inputs {
    Inputs {
        new_cluster_id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
        ..Inputs::default()
    }
}

pub fn example_model(name: &str) -> KafkaModel {
    let (kafka, pools) = example(name);
    validate(&kafka, &pools, &inputs()).expect("the example is valid")
}
