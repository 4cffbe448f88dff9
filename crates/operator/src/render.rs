//! `brokerage render -f cluster.yaml`: what the operator would create, with no cluster.

use anyhow::{Context, Result};
use kafka_operator::assembly::{Inputs, manifest, render as render_kafka};
use rocketmq_operator::assembly as rocketmq;

/// Every object for the NameServices and Brokers in `yaml` (a Broker's inputs being the
/// NameServices and ConfigMaps in the same file), or else for its Kafka (with its node pools),
/// as one multi-document YAML, preceded by the warnings the operator would report.
pub fn render(yaml: &str) -> Result<String> {
    let rocketmq = rocketmq::manifest::read(yaml, "default")?;
    if !rocketmq.name_services.is_empty() || !rocketmq.brokers.is_empty() {
        return Ok(rocketmq::render::render_manifest(&rocketmq)?);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rocketmq_resources_and_kafka_ones() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let rocketmq =
            std::fs::read_to_string(format!("{root}/tests/fixtures/rocketmq-cluster.yaml"));
        let text = render(&rocketmq.unwrap()).unwrap();
        assert!(text.contains("name: broker-1-replica-1\n"));
        assert!(text.contains("name: name-service\n"));
        let kafka =
            std::fs::read_to_string(format!("{root}/examples/kafka/ephemeral-single-node.yaml"));
        assert!(
            render(&kafka.unwrap())
                .unwrap()
                .contains("my-cluster-kafka-bootstrap")
        );
    }
}
