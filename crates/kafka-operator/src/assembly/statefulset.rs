//! One StatefulSet per node pool. The operator decides when each pod restarts (`OnDelete`), pods
//! start in parallel (controllers need each other to form a quorum), and the pods are numbered by
//! node ID (`ordinals.start`), so pod `<c>-<pool>-<id>` runs node `<id>`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    StatefulSet, StatefulSetOrdinals, StatefulSetPersistentVolumeClaimRetentionPolicy,
    StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    ObjectFieldSelector, PersistentVolumeClaim, PersistentVolumeClaimSpec, PodSpec,
    PodTemplateSpec, Probe as ProbeSpec, SecretVolumeSource, TCPSocketAction, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::jvm;
use super::listeners::{CONTROL_PLANE_PORT, NODE_HOST_ENV, REPLICATION_PORT};
use super::logging::{self, Logging};
use super::metrics::{self, Metrics};
use super::model::{KafkaModel, Pool, VolumeKind};
use super::names;
use super::quorum::{ControllerQuorum, FORMAT_KEY};
use super::rack::Rack;
use operator_common::jvm::shell_words;
use operator_common::pod_security::{container_security_context, overlay, pod_security_context};

pub const CONFIG_DIR: &str = "/opt/kafka/custom-config";
pub const NODE_CERTS_DIR: &str = "/opt/kafka/node-certs";
pub const CLUSTER_CA_CERTS_DIR: &str = "/opt/kafka/cluster-ca-certs";
pub const CLIENTS_CA_CERTS_DIR: &str = "/opt/kafka/client-ca-certs";

/// The uid and gid of the `appuser` the official image runs as; volumes are made writable for it.
const KAFKA_USER: i64 = 1000;

/// Where the JVM and Kafka's compression libraries write temporary files (performance data,
/// native libraries): the root filesystem is read-only.
const TMP_DIR: &str = "/tmp";

/// Formats the node's KRaft storage with the cluster ID on first start (`--ignore-formatted`
/// makes later starts a no-op), then runs Kafka on the node's own file from the pool ConfigMap.
/// A controller of a dynamic quorum formats with the quorum arguments of its pool ConfigMap,
/// read when it starts: the initial voters, or none once the quorum formed.
/// `java` is run directly, not Kafka's launch scripts, so that images without them work too.
fn start_script(model: &KafkaModel, pool: &Pool) -> String {
    let external = matches!(model.logging, Logging::External(_));
    let logging = jvm::logging_options(model.release, CONFIG_DIR, external);
    let classpath = metrics::classpath(model.metrics.as_ref());
    let storage_tool = shell_words(&jvm::storage_tool_options(&logging));
    let kafka = shell_words(&jvm::kafka_options(pool, &logging));
    // With metrics, the image must carry what serves them; the exporter's agent runs in the
    // same JVM.
    let (metrics_lines, agent) = match &model.metrics {
        Some(metrics @ Metrics::JmxExporter(_)) => (metrics.start_lines(), r#" "$agent""#),
        Some(metrics @ Metrics::Reporter { .. }) => (metrics.start_lines(), ""),
        None => (String::new(), ""),
    };
    let (quorum_lines, quorum_arguments) = match model.quorum {
        ControllerQuorum::Dynamic { .. } if pool.roles.controller => (
            format!("quorum=$(cat \"{CONFIG_DIR}/{FORMAT_KEY}\")\n"),
            " $quorum",
        ),
        _ => (String::new(), ""),
    };
    format!(
        r#"set -eu
config="{CONFIG_DIR}/${{POD_NAME}}.properties"
{metrics_lines}{quorum_lines}java {storage_tool} -cp {classpath} kafka.tools.StorageTool format --config "$config" --cluster-id "$KAFKA_CLUSTER_ID" --release-version "$KAFKA_METADATA_VERSION" --ignore-formatted{quorum_arguments}
exec java {kafka}{agent} -cp {classpath} kafka.Kafka "$config"
"#
    )
}

/// The StatefulSet of `pool`.
pub fn build_statefulset(model: &KafkaModel, pool: &Pool) -> StatefulSet {
    let labels = model.pool_labels(pool);
    let name = names::statefulset(&model.cluster, &pool.name);
    // Per-node configuration and certificate hashes are stamped on the pods by the rolling
    // step, not here: the template is shared, and must not change when one node's file does.
    // The user's labels and annotations first, so that the operator's, which select the pods,
    // win where keys meet.
    let mut pod_labels = pool.template.labels.clone().unwrap_or_default();
    pod_labels.extend(labels.clone().into_map());
    let template = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(pod_labels),
            annotations: pool.template.annotations.clone(),
            ..ObjectMeta::default()
        }),
        spec: Some(build_pod_spec(model, pool)),
    };

    StatefulSet {
        metadata: model.metadata(&name, labels.clone()),
        spec: Some(StatefulSetSpec {
            replicas: Some(pool.node_ids.len() as i32),
            ordinals: pool.node_ids.first().map(|first| StatefulSetOrdinals {
                start: Some(*first),
            }),
            selector: LabelSelector {
                match_labels: Some(labels.selector()),
                ..LabelSelector::default()
            },
            service_name: Some(names::brokers_service(&model.cluster)),
            pod_management_policy: Some("Parallel".into()),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("OnDelete".into()),
                ..StatefulSetUpdateStrategy::default()
            }),
            persistent_volume_claim_retention_policy: Some(claim_retention(pool)),
            volume_claim_templates: Some(claim_templates(model, pool)).filter(|t| !t.is_empty()),
            template,
            ..StatefulSetSpec::default()
        }),
        status: None,
    }
}

