use k8s_openapi::api::apps::v1::Deployment;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Condition;
use crate::schema::free_form_object;

/// The RocketMQ 5 proxy, as apache/rocketmq-operator's `Proxy`.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "rocketmq.apache.org",
    version = "v1alpha1",
    kind = "Proxy",
    plural = "proxys",
    namespaced,
    status = "ProxyStatus",
    derive = "PartialEq",
    shortname = "rmqproxy",
    doc = "The RocketMQ 5 proxy that gRPC and remoting clients connect through, pointed at the \
           name servers of its namespace."
)]
#[serde(rename_all = "camelCase")]
pub struct ProxySpec {
    /// The proxy's Deployment, as upstream takes it: `spec.replicas`, the pod template's labels,
    /// `imagePullSecrets` and volumes, and of its first container the name, image, pull policy,
    /// resources, env and volume mounts. The operator builds the rest. Kept as written (a whole
    /// Deployment's schema would make the CRD too large to apply); what the operator reads is
    /// checked when it reads it.
    #[schemars(schema_with = "free_form_object")]
    pub proxy_deployment: Deployment,
    /// `CLUSTER` (the default): the proxy forwards to the brokers of the namespace's cluster.
    /// `LOCAL`: the proxy runs a broker of its own inside its pod, configured by
    /// `brokerConfigPath`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_mode: Option<String>,
    /// In `LOCAL` mode, the broker configuration file the user's pod mounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_config_path: Option<String>,
    /// Upstream's path of the proxy's configuration file. The operator writes the proxy's
    /// configuration itself (name servers, ports, ACL), so a file there is not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_config_path: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProxyStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Where gRPC clients connect, `<name>.<namespace>.svc:8081`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_address: Option<String>,
    /// Where remoting clients connect (as to a name server), `<name>.<namespace>.svc:8080`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remoting_address: Option<String>,
    /// Proxy pods that are Ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
}
