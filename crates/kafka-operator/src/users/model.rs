//! A KafkaUser as the operator understands it: the principal, its credentials, its ACLs and its
//! quotas. Pure: no client, no clock.

use std::collections::{BTreeMap, BTreeSet};

use crate::assembly::names;
use api::kafka::{
    AclOperation as SpecOperation, AclPatternType, AclResourceType, AclRuleType, KafkaUser,
    KafkaUserAuthenticationType,
};
use kafka_client::{AclBinding, AclOperation, AclPermission, PatternType, ResourceType};
use kube::ResourceExt;
use operator_common::cluster_ref::ClusterRef;
use runtime::labels::STRIMZI_CLUSTER;

/// Present while the operator still has to remove the user's credentials, ACLs and quotas.
pub const FINALIZER: &str = "strimzi.io/user-operator";

/// The name Kafka gives the cluster resource in ACLs.
const CLUSTER_RESOURCE: &str = "kafka-cluster";

/// How the user proves who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// No authentication configured: ACLs and quotas only, for the plain user name.
    None,
    /// A certificate from the clients CA, in the user's Secret.
    Tls,
    /// A certificate from elsewhere: ACLs and quotas only, for `CN=<user>`.
    TlsExternal,
    /// SCRAM-SHA-512, with the password from `password.valueFrom.secretKeyRef` (Secret, key),
    /// or generated when `None`.
    Scram {
        password_from: Option<(String, String)>,
    },
}

/// The desired user, fully read from a valid KafkaUser.
#[derive(Clone, Debug, PartialEq)]
pub struct UserModel {
    /// The user name Kafka sees: the resource's name for SCRAM, `CN=<name>` for certificates.
    pub username: String,
    pub credentials: Credentials,
    /// Every ACL binding the user should have, one per operation.
    pub acls: BTreeSet<AclBinding>,
    /// Quota keys (`producer_byte_rate`, ...) and values.
    pub quotas: BTreeMap<String, f64>,
    /// The Secret with the user's credentials, named after the resource.
    pub secret: String,
}

impl UserModel {
    /// Kafka's principal for the user, as ACLs name it.
    pub fn principal(&self) -> String {
        principal(&self.username)
    }
}

pub fn principal(username: &str) -> String {
    format!("User:{username}")
}

/// The user name Kafka sees for a KafkaUser, whatever else is wrong with it.
pub fn username(user: &KafkaUser) -> String {
    let name = user
        .spec
        .user_name
        .clone()
        .unwrap_or_else(|| user.name_any());
    let certificate = user
        .spec
        .authentication
        .as_ref()
        .is_some_and(|authentication| {
            matches!(
                authentication.type_,
                KafkaUserAuthenticationType::Tls | KafkaUserAuthenticationType::TlsExternal
            )
        });
    if certificate {
        format!("CN={name}")
    } else {
        name
    }
}

