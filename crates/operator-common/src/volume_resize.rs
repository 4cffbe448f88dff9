//! Growing persistent volumes, as Strimzi does. A StatefulSet's claim templates cannot change,
//! but a bound claim's storage request can grow when its StorageClass allows expansion. So a
//! larger size is taken by growing each existing claim and re-creating the StatefulSet (its
//! pods left running) with the larger templates, for the claims of pods still to come. Any other
//! change to the templates (a smaller size, another class, a volume added) stays refused.
//!
//! Pure: the reconcilers list the StatefulSets, claims and classes, and write.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::ResourceExt;

use crate::claim_templates::{Claim, templates};
use crate::quantity;

const STORAGE: &str = "storage";

/// How a StatefulSet's claim templates would change from the live ones to the desired ones.
#[derive(Debug, PartialEq)]
pub enum TemplateChange {
    Unchanged,
    /// Only storage requests grew: each grown template's new size, by template name.
    Grown(BTreeMap<String, Quantity>),
    /// What changed that no StatefulSet can take, one reason per volume.
    Refused(Vec<String>),
}

pub fn template_change(live: &StatefulSet, desired: &StatefulSet) -> TemplateChange {
    let (live, desired) = (templates(live), templates(desired));
    let names = |templates: &[PersistentVolumeClaim]| -> Vec<String> {
        (templates.iter())
            .map(|template| template.metadata.name.clone().unwrap_or_default())
            .collect()
    };
    if names(live) != names(desired) {
        return TemplateChange::Refused(vec![format!(
            "the volumes cannot change from [{}] to [{}]",
            names(live).join(", "),
            names(desired).join(", ")
        )]);
    }
    let mut grown = BTreeMap::new();
    let mut refused = Vec::new();
    for (live, desired) in live.iter().zip(desired) {
        match volume_change(live, desired) {
            Ok(None) => {}
            Ok(Some(size)) => {
                grown.insert(desired.metadata.name.clone().unwrap_or_default(), size);
            }
            Err(reason) => refused.push(reason),
        }
    }
    match (refused.is_empty(), grown.is_empty()) {
        (false, _) => TemplateChange::Refused(refused),
        (true, false) => TemplateChange::Grown(grown),
        (true, true) => TemplateChange::Unchanged,
    }
}

/// The new size of a template whose storage request grew and nothing else changed, `None` when
/// it is unchanged, or why it cannot change.
fn volume_change(
    live: &PersistentVolumeClaim,
    desired: &PersistentVolumeClaim,
) -> Result<Option<Quantity>, String> {
    let (old, new) = (Claim::of(live), Claim::of(desired));
    let mut reasons = Vec::new();
    if old.storage_class != new.storage_class {
        let class = |claim: &Claim| claim.storage_class.clone().unwrap_or("(none)".into());
        reasons.push(format!(
            "its storage class cannot change from {} to {}",
            class(&old),
            class(&new)
        ));
    }
    let fields = changed_fields(&old, &new);
    if !fields.is_empty() {
        reasons.push(format!("its {} cannot change", fields.join(", ")));
    }
    let text = |claim: &PersistentVolumeClaim| request(claim).map_or("(none)".into(), |q| q.0);
    let mut grown = None;
    match (old.requests.get(STORAGE), new.requests.get(STORAGE)) {
        (old_size, new_size) if old_size == new_size => {}
        (Some(Some(old_size)), Some(Some(new_size))) if new_size > old_size => {
            grown = request(desired);
        }
        (Some(Some(_)), Some(Some(_))) => reasons.push(format!(
            "it cannot shrink from {} to {}",
            text(live),
            text(desired)
        )),
        _ => reasons.push(format!(
            "its size cannot change from {} to {}",
            text(live),
            text(desired)
        )),
    }
    match reasons.is_empty() {
        true => Ok(grown),
        false => Err(format!(
            "volume {}: {}",
            new.name.unwrap_or_default(),
            reasons.join(", ")
        )),
    }
}

