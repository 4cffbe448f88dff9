//! Golden snapshots: every object the operator builds for each Kafka example and for the
//! ZooKeeper-era fixture, in `tests/snapshots/<name>.yaml`. Run with `UPDATE_SNAPSHOTS=1` to rewrite them after an
//! intended change, and review the diff.

use std::path::PathBuf;

use kafka_operator::assembly::{Inputs, manifest, render, to_yaml};
use testenv::snapshots::assert_snapshots;

/// From the repository's root.
const MANIFESTS: &[&str] = &[
    "examples/kafka/ephemeral-single-node.yaml",
    "examples/kafka/persistent-dual-pool.yaml",
    "examples/kafka/tls-scram-listeners.yaml",
    "tests/fixtures/legacy-zookeeper-kafka.yaml",
];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn render_manifest(manifest: &str) -> String {
    let path = manifest_dir().join("../..").join(manifest);
    let text = std::fs::read_to_string(&path).expect("the manifest exists");
    let (kafka, pools) = manifest::read(&text, "kafka").expect("a valid Kafka manifest");
    let inputs = Inputs {
        new_cluster_id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
        ..Inputs::default()
    };
    let (model, desired) = render(&kafka, &pools, &inputs).expect("the manifest is valid");
    format!(
        "# Objects built for {manifest}\n{}",
        to_yaml(&model, &desired)
    )
}

/// Every snapshot's file name and freshly rendered text.
fn rendered() -> Vec<(String, String)> {
    MANIFESTS
        .iter()
        .map(|manifest| {
            let name = manifest.rsplit('/').next().expect("a file name");
            (name.to_string(), render_manifest(manifest))
        })
        .collect()
}

#[test]
fn rendered_objects_match_the_snapshots() {
    assert_snapshots(&manifest_dir().join("tests/snapshots"), &rendered());
}

#[test]
fn rendering_is_deterministic() {
    assert_eq!(rendered(), rendered());
}