/// Reads a KafkaUser, or says in words a user can act on what is wrong with it.
pub fn validate(user: &KafkaUser) -> Result<UserModel, String> {
    let Some(cluster) = ClusterRef::of(user) else {
        return Err(format!(
            "the label {STRIMZI_CLUSTER} must name the Kafka cluster this user belongs to"
        ));
    };
    let name = user
        .spec
        .user_name
        .clone()
        .unwrap_or_else(|| user.name_any());
    check_user_name(&name)?;
    let credentials = match &user.spec.authentication {
        None => Credentials::None,
        Some(authentication) => match (authentication.type_, &authentication.password) {
            (KafkaUserAuthenticationType::ScramSha512, password) => Credentials::Scram {
                password_from: password.as_ref().map(|password| {
                    let selector = &password.value_from.secret_key_ref;
                    (selector.name.clone(), selector.key.clone())
                }),
            },
            (_, Some(_)) => {
                return Err(
                    "authentication.password is for scram-sha-512 users only; remove it".into(),
                );
            }
            (KafkaUserAuthenticationType::Tls, None) => Credentials::Tls,
            (KafkaUserAuthenticationType::TlsExternal, None) => Credentials::TlsExternal,
        },
    };
    if matches!(credentials, Credentials::Tls | Credentials::TlsExternal) {
        check_not_reserved(&name, &cluster.name)?;
    }
    let username = username(user);
    let principal = principal(&username);
    let mut acls = BTreeSet::new();
    for (index, rule) in user
        .spec
        .authorization
        .iter()
        .flat_map(|authorization| &authorization.acls)
        .enumerate()
    {
        let operations = rule.all_operations();
        if operations.is_empty() {
            return Err(format!(
                "authorization.acls[{index}] names no operations; set operations"
            ));
        }
        let resource = &rule.resource;
        let resource_name = match (resource.type_, resource.name.as_deref()) {
            (AclResourceType::Cluster, _) => CLUSTER_RESOURCE.to_string(),
            (_, Some(name)) if !name.is_empty() => name.to_string(),
            _ => {
                return Err(format!(
                    "authorization.acls[{index}].resource.name is required for this resource type \
                     (use \"*\" for all)"
                ));
            }
        };
        for operation in operations {
            acls.insert(AclBinding {
                resource_type: resource_type(resource.type_),
                resource_name: resource_name.clone(),
                pattern_type: match resource.pattern_type.unwrap_or_default() {
                    AclPatternType::Literal => PatternType::Literal,
                    AclPatternType::Prefix => PatternType::Prefixed,
                },
                principal: principal.clone(),
                host: rule.host().to_string(),
                operation: operation_of(operation),
                permission: match rule.rule_type() {
                    AclRuleType::Allow => AclPermission::Allow,
                    AclRuleType::Deny => AclPermission::Deny,
                },
            });
        }
    }
    Ok(UserModel {
        username,
        credentials,
        acls,
        quotas: quotas(user),
        secret: user.name_any(),
    })
}

/// The quota keys Kafka uses for what the spec sets.
pub fn quotas(user: &KafkaUser) -> BTreeMap<String, f64> {
    let Some(quotas) = &user.spec.quotas else {
        return BTreeMap::new();
    };
    [
        (
            "producer_byte_rate",
            quotas.producer_byte_rate.map(|v| v as f64),
        ),
        (
            "consumer_byte_rate",
            quotas.consumer_byte_rate.map(|v| v as f64),
        ),
        (
            "request_percentage",
            quotas.request_percentage.map(f64::from),
        ),
        ("controller_mutation_rate", quotas.controller_mutation_rate),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key.to_string(), value?)))
    .collect()
}

/// Kafka's quota keys that a KafkaUser manages; others set on the user are left alone.
pub const QUOTA_KEYS: [&str; 4] = [
    "producer_byte_rate",
    "consumer_byte_rate",
    "request_percentage",
    "controller_mutation_rate",
];

/// SCRAM user names travel in `n=<name>` fields and principals; keep to what Strimzi allows.
fn check_user_name(name: &str) -> Result<(), String> {
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.len() > 64 || !name.chars().all(legal) {
        return Err(format!(
            "the user name {name:?} must be 1 to 64 ASCII letters, digits, '.', '_' or '-'; \
             set spec.userName"
        ));
    }
    Ok(())
}

/// The common names of the operator's and the nodes' certificates. Those carry `O=io.strimzi`,
/// so a user certificate could not have their principals anyway; refusing the names as well
/// keeps a user from passing for them where only the common name is shown.
fn check_not_reserved(name: &str, cluster: &str) -> Result<(), String> {
    let reserved = [
        names::OPERATOR_COMMON_NAME.to_string(),
        names::node_common_name(cluster),
    ];
    if reserved.iter().any(|reserved| reserved == name) {
        return Err(format!(
            "the certificate user name {name:?} is reserved for the operator's and the Kafka \
             nodes' own certificates of the cluster {cluster}; set another name or spec.userName"
        ));
    }
    Ok(())
}

