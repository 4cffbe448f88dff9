//! Status conditions in Strimzi's shape, and the rule that a status is written only when it
//! really changed.

use api::Condition;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

pub const READY: &str = "Ready";
pub const NOT_READY: &str = "NotReady";
pub const WARNING: &str = "Warning";
pub const RECONCILIATION_PAUSED: &str = "ReconciliationPaused";

/// The reason on `NotReady` when the spec itself is wrong and only an edit can fix it.
pub const INVALID_SPEC: &str = "InvalidSpec";
/// The reason on `NotReady` when a valid spec asks for a change the operator cannot make; the
/// resource stays as it was.
pub const NOT_SUPPORTED: &str = "NotSupported";
/// The reason on `NotReady` when a reconcile failed part-way, say because Kubernetes refused an
/// object; the message is the error. It is retried with backoff.
pub const RECONCILIATION_FAILED: &str = "ReconciliationFailed";

/// A `True` condition of `type_`, without a transition time (see [`stamp_transitions`]).
pub fn condition(type_: &str, reason: Option<&str>, message: Option<&str>) -> Condition {
    Condition {
        type_: type_.into(),
        status: "True".into(),
        reason: reason.map(Into::into),
        message: message.map(Into::into),
        last_transition_time: None,
    }
}

pub fn ready() -> Condition {
    condition(READY, None, None)
}

pub fn not_ready(reason: &str, message: &str) -> Condition {
    condition(NOT_READY, Some(reason), Some(message))
}

pub fn warning(reason: &str, message: &str) -> Condition {
    condition(WARNING, Some(reason), Some(message))
}

pub fn paused() -> Condition {
    condition(
        RECONCILIATION_PAUSED,
        Some("ReconciliationPaused"),
        Some(
            "strimzi.io/pause-reconciliation is \"true\": no changes are made until it is removed",
        ),
    )
}

/// Gives each desired condition its `lastTransitionTime`: kept from the current condition of the
/// same type, status, reason and message, else `now`. So an unchanged state keeps its times
/// and compares equal.
pub fn stamp_transitions(desired: &mut [Condition], current: &[Condition], now: Timestamp) {
    let now = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    for condition in desired {
        let same = current.iter().find(|existing| {
            existing.type_ == condition.type_
                && existing.status == condition.status
                && existing.reason == condition.reason
                && existing.message == condition.message
        });
        condition.last_transition_time = Some(
            same.and_then(|existing| existing.last_transition_time.clone())
                .unwrap_or_else(|| now.clone()),
        );
    }
}

/// Whether writing `desired` would change `current`, ignoring every `lastTransitionTime`.
pub fn status_differs<S: Serialize>(current: Option<&S>, desired: &S) -> bool {
    let normalize = |status: &S| {
        let mut value = serde_json::to_value(status).unwrap_or_default();
        strip_transition_times(&mut value);
        value
    };
    current.map(normalize) != Some(normalize(desired))
}

fn strip_transition_times(value: &mut serde_json::Value) {
    if let Some(conditions) = value.get_mut("conditions").and_then(|c| c.as_array_mut()) {
        for condition in conditions {
            if let Some(fields) = condition.as_object_mut() {
                fields.remove("lastTransitionTime");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn unchanged_conditions_keep_their_transition_time() {
        let mut current = vec![ready()];
        stamp_transitions(&mut current, &[], at(0));
        assert_eq!(
            current[0].last_transition_time.as_deref(),
            Some("1970-01-01T00:00:00Z")
        );

        let mut desired = vec![
            ready(),
            warning("UnsupportedField", "spec.kafka.rack is not implemented"),
        ];
        stamp_transitions(&mut desired, &current, at(60));
        assert_eq!(
            desired[0].last_transition_time.as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
        assert_eq!(
            desired[1].last_transition_time.as_deref(),
            Some("1970-01-01T00:01:00Z")
        );
    }

    #[test]
    fn only_real_changes_make_a_status_differ() {
        let current = json!({"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "a"}]});
        let same = json!({"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "b"}]});
        let newer =
            json!({"observedGeneration": 2, "conditions": [{"type": "Ready", "status": "True"}]});
        assert!(!status_differs(Some(&current), &same));
        assert!(status_differs(Some(&current), &newer));
        assert!(status_differs(None, &same));
    }
}
