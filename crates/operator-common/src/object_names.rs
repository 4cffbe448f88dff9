//! Names and labels Kubernetes accepts, checked on the objects built for a resource before any
//! is written. A resource whose name (with its pools' or listeners' names, or its group numbers)
//! makes a name Kubernetes refuses is invalid, with a message that says which name and why,
//! instead of a write the API server turns down with an error meant for programs.
//!
//! The CRDs refuse resource names that are too long for every object at admission; what they
//! cannot see (a pool's name together with its cluster's, a listener's, a node ID) is found here.

use serde_json::Value;

/// Kubernetes labels a StatefulSet's pods with `<name>-<10-character revision hash>`, a label
/// value of at most 63 characters, so a longer StatefulSet name makes pods it cannot create.
const MAX_STATEFULSET_NAME: usize = 52;
/// Labels, pod host names and Service names.
const MAX_LABEL: usize = 63;
/// Every other object's name.
const MAX_SUBDOMAIN: usize = 253;

/// What is wrong with the first of `objects` (JSON with `kind` and `metadata`) whose name, pods'
/// names or labels Kubernetes would refuse, as `<kind> <name>: <problem>`.
pub fn check(objects: &[Value]) -> Result<(), String> {
    objects.iter().try_for_each(check_object)
}

fn check_object(object: &Value) -> Result<(), String> {
    let kind = object["kind"].as_str().unwrap_or_default();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let problem = match kind {
        "Service" => label_name(name, MAX_LABEL, true, "a Service"),
        "StatefulSet" => {
            label_name(name, MAX_STATEFULSET_NAME, false, "a StatefulSet").or_else(|| {
                last_pod(object).and_then(|pod| label_name(&pod, MAX_LABEL, false, "a pod"))
            })
        }
        _ => subdomain(name),
    };
    let labels = [
        &object["metadata"]["labels"],
        &object["spec"]["template"]["metadata"]["labels"],
    ];
    let problem = problem.or_else(|| labels.into_iter().find_map(label_values));
    match problem {
        Some(problem) => Err(format!("{kind} {name}: {problem}")),
        None => Ok(()),
    }
}

/// The name of a StatefulSet's pod with the highest ordinal, the longest of its pods' names.
fn last_pod(statefulset: &Value) -> Option<String> {
    let spec = &statefulset["spec"];
    let replicas = spec["replicas"].as_i64().unwrap_or(1);
    let start = spec["ordinals"]["start"].as_i64().unwrap_or(0);
    let name = statefulset["metadata"]["name"].as_str()?;
    (replicas > 0).then(|| format!("{name}-{}", start + replicas - 1))
}

/// A DNS label (RFC 1123): lower-case letters, digits and `-`, starting and ending with a letter
/// or digit; a Service's name (RFC 1035) starts with a letter.
fn label_name(name: &str, max: usize, starts_with_letter: bool, what: &str) -> Option<String> {
    if name.len() > max {
        return Some(format!(
            "the name is {} characters long, more than the {max} Kubernetes allows for {what}",
            name.len()
        ));
    }
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || (!starts_with_letter && c.is_ascii_digit()));
    let last_ok = name
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if first_ok && last_ok && chars_ok {
        return None;
    }
    let start = if starts_with_letter {
        "start with a letter"
    } else {
        "start with a letter or digit"
    };
    Some(format!(
        "the name of {what} must {start}, end with a letter or digit and hold only lower-case \
         letters, digits and '-'"
    ))
}

/// A DNS subdomain: dot-separated DNS labels, at most 253 characters.
fn subdomain(name: &str) -> Option<String> {
    if name.len() > MAX_SUBDOMAIN {
        return Some(format!(
            "the name is {} characters long, more than the {MAX_SUBDOMAIN} Kubernetes allows",
            name.len()
        ));
    }
    name.split('.')
        .find_map(|part| label_name(part, MAX_LABEL, false, "an object"))
}