fn build_pod_spec(model: &KafkaModel, pool: &Pool) -> PodSpec {
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    for volume in &pool.volumes {
        mounts.push(mount(&volume.name(), &volume.mount_path()));
        if let VolumeKind::Ephemeral { size_limit } = &volume.kind {
            volumes.push(Volume {
                name: volume.name(),
                empty_dir: Some(EmptyDirVolumeSource {
                    size_limit: size_limit.clone().map(Quantity),
                    ..EmptyDirVolumeSource::default()
                }),
                ..Volume::default()
            });
        }
    }
    volumes.push(Volume {
        name: "custom-config".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: names::pool_config_map(&model.cluster, &pool.name),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    });
    mounts.push(mount("custom-config", CONFIG_DIR));
    if let Some(rules) = model.metrics.as_ref().and_then(Metrics::rules) {
        volumes.push(rules.volume("metrics-config", metrics::METRICS_FILE));
        mounts.push(mount("metrics-config", metrics::METRICS_DIR));
    }
    if let Logging::External(file) = &model.logging {
        let name = logging::external_file(model.release);
        volumes.push(file.volume("logging-config", name));
        mounts.push(mount("logging-config", logging::EXTERNAL_LOGGING_DIR));
    }
    volumes.push(Volume {
        name: "tmp".into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    });
    mounts.push(mount("tmp", TMP_DIR));
    volumes.push(Volume {
        name: "node-certs".into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(names::node_certificates_secret(&model.cluster)),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    });
    mounts.push(mount("node-certs", NODE_CERTS_DIR));
    for (volume, secret, dir) in [
        (
            "cluster-ca-certs",
            names::cluster_ca_cert_secret(&model.cluster),
            CLUSTER_CA_CERTS_DIR,
        ),
        (
            "client-ca-certs",
            names::clients_ca_cert_secret(&model.cluster),
            CLIENTS_CA_CERTS_DIR,
        ),
    ] {
        volumes.push(Volume {
            name: volume.into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        });
        mounts.push(mount(volume, dir));
    }

    // A broker is ready to serve once its replication listener is up; a controller once its
    // control plane listener is.
    let health_port = if pool.roles.broker {
        REPLICATION_PORT
    } else {
        CONTROL_PLANE_PORT
    };
    let container = Container {
        name: "kafka".into(),
        image: Some(model.image.clone()),
        command: Some(vec!["sh".into(), "-c".into(), start_script(model, pool)]),
        env: Some(env(model, pool)),
        ports: Some(container_ports(model, pool)),
        volume_mounts: Some(mounts),
        resources: pool.resources.clone(),
        readiness_probe: Some(probe(health_port, model.readiness_probe.as_ref())),
        liveness_probe: Some(probe(health_port, model.liveness_probe.as_ref())),
        startup_probe: Some(operator_common::probes::startup_probe(health_port)),
        security_context: Some(overlay(
            container_security_context(),
            pool.template.container_security.as_ref(),
        )),
        ..Container::default()
    };
    PodSpec {
        containers: vec![container],
        volumes: Some(volumes),
        service_account_name: Some(names::service_account(&model.cluster)),
        // Kafka never calls Kubernetes.
        automount_service_account_token: Some(false),
        security_context: Some(overlay(
            pod_security_context(KAFKA_USER, KAFKA_USER),
            pool.template.pod_security.as_ref(),
        )),
        affinity: match &model.rack {
            Some(rack) => rack.affinity(pool.template.affinity.clone(), cluster_pods(model)),
            None => pool.template.affinity.clone(),
        },
        tolerations: pool.template.tolerations.clone(),
        topology_spread_constraints: pool.template.topology_spread_constraints.clone(),
        node_selector: pool.template.node_selector.clone(),
        priority_class_name: pool.template.priority_class_name.clone(),
        termination_grace_period_seconds: pool.template.termination_grace_period_seconds,
        image_pull_secrets: pool.template.image_pull_secrets.clone(),
        ..PodSpec::default()
    }
}

