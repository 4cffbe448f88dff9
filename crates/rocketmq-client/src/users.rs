//! ACL 2.0 users (RocketMQ 5.3+). Each broker keeps its own (in its local RocksDB), so they are
//! written to every broker.

use std::fmt;

use serde::{Deserialize, Serialize};
use tracing::debug;

use crate::client::AdminClient;
use crate::error::{Error, Result};
use crate::fastjson;
use crate::request::{
    AUTH_CREATE_USER, AUTH_DELETE_USER, AUTH_GET_USER, AUTH_LIST_USER, AUTH_UPDATE_USER, Request,
};

/// RocketMQ's `UserInfo` (and it (de)serializes as its JSON).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub username: String,
    /// Brokers return it in clear: it is the HMAC key of the user's signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// "Super" | "Normal" (the broker's default); only a Super user may create another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    /// "enable" (the broker's default) | "disable".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_status: Option<String>,
}

// By hand: the derived form would print the password into logs.
impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("user_type", &self.user_type)
            .field("user_status", &self.user_status)
            .finish()
    }
}

impl User {
    /// Whether `stored` has everything this sets.
    fn applied_to(&self, stored: &User) -> bool {
        let same = |wanted: &Option<String>, stored: &Option<String>| match (wanted, stored) {
            (None, _) => true,
            (Some(wanted), Some(stored)) => wanted.eq_ignore_ascii_case(stored),
            (Some(_), None) => false,
        };
        let password = self.password.is_none() || self.password == stored.password;
        password
            && same(&self.user_type, &stored.user_type)
            && same(&self.user_status, &stored.user_status)
    }
}

/// The broker's answer (USER_NOT_EXIST) to a user it does not have, in versions that send one;
/// 5.3 answers SUCCESS without a body instead.
const USER_NOT_EXIST: i32 = 3001;

impl AdminClient {
    /// AUTH_CREATE_USER. An existing user is an error (NO_PERMISSION, "The user is existed").
    pub async fn create_user(&self, broker: &str, user: &User) -> Result<()> {
        let request = Request::new(AUTH_CREATE_USER)
            .field("username", &user.username)
            .json_body(user);
        self.call(broker, &request).await?;
        Ok(())
    }

    /// AUTH_UPDATE_USER: sets what `user` sets (`None` keeps the stored value). A missing user
    /// is an error (NO_PERMISSION, "The user is not exist").
    ///
    /// 5.3.0 and 5.3.1 answer SUCCESS but store the old user unchanged (apache/rocketmq#8925,
    /// fixed in 5.3.2). So the user is read back, and when the change did not stick it is
    /// deleted and created again with it, and its ACL (which deleting the user deletes) put
    /// back: for those few milliseconds requests signed by the user fail.
    pub async fn update_user(&self, broker: &str, user: &User) -> Result<()> {
        let request = Request::new(AUTH_UPDATE_USER)
            .field("username", &user.username)
            .json_body(user);
        self.call(broker, &request).await?;
        let Some(stored) = self.get_user(broker, &user.username).await? else {
            // Deleted meanwhile: nothing left to update.
            return Ok(());
        };
        if user.applied_to(&stored) {
            return Ok(());
        }
        debug!(
            "{broker} ignored the update of user {}; recreating it",
            user.username
        );
        let subject = format!("User:{}", user.username);
        let acl = self.get_acl(broker, &subject).await?;
        let updated = User {
            username: user.username.clone(),
            password: user.password.clone().or(stored.password),
            user_type: user.user_type.clone().or(stored.user_type),
            user_status: user.user_status.clone().or(stored.user_status),
        };
        self.delete_user(broker, &user.username).await?;
        self.create_user(broker, &updated).await?;
        if let Some(acl) = acl {
            self.create_acl(broker, &acl).await?;
        }
        Ok(())
    }

    /// AUTH_DELETE_USER, with the user's ACL. Not an error when absent.
    pub async fn delete_user(&self, broker: &str, username: &str) -> Result<()> {
        let request = Request::new(AUTH_DELETE_USER).field("username", username);
        self.call(broker, &request).await?;
        Ok(())
    }

    /// AUTH_GET_USER; `None` when the broker has no such user.
    pub async fn get_user(&self, broker: &str, username: &str) -> Result<Option<User>> {
        let request = Request::new(AUTH_GET_USER).field("username", username);
        match self.call(broker, &request).await {
            Ok(body) if body.is_empty() => Ok(None),
            Ok(body) => fastjson::parse(&body, "user").map(Some),
            Err(Error::Remoting(error)) if error.code == USER_NOT_EXIST => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// AUTH_LIST_USER: every user of the broker.
    pub async fn list_users(&self, broker: &str) -> Result<Vec<User>> {
        let body = self.call(broker, &Request::new(AUTH_LIST_USER)).await?;
        match body.is_empty() {
            true => Ok(Vec::new()),
            false => fastjson::parse(&body, "user list"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(password: Option<&str>, user_type: Option<&str>, status: Option<&str>) -> User {
        User {
            username: "alice".into(),
            password: password.map(String::from),
            user_type: user_type.map(String::from),
            user_status: status.map(String::from),
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let printed = format!("{:?}", user(Some("hunter2"), Some("Normal"), None));
        assert!(
            printed.contains("alice") && printed.contains("Normal"),
            "{printed}"
        );
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn serializes_as_user_info() {
        assert_eq!(
            serde_json::to_value(user(Some("pw"), Some("Normal"), None)).unwrap(),
            serde_json::json!({"username": "alice", "password": "pw", "userType": "Normal"})
        );
        let parsed: User = fastjson::parse(
            br#"{"password":"pw","userStatus":"enable","userType":"Super","username":"alice"}"#,
            "user",
        )
        .unwrap();
        assert_eq!(parsed, user(Some("pw"), Some("Super"), Some("enable")));
    }

    #[test]
    fn an_update_applies_when_the_stored_user_has_what_it_sets() {
        let stored = user(Some("old"), Some("Normal"), Some("enable"));
        assert!(user(None, None, None).applied_to(&stored));
        assert!(user(Some("old"), Some("normal"), None).applied_to(&stored));
        assert!(!user(Some("new"), None, None).applied_to(&stored));
        assert!(!user(None, Some("Super"), None).applied_to(&stored));
        assert!(!user(None, None, Some("disable")).applied_to(&stored));
        assert!(!user(None, Some("Super"), None).applied_to(&user(Some("old"), None, None)));
    }
}