fn resource_type(spec: AclResourceType) -> ResourceType {
    match spec {
        AclResourceType::Topic => ResourceType::Topic,
        AclResourceType::Group => ResourceType::Group,
        AclResourceType::Cluster => ResourceType::Cluster,
        AclResourceType::TransactionalId => ResourceType::TransactionalId,
    }
}

fn operation_of(spec: SpecOperation) -> AclOperation {
    match spec {
        SpecOperation::Read => AclOperation::Read,
        SpecOperation::Write => AclOperation::Write,
        SpecOperation::Create => AclOperation::Create,
        SpecOperation::Delete => AclOperation::Delete,
        SpecOperation::Alter => AclOperation::Alter,
        SpecOperation::Describe => AclOperation::Describe,
        SpecOperation::ClusterAction => AclOperation::ClusterAction,
        SpecOperation::AlterConfigs => AclOperation::AlterConfigs,
        SpecOperation::DescribeConfigs => AclOperation::DescribeConfigs,
        SpecOperation::IdempotentWrite => AclOperation::IdempotentWrite,
        SpecOperation::All => AclOperation::All,
    }
}

/// The days a TLS user's certificate is valid, and how long before expiry it is renewed: the
/// user's own (`authentication.validityDays`, `renewalDays`), else the clients CA's. A renewal
/// period as long as the validity would re-issue the certificate at every reconciliation, so it
/// stays below it.
pub fn certificate_days(user: &KafkaUser, ca: &certs::CaConfig) -> (u32, u32) {
    let authentication = user.spec.authentication.as_ref();
    let days = |value: Option<i32>, default: u32| {
        value
            .and_then(|days| u32::try_from(days).ok())
            .filter(|days| *days > 0)
            .unwrap_or(default)
    };
    let validity = days(
        authentication.and_then(|a| a.validity_days),
        ca.validity_days,
    );
    let renewal = days(authentication.and_then(|a| a.renewal_days), ca.renewal_days);
    (validity, renewal.min(validity.saturating_sub(1)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::users::testing::user;

    #[test]
    fn a_scram_user_with_acls_and_quotas() {
        let user = user(
            "orders-app",
            json!({
                "authentication": {"type": "scram-sha-512"},
                "authorization": {"type": "simple", "acls": [
                    {"resource": {"type": "topic", "name": "orders", "patternType": "prefix"},
                     "operations": ["Read", "Describe"]},
                    {"resource": {"type": "group", "name": "*"}, "operation": "Read", "type": "deny", "host": "10.0.0.1"},
                    {"resource": {"type": "cluster"}, "operations": ["IdempotentWrite"]},
                ]},
                "quotas": {"producerByteRate": 1024, "requestPercentage": 50},
            }),
        );
        let model = validate(&user).unwrap();
        assert_eq!(model.username, "orders-app");
        assert_eq!(model.principal(), "User:orders-app");
        assert_eq!(
            model.credentials,
            Credentials::Scram {
                password_from: None
            }
        );
        assert_eq!(model.acls.len(), 4);
        assert!(model.acls.contains(&AclBinding {
            resource_type: ResourceType::Topic,
            resource_name: "orders".into(),
            pattern_type: PatternType::Prefixed,
            principal: "User:orders-app".into(),
            host: "*".into(),
            operation: AclOperation::Describe,
            permission: AclPermission::Allow,
        }));
        assert!(
            model
                .acls
                .iter()
                .any(|acl| acl.resource_type == ResourceType::Group
                    && acl.host == "10.0.0.1"
                    && acl.permission == AclPermission::Deny)
        );
        assert!(
            model
                .acls
                .iter()
                .any(|acl| acl.resource_name == "kafka-cluster")
        );
        assert_eq!(
            model.quotas,
            BTreeMap::from([
                ("producer_byte_rate".into(), 1024.0),
                ("request_percentage".into(), 50.0)
            ])
        );
        assert_eq!(model.secret, "orders-app");
    }

    #[test]
    fn certificate_users_are_named_by_their_common_name() {
        let tls = validate(&user("billing", json!({"authentication": {"type": "tls"}}))).unwrap();
        assert_eq!(
            (tls.username.as_str(), tls.credentials),
            ("CN=billing", Credentials::Tls)
        );
        let external = validate(&user(
            "ext",
            json!({"authentication": {"type": "tls-external"}}),
        ))
        .unwrap();
        assert_eq!(external.principal(), "User:CN=ext");
        assert_eq!(external.credentials, Credentials::TlsExternal);
    }

    #[test]
    fn a_password_from_a_secret() {
        let user = user(
            "app",
            json!({"authentication": {"type": "scram-sha-512", "password": {"valueFrom": {"secretKeyRef": {"name": "app-password", "key": "pw"}}}}}),
        );
        assert_eq!(
            validate(&user).unwrap().credentials,
            Credentials::Scram {
                password_from: Some(("app-password".into(), "pw".into()))
            }
        );
    }

    #[test]
    fn invalid_users_say_what_to_fix() {
        let mut unlabelled = user("app", json!({}));
        unlabelled.metadata.labels = None;
        assert!(
            validate(&unlabelled)
                .unwrap_err()
                .contains("strimzi.io/cluster")
        );
        let nameless = user(
            "app",
            json!({"authorization": {"type": "simple", "acls": [{"resource": {"type": "topic"}, "operations": ["Read"]}]}}),
        );
        assert!(validate(&nameless).unwrap_err().contains("resource.name"));
        let no_operations = user(
            "app",
            json!({"authorization": {"type": "simple", "acls": [{"resource": {"type": "topic", "name": "t"}}]}}),
        );
        assert!(validate(&no_operations).unwrap_err().contains("operations"));
        let tls_password = user(
            "app",
            json!({"authentication": {"type": "tls", "password": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}}}),
        );
        assert!(
            validate(&tls_password)
                .unwrap_err()
                .contains("scram-sha-512")
        );
        let bad_name = user("app", json!({"userName": "a b"}));
        assert!(validate(&bad_name).unwrap_err().contains("spec.userName"));
    }

    #[test]
    fn certificate_users_cannot_take_the_operators_or_the_nodes_names() {
        for (name, spec) in [
            (
                "cluster-operator",
                json!({"authentication": {"type": "tls"}}),
            ),
            (
                "my-cluster-kafka",
                json!({"authentication": {"type": "tls"}}),
            ),
            (
                "x",
                json!({"authentication": {"type": "tls-external"}, "userName": "cluster-operator"}),
            ),
        ] {
            let error = validate(&user(name, spec)).unwrap_err();
            assert!(error.contains("is reserved"), "{error}");
        }
        // Another cluster's node name, and a SCRAM user (no certificate) are fine.
        let other = user(
            "other-cluster-kafka",
            json!({"authentication": {"type": "tls"}}),
        );
        assert!(validate(&other).is_ok());
        let scram = user(
            "cluster-operator",
            json!({"authentication": {"type": "scram-sha-512"}}),
        );
        assert!(validate(&scram).is_ok());
    }

    #[test]
    fn a_users_certificate_days_are_its_own_else_the_clients_cas() {
        let ca = certs::CaConfig::default();
        let user = |authentication: &str| -> KafkaUser {
            serde_yaml::from_str(&format!(
                "apiVersion: kafka.strimzi.io/v1\nkind: KafkaUser\nmetadata: {{name: u}}\n\
                 spec: {{authentication: {authentication}}}"
            ))
            .unwrap()
        };
        assert_eq!(certificate_days(&user("{type: tls}"), &ca), (365, 30));
        assert_eq!(
            certificate_days(&user("{type: tls, validityDays: 10, renewalDays: 3}"), &ca),
            (10, 3)
        );
        // Shorter than the CA's renewal period: renewed a day before expiry, not every time.
        assert_eq!(
            certificate_days(&user("{type: tls, validityDays: 7}"), &ca),
            (7, 6)
        );
    }
}
