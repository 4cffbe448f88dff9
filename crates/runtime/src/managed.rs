//! `strimzi.io/managed: "false"`: the user hands the broker-side object (a topic, a user) back
//! to whoever else manages it. The operator never changes or deletes it, and a resource being
//! deleted loses its finalizer at once, so this is also the way out for a topic or user whose
//! cluster can no longer be reached: nothing in the broker is lost.

use kube::api::ObjectMeta;

pub const MANAGED_ANNOTATION: &str = "strimzi.io/managed";

pub fn is_managed(meta: &ObjectMeta) -> bool {
    meta.annotations
        .as_ref()
        .and_then(|annotations| annotations.get(MANAGED_ANNOTATION))
        .is_none_or(|value| value != "false")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_false_hands_the_object_back() {
        let with = |value: &str| ObjectMeta {
            annotations: Some([(MANAGED_ANNOTATION.into(), value.into())].into()),
            ..ObjectMeta::default()
        };
        assert!(is_managed(&ObjectMeta::default()));
        assert!(is_managed(&with("true")));
        assert!(is_managed(&with("no")));
        assert!(!is_managed(&with("false")));
    }
}
