//! A RocketMQUser as the operator understands it: its name, where its password comes from, its
//! type, and its ACL 2.0 policy entries as RocketMQ spells them. Pure: no client, no clock.

use std::collections::BTreeSet;
use std::net::IpAddr;

use api::rocketmq::{AclAction, AclDecision, RocketMQUser, UserType};
use kube::ResourceExt;
use operator_common::cluster_ref::ClusterRef;
use rocketmq_client::PolicyEntry;

/// Present while the operator still has to remove the user from the brokers.
pub const FINALIZER: &str = "rocketmq.apache.org/user-operator";

/// The desired user, fully read from a valid RocketMQUser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserModel {
    pub username: String,
    /// The Secret holding the credentials: the resource's name.
    pub secret: String,
    pub password: PasswordSource,
    /// `Super` or `Normal`, as RocketMQ spells it.
    pub user_type: String,
    /// One entry per resource, sorted, with sorted actions and source addresses.
    pub entries: Vec<PolicyEntry>,
}

/// Where the user's password comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordSource {
    /// Generated once, then kept in the user's Secret.
    Generated,
    /// `spec.password.valueFrom.secretKeyRef`.
    SecretKey { secret: String, key: String },
}

impl UserModel {
    /// The ACL subject of the user.
    pub fn subject(&self) -> String {
        subject(&self.username)
    }
}

/// The ACL subject of a RocketMQ user.
pub fn subject(username: &str) -> String {
    format!("User:{username}")
}

/// The RocketMQ user a RocketMQUser stands for: `spec.username`, else the resource's name.
pub fn username(user: &RocketMQUser) -> String {
    user.spec
        .username
        .clone()
        .unwrap_or_else(|| user.name_any())
}

/// The cluster a RocketMQUser belongs to: the Broker its `clusterRef` names, in its namespace.
pub fn cluster_of(user: &RocketMQUser) -> ClusterRef {
    ClusterRef {
        namespace: user.namespace().unwrap_or_default(),
        name: user.spec.cluster_ref.name.clone(),
    }
}

/// Reads a RocketMQUser, or says in words a user can act on what is wrong with it.
pub fn validate(user: &RocketMQUser) -> Result<UserModel, String> {
    let username = username(user);
    if username.is_empty()
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "the user name {username:?} may hold only letters, digits, '-', '_' and '.'"
        ));
    }
    let password = match &user.spec.password {
        None => PasswordSource::Generated,
        Some(password) => {
            let reference = &password.value_from.secret_key_ref;
            if reference.name.is_empty() {
                return Err("spec.password.valueFrom.secretKeyRef.name must name a Secret".into());
            }
            PasswordSource::SecretKey {
                secret: reference.name.clone(),
                key: reference.key.clone(),
            }
        }
    };
    let user_type = match user.spec.user_type.unwrap_or_default() {
        UserType::Super => "Super",
        UserType::Normal => "Normal",
    };
    let mut entries: Vec<PolicyEntry> = Vec::new();
    for acl in user.spec.acls.iter().flatten() {
        if entries.iter().any(|entry| entry.resource == acl.resource) {
            return Err(format!(
                "spec.acls names {} twice; RocketMQ keeps one entry per resource, so merge them",
                acl.resource
            ));
        }
        for address in acl.source_ips.iter().flatten() {
            check_source(address)?;
        }
        let actions: BTreeSet<&str> = acl
            .actions
            .iter()
            .map(|action| action_name(*action))
            .collect();
        let sources: BTreeSet<String> = acl.source_ips.iter().flatten().cloned().collect();
        entries.push(PolicyEntry {
            resource: acl.resource.clone(),
            actions: actions.into_iter().map(String::from).collect(),
            source_ips: sources.into_iter().collect(),
            decision: match acl.decision.unwrap_or_default() {
                AclDecision::Allow => "Allow",
                AclDecision::Deny => "Deny",
            }
            .into(),
        });
    }
    entries.sort_by(|a, b| a.resource.cmp(&b.resource));
    Ok(UserModel {
        username,
        secret: user.name_any(),
        password,
        user_type: user_type.into(),
        entries,
    })
}

