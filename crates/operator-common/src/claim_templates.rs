//! A StatefulSet's volume claim templates are fixed once it exists: Kubernetes refuses any update
//! that changes them, which would fail every later reconcile with an error only the operator's
//! log shows. The reconcilers compare them first and refuse the change with a condition instead
//! (the Kafka operator grows volumes where it can: `volume_resize`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;

use crate::quantity;

/// What a claim template says that a user could change, comparable across the defaults the API
/// server fills in (`volumeMode`, `status`) and the spellings of a quantity (`1Gi`, `1024Mi`).
#[derive(Debug, PartialEq)]
pub(crate) struct Claim {
    pub(crate) name: Option<String>,
    pub(crate) labels: Option<BTreeMap<String, String>>,
    pub(crate) storage_class: Option<String>,
    pub(crate) attributes_class: Option<String>,
    pub(crate) access_modes: Option<Vec<String>>,
    pub(crate) requests: BTreeMap<String, Option<u64>>,
}

impl Claim {
    pub(crate) fn of(template: &PersistentVolumeClaim) -> Claim {
        let spec = template.spec.clone().unwrap_or_default();
        let requests = spec.resources.and_then(|r| r.requests).unwrap_or_default();
        Claim {
            name: template.metadata.name.clone(),
            labels: template.metadata.labels.clone().filter(|l| !l.is_empty()),
            storage_class: spec.storage_class_name,
            attributes_class: spec.volume_attributes_class_name,
            access_modes: spec.access_modes,
            requests: requests
                .iter()
                .map(|(resource, quantity)| (resource.clone(), quantity::bytes(quantity)))
                .collect(),
        }
    }
}

/// The claim templates of `set`, none when it has none.
pub(crate) fn templates(set: &StatefulSet) -> &[PersistentVolumeClaim] {
    let templates = set
        .spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.as_deref());
    templates.unwrap_or_default()
}

fn claims(set: &StatefulSet) -> Vec<Claim> {
    templates(set).iter().map(Claim::of).collect()
}

/// Whether applying `desired` over `live` would change its claim templates.
pub fn claim_templates_changed(live: &StatefulSet, desired: &StatefulSet) -> bool {
    claims(live) != claims(desired)
}

/// The `NotSupported` message when the StatefulSets `changed` would need new claim templates
/// because of the spec's `fields`.
pub fn refusal(changed: &[String], fields: &str) -> String {
    format!(
        "the volume claim templates of StatefulSet {} cannot change once it exists (Kubernetes \
         refuses it): put {fields} back as they were; nothing else changes until then",
        changed.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::StatefulSetSpec;
    use serde_json::json;

    fn set(templates: serde_json::Value) -> StatefulSet {
        let templates = serde_json::from_value(templates).unwrap();
        StatefulSet {
            spec: Some(StatefulSetSpec {
                volume_claim_templates: templates,
                ..StatefulSetSpec::default()
            }),
            ..StatefulSet::default()
        }
    }

    fn claim(size: &str, class: &str) -> serde_json::Value {
        json!({"metadata": {"name": "data"},
               "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
                        "resources": {"requests": {"storage": size}}}})
    }

    #[test]
    fn defaults_and_spellings_are_no_change() {
        let mut live = claim("1024Mi", "fast");
        live["spec"]["volumeMode"] = json!("Filesystem");
        live["status"] = json!({"phase": "Pending"});
        let desired = set(json!([claim("1Gi", "fast")]));
        assert!(!claim_templates_changed(&set(json!([live])), &desired));
        assert!(!claim_templates_changed(&set(json!(null)), &set(json!([]))));
    }

    #[test]
    fn size_class_and_presence_are_changes() {
        let live = set(json!([claim("1Gi", "fast")]));
        for desired in [
            json!([claim("2Gi", "fast")]),
            json!([claim("1Gi", "slow")]),
            json!([claim("1Gi", "fast"), claim("1Gi", "fast")]),
            json!(null),
        ] {
            assert!(
                claim_templates_changed(&live, &set(desired.clone())),
                "{desired}"
            );
        }
    }
}
