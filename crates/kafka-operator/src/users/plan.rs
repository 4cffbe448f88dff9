//! What to change in Kafka so a user matches its KafkaUser: ACLs, the SCRAM credential and
//! quotas. Pure: it compares the model with what was observed in Kafka.

use std::collections::{BTreeMap, BTreeSet};

use kafka_client::AclBinding;

use super::model::{Credentials, QUOTA_KEYS, UserModel};
use operator_common::users::password::password_digest;

/// On the user's Secret: a digest of the password last set in Kafka. Kafka never tells a
/// password back, so this is how a changed password is noticed.
pub const PASSWORD_DIGEST_ANNOTATION: &str = "brokerage.io/scram-password-digest";

/// What Kafka holds for one user.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedUser {
    /// Every ACL binding of the user's principal.
    pub acls: BTreeSet<AclBinding>,
    /// Whether a SCRAM-SHA-512 credential exists.
    pub scram: bool,
    /// The quotas of the user entity, among those a KafkaUser manages.
    pub quotas: BTreeMap<String, f64>,
}

#[derive(Clone, PartialEq)]
pub enum ScramChange {
    /// Set the credential to this password.
    Set(String),
    Delete,
}

// By hand: the derived form would print the password into logs.
impl std::fmt::Debug for ScramChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScramChange::Set(_) => f.write_str("Set(<redacted>)"),
            ScramChange::Delete => f.write_str("Delete"),
        }
    }
}

/// The changes one user needs; empty when Kafka matches.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserPlan {
    pub create_acls: Vec<AclBinding>,
    pub delete_acls: Vec<AclBinding>,
    pub scram: Option<ScramChange>,
    /// Quota key and value; `None` removes it.
    pub quotas: Vec<(String, Option<f64>)>,
}

impl UserPlan {
    pub fn is_empty(&self) -> bool {
        *self == UserPlan::default()
    }
}

/// Plans one user. `password` is the SCRAM password it should have, `applied_digest` the digest
/// of the one last set in Kafka (from its Secret).
pub fn plan(
    model: &UserModel,
    observed: &ObservedUser,
    password: Option<&str>,
    applied_digest: Option<&str>,
) -> UserPlan {
    let scram = match (&model.credentials, password) {
        (Credentials::Scram { .. }, Some(password))
            if !observed.scram || applied_digest != Some(password_digest(password).as_str()) =>
        {
            Some(ScramChange::Set(password.to_string()))
        }
        (Credentials::Scram { .. }, _) => None,
        _ if observed.scram => Some(ScramChange::Delete),
        _ => None,
    };
    UserPlan {
        create_acls: model.acls.difference(&observed.acls).cloned().collect(),
        delete_acls: observed.acls.difference(&model.acls).cloned().collect(),
        scram,
        quotas: quota_changes(&model.quotas, &observed.quotas),
    }
}

/// Leaves the ACLs out of `model` when the cluster has no authorizer (Kafka refuses every ACL
/// request then), so its credentials and quotas are still made, as Strimzi does. Returns what to
/// warn the user about when it had ACLs.
pub fn acls_without_authorizer(model: &mut UserModel) -> Option<String> {
    if model.acls.is_empty() {
        return None;
    }
    model.acls.clear();
    Some(
        "the Kafka cluster has no authorizer (spec.kafka.authorization), so this user's ACLs \
         are not applied; its credentials and quotas are"
            .into(),
    )
}

/// What removing a user from Kafka takes: every ACL of its principal, its credential, its quotas.
pub fn removal(observed: &ObservedUser) -> UserPlan {
    UserPlan {
        create_acls: Vec::new(),
        delete_acls: observed.acls.iter().cloned().collect(),
        scram: observed.scram.then_some(ScramChange::Delete),
        quotas: observed
            .quotas
            .keys()
            .map(|key| (key.clone(), None))
            .collect(),
    }
}

