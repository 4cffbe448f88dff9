//! `brokerage render -f kafka.yaml`: what the operator would create, with no cluster.

use anyhow::{Context, Result, bail};
use api::kafka::{Kafka, KafkaNodePool};
use cluster_operator::kafka::{Inputs, render as render_kafka};
use serde::Deserialize;

/// Every object for the Kafka in `yaml` (with its node pools), as one multi-document YAML.
pub fn render(yaml: &str) -> Result<String> {
    let mut kafkas = Vec::new();
    let mut pools = Vec::new();
    for document in serde_yaml::Deserializer::from_str(yaml) {
        let value = serde_yaml::Value::deserialize(document)?;
        match value.get("kind").and_then(|kind| kind.as_str()) {
            Some("Kafka") => kafkas.push(serde_yaml::from_value::<Kafka>(value)?),
            Some("KafkaNodePool") => pools.push(serde_yaml::from_value::<KafkaNodePool>(value)?),
            _ => {}
        }
    }
    let [mut kafka] = <[Kafka; 1]>::try_from(kafkas)
        .map_err(|found| anyhow::anyhow!("expected exactly one Kafka, found {}", found.len()))?;
    // What the apiserver would fill in, so that the output is complete.
    kafka
        .metadata
        .namespace
        .get_or_insert_with(|| "default".into());
    kafka
        .metadata
        .uid
        .get_or_insert_with(|| "00000000-0000-0000-0000-000000000000".into());
    for pool in &mut pools {
        pool.metadata
            .namespace
            .get_or_insert_with(|| "default".into());
    }
    let inputs = Inputs {
        new_cluster_id: "rendered-cluster-id-0000".into(),
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
    if out.is_empty() {
        bail!("nothing to render");
    }
    Ok(out)
}