/// The fields other than the class and the size that differ.
fn changed_fields(old: &Claim, new: &Claim) -> Vec<&'static str> {
    let others = |claim: &Claim| {
        let mut requests = claim.requests.clone();
        requests.remove(STORAGE);
        requests
    };
    [
        ("labels", old.labels != new.labels),
        (
            "volume attributes class",
            old.attributes_class != new.attributes_class,
        ),
        ("access modes", old.access_modes != new.access_modes),
        ("requests other than storage", others(old) != others(new)),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect()
}

fn request(claim: &PersistentVolumeClaim) -> Option<Quantity> {
    let spec = claim.spec.as_ref()?;
    spec.resources
        .as_ref()?
        .requests
        .as_ref()?
        .get(STORAGE)
        .cloned()
}

/// The storage each claim of `set`'s pods should request, by claim name: Kubernetes names the
/// claim of template `t` for the pod of ordinal `n` `t-<set>-n`.
pub fn claim_sizes(set: &StatefulSet) -> BTreeMap<String, Quantity> {
    let spec = set.spec.as_ref();
    let start = (spec.and_then(|spec| spec.ordinals.as_ref()))
        .and_then(|ordinals| ordinals.start)
        .unwrap_or(0);
    let replicas = spec.and_then(|spec| spec.replicas).unwrap_or(1).max(0);
    let mut sizes = BTreeMap::new();
    for template in templates(set) {
        let (Some(name), Some(size)) = (&template.metadata.name, request(template)) else {
            continue;
        };
        for ordinal in start..start.saturating_add(replicas) {
            let claim = format!("{name}-{}-{ordinal}", set.name_any());
            sizes.insert(claim, size.clone());
        }
    }
    sizes
}

/// A bound claim whose storage request is smaller than its template's.
#[derive(Clone, Debug, PartialEq)]
pub struct Growth {
    pub claim: String,
    /// Its StorageClass, which must allow expansion.
    pub class: Option<String>,
    pub size: Quantity,
}

/// What the live claims need to reach the sizes their templates ask for.
#[derive(Debug, Default, PartialEq)]
pub struct ClaimResize {
    /// The requests to grow.
    pub grow: Vec<Growth>,
    /// Claims below their size that are not bound yet: Kubernetes grows only a bound claim, so
    /// they grow once bound (their class must allow it too).
    pub unbound: Vec<Growth>,
    /// Claims whose capacity is not yet the size asked for (with the conditions that say why,
    /// such as `FileSystemResizePending`): their volumes are being resized.
    pub resizing: Vec<String>,
}

/// Compares the claims with `sizes` (see [`claim_sizes`]).
pub fn claim_resize(
    claims: &[PersistentVolumeClaim],
    sizes: &BTreeMap<String, Quantity>,
) -> ClaimResize {
    let mut resize = ClaimResize::default();
    for claim in claims {
        let name = claim.name_any();
        let Some(size) = sizes.get(&name) else {
            continue;
        };
        if claim.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let status = claim.status.as_ref();
        let bound = status.and_then(|s| s.phase.as_deref()) == Some("Bound");
        let wanted = quantity::bytes(size);
        // A missing amount is below any size; one that cannot be read is left alone.
        let below = |have: Option<&Quantity>| match (have.map(quantity::bytes), wanted) {
            (None, Some(_)) => true,
            (Some(Some(have)), Some(wanted)) => have < wanted,
            _ => false,
        };
        if below(request(claim).as_ref()) {
            let class = claim
                .spec
                .as_ref()
                .and_then(|s| s.storage_class_name.clone());
            let growth = Growth {
                claim: name.clone(),
                class,
                size: size.clone(),
            };
            match bound {
                true => resize.grow.push(growth),
                false => resize.unbound.push(growth),
            }
        }
        let capacity = status.and_then(|s| s.capacity.as_ref()?.get(STORAGE));
        if bound && below(capacity) {
            let conditions: Vec<&str> = (status.and_then(|s| s.conditions.as_ref()))
                .into_iter()
                .flatten()
                .filter(|condition| condition.status == "True")
                .map(|condition| condition.type_.as_str())
                .collect();
            resize.resizing.push(match conditions.is_empty() {
                true => name,
                false => format!("{name} ({})", conditions.join(", ")),
            });
        }
    }
    resize
}

