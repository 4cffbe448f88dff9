//! `spec.kafkaExporter`: a Deployment `<c>-kafka-exporter` that serves the cluster's topic,
//! partition and consumer-group metrics to Prometheus on port 9404, as Strimzi's does. It runs
//! the operator's own image (`brokerage kafka-exporter`, the `kafka-exporter` crate), and reads
//! the cluster through the replication listener with a client certificate of the cluster CA
//! (`O=io.strimzi, CN=<c>-kafka-exporter`, a super user when authorization is on, as with
//! Strimzi; no KafkaUser can be issued that subject).

use std::collections::BTreeMap;

use api::FreeFormObject;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, HTTPGetAction, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    SecretVolumeSource, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::listeners::REPLICATION_PORT;
use super::metrics::METRICS_PORT;
use super::model::KafkaModel;
use super::names;
use operator_common::pod_security::{container_security_context, pod_security_context};
use operator_common::validation::{InvalidSpec, Warning};

/// The operator's image, whose binary serves the metrics.
pub const DEFAULT_IMAGE: &str = concat!("ghcr.io/brokerage/brokerage:", env!("CARGO_PKG_VERSION"));

const CERTS_DIR: &str = "/etc/kafka-exporter/certs";
const CLUSTER_CA_DIR: &str = "/etc/kafka-exporter/cluster-ca";
/// The distroless image's unprivileged user.
const EXPORTER_USER: i64 = 65532;

#[derive(Clone, Debug, PartialEq)]
pub struct KafkaExporter {
    pub image: String,
    pub topic_regex: String,
    pub topic_exclude_regex: Option<String>,
    pub group_regex: String,
    pub group_exclude_regex: Option<String>,
    pub resources: Option<ResourceRequirements>,
}

/// The exporter `spec.kafkaExporter` asks for; a field with no effect here is a warning.
pub fn kafka_exporter(
    spec: Option<&FreeFormObject>,
    warnings: &mut Vec<Warning>,
) -> Result<Option<KafkaExporter>, InvalidSpec> {
    let Some(spec) = spec else {
        return Ok(None);
    };
    let field = |key: &str| format!("spec.kafkaExporter.{key}");
    let regex = |key: &str| -> Result<Option<String>, InvalidSpec> {
        let Some(value) = spec.get(key) else {
            return Ok(None);
        };
        let pattern = value
            .as_str()
            .ok_or_else(|| InvalidSpec::new(field(key), "a regular expression, as a string"))?;
        regex::Regex::new(pattern)
            .map_err(|error| InvalidSpec::new(field(key), format!("{pattern:?}: {error}")))?;
        Ok(Some(pattern.to_string()))
    };
    let exporter = KafkaExporter {
        image: match spec.get("image") {
            None => DEFAULT_IMAGE.into(),
            Some(Value::String(image)) if !image.trim().is_empty() => image.clone(),
            Some(_) => return Err(InvalidSpec::new(field("image"), "an image reference")),
        },
        topic_regex: regex("topicRegex")?.unwrap_or_else(|| ".*".into()),
        topic_exclude_regex: regex("topicExcludeRegex")?,
        group_regex: regex("groupRegex")?.unwrap_or_else(|| ".*".into()),
        group_exclude_regex: regex("groupExcludeRegex")?,
        resources: match spec.get("resources") {
            None => None,
            Some(value) => Some(
                serde_json::from_value(value.clone())
                    .map_err(|error| InvalidSpec::new(field("resources"), error.to_string()))?,
            ),
        },
    };
    let taken = [
        "image",
        "topicRegex",
        "topicExcludeRegex",
        "groupRegex",
        "groupExcludeRegex",
        "resources",
    ];
    for key in spec.keys().filter(|key| !taken.contains(&key.as_str())) {
        warnings.push(Warning::not_implemented(&field(key)));
    }
    Ok(Some(exporter))
}