/// Selects every broker and controller pod of the cluster, whatever its pool.
fn cluster_pods(model: &KafkaModel) -> LabelSelector {
    let mut labels = model.labels(&names::kafka(&model.cluster)).selector();
    labels.remove(runtime::labels::STRIMZI_POOL_NAME);
    LabelSelector {
        match_labels: Some(labels),
        ..LabelSelector::default()
    }
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        ..VolumeMount::default()
    }
}

/// The operator's variables, then the template's (those of the same names left out).
fn env(model: &KafkaModel, pool: &Pool) -> Vec<EnvVar> {
    let from_field = |name: &str, path: &str| EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    };
    let value = |name: &str, value: String| EnvVar {
        name: name.into(),
        value: Some(value),
        ..EnvVar::default()
    };
    let mut env = vec![
        from_field("POD_NAME", "metadata.name"),
        from_field(NODE_HOST_ENV, "status.hostIP"),
        value("KAFKA_CLUSTER_ID", model.cluster_id.clone()),
        value("KAFKA_METADATA_VERSION", model.metadata_version.clone()),
    ];
    env.extend(model.rack.as_ref().and_then(Rack::env));
    let users = pool.template.container_env.iter().flatten();
    let added: Vec<EnvVar> = users
        .filter(|variable| env.iter().all(|own| own.name != variable.name))
        .cloned()
        .collect();
    env.extend(added);
    env
}

fn container_ports(model: &KafkaModel, pool: &Pool) -> Vec<ContainerPort> {
    let port = |name: String, number: i32| ContainerPort {
        name: Some(name),
        container_port: number,
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    };
    let mut ports = Vec::new();
    if pool.roles.controller {
        ports.push(port("tcp-ctrlplane".into(), CONTROL_PLANE_PORT));
    }
    if model.metrics.is_some() {
        ports.push(port("tcp-prometheus".into(), metrics::METRICS_PORT));
    }
    if pool.roles.broker {
        ports.push(port("tcp-replication".into(), REPLICATION_PORT));
        for listener in &model.listeners {
            ports.push(port(format!("tcp-{}", listener.name), listener.port));
        }
    }
    ports
}

fn probe(port: i32, timing: Option<&api::kafka::Probe>) -> ProbeSpec {
    let timing = timing.cloned().unwrap_or_default();
    ProbeSpec {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::Int(port),
            ..TCPSocketAction::default()
        }),
        initial_delay_seconds: Some(timing.initial_delay_seconds.unwrap_or(15)),
        timeout_seconds: Some(timing.timeout_seconds.unwrap_or(5)),
        period_seconds: timing.period_seconds,
        success_threshold: timing.success_threshold,
        failure_threshold: timing.failure_threshold,
        ..ProbeSpec::default()
    }
}

fn claim_templates(model: &KafkaModel, pool: &Pool) -> Vec<PersistentVolumeClaim> {
    pool.volumes
        .iter()
        .filter_map(|volume| {
            let VolumeKind::PersistentClaim {
                size,
                class,
                attributes_class,
                selector,
                ..
            } = &volume.kind
            else {
                return None;
            };
            Some(PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some(volume.name()),
                    labels: Some(model.pool_labels(pool).into_map()),
                    ..ObjectMeta::default()
                },
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec!["ReadWriteOnce".into()]),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([(
                            "storage".to_string(),
                            Quantity(size.clone()),
                        )])),
                        ..VolumeResourceRequirements::default()
                    }),
                    storage_class_name: class.clone(),
                    volume_attributes_class_name: attributes_class.clone(),
                    selector: selector.clone().map(|labels| LabelSelector {
                        match_labels: Some(labels),
                        ..LabelSelector::default()
                    }),
                    ..PersistentVolumeClaimSpec::default()
                }),
                status: None,
            })
        })
        .collect()
}