/// Why the claims of `grow` cannot grow, one reason per StorageClass: Kubernetes grows only a
/// claim whose StorageClass (among `classes`, those that exist) sets `allowVolumeExpansion`.
pub fn expansion_refusals(grow: &[Growth], classes: &[StorageClass]) -> Vec<String> {
    let mut refused: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for growth in grow {
        let reason = match growth.class.as_deref().filter(|name| !name.is_empty()) {
            None => "they have no StorageClass".to_string(),
            Some(name) => match classes.iter().find(|class| class.name_any() == name) {
                None => format!("their StorageClass {name} does not exist"),
                Some(class) if class.allow_volume_expansion != Some(true) => format!(
                    "their StorageClass {name} does not allow volume expansion \
                     (allowVolumeExpansion)"
                ),
                Some(_) => continue,
            },
        };
        refused.entry(reason).or_default().push(&growth.claim);
    }
    (refused.into_iter())
        .map(|(reason, claims)| {
            let noun = if claims.len() == 1 { "claim" } else { "claims" };
            format!("{noun} {} cannot grow: {reason}", claims.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::StatefulSetSpec;
    use serde_json::json;

    fn set(templates: serde_json::Value) -> StatefulSet {
        serde_json::from_value(json!({
            "metadata": {"name": "c-pool"},
            "spec": {"replicas": 2, "ordinals": {"start": 3}, "selector": {},
                     "template": {}, "volumeClaimTemplates": templates}
        }))
        .unwrap()
    }

    fn template(name: &str, size: &str, class: &str) -> serde_json::Value {
        json!({"metadata": {"name": name},
               "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
                        "resources": {"requests": {"storage": size}}}})
    }

    fn refusal(live: &StatefulSet, desired: &StatefulSet) -> String {
        match template_change(live, desired) {
            TemplateChange::Refused(reasons) => reasons.join("; "),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn the_same_templates_in_other_spellings_are_unchanged() {
        let live = set(json!([template("data-0", "1024Mi", "fast")]));
        let desired = set(json!([template("data-0", "1Gi", "fast")]));
        assert_eq!(template_change(&live, &desired), TemplateChange::Unchanged);
        let none = StatefulSet {
            spec: Some(StatefulSetSpec::default()),
            ..StatefulSet::default()
        };
        assert_eq!(template_change(&none, &none), TemplateChange::Unchanged);
    }

    #[test]
    fn larger_sizes_alone_are_grown() {
        let live = set(json!([
            template("data-0", "1Gi", "fast"),
            template("data-1", "5Gi", "fast")
        ]));
        let desired = set(json!([
            template("data-0", "2Gi", "fast"),
            template("data-1", "5Gi", "fast")
        ]));
        assert_eq!(
            template_change(&live, &desired),
            TemplateChange::Grown(BTreeMap::from([("data-0".into(), Quantity("2Gi".into()))]))
        );
    }

    #[test]
    fn shrinking_another_class_or_other_volumes_are_refused() {
        let live = set(json!([template("data-0", "2Gi", "fast")]));
        let shrunk = set(json!([template("data-0", "1Gi", "fast")]));
        assert_eq!(
            refusal(&live, &shrunk),
            "volume data-0: it cannot shrink from 2Gi to 1Gi"
        );
        let moved = set(json!([template("data-0", "4Gi", "slow")]));
        assert_eq!(
            refusal(&live, &moved),
            "volume data-0: its storage class cannot change from fast to slow"
        );
        let mut relabelled = template("data-0", "4Gi", "fast");
        relabelled["metadata"]["labels"] = json!({"a": "b"});
        assert_eq!(
            refusal(&live, &set(json!([relabelled]))),
            "volume data-0: its labels cannot change"
        );
        let added = set(json!([
            template("data-0", "2Gi", "fast"),
            template("data-1", "2Gi", "fast")
        ]));
        assert_eq!(
            refusal(&live, &added),
            "the volumes cannot change from [data-0] to [data-0, data-1]"
        );
        let unreadable = set(json!([template("data-0", "lots", "fast")]));
        assert_eq!(
            refusal(&live, &unreadable),
            "volume data-0: its size cannot change from 2Gi to lots"
        );
    }

    #[test]
    fn each_pod_has_a_claim_of_each_template() {
        let sizes = claim_sizes(&set(json!([
            template("data-0", "1Gi", "fast"),
            template("data-1", "2Gi", "fast")
        ])));
        let names: Vec<&str> = sizes.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "data-0-c-pool-3",
                "data-0-c-pool-4",
                "data-1-c-pool-3",
                "data-1-c-pool-4"
            ]
        );
        assert_eq!(sizes["data-1-c-pool-4"], Quantity("2Gi".into()));
    }

    fn claim(name: &str, phase: &str, request: &str, capacity: &str) -> PersistentVolumeClaim {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": request}}},
            "status": {"phase": phase, "capacity": {"storage": capacity}}
        }))
        .unwrap()
    }

    #[test]
    fn claims_below_their_size_grow_once_bound_and_resize_until_their_capacity_is_reached() {
        let sizes = BTreeMap::from(
            ["a", "b", "c", "d"].map(|name| (name.to_string(), Quantity("2Gi".into()))),
        );
        let mut pending_resize = claim("c", "Bound", "2Gi", "1Gi");
        pending_resize.status.as_mut().unwrap().conditions = Some(vec![
            serde_json::from_value(json!({"type": "FileSystemResizePending", "status": "True"}))
                .unwrap(),
        ]);
        let claims = [
            claim("a", "Bound", "1Gi", "1Gi"),
            claim("b", "Pending", "1Gi", "1Gi"),
            pending_resize,
            claim("d", "Bound", "2048Mi", "2Gi"),
            claim("unrelated", "Bound", "1Gi", "1Gi"),
        ];
        let resize = claim_resize(&claims, &sizes);
        let growth = |claim: &str| Growth {
            claim: claim.into(),
            class: Some("fast".into()),
            size: Quantity("2Gi".into()),
        };
        assert_eq!(resize.grow, [growth("a")]);
        assert_eq!(resize.unbound, [growth("b")]);
        assert_eq!(resize.resizing, ["a", "c (FileSystemResizePending)"]);
    }

    #[test]
    fn only_classes_that_allow_expansion_grow_claims() {
        let class = |name: &str, expands: Option<bool>| StorageClass {
            metadata: kube::api::ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            allow_volume_expansion: expands,
            ..StorageClass::default()
        };
        let classes = [
            class("grows", Some(true)),
            class("fixed", Some(false)),
            class("unset", None),
        ];
        let growth = |claim: &str, class: Option<&str>| Growth {
            claim: claim.into(),
            class: class.map(Into::into),
            size: Quantity("2Gi".into()),
        };
        let grow = [
            growth("a", Some("grows")),
            growth("b", Some("fixed")),
            growth("c", Some("fixed")),
            growth("d", Some("unset")),
            growth("e", Some("gone")),
            growth("f", None),
            growth("g", Some("")),
        ];
        assert_eq!(
            expansion_refusals(&grow, &classes),
            [
                "claims b, c cannot grow: their StorageClass fixed does not allow volume \
                 expansion (allowVolumeExpansion)",
                "claim e cannot grow: their StorageClass gone does not exist",
                "claim d cannot grow: their StorageClass unset does not allow volume \
                 expansion (allowVolumeExpansion)",
                "claims f, g cannot grow: they have no StorageClass",
            ]
        );
        assert!(expansion_refusals(&grow[..1], &classes).is_empty());
    }
}
