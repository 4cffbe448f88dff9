//! A user's Secret is named after its resource, so a Secret of that name may already be someone
//! else's: a CA's, another application's, or the Secret of a user of the other kind. The user
//! operators read it by name, write and delete it only when its owner references name the
//! resource's UID, and apply it without force under a field manager of their own (with force
//! only over the user's own Secret as an earlier version wrote it).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams};
use runtime::Applier;
use runtime::apply::is_owned_by;
use runtime::batched::each_bounded;

/// The field manager of the users' Secrets: no other component writes them.
pub const FIELD_MANAGER: &str = "brokerage-user-operator";

/// The reason on `NotReady` when the user's Secret belongs to something else.
pub const SECRET_CONFLICT: &str = "SecretConflict";

/// Why the resource `kind` with `owner_uid` may not take the Secret `live` named `name`; `None`
/// when there is none or the resource owns it.
pub fn foreign_secret(
    kind: &str,
    owner_uid: &str,
    name: &str,
    live: Option<&Secret>,
) -> Option<String> {
    let live = live?;
    (!is_owned_by(&live.metadata, owner_uid)).then(|| {
        format!(
            "the Secret {name} exists and is not owned by this {kind}, so it is left alone; \
             delete or rename that Secret, or give the {kind} another name"
        )
    })
}

/// The Secrets named `names` as they are now: from `listed` (the users' Secrets, listed by label
/// once per batch) when there, else read by name, since an unlabelled Secret of that name would
/// be someone else's (many reads at once). A name whose read failed maps to why.
pub async fn live_secrets(
    api: &Api<Secret>,
    listed: &BTreeMap<String, Secret>,
    names: Vec<String>,
) -> BTreeMap<String, Result<Option<Secret>, String>> {
    let (known, unknown): (Vec<String>, Vec<String>) = names
        .into_iter()
        .partition(|name| listed.contains_key(name));
    let mut live: BTreeMap<String, Result<Option<Secret>, String>> = known
        .into_iter()
        .map(|name| {
            let secret = listed.get(&name).cloned();
            (name, Ok(secret))
        })
        .collect();
    let read = each_bounded(unknown, |name| async move {
        api.get_opt(&name).await.map(|secret| (name, secret))
    })
    .await;
    for result in read {
        match result {
            Ok((name, secret)) => live.insert(name, Ok(secret)),
            Err((name, error)) => live.insert(name, Err(error.to_string())),
        };
    }
    live
}

/// Whether the user's own Secret was written by an earlier version, which applied users' Secrets
/// as the cluster operator's field manager. That manager still co-owns the fields, so an apply
/// without force would conflict with it at the first change (a new password digest, say): such a
/// Secret, already known to be the user's, is applied with force.
pub fn written_before_its_own_manager(live: &Secret) -> bool {
    live.metadata.managed_fields.iter().flatten().any(|entry| {
        entry.manager.as_deref() == Some(runtime::apply::FIELD_MANAGER)
            && entry.operation.as_deref() == Some("Apply")
    })
}

/// Why writing a user's Secret failed.
pub enum SecretFailure {
    /// Another field manager set a field of the Secret to another value.
    Conflict(String),
    Failed(String),
}

/// Brings the user's own Secret (`live`, checked with [`foreign_secret`]) to `desired`: applied
/// without force, or deleted when the user has no credentials to keep.
pub async fn write_secret(
    applier: &Applier,
    api: &Api<Secret>,
    name: &str,
    desired: Option<&Secret>,
    live: Option<&Secret>,
) -> Result<(), SecretFailure> {
    let result = match (desired, live) {
        (Some(desired), Some(live)) if written_before_its_own_manager(live) => {
            applier.apply_over(desired, Some(live)).await.map(drop)
        }
        (Some(desired), live) => applier
            .apply_over_without_force(desired, live)
            .await
            .map(drop),
        (None, Some(_)) => api
            .delete(name, &DeleteParams::default())
            .await
            .map(drop)
            .map_err(runtime::Error::from),
        (None, None) => Ok(()),
    };
    result.map_err(|error| match &error {
        runtime::Error::Kube(kube::Error::Api(response)) if response.code == 409 => {
            SecretFailure::Conflict(format!(
                "the Secret {name} has fields another field manager set, so it is not \
                 overwritten: {}",
                response.message
            ))
        }
        _ => SecretFailure::Failed(format!("writing the Secret {name}: {error}")),
    })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, OwnerReference};
    use kube::api::ObjectMeta;

    use super::*;

    fn secret(owner_uid: Option<&str>) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some("app".into()),
                owner_references: owner_uid.map(|uid| {
                    vec![OwnerReference {
                        uid: uid.into(),
                        ..OwnerReference::default()
                    }]
                }),
                ..ObjectMeta::default()
            },
            ..Secret::default()
        }
    }

    #[test]
    fn only_a_secret_owned_by_the_resource_may_be_taken() {
        assert_eq!(foreign_secret("KafkaUser", "uid-1", "app", None), None);
        let owned = secret(Some("uid-1"));
        assert_eq!(
            foreign_secret("KafkaUser", "uid-1", "app", Some(&owned)),
            None
        );
        // A CA Secret (no owner), and the Secret of another resource of the same name.
        for other in [secret(None), secret(Some("uid-2"))] {
            let message = foreign_secret("KafkaUser", "uid-1", "app", Some(&other)).unwrap();
            assert!(message.contains("the Secret app exists and is not owned by this KafkaUser"));
        }
    }

    #[test]
    fn only_a_secret_applied_by_the_cluster_operators_manager_is_taken_over_with_force() {
        let managed = |manager: &str, operation: &str| {
            let mut secret = secret(Some("uid-1"));
            secret.metadata.managed_fields = Some(vec![ManagedFieldsEntry {
                manager: Some(manager.into()),
                operation: Some(operation.into()),
                ..ManagedFieldsEntry::default()
            }]);
            secret
        };
        assert!(written_before_its_own_manager(&managed(
            "brokerage",
            "Apply"
        )));
        assert!(!written_before_its_own_manager(&managed(
            FIELD_MANAGER,
            "Apply"
        )));
        assert!(!written_before_its_own_manager(&managed(
            "kubectl-edit",
            "Update"
        )));
        assert!(!written_before_its_own_manager(&secret(Some("uid-1"))));
    }
}
