//! RocketMQUsers for unit tests.

use api::rocketmq::{RocketMQUser, RocketMQUserSpec};

/// A RocketMQUser in `team-a` of the Broker `broker`, with more of the spec given as JSON.
pub fn user(name: &str, mut spec: serde_json::Value) -> RocketMQUser {
    spec["clusterRef"] = serde_json::json!({"name": "broker"});
    let spec: RocketMQUserSpec = serde_json::from_value(spec).expect("a RocketMQUser spec");
    let mut user = RocketMQUser::new(name, spec);
    user.metadata.namespace = Some("team-a".into());
    user.metadata.generation = Some(1);
    user
}