/// A label value: at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a
/// letter or digit (or empty).
fn label_values(labels: &Value) -> Option<String> {
    labels.as_object()?.iter().find_map(|(key, value)| {
        let value = value.as_str().unwrap_or_default();
        let edges_ok = |c: Option<char>| c.is_none_or(|c| c.is_ascii_alphanumeric());
        let valid = value.len() <= MAX_LABEL
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && edges_ok(value.chars().next())
            && edges_ok(value.chars().last());
        (!valid).then(|| {
            format!(
                "the label {key}={value} is not a label value Kubernetes accepts (at most \
                 {MAX_LABEL} letters, digits, '-', '_' and '.', starting and ending with a \
                 letter or digit)"
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(kind: &str, name: &str) -> Value {
        json!({"kind": kind, "metadata": {"name": name, "labels": {"strimzi.io/name": name}}})
    }

    #[test]
    fn names_kubernetes_takes_pass() {
        let objects = [
            object("Service", "my-cluster-kafka-bootstrap"),
            object("ConfigMap", "my-cluster-kafka-bootstrap-info"),
            json!({"kind": "StatefulSet", "metadata": {"name": "my-cluster-broker"},
                   "spec": {"replicas": 3, "ordinals": {"start": 10},
                            "template": {"metadata": {"labels": {"strimzi.io/pool-name": "broker"}}}}}),
        ];
        assert_eq!(check(&objects), Ok(()));
    }

    #[test]
    fn a_service_name_starts_with_a_letter() {
        let error = check(&[object("Service", "1st-kafka-bootstrap")]).unwrap_err();
        assert_eq!(
            error,
            "Service 1st-kafka-bootstrap: the name of a Service must start with a letter, end \
             with a letter or digit and hold only lower-case letters, digits and '-'"
        );
        assert!(check(&[object("Service", "my.cluster-kafka-bootstrap")]).is_err());
        assert_eq!(check(&[object("ConfigMap", "1st-kafka-config")]), Ok(()));
    }

    #[test]
    fn lengths_are_those_of_each_kind() {
        let sixty_three = "a".repeat(63);
        assert_eq!(check(&[object("Service", &sixty_three)]), Ok(()));
        let error = check(&[object("Service", &format!("{sixty_three}b"))]).unwrap_err();
        assert!(
            error.ends_with(
                "the name is 64 characters long, more than the 63 Kubernetes allows for a Service"
            ),
            "{error}"
        );
        let statefulset = |name: &str| json!({"kind": "StatefulSet", "metadata": {"name": name}});
        assert_eq!(check(&[statefulset(&"s".repeat(52))]), Ok(()));
        let error = check(&[statefulset(&"s".repeat(53))]).unwrap_err();
        assert!(error.contains("more than the 52 Kubernetes allows for a StatefulSet"));
    }

    #[test]
    fn the_last_pod_of_a_statefulset_must_fit_too() {
        let name = "s".repeat(50);
        let set = |start: i64| {
            json!({"kind": "StatefulSet", "metadata": {"name": name},
                   "spec": {"replicas": 2, "ordinals": {"start": start}}})
        };
        assert_eq!(check(&[set(0)]), Ok(()));
        // The last pod, `<name>-100000000000`, has 63 characters; one digit more is too many.
        assert_eq!(check(&[set(99_999_999_999)]), Ok(()));
        let error = check(&[set(999_999_999_999)]).unwrap_err();
        assert!(
            error.ends_with("more than the 63 Kubernetes allows for a pod"),
            "{error}"
        );
    }

    #[test]
    fn label_values_of_the_object_and_its_pods_are_checked() {
        let long = format!("{}.{}", "x".repeat(30), "y".repeat(33));
        let error = check(&[object("Secret", &long)]).unwrap_err();
        assert!(
            error.contains(&format!("the label strimzi.io/name={long} is not")),
            "{error}"
        );
        let pods = json!({"kind": "StatefulSet", "metadata": {"name": "set"},
                          "spec": {"template": {"metadata": {"labels": {"a": "-x"}}}}});
        assert!(check(&[pods]).unwrap_err().contains("the label a=-x"));
    }

    #[test]
    fn other_names_are_subdomains() {
        assert_eq!(check(&[object("ConfigMap", "a.b-c")]), Ok(()));
        let error = check(&[json!({"kind": "Secret", "metadata": {"name": "a..b"}})]).unwrap_err();
        assert!(
            error.starts_with("Secret a..b: the name of an object must"),
            "{error}"
        );
    }
}
