use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PodSettings;
use crate::Condition;

/// A RocketMQ controller quorum, as apache/rocketmq-operator's `Controller`: brokers in
/// controller mode register with it, and it elects the master of each broker group.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "rocketmq.apache.org",
    version = "v1alpha1",
    kind = "Controller",
    plural = "controllers",
    namespaced,
    status = "ControllerStatus",
    derive = "PartialEq",
    shortname = "rmqctrl",
    doc = "A quorum of RocketMQ controllers, which elect the masters of brokers in controller mode."
)]
#[serde(rename_all = "camelCase")]
pub struct ControllerSpec {
    /// Number of controllers, at most 1000; an odd number (3 or 5) survives the loss of a
    /// minority.
    #[schemars(range(min = 0, max = crate::MAX_REPLICAS))]
    pub size: i32,
    /// Container image; defaults to the operator's RocketMQ image.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\S+$"))]
    pub controller_image: Option<String>,
    #[serde(flatten)]
    pub pod: PodSettings,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ControllerStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `host:port` of every controller, as brokers name them in `controllerAddr`. Brokerage
    /// lists stable DNS names, not pod names or IPs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<String>>,
    /// The number of controllers the StatefulSet runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i32>,
}
