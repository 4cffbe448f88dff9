use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PodSettings;
use crate::Condition;

/// RocketMQ name servers, as apache/rocketmq-operator's `NameService`.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "rocketmq.apache.org",
    version = "v1alpha1",
    kind = "NameService",
    plural = "nameservices",
    namespaced,
    status = "NameServiceStatus",
    derive = "PartialEq",
    shortname = "rmqns",
    doc = "A set of RocketMQ name servers."
)]
#[serde(rename_all = "camelCase")]
pub struct NameServiceSpec {
    /// Number of name server pods, at most 1000.
    #[schemars(range(min = 0, max = crate::MAX_REPLICAS))]
    pub size: i32,
    /// Container image; defaults to the operator's RocketMQ image.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\S+$"))]
    pub name_service_image: Option<String>,
    #[serde(flatten)]
    pub pod: PodSettings,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NameServiceStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `host:port` of every name server. Brokerage lists stable DNS names, not pod IPs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_servers: Option<Vec<String>>,
}
