//! What one broker needs for one user, from what the broker has. Pure.
//!
//! ACL 2.0 keeps users and ACLs in each broker's own store, so every broker of the cluster is
//! planned on its own.

use std::collections::BTreeMap;

use rocketmq_client::{Acl, Policy, PolicyEntry, User};

use super::model::UserModel;

/// Annotation on the user's Secret: a digest of the password last set in RocketMQ, for brokers
/// that do not return passwords.
pub const PASSWORD_DIGEST_ANNOTATION: &str = "brokerage.io/password-digest";
/// RocketMQ's policy type for policies a user defines.
const CUSTOM_POLICY: &str = "Custom";

/// The requests one broker needs, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrokerPlan {
    pub user: Option<UserChange>,
    /// Resources whose entries go (`delete_acl` per resource).
    pub remove_resources: Vec<String>,
    /// Entries to write: the whole desired policy, as one create or update.
    pub write_acl: Option<AclWrite>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserChange {
    Create(User),
    Update(User),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AclWrite {
    Create(Acl),
    Update(Acl),
}

impl BrokerPlan {
    pub fn is_empty(&self) -> bool {
        *self == BrokerPlan::default()
    }
}

/// Plans `model` with `password` on a broker that has `user` and `acl` for it. `password_applied`
/// says whether the Secret's digest shows this password was set before, which is all there is to
/// go on when the broker does not return the password.
pub fn plan(
    model: &UserModel,
    password: &str,
    user: Option<&User>,
    acl: Option<&Acl>,
    password_applied: bool,
) -> BrokerPlan {
    let desired_user = User {
        username: model.username.clone(),
        password: Some(password.to_string()),
        user_type: Some(model.user_type.clone()),
        user_status: None,
    };
    let user = match user {
        None => Some(UserChange::Create(desired_user)),
        Some(current) => {
            let password_differs = match &current.password {
                Some(current) => current != password,
                None => !password_applied,
            };
            let type_differs = current.user_type.as_deref() != Some(model.user_type.as_str());
            (password_differs || type_differs).then_some(UserChange::Update(desired_user))
        }
    };

    let current = acl.map(entries_by_resource).unwrap_or_default();
    let remove_resources = current
        .keys()
        .filter(|resource| {
            !model
                .entries
                .iter()
                .any(|entry| entry.resource == **resource)
        })
        .cloned()
        .collect();
    let outdated = model
        .entries
        .iter()
        .any(|entry| current.get(&entry.resource) != Some(entry));
    let write_acl = outdated.then(|| {
        let desired = Acl {
            subject: model.subject(),
            policies: vec![Policy {
                policy_type: Some(CUSTOM_POLICY.into()),
                entries: model.entries.clone(),
            }],
        };
        match acl {
            None => AclWrite::Create(desired),
            Some(_) => AclWrite::Update(desired),
        }
    });
    BrokerPlan {
        user,
        remove_resources,
        write_acl,
    }
}

/// The entries of every policy of an ACL by resource, with actions and sources sorted as the
/// model sorts them, so that equal entries compare equal.
fn entries_by_resource(acl: &Acl) -> BTreeMap<String, PolicyEntry> {
    acl.policies
        .iter()
        .flat_map(|policy| &policy.entries)
        .map(|entry| {
            let mut entry = entry.clone();
            entry.actions.sort();
            entry.actions.dedup();
            entry.source_ips.sort();
            entry.source_ips.dedup();
            (entry.resource.clone(), entry)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::users::model::validate;
    use crate::users::testing::user;

    fn model() -> UserModel {
        validate(&user(
            "app",
            json!({"acls": [{"resource": "Topic:orders", "actions": ["Pub", "Sub"]}]}),
        ))
        .unwrap()
    }

    fn broker_user(password: Option<&str>) -> User {
        User {
            username: "app".into(),
            password: password.map(String::from),
            user_type: Some("Normal".into()),
            user_status: Some("enable".into()),
        }
    }

    fn acl(entries: &[(&str, &[&str])]) -> Acl {
        Acl {
            subject: "User:app".into(),
            policies: vec![Policy {
                policy_type: Some("Custom".into()),
                entries: entries
                    .iter()
                    .map(|(resource, actions)| PolicyEntry {
                        resource: resource.to_string(),
                        actions: actions.iter().map(|a| a.to_string()).collect(),
                        source_ips: Vec::new(),
                        decision: "Allow".into(),
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn a_new_user_is_created_with_its_acl() {
        let plan = plan(&model(), "secret", None, None, false);
        let Some(UserChange::Create(created)) = &plan.user else {
            panic!("the user must be created: {plan:?}");
        };
        assert_eq!(created.password.as_deref(), Some("secret"));
        let Some(AclWrite::Create(acl)) = &plan.write_acl else {
            panic!("the ACL must be created: {plan:?}");
        };
        assert_eq!(acl.subject, "User:app");
        assert_eq!(acl.policies[0].entries, model().entries);
    }

    #[test]
    fn a_user_in_sync_needs_nothing_even_with_actions_in_another_order() {
        let current = acl(&[("Topic:orders", &["Sub", "Pub"])]);
        let user = broker_user(Some("secret"));
        assert!(plan(&model(), "secret", Some(&user), Some(&current), false).is_empty());
        let without_password = broker_user(None);
        let plan_with_digest = plan(
            &model(),
            "secret",
            Some(&without_password),
            Some(&current),
            true,
        );
        assert!(plan_with_digest.is_empty());
    }

    #[test]
    fn changes_update_and_stale_resources_go() {
        let current = acl(&[("Topic:orders", &["Pub"]), ("Topic:old", &["Sub"])]);
        let user = broker_user(Some("old"));
        let plan = plan(&model(), "new", Some(&user), Some(&current), false);
        assert!(matches!(plan.user, Some(UserChange::Update(_))));
        assert_eq!(plan.remove_resources, ["Topic:old"]);
        assert!(matches!(plan.write_acl, Some(AclWrite::Update(_))));

        let only_stale = acl(&[("Topic:orders", &["Pub", "Sub"]), ("Topic:old", &["Sub"])]);
        let user = broker_user(Some("new"));
        let plan = super::plan(&model(), "new", Some(&user), Some(&only_stale), false);
        assert_eq!((plan.user, plan.write_acl), (None, None));
        assert_eq!(plan.remove_resources, ["Topic:old"]);
    }
}
