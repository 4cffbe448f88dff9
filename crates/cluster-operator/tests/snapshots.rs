//! Golden snapshots: every object the operator builds for each example, in
//! `tests/snapshots/<example>.yaml` (and `rocketmq-<name>.yaml` for the RocketMQ manifests). Run with `UPDATE_SNAPSHOTS=1` to rewrite them after an
//! intended change, and review the diff.

use std::path::PathBuf;

use api::kafka::{Kafka, KafkaNodePool};
use cluster_operator::kafka::{Inputs, render};

const EXAMPLES: &[&str] = &[
    "ephemeral-single-node",
    "persistent-dual-pool",
    "tls-scram-listeners",
];

fn load(example: &str) -> (Kafka, Vec<KafkaNodePool>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../examples/kafka/{example}.yaml"));
    let text = std::fs::read_to_string(&path).expect("the example exists");
    cluster_operator::kafka::manifest::read(&text, "kafka").expect("a valid Kafka manifest")
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn render_example(example: &str) -> String {
    let (kafka, pools) = load(example);
    let inputs = Inputs {
        new_cluster_id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
        ..Inputs::default()
    };
    let (model, desired) = render(&kafka, &pools, &inputs).expect("the example is valid");
    let mut text = format!("# Objects built for examples/kafka/{example}.yaml\n");
    for warning in &model.warnings {
        text.push_str(&format!(
            "# Warning {}: {}\n",
            warning.reason, warning.message
        ));
    }
    for object in desired.to_json() {
        text.push_str("---\n");
        text.push_str(&serde_yaml::to_string(&object).expect("JSON becomes YAML"));
    }
    text
}

/// RocketMQ manifests: the NameService and Broker, and `examples/rocketmq/` together.
const ROCKETMQ: &[(&str, &[&str])] = &[
    ("cluster", &["../../tests/fixtures/rocketmq-cluster.yaml"]),
    (
        "examples",
        &[
            "../../examples/rocketmq/name-service.yaml",
            "../../examples/rocketmq/broker.yaml",
        ],
    ),
];

fn render_rocketmq(files: &[&str]) -> String {
    let documents: Vec<String> = files
        .iter()
        .map(|file| std::fs::read_to_string(manifest_dir().join(file)).expect("the file exists"))
        .collect();
    let manifest =
        cluster_operator::rocketmq::manifest::read(&documents.join("\n---\n"), "rocketmq")
            .expect("a valid manifest");
    let rendered = cluster_operator::rocketmq::render::render_manifest(&manifest)
        .expect("the manifest is valid");
    format!("# Objects built for {}\n{rendered}", files.join(", "))
}

/// Every snapshot's file name and freshly rendered text.
fn rendered() -> Vec<(String, String)> {
    let kafka = EXAMPLES
        .iter()
        .map(|example| (format!("{example}.yaml"), render_example(example)));
    let rocketmq = ROCKETMQ
        .iter()
        .map(|(name, files)| (format!("rocketmq-{name}.yaml"), render_rocketmq(files)));
    kafka.chain(rocketmq).collect()
}

#[test]
fn rendered_objects_match_the_snapshots() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|value| value == "1");
    let mut stale = Vec::new();
    for (file, rendered) in rendered() {
        let path = manifest_dir().join(format!("tests/snapshots/{file}"));
        if update {
            std::fs::write(&path, &rendered).expect("the snapshot is writable");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(rendered.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "rendered objects differ from {stale:?}; if the change is intended, run with UPDATE_SNAPSHOTS=1 and review the diff"
    );
}

#[test]
fn rendering_is_deterministic() {
    assert_eq!(rendered(), rendered());
}
