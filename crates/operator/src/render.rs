//! `brokerage render -f cluster.yaml`: what the operator would create, with no cluster.

use anyhow::{Context, Result, bail};
use kafka_operator::assembly::{Inputs, manifest, render as render_kafka, to_yaml};
use rocketmq_operator::assembly as rocketmq;

/// Every object for the NameServices, Controllers, Consoles, Proxies and Brokers in `yaml` (a Broker's inputs being the
/// NameServices and ConfigMaps in the same file), or else for each of its Kafkas (with their node
/// pools), as one multi-document YAML, each Kafka's preceded by the warnings the operator would
/// report.
pub fn render(yaml: &str) -> Result<String> {
    let rocketmq = rocketmq::manifest::read(yaml, "default")?;
    if !rocketmq.renders_nothing() {
        return Ok(rocketmq::render::render_manifest(&rocketmq)?);
    }
    let (kafkas, pools) = manifest::read_all(yaml, "default")?;
    if kafkas.is_empty() {
        bail!(
            "the file has no Kafka, NameService, Controller or Broker; brokerage render renders \
             those (a Kafka with the KafkaNodePools in the same file, a Broker with the \
             NameServices and ConfigMaps in it)"
        );
    }
    let inputs = Inputs {
        new_cluster_id: "rendered-cluster-id-00".into(),
        ..Inputs::default()
    };
    let mut out = String::new();
    for kafka in &kafkas {
        let name = kafka.metadata.name.as_deref().unwrap_or_default();
        let (model, desired) = render_kafka(kafka, &pools, &inputs)
            .with_context(|| format!("the Kafka {name} is invalid"))?;
        out.push_str(&format!("# Kafka {name}\n"));
        out.push_str(&to_yaml(&model, &desired));
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

    #[test]
    fn renders_every_kafka_of_a_file_and_names_the_kinds_it_renders() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let single =
            std::fs::read_to_string(format!("{root}/examples/kafka/ephemeral-single-node.yaml"))
                .unwrap();
        let two = format!(
            "{single}\n---\n{}",
            single.replace("my-cluster", "other-cluster")
        );
        let text = render(&two).unwrap();
        assert!(text.contains("# Kafka my-cluster\n"));
        assert!(text.contains("# Kafka other-cluster\n"));
        assert!(text.contains("name: other-cluster-kafka-bootstrap\n"));

        let topic = "apiVersion: kafka.strimzi.io/v1\nkind: KafkaTopic\nmetadata: {name: t}\n";
        let error = render(topic).unwrap_err().to_string();
        assert!(error.contains("renders those"), "{error}");
    }
}
