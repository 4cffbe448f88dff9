//! Every manifest under `examples/` is one of our kinds and parses into its Rust type without loss.

use std::path::{Path, PathBuf};

use api::kafka::{Kafka, KafkaNodePool, KafkaTopic, KafkaUser, StorageType};
use api::rocketmq::{Broker, Console, Controller, NameService, Proxy, RocketMQTopic, RocketMQUser};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .filter(|doc| !doc.is_null())
        .collect()
}

/// Parses `doc` as `T` and checks that serializing it gives back exactly the document: no field is
/// dropped, renamed or added (such as `null`s for absent options). Only type fields may be added: a
/// `v1beta2` Strimzi manifest is read as the stored `v1`.
fn round_trip<T: DeserializeOwned + serde::Serialize>(doc: &Value, origin: &str) -> T {
    let parsed: T = serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{origin}: {e}"));
    let mut expected = doc.clone();
    if expected["apiVersion"] == "kafka.strimzi.io/v1beta2" {
        expected["apiVersion"] = "kafka.strimzi.io/v1".into();
    }
    // k8s-openapi always writes the type fields of an embedded PersistentVolumeClaim.
    let claims = expected.pointer_mut("/spec/volumeClaimTemplates");
    if let Some(claims) = claims.and_then(Value::as_array_mut) {
        for claim in claims {
            claim["apiVersion"] = "v1".into();
            claim["kind"] = "PersistentVolumeClaim".into();
        }
    }
    assert_eq!(
        serde_json::to_value(&parsed).unwrap(),
        expected,
        "{origin} does not round-trip"
    );
    parsed
}

#[test]
fn every_example_parses_into_its_kind() {
    let files = yaml_files(&examples_dir());
    assert!(files.len() >= 10, "found only {files:?}");
    for path in files {
        for doc in documents(&path) {
            let origin = format!("{} ({})", path.display(), doc["kind"]);
            let group = doc["apiVersion"]
                .as_str()
                .unwrap()
                .split('/')
                .next()
                .unwrap();
            match (group, doc["kind"].as_str().unwrap()) {
                ("kafka.strimzi.io", "Kafka") => drop(round_trip::<Kafka>(&doc, &origin)),
                ("kafka.strimzi.io", "KafkaNodePool") => {
                    drop(round_trip::<KafkaNodePool>(&doc, &origin))
                }
                ("kafka.strimzi.io", "KafkaTopic") => drop(round_trip::<KafkaTopic>(&doc, &origin)),
                ("kafka.strimzi.io", "KafkaUser") => drop(round_trip::<KafkaUser>(&doc, &origin)),
                ("rocketmq.apache.org", "NameService") => {
                    drop(round_trip::<NameService>(&doc, &origin))
                }
                ("rocketmq.apache.org", "Broker") => drop(round_trip::<Broker>(&doc, &origin)),
                ("rocketmq.apache.org", "Console") => drop(round_trip::<Console>(&doc, &origin)),
                ("rocketmq.apache.org", "Proxy") => drop(round_trip::<Proxy>(&doc, &origin)),
                ("rocketmq.apache.org", "Controller") => {
                    drop(round_trip::<Controller>(&doc, &origin))
                }
                ("rocketmq.apache.org", "RocketMQTopic") => {
                    drop(round_trip::<RocketMQTopic>(&doc, &origin))
                }
                ("rocketmq.apache.org", "RocketMQUser") => {
                    drop(round_trip::<RocketMQUser>(&doc, &origin))
                }
                _ => panic!("{origin} is not a Brokerage kind"),
            }
        }
    }
}

#[test]
fn legacy_zookeeper_kafka_round_trips() {
    let fixture = "../../tests/fixtures/legacy-zookeeper-kafka.yaml";
    let docs = documents(&Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture));
    let kafka: Kafka = round_trip(&docs[0], fixture);

    let again: Kafka = serde_json::from_value(serde_json::to_value(&kafka).unwrap()).unwrap();
    assert_eq!(again, kafka);

    let spec = &kafka.spec.kafka;
    assert_eq!(spec.replicas, Some(2));
    let config = spec.config.as_ref().unwrap();
    assert_eq!(config["offsets.topic.replication.factor"], 1);
    assert_eq!(config["inter.broker.protocol.version"], "3.4");
    let storage = spec.storage.as_ref().unwrap();
    assert_eq!(storage.type_, StorageType::Jbod);
    let volume = &storage.volumes.as_ref().unwrap()[0];
    assert_eq!(volume.volume.id, Some(0));
    assert_eq!(volume.volume.delete_claim, Some(true));
    assert_eq!(kafka.spec.zookeeper.as_ref().unwrap().replicas, 1);
    let entity_operator = kafka.spec.entity_operator.as_ref().unwrap();
    assert!(entity_operator.topic_operator.is_some() && entity_operator.user_operator.is_some());
}

#[test]
fn rocketmq_topic_defaults() {
    let doc = serde_json::json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1",
        "kind": "RocketMQTopic",
        "metadata": {"name": "t"},
        "spec": {"clusterRef": {"name": "broker"}},
    });
    let topic: RocketMQTopic = serde_json::from_value(doc).unwrap();
    assert_eq!(topic.spec.read_queue_nums, 8);
    assert_eq!(topic.spec.write_queue_nums, 8);
    assert_eq!(topic.spec.perm, 6);
}