/// The exporter's Deployment.
pub fn build_deployment(model: &KafkaModel, exporter: &KafkaExporter) -> Deployment {
    let name = names::kafka_exporter(&model.cluster);
    let labels = model.labels(&name);
    let selector = labels.selector();
    let bootstrap = format!(
        "{}:{REPLICATION_PORT}",
        names::bootstrap_service(&model.cluster)
    );
    let mut args = vec![
        "kafka-exporter".to_string(),
        format!("--bootstrap-servers={bootstrap}"),
        format!("--ca-file={CLUSTER_CA_DIR}/{}", certs::CA_CRT),
        format!("--cert-file={CERTS_DIR}/{name}.crt"),
        format!("--key-file={CERTS_DIR}/{name}.key"),
        format!("--topic-regex={}", exporter.topic_regex),
        format!("--group-regex={}", exporter.group_regex),
    ];
    args.extend(
        (exporter.topic_exclude_regex.iter()).map(|r| format!("--topic-exclude-regex={r}")),
    );
    args.extend(
        (exporter.group_exclude_regex.iter()).map(|r| format!("--group-exclude-regex={r}")),
    );
    let secret_volume = |volume: &str, secret: String| Volume {
        name: volume.into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    };
    let mount = |volume: &str, path: &str| VolumeMount {
        name: volume.into(),
        mount_path: path.into(),
        read_only: Some(true),
        ..VolumeMount::default()
    };
    let health = Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/healthz".into()),
            port: IntOrString::Int(METRICS_PORT),
            ..HTTPGetAction::default()
        }),
        ..Probe::default()
    };
    let memory = || BTreeMap::from([("memory".to_string(), Quantity("64Mi".into()))]);
    let container = Container {
        name: "kafka-exporter".into(),
        image: Some(exporter.image.clone()),
        command: Some(vec!["/brokerage".into()]),
        args: Some(args),
        ports: Some(vec![ContainerPort {
            name: Some("tcp-prometheus".into()),
            container_port: METRICS_PORT,
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        resources: Some(exporter.resources.clone().unwrap_or(ResourceRequirements {
            requests: Some(memory()),
            limits: Some(memory()),
            ..ResourceRequirements::default()
        })),
        readiness_probe: Some(health.clone()),
        liveness_probe: Some(health),
        volume_mounts: Some(vec![
            mount("exporter-certs", CERTS_DIR),
            mount("cluster-ca-certs", CLUSTER_CA_DIR),
        ]),
        security_context: Some(container_security_context()),
        ..Container::default()
    };
    Deployment {
        metadata: model.metadata(&name, labels.clone()),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(selector),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels.into_map()),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    volumes: Some(vec![
                        secret_volume(
                            "exporter-certs",
                            names::kafka_exporter_certificate_secret(&model.cluster),
                        ),
                        secret_volume(
                            "cluster-ca-certs",
                            names::cluster_ca_cert_secret(&model.cluster),
                        ),
                    ]),
                    service_account_name: Some(names::service_account(&model.cluster)),
                    // The exporter reads Kafka only.
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security_context(EXPORTER_USER, EXPORTER_USER)),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_model;
    use serde_json::json;

    fn read(spec: Value) -> (Result<Option<KafkaExporter>, InvalidSpec>, Vec<Warning>) {
        let spec: FreeFormObject = serde_json::from_value(spec).unwrap();
        let mut warnings = Vec::new();
        (kafka_exporter(Some(&spec), &mut warnings), warnings)
    }

    #[test]
    fn the_filters_are_checked_and_unused_fields_named() {
        let (found, warnings) = read(
            json!({"topicRegex": "orders.*", "groupExcludeRegex": "^tmp-",
            "enableSaramaLogging": true}),
        );
        let found = found.unwrap().unwrap();
        assert_eq!(found.topic_regex, "orders.*");
        assert_eq!(found.group_regex, ".*");
        assert_eq!(found.group_exclude_regex.as_deref(), Some("^tmp-"));
        assert_eq!(found.image, DEFAULT_IMAGE);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0]
                .message
                .contains("spec.kafkaExporter.enableSaramaLogging")
        );
        let (found, _) = read(json!({"topicRegex": "orders("}));
        assert_eq!(found.unwrap_err().field, "spec.kafkaExporter.topicRegex");
    }

    #[test]
    fn the_deployment_reads_the_replication_listener_with_its_own_certificate() {
        let model = example_model("ephemeral-single-node");
        let (exporter, _) = read(json!({"topicExcludeRegex": "^__"}));
        let deployment = build_deployment(&model, &exporter.unwrap().unwrap());
        assert_eq!(
            deployment.metadata.name.as_deref(),
            Some("my-cluster-kafka-exporter")
        );
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        let args = pod.containers[0].args.clone().unwrap();
        assert!(args.contains(&"--bootstrap-servers=my-cluster-kafka-bootstrap:9091".to_string()));
        assert!(args.contains(&"--topic-exclude-regex=^__".to_string()));
        let secrets: Vec<String> = (pod.volumes.unwrap().into_iter())
            .filter_map(|v| v.secret?.secret_name)
            .collect();
        assert_eq!(
            secrets,
            [
                "my-cluster-kafka-exporter-certs",
                "my-cluster-cluster-ca-cert"
            ]
        );
        assert_eq!(pod.automount_service_account_token, Some(false));
    }
}
