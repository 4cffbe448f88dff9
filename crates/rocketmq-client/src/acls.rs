//! ACL 2.0 access rules (RocketMQ 5.3+): per subject (`User:alice`), policies of entries
//! allowing or denying actions on resources. Each broker keeps its own, so they are written to
//! every broker.

use serde::{Deserialize, Serialize};

use crate::client::AdminClient;
use crate::error::{Error, Result};
use crate::fastjson;
use crate::request::{
    AUTH_CREATE_ACL, AUTH_DELETE_ACL, AUTH_GET_ACL, AUTH_LIST_ACL, AUTH_UPDATE_ACL, Request,
};

/// RocketMQ's `AclInfo` (and it (de)serializes as its JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Acl {
    /// "User:alice".
    pub subject: String,
    #[serde(default)]
    pub policies: Vec<Policy>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// "Custom" (the broker's default) | "Default".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_type: Option<String>,
    #[serde(default)]
    pub entries: Vec<PolicyEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyEntry {
    /// "Topic:orders", "Group:g*" (a prefix), "Topic:*", "Cluster:c" or "*".
    pub resource: String,
    /// "Pub", "Sub", "Create", "Update", "Delete", "Get", "List" or "All"; brokers drop names
    /// they do not know.
    #[serde(default)]
    pub actions: Vec<String>,
    /// IP addresses or CIDR ranges the entry is limited to; empty for any.
    #[serde(default)]
    pub source_ips: Vec<String>,
    /// "Allow" | "Deny".
    pub decision: String,
}

/// The broker's answer (POLICY_NOT_EXIST) to an ACL it does not have, in versions that send
/// one.
const POLICY_NOT_EXIST: i32 = 3002;

/// 5.3 reports a subject or ACL it does not have as NO_PERMISSION with "The subject is not
/// exist." or "The acl is not exist." as remark.
fn is_absent(error: &Error) -> bool {
    match error {
        Error::NoPermission(error) => error.remark.contains("is not exist"),
        Error::Remoting(error) => error.code == POLICY_NOT_EXIST,
        _ => false,
    }
}

impl AdminClient {
    /// AUTH_CREATE_ACL. The subject's user must exist. An existing ACL is merged with, as
    /// [`update_acl`](Self::update_acl) does.
    pub async fn create_acl(&self, broker: &str, acl: &Acl) -> Result<()> {
        self.put_acl(broker, Request::new(AUTH_CREATE_ACL), acl)
            .await
    }

    /// AUTH_UPDATE_ACL: merges, creating the ACL if needed. Each policy (by type) gains the
    /// entries for resources it lacks and has those for the resources given replaced; entries
    /// for other resources stay (remove them with [`delete_acl`](Self::delete_acl)).
    pub async fn update_acl(&self, broker: &str, acl: &Acl) -> Result<()> {
        self.put_acl(broker, Request::new(AUTH_UPDATE_ACL), acl)
            .await
    }

    async fn put_acl(&self, broker: &str, request: Request, acl: &Acl) -> Result<()> {
        let request = request.field("subject", &acl.subject).json_body(acl);
        self.call(broker, &request).await?;
        Ok(())
    }

    /// AUTH_DELETE_ACL: the subject's whole ACL, or only its Custom policy's entry for
    /// `resource`. Not an error when absent.
    pub async fn delete_acl(
        &self,
        broker: &str,
        subject: &str,
        resource: Option<&str>,
    ) -> Result<()> {
        let mut request = Request::new(AUTH_DELETE_ACL).field("subject", subject);
        if let Some(resource) = resource {
            request = request.field("resource", resource);
        }
        match self.call(broker, &request).await {
            Ok(_) => Ok(()),
            Err(error) if is_absent(&error) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// AUTH_GET_ACL; `None` when the subject has no ACL, or does not exist.
    pub async fn get_acl(&self, broker: &str, subject: &str) -> Result<Option<Acl>> {
        let request = Request::new(AUTH_GET_ACL).field("subject", subject);
        match self.call(broker, &request).await {
            Ok(body) if body.is_empty() => Ok(None),
            Ok(body) => fastjson::parse(&body, "ACL").map(Some),
            Err(error) if is_absent(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// AUTH_LIST_ACL: every ACL of the broker.
    pub async fn list_acls(&self, broker: &str) -> Result<Vec<Acl>> {
        let body = self.call(broker, &Request::new(AUTH_LIST_ACL)).await?;
        match body.is_empty() {
            true => Ok(Vec::new()),
            false => fastjson::parse(&body, "ACL list"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RemotingError;

    #[test]
    fn round_trips_acl_info() {
        let body = br#"{"policies":[{"entries":[{"actions":["Pub","Sub"],"decision":"Allow","resource":"Topic:orders","sourceIps":["10.0.0.0/8"]},{"actions":["Sub"],"decision":"Deny","resource":"Group:g*"}],"policyType":"Custom"}],"subject":"User:alice"}"#;
        let acl: Acl = fastjson::parse(body, "ACL").unwrap();
        assert_eq!(
            acl,
            Acl {
                subject: "User:alice".into(),
                policies: vec![Policy {
                    policy_type: Some("Custom".into()),
                    entries: vec![
                        PolicyEntry {
                            resource: "Topic:orders".into(),
                            actions: vec!["Pub".into(), "Sub".into()],
                            source_ips: vec!["10.0.0.0/8".into()],
                            decision: "Allow".into(),
                        },
                        PolicyEntry {
                            resource: "Group:g*".into(),
                            actions: vec!["Sub".into()],
                            source_ips: vec![],
                            decision: "Deny".into(),
                        },
                    ],
                }],
            }
        );
        let again: Acl = serde_json::from_value(serde_json::to_value(&acl).unwrap()).unwrap();
        assert_eq!(again, acl);
    }

    #[test]
    fn absence_is_told_by_the_remark() {
        let answer = |code, remark: &str| {
            RemotingError {
                address: "b:1".into(),
                request: "AUTH_GET_ACL",
                code,
                remark: remark.into(),
            }
            .into_error()
        };
        assert!(is_absent(&answer(16, "The subject is not exist.")));
        assert!(is_absent(&answer(16, "The acl is not exist.")));
        assert!(is_absent(&answer(3002, "")));
        assert!(!is_absent(&answer(16, "User:bob is not found.")));
        assert!(!is_absent(&answer(1, "The acl is not exist.")));
    }
}
