use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ClusterRef;
use crate::{Condition, Password};

/// A RocketMQ user with ACL 2.0 policies. Its credentials are kept in a Secret named after the resource.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "rocketmq.apache.org",
    version = "v1alpha1",
    kind = "RocketMQUser",
    plural = "rocketmqusers",
    namespaced,
    status = "RocketMQUserStatus",
    derive = "PartialEq",
    shortname = "rmqu",
    doc = "A RocketMQ user: credentials and ACL 2.0 policies."
)]
#[serde(rename_all = "camelCase")]
pub struct RocketMQUserSpec {
    pub cluster_ref: ClusterRef,
    /// User name in RocketMQ; defaults to `metadata.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// A password to use instead of a generated one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Password>,
    /// Defaults to `Normal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_type: Option<UserType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acls: Option<Vec<RocketMQAcl>>,
}

/// A `Super` user bypasses ACL checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum UserType {
    Super,
    #[default]
    Normal,
}

/// One ACL 2.0 policy entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RocketMQAcl {
    /// `<Type>:<name>` as RocketMQ writes it, such as `Topic:orders`, `Group:billing`, `Topic:order*`
    /// (prefix), `Topic:*` (every topic) or `*` (everything). RocketMQ reads a `*` only at the
    /// end of the name.
    #[schemars(regex(pattern = r"^(\*|(Cluster|Namespace|Topic|Group):([^*\s]+\*?|\*))$"))]
    pub resource: String,
    #[schemars(length(min = 1))]
    pub actions: Vec<AclAction>,
    /// Defaults to `Allow`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<AclDecision>,
    /// Client addresses or CIDR ranges the entry applies to; absent means any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ips: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AclAction {
    All,
    Pub,
    Sub,
    Create,
    Update,
    Delete,
    Get,
    List,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AclDecision {
    #[default]
    Allow,
    Deny,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RocketMQUserStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The user name in RocketMQ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Name of the Secret holding the credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}
