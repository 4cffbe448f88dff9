//! `brokerage render -f kafka.yaml`: what the operator would create, with no cluster.

use anyhow::{Context, Result};
use cluster_operator::kafka::{Inputs, manifest, render as render_kafka};

/// Every object for the Kafka in `yaml` (with its node pools), as one multi-document YAML,
/// preceded by the warnings the operator would report.
pub fn render(yaml: &str) -> Result<String> {
    let (kafka, pools) = manifest::read(yaml, "default")?;
    let inputs = Inputs {
        new_cluster_id: "rendered-cluster-id-00".into(),
        ..Inputs::default()
    };
    let (model, desired) = render_kafka(&kafka, &pools, &inputs).context("the Kafka is invalid")?;
    let mut out = String::new();
    for warning in &model.warnings {
        out.push_str(&format!(
            "# Warning ({}): {}\n",
            warning.reason, warning.message
        ));
    }
    for object in desired.to_json() {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&object)?);
    }
    Ok(out)
}
