use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One status condition, in the shape Strimzi uses for every kind (and so do we, for RocketMQ kinds too).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// The kind of condition, such as `Ready` or `Warning`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// A single CamelCase word saying why the condition last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What a user can act on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the status last changed, as `yyyy-MM-ddTHH:mm:ssZ` in UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

/// A status that carries conditions, so code common to every kind can stamp their transition
/// times.
pub trait HasConditions {
    fn conditions(&self) -> Option<&[Condition]>;
    fn conditions_mut(&mut self) -> Option<&mut Vec<Condition>>;
    /// Says `conditions` of the resource's `observed_generation`, keeping the rest of the status
    /// (what a paused or refused resource shows).
    fn set_conditions(&mut self, conditions: Vec<Condition>, observed_generation: Option<i64>);
}

/// Implements [`HasConditions`] for statuses with a `conditions: Option<Vec<Condition>>` field.
macro_rules! has_conditions {
    ($($status:ty),* $(,)?) => {$(
        impl HasConditions for $status {
            fn conditions(&self) -> Option<&[Condition]> {
                self.conditions.as_deref()
            }
            fn conditions_mut(&mut self) -> Option<&mut Vec<Condition>> {
                self.conditions.as_mut()
            }
            fn set_conditions(&mut self, conditions: Vec<Condition>, observed_generation: Option<i64>) {
                self.conditions = Some(conditions);
                self.observed_generation = observed_generation;
            }
        }
    )*};
}

has_conditions!(
    crate::kafka::KafkaStatus,
    crate::kafka::KafkaRebalanceStatus,
    crate::kafka::KafkaTopicStatus,
    crate::kafka::KafkaUserStatus,
    crate::rocketmq::BrokerStatus,
    crate::rocketmq::ConsoleStatus,
    crate::rocketmq::ControllerStatus,
    crate::rocketmq::NameServiceStatus,
    crate::rocketmq::ProxyStatus,
    crate::rocketmq::RocketMQTopicStatus,
    crate::rocketmq::RocketMQUserStatus,
    crate::rocketmq::TopicTransferStatus,
);
