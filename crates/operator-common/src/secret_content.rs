//! A Secret's data and annotations in the certs crate's terms, both ways, for the CAs and leaf
//! certificates of either product.

use std::collections::BTreeMap;

use certs::SecretContent;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::ObjectMeta;

/// A Secret with `metadata` holding `content`: its data, and its annotations beside any in
/// `metadata`.
pub fn secret_holding(mut metadata: ObjectMeta, content: &SecretContent) -> Secret {
    if !content.annotations.is_empty() {
        metadata
            .annotations
            .get_or_insert_default()
            .extend(content.annotations.clone());
    }
    Secret {
        metadata,
        data: Some(
            content
                .data
                .iter()
                .map(|(key, value)| (key.clone(), ByteString(value.clone())))
                .collect::<BTreeMap<_, _>>(),
        ),
        ..Secret::default()
    }
}

/// What a stored Secret holds, in the certs crate's terms.
pub fn secret_content(secret: &Secret) -> SecretContent {
    SecretContent {
        data: secret
            .data
            .iter()
            .flatten()
            .map(|(key, value)| (key.clone(), value.0.clone()))
            .collect(),
        annotations: secret.metadata.annotations.clone().unwrap_or_default(),
    }
}

/// `live` with `desired`'s data, labels and annotations, and without the `force` annotation a
/// user set (with their own field manager, so an apply cannot remove it): the renewal it asked
/// for and the annotation's removal land in one write, and a crash after any write can never
/// renew twice.
pub fn without_annotation(live: &Secret, desired: &Secret, force: &str) -> Secret {
    let mut replaced = live.clone();
    replaced.data.clone_from(&desired.data);
    let annotations = replaced.metadata.annotations.get_or_insert_default();
    annotations.remove(force);
    annotations.extend(desired.annotations().clone());
    let labels = replaced.metadata.labels.get_or_insert_default();
    labels.extend(desired.labels().clone());
    replaced
}
