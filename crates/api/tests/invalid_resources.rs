//! `tests/invalid-resources.yaml` is applied to a real apiserver by the end-to-end tests; here we only
//! check that it still matches our schemas, so a renamed field fails fast and without a cluster.

use std::path::Path;

use api::all_crds;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Entry {
    name: String,
    expect: String,
    resource: Value,
}

fn entries() -> Vec<Entry> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/invalid-resources.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_expected_field_exists_in_the_schema_of_a_served_version() {
    let entries = entries();
    assert!(entries.len() >= 18);
    let crds = all_crds();
    for entry in &entries {
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
        let schema =
            serde_json::to_value(&served.schema.as_ref().unwrap().open_api_v3_schema).unwrap();

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
