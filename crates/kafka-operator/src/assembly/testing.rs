//! Fixtures shared by the unit tests: the repository's examples, loaded as the operator sees them.

use api::kafka::{Kafka, KafkaNodePool};

use super::model::{Inputs, KafkaModel, validate};

pub const NAMESPACE: &str = "kafka";

/// The NodePort listener from the documents the project started from, on a two-node cluster.
pub const NODEPORT_CLUSTER: &str = include_str!("../../../../tests/fixtures/nodeport-kafka.yaml");

/// The Kafka and node pools of `examples/kafka/<name>.yaml`, placed in [`NAMESPACE`].
pub fn example(name: &str) -> (Kafka, Vec<KafkaNodePool>) {
    let path = format!(
        "{}/../../examples/kafka/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("the example exists");
    parse(&text)
}

/// A Kafka and its node pools from a multi-document YAML text, in [`NAMESPACE`].
pub fn parse(text: &str) -> (Kafka, Vec<KafkaNodePool>) {
    super::manifest::read(text, NAMESPACE).expect("a valid Kafka manifest")
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
