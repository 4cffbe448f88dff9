use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::schema::{FreeFormObject, free_form_object};
use crate::{Condition, Password};

/// A Kafka user, as Strimzi's `KafkaUser`: credentials in a Secret named after the user, ACLs and quotas.
/// It belongs to the Kafka named by its `strimzi.io/cluster` label.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "kafka.strimzi.io",
    version = "v1",
    kind = "KafkaUser",
    plural = "kafkausers",
    namespaced,
    status = "KafkaUserStatus",
    derive = "PartialEq",
    shortname = "ku",
    doc = "A Kafka user: authentication, ACLs and quotas."
)]
#[serde(rename_all = "camelCase")]
pub struct KafkaUserSpec {
    /// User name in Kafka, for names that are not valid resource names; defaults to `metadata.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Without authentication no credentials are made; ACLs and quotas apply to the plain user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication: Option<KafkaUserAuthentication>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<KafkaUserAuthorization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quotas: Option<KafkaUserQuotas>,
    /// Labels and annotations of the user's Secret, as Strimzi's `template.secret.metadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub template: Option<FreeFormObject>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "!has(self.validityDays) || !has(self.renewalDays) || self.renewalDays < self.validityDays",
    "message": "renewalDays must be less than validityDays, or the certificate would be renewed at every reconciliation",
}]))]
pub struct KafkaUserAuthentication {
    #[serde(rename = "type")]
    pub type_: KafkaUserAuthenticationType,
    /// `scram-sha-512` only: a password to use instead of a generated one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Password>,
    /// `tls` only: days the user's certificate is valid; the clients CA's `validityDays`
    /// when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub validity_days: Option<i32>,
    /// `tls` only: days before expiry the certificate is renewed; the clients CA's
    /// `renewalDays` when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub renewal_days: Option<i32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum KafkaUserAuthenticationType {
    /// A certificate signed by the clients CA, stored in the user's Secret.
    #[serde(rename = "tls")]
    Tls,
    /// A certificate issued outside the operator; ACLs and quotas use `CN=<user>`.
    #[serde(rename = "tls-external")]
    TlsExternal,
    /// SCRAM-SHA-512 credentials, stored in the user's Secret.
    #[serde(rename = "scram-sha-512")]
    ScramSha512,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaUserAuthorization {
    #[serde(rename = "type")]
    pub type_: KafkaUserAuthorizationType,
    /// At most 1000 rules.
    #[schemars(length(max = 1000))]
    pub acls: Vec<AclRule>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum KafkaUserAuthorizationType {
    /// ACLs managed through the Kafka Admin API.
    #[serde(rename = "simple")]
    Simple,
}

/// One ACL rule: which operations on which resources are allowed or denied, from which host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AclRule {
    pub resource: AclResource,
    /// Defaults to `allow`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<AclRuleType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<AclOperation>>,
    /// Deprecated single-operation form of `operations`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<AclOperation>,
    /// A client's IP address; defaults to `*`, any host. Kafka compares it with the address
    /// the client connects from, so a host name or a CIDR range would never match.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), extend("x-kubernetes-validations" = [{
        "rule": "self == '*' || isIP(self)",
        "message": "host must be '*' or one IP address: Kafka compares it with the client's address, so a host name or a CIDR range never matches",
    }]))]
    pub host: Option<String>,
}

impl AclRule {
    /// Every operation the rule names, from `operations` and the deprecated `operation`.
    pub fn all_operations(&self) -> Vec<AclOperation> {
        let mut all = self.operations.clone().unwrap_or_default();
        all.extend(self.operation.filter(|op| !all.contains(op)));
        all
    }

    pub fn rule_type(&self) -> AclRuleType {
        self.type_.unwrap_or_default()
    }

    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("*")
    }
}

/// What an ACL rule applies to. Kafka gives `*` a meaning only as a whole `literal` name (every
/// resource of the type); anywhere else it is a plain character, so the schema refuses the uses
/// that can only be mistakes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "!has(self.name) || !has(self.patternType) || self.patternType != 'prefix' || !self.name.contains('*')",
        "message": "a prefix name is taken literally, so it must not contain '*'; for every resource of the type use name '*' with patternType literal",
        "fieldPath": ".name",
    },
    {
        "rule": "!has(self.name) || self.name == '*' || !self.name.endsWith('*')",
        "message": "Kafka does not expand a trailing '*'; for every resource starting with a prefix, give the prefix without '*' and patternType prefix",
        "fieldPath": ".name",
    },
    {
        "rule": "self.type != 'topic' || !has(self.name) || self.name == '*' || self.name.matches('^[a-zA-Z0-9._-]+$')",
        "message": "topic names hold only letters, digits, '.', '_' and '-', so this ACL would match no topic; use '*' alone for every topic",
        "fieldPath": ".name",
    },
]))]
pub struct AclResource {
    #[serde(rename = "type")]
    pub type_: AclResourceType,
    /// Not used for `cluster`; `*` (with `patternType: literal`) matches every resource of the type.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub name: Option<String>,
    /// Defaults to `literal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern_type: Option<AclPatternType>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AclResourceType {
    #[serde(rename = "topic")]
    Topic,
    #[serde(rename = "group")]
    Group,
    #[serde(rename = "cluster")]
    Cluster,
    #[serde(rename = "transactionalId")]
    TransactionalId,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AclPatternType {
    #[default]
    #[serde(rename = "literal")]
    Literal,
    #[serde(rename = "prefix")]
    Prefix,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AclRuleType {
    #[default]
    #[serde(rename = "allow")]
    Allow,
    #[serde(rename = "deny")]
    Deny,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AclOperation {
    Read,
    Write,
    Create,
    Delete,
    Alter,
    Describe,
    ClusterAction,
    AlterConfigs,
    DescribeConfigs,
    IdempotentWrite,
    All,
}

/// Client quotas, per broker. Kafka takes none of zero.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaUserQuotas {
    /// Bytes per second the user may produce, at least 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub producer_byte_rate: Option<i64>,
    /// Bytes per second the user may fetch, at least 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub consumer_byte_rate: Option<i64>,
    /// Share of the broker's network and I/O thread time, in percent, from 1 to 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub request_percentage: Option<i32>,
    /// Partitions per second the user may create or delete, more than 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{
        "rule": "self > 0.0",
        "message": "controllerMutationRate must be more than 0: Kafka takes no quota of zero",
    }]))]
    pub controller_mutation_rate: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaUserStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The principal's user name as Kafka sees it (`CN=<name>` for TLS users).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Name of the Secret holding the credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}
