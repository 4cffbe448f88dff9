//! One StatefulSet of one pod per broker, as upstream runs them. The operator decides when each
//! pod restarts (`OnDelete`): the pod template carries the hash of everything a restart would
//! change, which leaves out the name servers, since those are updated live.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, EmptyDirVolumeSource, EnvVar, PodTemplateSpec, SecretVolumeSource,
    Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::annotations::{CONFIGURATION_HASH, NAME_SERVERS};
use super::broker_conf::{
    ACCESS_KEY_PLACEHOLDER, BROKER_CONF, POD_IP_PLACEHOLDER, SECRET_KEY_PLACEHOLDER, STORE_DIR,
    build_broker_conf, without_name_servers,
};
use super::heap::with_heap;
use super::jvm::{Server, run_java};
use super::model::{BrokerModel, Node};
use super::names;
use super::pod::{
    LOGS_DIR, container, container_port, env_from_field, env_from_secret, env_value, pod_spec,
    tcp_probe,
};
use super::tls::TLS_DIR;
use operator_common::content_hash::sha256_hex;

/// The container's name, as upstream names it.
pub const CONTAINER: &str = "broker";
/// Upstream's variable for the name-server list; `namesrvAddr` in `broker.conf` takes
/// precedence, so a stale value here after a live update is harmless.
pub const NAME_SERVERS_ENV: &str = "NAMESRV_ADDR";
/// The generated `broker.conf`, as mounted from the ConfigMap.
pub const CONFIG_DIR: &str = "/home/rocketmq/brokerage/config";
/// The file the broker runs on, with the placeholders filled in: in memory, since it holds the
/// admin credentials.
pub const RUN_DIR: &str = "/home/rocketmq/brokerage/run";
const ACCESS_KEY_ENV: &str = "BROKERAGE_ADMIN_ACCESS_KEY";
const SECRET_KEY_ENV: &str = "BROKERAGE_ADMIN_SECRET_KEY";

/// The StatefulSet of `node`.
pub fn build_statefulset(model: &BrokerModel, node: &Node) -> StatefulSet {
    let name = model.statefulset_name(node);
    let labels = model.node_labels(node);
    let mut template = PodTemplateSpec {
        metadata: Some(super::pod::template_metadata(
            labels.clone(),
            &model.pod,
            BTreeMap::from([(NAME_SERVERS.to_string(), model.name_servers.clone())]),
        )),
        spec: Some(build_pod_spec(model, node)),
    };
    let hash = configuration_hash(&build_broker_conf(model, node), &template);
    template
        .metadata
        .get_or_insert_default()
        .annotations
        .get_or_insert_default()
        .insert(CONFIGURATION_HASH.into(), hash);
    StatefulSet {
        metadata: model.metadata(&name, labels.clone()),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(labels.selector()),
                ..LabelSelector::default()
            },
            service_name: Some(names::brokers_service(&model.cluster)),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("OnDelete".into()),
                ..StatefulSetUpdateStrategy::default()
            }),
            // Claims hold messages: the operator never deletes them.
            persistent_volume_claim_retention_policy: Some(
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some("Retain".into()),
                    when_scaled: Some("Retain".into()),
                },
            ),
            volume_claim_templates: model.storage.claim_templates(),
            template,
            ..StatefulSetSpec::default()
        }),
        status: None,
    }
}

/// Hash of what a restart would change: `broker.conf` and the pod template, both without the
/// name servers.
fn configuration_hash(broker_conf: &str, template: &PodTemplateSpec) -> String {
    let mut template = template.clone();
    if let Some(annotations) = template
        .metadata
        .as_mut()
        .and_then(|meta| meta.annotations.as_mut())
    {
        annotations.remove(NAME_SERVERS);
        annotations.remove(CONFIGURATION_HASH);
    }
    for container in template
        .spec
        .iter_mut()
        .flat_map(|spec| spec.containers.iter_mut())
    {
        if let Some(env) = container.env.as_mut() {
            env.retain(|var| var.name != NAME_SERVERS_ENV);
        }
    }
    let template = serde_json::to_string(&template).expect("a pod template serializes");
    sha256_hex(&format!(
        "{}\n{template}",
        without_name_servers(broker_conf)
    ))
}