/// Claims go with their node or cluster only when every claim of the pool asks for it; mixed
/// pools keep them all here and leave the `deleteClaim: true` ones to the PVC step.
fn claim_retention(pool: &Pool) -> StatefulSetPersistentVolumeClaimRetentionPolicy {
    let claims: Vec<bool> = pool
        .volumes
        .iter()
        .filter_map(|volume| match volume.kind {
            VolumeKind::PersistentClaim { delete_claim, .. } => Some(delete_claim),
            VolumeKind::Ephemeral { .. } => None,
        })
        .collect();
    let policy = if !claims.is_empty() && claims.iter().all(|delete| *delete) {
        "Delete"
    } else {
        "Retain"
    };
    StatefulSetPersistentVolumeClaimRetentionPolicy {
        when_deleted: Some(policy.into()),
        when_scaled: Some(policy.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_model;
    use k8s_openapi::api::core::v1::PodSecurityContext;

    fn script(pod: &PodSpec) -> &str {
        &pod.containers[0].command.as_ref().unwrap()[2]
    }

    #[test]
    fn broker_pool_with_jbod_claims_and_jvm_options() {
        let model = example_model("persistent-dual-pool");
        let pool = model.pool("broker").unwrap();
        let set = build_statefulset(&model, pool);
        assert_eq!(
            set.metadata.name.as_deref(),
            Some("persistent-cluster-broker")
        );
        let spec = set.spec.unwrap();
        assert_eq!(spec.replicas, Some(3));
        assert_eq!(spec.ordinals.unwrap().start, Some(3));
        assert_eq!(spec.pod_management_policy.as_deref(), Some("Parallel"));
        assert_eq!(
            spec.update_strategy.unwrap().type_.as_deref(),
            Some("OnDelete")
        );
        assert_eq!(
            spec.service_name.as_deref(),
            Some("persistent-cluster-kafka-brokers")
        );
        let retention = spec.persistent_volume_claim_retention_policy.unwrap();
        assert_eq!(retention.when_deleted.as_deref(), Some("Retain"));

        let claims = spec.volume_claim_templates.unwrap();
        assert_eq!(claims.len(), 1);
        assert_eq!(claims[0].metadata.name.as_deref(), Some("data-0"));
        let requests = claims[0].spec.as_ref().unwrap().resources.as_ref().unwrap();
        assert_eq!(requests.requests.as_ref().unwrap()["storage"].0, "100Gi");

        let labels = spec
            .template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .as_ref()
            .unwrap();
        assert_eq!(labels["strimzi.io/pool-name"], "broker");
        assert_eq!(labels["strimzi.io/broker-role"], "true");
        assert_eq!(labels["strimzi.io/controller-role"], "false");

        let pod = spec.template.spec.unwrap();
        assert!(
            script(&pod).contains("\nexec java -Xms2g -Xmx2g -XX:"),
            "{}",
            script(&pod)
        );
        let container = &pod.containers[0];
        let limits = container
            .resources
            .as_ref()
            .unwrap()
            .limits
            .as_ref()
            .unwrap();
        assert_eq!(limits["memory"].0, "4Gi");
        let mounts: Vec<&str> = container
            .volume_mounts
            .iter()
            .flatten()
            .map(|mount| mount.mount_path.as_str())
            .collect();
        assert!(mounts.contains(&"/var/lib/kafka/data-0"));
        let certs = pod
            .volumes
            .iter()
            .flatten()
            .find(|volume| volume.name == "node-certs")
            .and_then(|volume| volume.secret.as_ref())
            .unwrap();
        assert_eq!(
            certs.secret_name.as_deref(),
            Some("persistent-cluster-kafka-brokers")
        );
    }

    #[test]
    fn controller_pool_checks_health_on_the_control_plane_port() {
        let model = example_model("persistent-dual-pool");
        let set = build_statefulset(&model, model.pool("controller").unwrap());
        let pod = set.spec.unwrap().template.spec.unwrap();
        let probe = pod.containers[0].readiness_probe.as_ref().unwrap();
        assert_eq!(
            probe.tcp_socket.as_ref().unwrap().port,
            IntOrString::Int(CONTROL_PLANE_PORT)
        );
        let ports: Vec<i32> = pod.containers[0]
            .ports
            .iter()
            .flatten()
            .map(|port| port.container_port)
            .collect();
        assert_eq!(ports, [CONTROL_PLANE_PORT]);
    }

    #[test]
    fn the_pods_run_java_on_the_images_jars() {
        let model = example_model("ephemeral-single-node");
        let set = build_statefulset(&model, &model.pools[0]);
        let pod = set.spec.unwrap().template.spec.unwrap();
        let expected = r#"set -eu
config="/opt/kafka/custom-config/${POD_NAME}.properties"
quorum=$(cat "/opt/kafka/custom-config/controller-quorum-format")
java -Xmx256m -XX:+UseSerialGC -Dlog4j2.configurationFile=/opt/kafka/custom-config/log4j2.properties -Dkafka.root.logger.level=WARN -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format --config "$config" --cluster-id "$KAFKA_CLUSTER_ID" --release-version "$KAFKA_METADATA_VERSION" --ignore-formatted $quorum
exec java -Xms128m -Xmx512m -XX:+ExplicitGCInvokesConcurrent -XX:InitiatingHeapOccupancyPercent=35 -XX:MaxGCPauseMillis=20 -XX:+UseG1GC -Djava.awt.headless=true -Dlog4j2.configurationFile=/opt/kafka/custom-config/log4j2.properties -cp '/opt/kafka/libs/*' kafka.Kafka "$config"
"#;
        assert_eq!(script(&pod), expected);
        let env: Vec<&str> = pod.containers[0]
            .env
            .iter()
            .flatten()
            .map(|env| env.name.as_str())
            .collect();
        assert_eq!(
            env,
            [
                "POD_NAME",
                "BROKERAGE_NODE_HOST",
                "KAFKA_CLUSTER_ID",
                "KAFKA_METADATA_VERSION"
            ]
        );
    }

    #[test]
    fn user_properties_reach_java_as_single_words() {
        let model = example_model("ephemeral-single-node");
        let mut pool = model.pools[0].clone();
        pool.jvm_options = Some(api::kafka::JvmOptions {
            java_system_properties: Some(vec![api::kafka::SystemProperty {
                name: Some("a".into()),
                value: Some("it's $HOME".into()),
            }]),
            ..api::kafka::JvmOptions::default()
        });
        let set = build_statefulset(&model, &pool);
        let pod = set.spec.unwrap().template.spec.unwrap();
        assert!(
            script(&pod).contains(r"-Dlog4j2.configurationFile=/opt/kafka/custom-config/log4j2.properties '-Da=it'\''s $HOME' -cp"),
            "{}",
            script(&pod)
        );
    }

    #[test]
    fn ephemeral_pool_uses_an_empty_dir() {
        let model = example_model("ephemeral-single-node");
        let set = build_statefulset(&model, &model.pools[0]);
        let spec = set.spec.unwrap();
        assert!(spec.volume_claim_templates.is_none());
        let volumes = spec.template.spec.unwrap().volumes.unwrap();
        assert!(volumes[0].empty_dir.is_some());
    }

    #[test]
    fn pods_are_restricted_and_write_only_to_volumes() {
        let model = example_model("ephemeral-single-node");
        let pool = &model.pools[0];
        let pod = build_pod_spec(&model, pool);
        assert_eq!(pod.automount_service_account_token, Some(false));
        let context = pod.security_context.unwrap();
        assert_eq!(context.run_as_non_root, Some(true));
        assert_eq!(context.run_as_user, Some(1000));
        assert_eq!(context.fs_group, Some(1000));
        assert_eq!(context.seccomp_profile.unwrap().type_, "RuntimeDefault");
        let container = &pod.containers[0];
        let context = container.security_context.as_ref().unwrap();
        assert_eq!(context.allow_privilege_escalation, Some(false));
        assert_eq!(context.read_only_root_filesystem, Some(true));
        assert_eq!(
            context.capabilities.as_ref().unwrap().drop.as_deref(),
            Some(&["ALL".to_string()][..])
        );
        let mounts = container.volume_mounts.as_ref().unwrap();
        assert!(mounts.iter().any(|mount| mount.mount_path == "/tmp"));
    }

    #[test]
    fn a_templates_security_context_is_applied_over_the_defaults() {
        let mut model = example_model("ephemeral-single-node");
        model.pools[0].template.pod_security = Some(PodSecurityContext {
            run_as_user: Some(2000),
            ..PodSecurityContext::default()
        });
        let pod = build_pod_spec(&model, &model.pools[0]);
        let context = pod.security_context.unwrap();
        assert_eq!(context.run_as_user, Some(2000));
        assert_eq!(context.run_as_non_root, Some(true));
        assert_eq!(context.fs_group, Some(1000));
    }

    #[test]
    fn a_templates_scheduling_and_metadata_reach_the_pods_and_the_operators_labels_win() {
        let mut model = example_model("ephemeral-single-node");
        let template = &mut model.pools[0].template;
        template.priority_class_name = Some("kafka-high".into());
        template.termination_grace_period_seconds = Some(120);
        template.node_selector = Some(BTreeMap::from([("disk".into(), "ssd".into())]));
        template.labels = Some(BTreeMap::from([
            ("team".into(), "payments".into()),
            ("strimzi.io/cluster".into(), "someone-else".into()),
        ]));
        template.annotations = Some(BTreeMap::from([("owner".into(), "ops".into())]));
        let set = build_statefulset(&model, &model.pools[0]);
        let pod = set.spec.unwrap().template;
        let metadata = pod.metadata.unwrap();
        let labels = metadata.labels.unwrap();
        assert_eq!(labels["team"], "payments");
        assert_eq!(labels["strimzi.io/cluster"], model.cluster);
        assert_eq!(metadata.annotations.unwrap()["owner"], "ops");
        let spec = pod.spec.unwrap();
        assert_eq!(spec.priority_class_name.as_deref(), Some("kafka-high"));
        assert_eq!(spec.termination_grace_period_seconds, Some(120));
        assert_eq!(spec.node_selector.unwrap()["disk"], "ssd");
    }

    #[test]
    fn metrics_run_the_exporter_agent_on_the_users_rules() {
        let mut model = example_model("ephemeral-single-node");
        assert!(!script(&build_pod_spec(&model, &model.pools[0])).contains("javaagent"));
        model.metrics = Some(Metrics::JmxExporter(
            crate::assembly::config_map_key::ConfigMapKey {
                config_map: "kafka-metrics".into(),
                key: "rules.yml".into(),
            },
        ));
        let pod = build_pod_spec(&model, &model.pools[0]);
        let script = script(&pod);
        assert!(script.contains(
            r#"agent="-javaagent:$agent_jar=9404:/opt/kafka/metrics/metrics-config.yml""#
        ));
        assert!(script.contains(r#" "$agent" -cp "#), "{script}");
        let volume = pod
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == "metrics-config");
        let source = volume.unwrap().config_map.as_ref().unwrap();
        assert_eq!(source.name, "kafka-metrics");
        assert_eq!(source.items.as_ref().unwrap()[0].key, "rules.yml");
        let ports = pod.containers[0].ports.as_ref().unwrap();
        assert!(ports.iter().any(|p| p.container_port == 9404));
    }

    #[test]
    fn the_metrics_reporter_needs_its_jar_and_no_agent() {
        let mut model = example_model("ephemeral-single-node");
        model.metrics = Some(Metrics::Reporter {
            allow_list: vec![".*".into()],
        });
        let pod = build_pod_spec(&model, &model.pools[0]);
        let script = script(&pod);
        assert!(script.contains("metrics-reporter-*.jar"), "{script}");
        assert!(!script.contains("-javaagent:"), "{script}");
        assert_eq!(
            script.matches(r#" -cp "$classpath" "#).count(),
            2,
            "{script}"
        );
        assert!(
            !pod.volumes
                .iter()
                .flatten()
                .any(|v| v.name == "metrics-config")
        );
        let ports = pod.containers[0].ports.as_ref().unwrap();
        assert!(ports.iter().any(|p| p.container_port == 9404));
    }

    #[test]
    fn an_external_logging_file_is_mounted_where_the_jvm_reads_it() {
        let mut model = example_model("ephemeral-single-node");
        model.logging = Logging::External(crate::assembly::config_map_key::ConfigMapKey {
            config_map: "my-logging".into(),
            key: "kafka-log4j2.properties".into(),
        });
        let pod = build_pod_spec(&model, &model.pools[0]);
        assert!(
            script(&pod)
                .contains("-Dlog4j2.configurationFile=/opt/kafka/custom-logging/log4j2.properties"),
            "{}",
            script(&pod)
        );
        let volume = pod
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == "logging-config");
        let source = volume.unwrap().config_map.as_ref().unwrap();
        assert_eq!(source.name, "my-logging");
        let item = &source.items.as_ref().unwrap()[0];
        assert_eq!(
            (item.key.as_str(), item.path.as_str()),
            ("kafka-log4j2.properties", "log4j2.properties")
        );
        let mounts = pod.containers[0].volume_mounts.iter().flatten();
        let mount = mounts
            .into_iter()
            .find(|m| m.name == "logging-config")
            .unwrap();
        assert_eq!(mount.mount_path, "/opt/kafka/custom-logging");
    }
}
