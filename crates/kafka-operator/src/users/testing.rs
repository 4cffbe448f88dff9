//! KafkaUsers for unit tests.

use api::kafka::{KafkaUser, KafkaUserSpec};
use runtime::labels::STRIMZI_CLUSTER;

/// A KafkaUser in `team-a` of `my-cluster`, with the spec given as JSON.
pub fn user(name: &str, spec: serde_json::Value) -> KafkaUser {
    let spec: KafkaUserSpec = serde_json::from_value(spec).expect("a KafkaUser spec");
    let mut user = KafkaUser::new(name, spec);
    user.metadata.namespace = Some("team-a".into());
    user.metadata.labels = Some([(STRIMZI_CLUSTER.into(), "my-cluster".into())].into());
    user.metadata.generation = Some(1);
    user
}
