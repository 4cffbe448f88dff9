//! `strimzi.io/pause-reconciliation: "true"`: the user asks the operator to change nothing.

use kube::api::ObjectMeta;

pub const PAUSE_ANNOTATION: &str = "strimzi.io/pause-reconciliation";

pub fn is_paused(meta: &ObjectMeta) -> bool {
    meta.annotations
        .as_ref()
        .and_then(|annotations| annotations.get(PAUSE_ANNOTATION))
        .is_some_and(|value| value == "true")
}