/// As RocketMQ spells an action.
fn action_name(action: AclAction) -> &'static str {
    match action {
        AclAction::All => "All",
        AclAction::Pub => "Pub",
        AclAction::Sub => "Sub",
        AclAction::Create => "Create",
        AclAction::Update => "Update",
        AclAction::Delete => "Delete",
        AclAction::Get => "Get",
        AclAction::List => "List",
    }
}

/// An address or a CIDR range, which is what RocketMQ matches client addresses against.
fn check_source(source: &str) -> Result<(), String> {
    let (address, prefix) = match source.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (source, None),
    };
    let parsed: Result<IpAddr, _> = address.parse();
    let max_prefix = match parsed {
        Ok(IpAddr::V4(_)) => 32,
        Ok(IpAddr::V6(_)) => 128,
        Err(_) => {
            return Err(format!(
                "the source address {source:?} is not an IP address or a CIDR range"
            ));
        }
    };
    match prefix.map(str::parse::<u8>) {
        None => Ok(()),
        Some(Ok(bits)) if bits <= max_prefix => Ok(()),
        Some(_) => Err(format!(
            "the source range {source:?} needs a prefix length from 0 to {max_prefix}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::users::testing::user;

    #[test]
    fn a_user_reads_into_sorted_entries() {
        let model = validate(&user(
            "orders-app",
            json!({"acls": [
                {"resource": "Topic:orders", "actions": ["Sub", "Pub"], "sourceIps": ["10.0.0.0/8"]},
                {"resource": "Group:orders-*", "actions": ["Sub"], "decision": "Deny"}
            ]}),
        ))
        .unwrap();
        assert_eq!(model.username, "orders-app");
        assert_eq!(model.subject(), "User:orders-app");
        assert_eq!(
            (model.secret.as_str(), model.user_type.as_str()),
            ("orders-app", "Normal")
        );
        assert_eq!(model.password, PasswordSource::Generated);
        let resources: Vec<&str> = model.entries.iter().map(|e| e.resource.as_str()).collect();
        assert_eq!(resources, ["Group:orders-*", "Topic:orders"]);
        assert_eq!(model.entries[0].decision, "Deny");
        assert_eq!(model.entries[1].actions, ["Pub", "Sub"]);
        assert_eq!(model.entries[1].source_ips, ["10.0.0.0/8"]);
        assert_eq!(model.entries[1].decision, "Allow");
    }

    #[test]
    fn a_referenced_password_and_a_super_user() {
        let model = validate(&user(
            "admin",
            json!({"username": "ops", "userType": "Super",
                   "password": {"valueFrom": {"secretKeyRef": {"name": "ops-pass", "key": "pw"}}}}),
        ))
        .unwrap();
        assert_eq!(
            (model.username.as_str(), model.user_type.as_str()),
            ("ops", "Super")
        );
        assert_eq!(
            model.password,
            PasswordSource::SecretKey {
                secret: "ops-pass".into(),
                key: "pw".into()
            }
        );
    }

    #[test]
    fn bad_input_says_what_to_fix() {
        let twice = json!({"acls": [
            {"resource": "Topic:a", "actions": ["Pub"]},
            {"resource": "Topic:a", "actions": ["Sub"]}
        ]});
        assert!(
            validate(&user("u", twice))
                .unwrap_err()
                .contains("Topic:a twice")
        );
        let bad_ip =
            json!({"acls": [{"resource": "*", "actions": ["All"], "sourceIps": ["10.0.0.0/33"]}]});
        assert!(
            validate(&user("u", bad_ip))
                .unwrap_err()
                .contains("0 to 32")
        );
        let not_ip =
            json!({"acls": [{"resource": "*", "actions": ["All"], "sourceIps": ["example.com"]}]});
        assert!(validate(&user("u", not_ip)).is_err());
        let bad_name = json!({"username": "a b"});
        assert!(
            validate(&user("u", bad_name))
                .unwrap_err()
                .contains("user name")
        );
    }
}