/// Fills in the placeholders of the mounted `broker.conf` (the credentials come from the Secret
/// through the environment, so they are not in the ConfigMap), then runs the broker on it.
fn start_script() -> String {
    format!(
        r#"set -euf
sed -e "s|{POD_IP_PLACEHOLDER}|${{POD_IP}}|g" \
    -e "s|{ACCESS_KEY_PLACEHOLDER}|${{{ACCESS_KEY_ENV}}}|g" \
    -e "s|{SECRET_KEY_PLACEHOLDER}|${{{SECRET_KEY_ENV}}}|g" \
    {CONFIG_DIR}/{BROKER_CONF} > {RUN_DIR}/{BROKER_CONF}
{}"#,
        run_java(Server::Broker, &format!("-c {RUN_DIR}/{BROKER_CONF}"))
    )
}

fn build_pod_spec(model: &BrokerModel, node: &Node) -> k8s_openapi::api::core::v1::PodSpec {
    let statefulset = model.statefulset_name(node);
    let storage = &model.storage;
    let mut volumes = storage.volumes();
    volumes.push(Volume {
        name: "config".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: names::broker_config_map(&statefulset),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    });
    volumes.push(Volume {
        name: "tls".into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(names::broker_certificate_secret(&model.cluster)),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    });
    volumes.push(Volume {
        name: "run".into(),
        empty_dir: Some(EmptyDirVolumeSource {
            medium: Some("Memory".into()),
            ..EmptyDirVolumeSource::default()
        }),
        ..Volume::default()
    });
    let mounts = vec![
        storage.mount(STORE_DIR, &format!("store/{statefulset}")),
        storage.mount(LOGS_DIR, &format!("logs/{statefulset}")),
        VolumeMount {
            name: "config".into(),
            mount_path: CONFIG_DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
        VolumeMount {
            name: "tls".into(),
            mount_path: TLS_DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
        VolumeMount {
            name: "run".into(),
            mount_path: RUN_DIR.into(),
            ..VolumeMount::default()
        },
    ];
    let mut broker = container(CONTAINER, &model.image, &model.pod);
    broker.command = Some(vec!["sh".into(), "-c".into(), start_script()]);
    broker.env = Some(env(model, node));
    broker.ports = Some(vec![
        container_port("vip", names::BROKER_FAST_PORT),
        container_port("main", names::BROKER_PORT),
        container_port("ha", names::BROKER_HA_PORT),
    ]);
    broker.volume_mounts = Some(mounts);
    broker.readiness_probe = Some(tcp_probe(names::BROKER_PORT, 10));
    broker.liveness_probe = Some(tcp_probe(names::BROKER_PORT, 60));
    broker.startup_probe = Some(operator_common::probes::startup_probe(names::BROKER_PORT));
    pod_spec(&model.pod, broker, volumes)
}

/// Upstream's variables, the pod's IP and the admin credentials, then the user's `env` with the
/// heap flags.
fn env(model: &BrokerModel, node: &Node) -> Vec<EnvVar> {
    let secret = names::admin_credentials_secret(&model.cluster);
    let from_secret = |name: &str, key: &str| env_from_secret(name, &secret, key);
    let mut env = vec![
        env_value(NAME_SERVERS_ENV, model.name_servers.clone()),
        env_value("BROKER_ID", node.replica.to_string()),
        env_value("BROKER_CLUSTER_NAME", model.cluster.clone()),
        env_value(
            "BROKER_NAME",
            names::broker_name(&model.cluster, node.group),
        ),
        env_from_field("POD_IP", "status.podIP"),
        from_secret(ACCESS_KEY_ENV, names::ACCESS_KEY),
        from_secret(SECRET_KEY_ENV, names::SECRET_KEY),
    ];
    let user_env = model.pod.env.clone().unwrap_or_default();
    env.extend(with_heap(
        &user_env,
        model.pod.resources.as_ref(),
        Server::Broker,
    ));
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_model;

    fn replica() -> Node {
        Node {
            group: 1,
            replica: 1,
        }
    }

    fn env_value_of(set: &StatefulSet, name: &str) -> Option<String> {
        let pod = set.spec.as_ref()?.template.spec.as_ref()?;
        pod.containers[0]
            .env
            .iter()
            .flatten()
            .find(|var| var.name == name)?
            .value
            .clone()
    }

    #[test]
    fn a_replica_runs_alone_in_its_statefulset_with_upstreams_environment() {
        let model = example_model();
        let set = build_statefulset(&model, &replica());
        assert_eq!(set.metadata.name.as_deref(), Some("broker-1-replica-1"));
        let spec = set.spec.as_ref().unwrap();
        assert_eq!(spec.replicas, Some(1));
        assert_eq!(spec.service_name.as_deref(), Some("broker-brokers"));
        assert_eq!(
            spec.update_strategy.as_ref().unwrap().type_.as_deref(),
            Some("OnDelete")
        );
        let retention = spec
            .persistent_volume_claim_retention_policy
            .as_ref()
            .unwrap();
        assert_eq!(retention.when_scaled.as_deref(), Some("Retain"));
        assert_eq!(
            env_value_of(&set, "NAMESRV_ADDR").as_deref(),
            Some("name-service-0.name-service.rocketmq.svc:9876")
        );
        assert_eq!(env_value_of(&set, "BROKER_ID").as_deref(), Some("1"));
        assert_eq!(
            env_value_of(&set, "BROKER_CLUSTER_NAME").as_deref(),
            Some("broker")
        );
        assert_eq!(
            env_value_of(&set, "BROKER_NAME").as_deref(),
            Some("broker-1")
        );
        // The example's BROKER_MEM is honoured through JAVA_OPT_EXT, after it in the list.
        assert_eq!(
            env_value_of(&set, "JAVA_OPT_EXT").as_deref(),
            Some("$(BROKER_MEM)")
        );
        let pod = spec.template.spec.as_ref().unwrap();
        let names: Vec<&str> = pod.containers[0]
            .env
            .iter()
            .flatten()
            .map(|var| var.name.as_str())
            .collect();
        let position = |name| names.iter().position(|n| *n == name).unwrap();
        assert!(position("BROKER_MEM") < position("JAVA_OPT_EXT"));
        let ip = &pod.containers[0].env.as_ref().unwrap()[position("POD_IP")];
        let field = ip.value_from.as_ref().unwrap().field_ref.as_ref().unwrap();
        assert_eq!(field.field_path, "status.podIP");

        let labels = set.spec.as_ref().unwrap().selector.match_labels.as_ref();
        assert_eq!(labels.unwrap()["strimzi.io/name"], "broker-1-replica-1");
        let template_labels = spec.template.metadata.as_ref().unwrap().labels.as_ref();
        assert_eq!(template_labels.unwrap()["app"], "broker");
        assert_eq!(template_labels.unwrap()["broker_cr"], "broker");
    }

    #[test]
    fn storage_logs_and_config_are_mounted_per_broker() {
        let model = example_model();
        let set = build_statefulset(&model, &replica());
        let pod = set.spec.unwrap().template.spec.unwrap();
        let mounts: Vec<(String, Option<String>)> = pod.containers[0]
            .volume_mounts
            .iter()
            .flatten()
            .map(|mount| (mount.mount_path.clone(), mount.sub_path.clone()))
            .collect();
        assert_eq!(
            mounts[..2],
            [
                (
                    "/home/rocketmq/store".to_string(),
                    Some("store/broker-1-replica-1".to_string())
                ),
                (
                    "/home/rocketmq/logs".to_string(),
                    Some("logs/broker-1-replica-1".to_string())
                ),
            ]
        );
        let volumes = pod.volumes.unwrap();
        assert_eq!(volumes[0].name, "broker-storage");
        assert!(volumes[0].empty_dir.is_some());
        let config = volumes
            .iter()
            .find(|volume| volume.name == "config")
            .unwrap();
        assert_eq!(
            config.config_map.as_ref().unwrap().name,
            "broker-1-replica-1-config"
        );
        let script = &pod.containers[0].command.as_ref().unwrap()[2];
        assert!(script.contains("${BROKERAGE_ADMIN_ACCESS_KEY}"), "{script}");
        assert!(script.starts_with("set -euf\n"), "{script}");
        assert!(
            script.contains("org.apache.rocketmq.broker.BrokerStartup -c /home/rocketmq/brokerage/run/broker.conf\n"),
            "{script}"
        );
    }

    #[test]
    fn name_servers_do_not_change_the_hash_but_other_settings_do() {
        let model = example_model();
        let hash = |model: &BrokerModel| {
            let set = build_statefulset(model, &Node::master(0));
            let template = set.spec.unwrap().template;
            template.metadata.unwrap().annotations.unwrap()[CONFIGURATION_HASH].clone()
        };
        let mut moved = model.clone();
        moved.name_servers = "elsewhere:9876".into();
        assert_eq!(hash(&model), hash(&moved));
        let moved_set = build_statefulset(&moved, &Node::master(0));
        assert_eq!(
            env_value_of(&moved_set, "NAMESRV_ADDR").as_deref(),
            Some("elsewhere:9876")
        );

        let mut configured = model.clone();
        configured
            .user_config
            .insert("fileReservedTime".into(), "24".into());
        assert_ne!(hash(&model), hash(&configured));
        let mut reimaged = model.clone();
        reimaged.image = "apache/rocketmq:5.3.2".into();
        assert_ne!(hash(&model), hash(&reimaged));
    }
}
