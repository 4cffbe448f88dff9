//! What name server and broker pods share: upstream's pod-level settings applied as upstream
//! applies them, the official image's user and directories, and TCP probes.

use std::collections::BTreeMap;

use api::rocketmq::PodSettings;
use k8s_openapi::api::core::v1::{
    Container, EnvVar, EnvVarSource, ObjectFieldSelector, PodSecurityContext, PodSpec, Probe,
    TCPSocketAction, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use runtime::labels::Labels;

/// The home of the official image's user (`rocketmq`, uid and gid 3000), which the servers are
/// told is theirs whatever uid they run as.
pub const HOME: &str = "/home/rocketmq";
/// RocketMQ keeps its logs under `~/logs`.
pub const LOGS_DIR: &str = "/home/rocketmq/logs";

/// The official image runs as gid 3000: volumes are made writable for it unless the user gives
/// their own pod security context.
const ROCKETMQ_GROUP: i64 = 3000;

/// The pod spec of one container with `volumes` (the user's `spec.volumes` are added).
pub fn pod_spec(settings: &PodSettings, container: Container, volumes: Vec<Volume>) -> PodSpec {
    let mut volumes = volumes;
    volumes.extend(settings.volumes.iter().flatten().cloned());
    let host_network = settings.host_network.unwrap_or(false);
    // With hostNetwork, cluster DNS needs ClusterFirstWithHostNet, as upstream sets it.
    let dns_policy = settings
        .dns_policy
        .clone()
        .or_else(|| host_network.then(|| "ClusterFirstWithHostNet".to_string()));
    PodSpec {
        containers: vec![container],
        volumes: Some(volumes),
        host_network: settings.host_network,
        dns_policy,
        image_pull_secrets: settings.image_pull_secrets.clone(),
        affinity: settings.affinity.clone(),
        tolerations: settings.tolerations.clone(),
        node_selector: settings.node_selector.clone(),
        priority_class_name: settings.priority_class_name.clone(),
        service_account_name: settings.service_account_name.clone(),
        security_context: Some(
            settings
                .security_context
                .clone()
                .unwrap_or(PodSecurityContext {
                    fs_group: Some(ROCKETMQ_GROUP),
                    ..PodSecurityContext::default()
                }),
        ),
        ..PodSpec::default()
    }
}

/// A container of `image` with the user's pull policy, resources and security context.
pub fn container(name: &str, image: &str, settings: &PodSettings) -> Container {
    Container {
        name: name.into(),
        image: Some(image.into()),
        image_pull_policy: settings.image_pull_policy.clone(),
        resources: settings.resources.clone(),
        security_context: settings.container_security_context.clone(),
        ..Container::default()
    }
}

/// A pod template's metadata: `labels`, the user's `podAnnotations` and the operator's own.
pub fn template_metadata(
    labels: Labels,
    settings: &PodSettings,
    annotations: BTreeMap<String, String>,
) -> ObjectMeta {
    let mut all = settings.pod_annotations.clone().unwrap_or_default();
    all.extend(annotations);
    ObjectMeta {
        labels: Some(labels.into_map()),
        annotations: Some(all).filter(|all| !all.is_empty()),
        ..ObjectMeta::default()
    }
}

/// Ready (or alive) while `port` accepts connections.
pub fn tcp_probe(port: i32, initial_delay_seconds: i32) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::Int(port),
            ..TCPSocketAction::default()
        }),
        initial_delay_seconds: Some(initial_delay_seconds),
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        failure_threshold: Some(6),
        ..Probe::default()
    }
}

pub fn env_value(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

/// A variable from the downward API, such as the pod's IP.
pub fn env_from_field(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_network_pods_keep_cluster_dns_and_volumes_are_writable_for_the_image_user() {
        let settings = PodSettings {
            host_network: Some(true),
            ..PodSettings::default()
        };
        let pod = pod_spec(&settings, Container::default(), Vec::new());
        assert_eq!(pod.dns_policy.as_deref(), Some("ClusterFirstWithHostNet"));
        assert_eq!(pod.security_context.unwrap().fs_group, Some(3000));

        let settings = PodSettings {
            host_network: Some(true),
            dns_policy: Some("ClusterFirst".into()),
            security_context: Some(PodSecurityContext {
                run_as_user: Some(0),
                ..PodSecurityContext::default()
            }),
            pod_annotations: Some(BTreeMap::from([("a".to_string(), "b".to_string())])),
            ..PodSettings::default()
        };
        let pod = pod_spec(&settings, Container::default(), Vec::new());
        assert_eq!(pod.dns_policy.as_deref(), Some("ClusterFirst"));
        assert_eq!(pod.security_context.unwrap().fs_group, None);
        let labels = Labels::new("Broker", "b", "b-0-master");
        let ours = BTreeMap::from([("c".to_string(), "d".to_string())]);
        let metadata = template_metadata(labels, &settings, ours);
        assert_eq!(metadata.annotations.unwrap().len(), 2);
    }
}
