//! Golden snapshots: every object the operator builds for the RocketMQ manifests, in
//! `tests/snapshots/<name>.yaml`. Run with `UPDATE_SNAPSHOTS=1` to rewrite them after an
//! intended change, and review the diff.

use std::path::PathBuf;

use rocketmq_operator::assembly::{manifest, render};
use testenv::snapshots::assert_snapshots;

/// The test fixture's NameService and Broker, and `examples/rocketmq/` together.
const MANIFESTS: &[(&str, &[&str])] = &[
    ("cluster", &["../../tests/fixtures/rocketmq-cluster.yaml"]),
    (
        "examples",
        &[
            "../../examples/rocketmq/name-service.yaml",
            "../../examples/rocketmq/broker.yaml",
        ],
    ),
];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn render_manifest(files: &[&str]) -> String {
    let documents: Vec<String> = files
        .iter()
        .map(|file| std::fs::read_to_string(manifest_dir().join(file)).expect("the file exists"))
        .collect();
    let manifest =
        manifest::read(&documents.join("\n---\n"), "rocketmq").expect("a valid manifest");
    let rendered = render::render_manifest(&manifest).expect("the manifest is valid");
    format!("# Objects built for {}\n{rendered}", files.join(", "))
}

/// Every snapshot's file name and freshly rendered text.
fn rendered() -> Vec<(String, String)> {
    MANIFESTS
        .iter()
        .map(|(name, files)| (format!("{name}.yaml"), render_manifest(files)))
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
