//! "Does the live object already say what we want?": the check that lets a no-op reconcile
//! make no write at all.

use serde_json::Value;

/// Whether every field of `desired` is present in `live` with the same value. `live` may hold
/// more: defaults the apiserver filled in, fields other managers own, status.
///
/// Lists must match element by element (a list we own is ours entirely), and an empty object or
/// list in `desired` also matches an absent field, since the apiserver drops empty values.
pub fn contains(live: &Value, desired: &Value) -> bool {
    match (live, desired) {
        (Value::Object(live), Value::Object(desired)) => {
            desired.iter().all(|(key, value)| match live.get(key) {
                Some(live_value) => contains(live_value, value),
                None => is_empty(value),
            })
        }
        (Value::Array(live), Value::Array(desired)) => {
            live.len() == desired.len() && live.iter().zip(desired).all(|(l, d)| contains(l, d))
        }
        (Value::Null, desired) => is_empty(desired),
        (live, desired) => live == desired,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.values().all(is_empty),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extra_live_fields_are_fine() {
        let live =
            json!({"spec": {"replicas": 3, "revisionHistoryLimit": 10}, "status": {"ready": 3}});
        assert!(contains(&live, &json!({"spec": {"replicas": 3}})));
    }

    #[test]
    fn a_changed_or_missing_value_is_not_contained() {
        let live = json!({"data": {"a": "1"}});
        assert!(!contains(&live, &json!({"data": {"a": "2"}})));
        assert!(!contains(&live, &json!({"data": {"b": "1"}})));
    }

    #[test]
    fn lists_match_element_by_element() {
        let live = json!({"ports": [{"port": 9092, "protocol": "TCP"}, {"port": 9093, "protocol": "TCP"}]});
        assert!(contains(
            &live,
            &json!({"ports": [{"port": 9092}, {"port": 9093}]})
        ));
        assert!(!contains(&live, &json!({"ports": [{"port": 9092}]})));
        assert!(!contains(
            &live,
            &json!({"ports": [{"port": 9093}, {"port": 9092}]})
        ));
    }

    #[test]
    fn empty_desired_values_match_absent_fields() {
        assert!(contains(
            &json!({}),
            &json!({"metadata": {"annotations": {}}, "items": []})
        ));
        assert!(!contains(&json!({}), &json!({"items": [1]})));
    }
}
