//! Passwords both user operators share: a digest to tell a changed password without storing it
//! twice, and reading a password a user keeps in a Secret of their own.

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use sha2::{Digest, Sha256};

/// A digest of a password, to tell whether it changed without storing it twice.
pub fn password_digest(password: &str) -> String {
    Sha256::digest(password.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The password under `key` in the Secret `secret`, which the spec's `field` names.
pub async fn read_password(
    client: &Client,
    namespace: &str,
    secret: &str,
    key: &str,
    field: &str,
) -> Result<String, String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let found = api
        .get_opt(secret)
        .await
        .map_err(|error| format!("reading the Secret {secret}: {error}"))?;
    found
        .and_then(|found| found.data?.remove(key))
        .and_then(|bytes| String::from_utf8(bytes.0).ok())
        .filter(|password| !password.is_empty())
        .ok_or_else(|| format!("the Secret {secret} named in {field} has no key {key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_differ_per_password() {
        assert_eq!(password_digest("a"), password_digest("a"));
        assert_ne!(password_digest("a"), password_digest("b"));
        assert_eq!(password_digest("a").len(), 64);
    }
}
