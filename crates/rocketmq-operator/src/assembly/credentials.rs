//! The cluster's admin credentials, in the Secret `<broker>-admin-credentials`: generated once
//! (by the reconcile step, which owns the randomness), then kept. Every broker gets them as its
//! ACL 2.0 initial user and as its inner clients' credentials, so the operator and the brokers'
//! own clients can still sign requests once the user turns authentication on.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;

use super::model::BrokerModel;
use super::names;

#[derive(Clone, PartialEq, Eq)]
pub struct AdminCredentials {
    pub access_key: String,
    pub secret_key: String,
}

// By hand: the derived form would print the secret key into logs.
impl std::fmt::Debug for AdminCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminCredentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

pub fn build_secret(model: &BrokerModel, credentials: &AdminCredentials) -> Secret {
    let name = names::admin_credentials_secret(&model.cluster);
    Secret {
        metadata: model.metadata(&name, model.labels(&name)),
        data: Some(BTreeMap::from([
            (
                names::ACCESS_KEY.to_string(),
                ByteString(credentials.access_key.clone().into_bytes()),
            ),
            (
                names::SECRET_KEY.to_string(),
                ByteString(credentials.secret_key.clone().into_bytes()),
            ),
        ])),
        type_: Some("Opaque".into()),
        ..Secret::default()
    }
}

/// The credentials stored in `secret`: `Ok(None)` when a key is missing (new ones are made),
/// `Err` naming the key when a value could not be put into `broker.conf` safely (it goes into a
/// JSON string and through `sed`).
pub fn read_secret(secret: &Secret) -> Result<Option<AdminCredentials>, String> {
    let data = secret.data.clone().unwrap_or_default();
    let read = |key: &str| -> Result<Option<String>, String> {
        let Some(bytes) = data.get(key) else {
            return Ok(None);
        };
        let value = String::from_utf8(bytes.0.clone()).unwrap_or_default();
        if value.is_empty() || !value.chars().all(is_safe) {
            return Err(format!(
                "{key} in the Secret {} may only hold letters, digits, '-', '_' and '.'",
                secret.metadata.name.clone().unwrap_or_default()
            ));
        }
        Ok(Some(value))
    };
    match (read(names::ACCESS_KEY)?, read(names::SECRET_KEY)?) {
        (Some(access_key), Some(secret_key)) => Ok(Some(AdminCredentials {
            access_key,
            secret_key,
        })),
        _ => Ok(None),
    }
}

fn is_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_model;

    #[test]
    fn debug_hides_the_secret_key() {
        let credentials = AdminCredentials {
            access_key: "admin".into(),
            secret_key: "hunter2".into(),
        };
        let printed = format!("{credentials:?}");
        assert!(printed.contains("admin"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn the_secret_round_trips_and_unsafe_values_are_refused() {
        let model = example_model();
        let credentials = AdminCredentials {
            access_key: "brokerage1a2b".into(),
            secret_key: "s3cr3t-value".into(),
        };
        let mut secret = build_secret(&model, &credentials);
        assert_eq!(
            secret.metadata.name.as_deref(),
            Some("broker-admin-credentials")
        );
        assert_eq!(read_secret(&secret), Ok(Some(credentials)));

        let data = secret.data.as_mut().unwrap();
        data.remove("secretKey");
        assert_eq!(read_secret(&secret), Ok(None));
        secret
            .data
            .as_mut()
            .unwrap()
            .insert("secretKey".into(), ByteString(br#"quote"it"#.to_vec()));
        assert!(read_secret(&secret).unwrap_err().starts_with("secretKey"));
    }
}