fn quota_changes(
    desired: &BTreeMap<String, f64>,
    observed: &BTreeMap<String, f64>,
) -> Vec<(String, Option<f64>)> {
    QUOTA_KEYS
        .iter()
        .filter_map(|key| match (desired.get(*key), observed.get(*key)) {
            (Some(want), have) if have != Some(want) => Some((key.to_string(), Some(*want))),
            (None, Some(_)) => Some((key.to_string(), None)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use kafka_client::{AclOperation, AclPermission, PatternType, ResourceType};

    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let plan = UserPlan {
            scram: Some(ScramChange::Set("hunter2".into())),
            ..UserPlan::default()
        };
        let printed = format!("{plan:?}");
        assert!(printed.contains("Set(<redacted>)"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    fn acl(name: &str) -> AclBinding {
        AclBinding {
            resource_type: ResourceType::Topic,
            resource_name: name.into(),
            pattern_type: PatternType::Literal,
            principal: "User:app".into(),
            host: "*".into(),
            operation: AclOperation::Read,
            permission: AclPermission::Allow,
        }
    }

    fn model(credentials: Credentials, acls: &[&str], quotas: &[(&str, f64)]) -> UserModel {
        UserModel {
            username: "app".into(),
            credentials,
            acls: acls.iter().map(|name| acl(name)).collect(),
            quotas: quotas.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            secret: "app".into(),
        }
    }

    const SCRAM: Credentials = Credentials::Scram {
        password_from: None,
    };

    #[test]
    fn acls_are_kept_exactly_in_sync() {
        let model = model(Credentials::TlsExternal, &["a", "b"], &[]);
        let observed = ObservedUser {
            acls: [acl("b"), acl("c")].into(),
            ..ObservedUser::default()
        };
        let plan = plan(&model, &observed, None, None);
        assert_eq!(plan.create_acls, [acl("a")]);
        assert_eq!(plan.delete_acls, [acl("c")]);
    }

    #[test]
    fn the_credential_is_set_when_missing_or_changed_and_only_then() {
        let model = model(SCRAM, &[], &[]);
        let missing = ObservedUser::default();
        assert_eq!(
            plan(&model, &missing, Some("pw"), None).scram,
            Some(ScramChange::Set("pw".into()))
        );
        let present = ObservedUser {
            scram: true,
            ..ObservedUser::default()
        };
        let digest = password_digest("pw");
        assert!(plan(&model, &present, Some("pw"), Some(&digest)).is_empty());
        assert_eq!(
            plan(&model, &present, Some("new"), Some(&digest)).scram,
            Some(ScramChange::Set("new".into()))
        );
        // No longer a SCRAM user: the credential goes.
        let tls = super::tests::model(Credentials::Tls, &[], &[]);
        assert_eq!(
            plan(&tls, &present, None, None).scram,
            Some(ScramChange::Delete)
        );
    }

    #[test]
    fn quotas_are_set_changed_and_removed() {
        let model = model(
            Credentials::None,
            &[],
            &[("producer_byte_rate", 2048.0), ("request_percentage", 50.0)],
        );
        let observed = ObservedUser {
            quotas: [
                ("producer_byte_rate".into(), 1024.0),
                ("consumer_byte_rate".into(), 10.0),
                ("request_percentage".into(), 50.0),
            ]
            .into(),
            ..ObservedUser::default()
        };
        assert_eq!(
            plan(&model, &observed, None, None).quotas,
            [
                ("producer_byte_rate".to_string(), Some(2048.0)),
                ("consumer_byte_rate".to_string(), None)
            ]
        );
    }

    #[test]
    fn removal_takes_everything_of_the_user() {
        let observed = ObservedUser {
            acls: [acl("a")].into(),
            scram: true,
            quotas: [("producer_byte_rate".into(), 1.0)].into(),
        };
        let removal = removal(&observed);
        assert_eq!(removal.delete_acls, [acl("a")]);
        assert_eq!(removal.scram, Some(ScramChange::Delete));
        assert_eq!(removal.quotas, [("producer_byte_rate".to_string(), None)]);
    }

    #[test]
    fn without_an_authorizer_the_acls_are_left_out_with_a_warning() {
        let mut with_acls = model(SCRAM, &["a"], &[("producer_byte_rate", 1.0)]);
        let warning = acls_without_authorizer(&mut with_acls).unwrap();
        assert!(warning.contains("no authorizer"));
        assert!(with_acls.acls.is_empty());
        let plan = plan(&with_acls, &ObservedUser::default(), Some("pw"), None);
        assert!(plan.create_acls.is_empty());
        assert_eq!(plan.scram, Some(ScramChange::Set("pw".into())));
        assert_eq!(plan.quotas.len(), 1);

        let mut without_acls = model(SCRAM, &[], &[]);
        assert_eq!(acls_without_authorizer(&mut without_acls), None);
    }
}
