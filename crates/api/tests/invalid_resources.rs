//! `tests/invalid-resources.yaml` is applied to a real apiserver by the end-to-end tests; here we only
//! check that it still matches our schemas, so a renamed field fails fast and without a cluster.

use std::path::Path;

use api::all_crds;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Entry {
    name: String,
    expect: String,
    message: Option<String>,
    resource: Value,
}

fn entries() -> Vec<Entry> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/invalid-resources.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The `openAPIV3Schema` of the served version the entry's resource names.
fn schema_of(entry: &Entry, crds: &[CustomResourceDefinition]) -> Value {
    let (group, version) = entry.resource["apiVersion"]
        .as_str()
        .unwrap()
        .split_once('/')
        .unwrap();
    let kind = entry.resource["kind"].as_str().unwrap();
    let crd = crds
        .iter()
        .find(|crd| crd.spec.group == group && crd.spec.names.kind == kind)
        .unwrap_or_else(|| panic!("{}: no CRD for {group} {kind}", entry.name));
    let served = crd
        .spec
        .versions
        .iter()
        .find(|v| v.name == version && v.served);
    let served = served.unwrap_or_else(|| panic!("{}: {version} is not served", entry.name));
    serde_json::to_value(&served.schema.as_ref().unwrap().open_api_v3_schema).unwrap()
}

/// Every `x-kubernetes-validations` rule in `schema`, at any depth.
fn rules(schema: &Value) -> Vec<Value> {
    let mut found = Vec::new();
    match schema {
        Value::Object(map) => {
            if let Some(Value::Array(rules)) = map.get("x-kubernetes-validations") {
                found.extend(rules.iter().cloned());
            }
            for value in map.values() {
                found.extend(rules(value));
            }
        }
        Value::Array(items) => items.iter().for_each(|item| found.extend(rules(item))),
        _ => {}
    }
    found
}

#[test]
fn every_expected_field_exists_in_the_schema_of_a_served_version() {
    let entries = entries();
    assert!(entries.len() >= 90);
    let crds = all_crds();
    for entry in &entries {
        let schema = schema_of(entry, &crds);
        let kind = entry.resource["kind"].as_str().unwrap();
        let mut node = schema;
        for step in entry.expect.split('.') {
            let (name, indices) = step.split_once('[').unwrap_or((step, ""));
            node = node["properties"][name].clone();
            assert!(
                !node.is_null(),
                "{}: no field {} in {kind}",
                entry.name,
                entry.expect
            );
            for _ in indices.split('[').filter(|index| !index.is_empty()) {
                node = node["items"].clone();
            }
        }
    }
}

#[test]
fn names_are_unique() {
    let mut names: Vec<_> = entries().into_iter().map(|entry| entry.name).collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), count);
}

/// The message an entry expects is that of one of its kind's CEL rules, so a reworded rule fails
/// here, without a cluster.
#[test]
fn every_expected_message_is_a_rule_of_the_kind() {
    let crds = all_crds();
    for entry in entries() {
        let Some(message) = &entry.message else {
            continue;
        };
        let rules = rules(&schema_of(&entry, &crds));
        assert!(
            rules.iter().any(|rule| rule["message"]
                .as_str()
                .unwrap_or("")
                .contains(message.as_str())),
            "{}: no rule says {message:?}",
            entry.name
        );
    }
}
