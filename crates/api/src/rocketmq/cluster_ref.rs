use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The RocketMQ cluster a topic or user belongs to: a Broker resource in the same namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterRef {
    /// Name of the Broker resource.
    #[schemars(length(min = 1))]
    pub name: String,
}
