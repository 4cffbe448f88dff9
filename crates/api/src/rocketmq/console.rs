use k8s_openapi::api::apps::v1::Deployment;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Condition;
use crate::schema::free_form_object;

/// The RocketMQ dashboard, as apache/rocketmq-operator's `Console`.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "rocketmq.apache.org",
    version = "v1alpha1",
    kind = "Console",
    plural = "consoles",
    namespaced,
    status = "ConsoleStatus",
    derive = "PartialEq",
    shortname = "rmqconsole",
    doc = "The RocketMQ dashboard, pointed at a cluster's name servers."
)]
#[serde(rename_all = "camelCase")]
pub struct ConsoleSpec {
    /// The dashboard's Deployment, as upstream takes it: `spec.replicas`, the pod template's
    /// labels and `imagePullSecrets`, and of its first container the name, image, pull policy,
    /// resources, env and ports. The operator builds the rest. Kept as written (a whole
    /// Deployment's schema would make the CRD too large to apply); what the operator reads is
    /// checked when it reads it.
    #[schemars(schema_with = "free_form_object")]
    pub console_deployment: Deployment,
    /// `;`-separated `host:port` name servers; when empty, those of the NameService in the
    /// namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_servers: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsoleStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Where the dashboard serves, `<name>.<namespace>.svc:<port>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Dashboard pods that are Ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
}
