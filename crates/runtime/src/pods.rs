//! Pods as every assembly observes them: those a label selector picks, and whether each is Ready.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ListParams};

use crate::Error;

/// The pods in `namespace` that carry every label of `selector`.
pub async fn list_selected(
    client: &Client,
    namespace: &str,
    selector: &BTreeMap<String, String>,
) -> Result<Vec<Pod>, Error> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let selector: Vec<String> = selector
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    Ok(api
        .list(&ListParams::default().labels(&selector.join(",")))
        .await?
        .items)
}

/// Ready, and not on its way out.
pub fn is_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .as_ref()
            .and_then(|status| status.conditions.as_ref())
            .is_some_and(|conditions| {
                conditions
                    .iter()
                    .any(|condition| condition.type_ == "Ready" && condition.status == "True")
            })
}
