//! What name server and broker pods share: upstream's pod-level settings applied as upstream
//! applies them, the official image's user and directories, and TCP probes.

use std::collections::BTreeMap;

use api::rocketmq::{PodSettings, StorageMode};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource, ObjectFieldSelector,
    PodSpec, Probe, SecretKeySelector, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use runtime::labels::Labels;

use operator_common::pod_security::{
    PodPolicy, container_security_context, overlay, pod_security_context,
};
use operator_common::validation::InvalidSpec;

/// The home of the official image's user (`rocketmq`, uid and gid 3000), which the servers are
/// told is theirs whatever uid they run as.
pub const HOME: &str = "/home/rocketmq";
/// RocketMQ keeps its logs under `~/logs`.
pub const LOGS_DIR: &str = "/home/rocketmq/logs";

/// The official image's user and group (`rocketmq`, 3000): the pods run as it, and volumes are
/// made writable for its group, unless the spec's security context says otherwise.
const ROCKETMQ_USER: i64 = 3000;

/// Where the JVM writes its temporary files (performance data, Netty's native library): the
/// root filesystem is read-only.
const TMP_DIR: &str = "/tmp";

/// Refuses what would give the pods rights beyond their own, unless `policy` allows it: the
/// node's network or directories, a ServiceAccount of the spec's choice, a privileged container.
pub fn check_pod_settings(settings: &PodSettings, policy: PodPolicy) -> Result<(), InvalidSpec> {
    if settings.host_network == Some(true) {
        policy.check("spec.hostNetwork", "the node's network (hostNetwork: true)")?;
    }
    if settings.storage_mode == Some(StorageMode::HostPath) {
        policy.check(
            "spec.storageMode",
            "storageMode HostPath (a directory of the node)",
        )?;
    }
    for (index, volume) in settings.volumes.iter().flatten().enumerate() {
        if volume.host_path.is_some() {
            policy.check(
                &format!("spec.volumes[{index}].hostPath"),
                "a hostPath volume (a directory of the node)",
            )?;
        }
    }
    if let Some(account) = &settings.service_account_name {
        policy.check(
            "spec.serviceAccountName",
            &format!("the ServiceAccount {account} (and its token)"),
        )?;
    }
    policy.check_pod("spec.securityContext", settings.security_context.as_ref())?;
    policy.check_container(
        "spec.containerSecurityContext",
        settings.container_security_context.as_ref(),
    )
}

/// A volume for `/tmp` and its mount: the root filesystem is read-only.
pub fn tmp_volume() -> (VolumeMount, Volume) {
    let mount = VolumeMount {
        name: "tmp".into(),
        mount_path: TMP_DIR.into(),
        ..VolumeMount::default()
    };
    let volume = Volume {
        name: "tmp".into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    };
    (mount, volume)
}

/// The pod spec of one container with `volumes` (the user's `spec.volumes` are added).
pub fn pod_spec(settings: &PodSettings, container: Container, volumes: Vec<Volume>) -> PodSpec {
    let mut container = container;
    let (mount, volume) = tmp_volume();
    container.volume_mounts.get_or_insert_default().push(mount);
    let mut volumes = volumes;
    volumes.push(volume);
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
        // Name servers and brokers never call Kubernetes; a ServiceAccount the spec names
        // (allowed by the operator's flag) is there to be used.
        automount_service_account_token: settings.service_account_name.is_none().then_some(false),
        security_context: Some(overlay(
            pod_security_context(ROCKETMQ_USER, ROCKETMQ_USER),
            settings.security_context.as_ref(),
        )),
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
        security_context: Some(overlay(
            container_security_context(),
            settings.container_security_context.as_ref(),
        )),
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

pub fn container_port(name: &str, number: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: number,
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    }
}

pub fn env_value(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

/// A variable from `key` of the Secret `secret`.
pub fn env_from_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                ..SecretKeySelector::default()
            }),
            ..EnvVarSource::default()
        }),
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
    use k8s_openapi::api::core::v1::{PodSecurityContext, SecurityContext};

    #[test]
    fn host_network_pods_keep_cluster_dns_and_the_users_security_context_wins() {
        let settings = PodSettings {
            host_network: Some(true),
            ..PodSettings::default()
        };
        let pod = pod_spec(&settings, Container::default(), Vec::new());
        assert_eq!(pod.dns_policy.as_deref(), Some("ClusterFirstWithHostNet"));
        assert_eq!(pod.security_context.unwrap().fs_group, Some(3000));
        assert_eq!(pod.automount_service_account_token, Some(false));

        let settings = PodSettings {
            host_network: Some(true),
            dns_policy: Some("ClusterFirst".into()),
            security_context: Some(PodSecurityContext {
                run_as_user: Some(4000),
                ..PodSecurityContext::default()
            }),
            pod_annotations: Some(BTreeMap::from([("a".to_string(), "b".to_string())])),
            ..PodSettings::default()
        };
        let pod = pod_spec(&settings, Container::default(), Vec::new());
        assert_eq!(pod.dns_policy.as_deref(), Some("ClusterFirst"));
        let context = pod.security_context.unwrap();
        assert_eq!(context.run_as_user, Some(4000));
        assert_eq!(context.run_as_non_root, Some(true));
        let labels = Labels::new("Broker", "b", "b-0-master");
        let ours = BTreeMap::from([("c".to_string(), "d".to_string())]);
        let metadata = template_metadata(labels, &settings, ours);
        assert_eq!(metadata.annotations.unwrap().len(), 2);
    }

    #[test]
    fn pods_are_restricted_and_write_only_to_volumes() {
        let server = container("broker", "image", &PodSettings::default());
        let pod = pod_spec(&PodSettings::default(), server, Vec::new());
        let context = pod.containers[0].security_context.as_ref().unwrap();
        assert_eq!(context.read_only_root_filesystem, Some(true));
        assert_eq!(context.allow_privilege_escalation, Some(false));
        let mounts = pod.containers[0].volume_mounts.as_ref().unwrap();
        assert!(mounts.iter().any(|mount| mount.mount_path == "/tmp"));
        let pod_context = pod.security_context.unwrap();
        assert_eq!(pod_context.run_as_user, Some(3000));
        assert_eq!(pod_context.seccomp_profile.unwrap().type_, "RuntimeDefault");
    }

    #[test]
    fn privileged_pod_settings_need_the_operators_flag() {
        let refused = [
            (
                PodSettings {
                    security_context: Some(PodSecurityContext {
                        run_as_user: Some(0),
                        ..PodSecurityContext::default()
                    }),
                    ..PodSettings::default()
                },
                "spec.securityContext.runAsUser",
            ),
            (
                PodSettings {
                    host_network: Some(true),
                    ..PodSettings::default()
                },
                "spec.hostNetwork",
            ),
            (
                PodSettings {
                    storage_mode: Some(StorageMode::HostPath),
                    host_path: Some("/".into()),
                    ..PodSettings::default()
                },
                "spec.storageMode",
            ),
            (
                PodSettings {
                    volumes: Some(vec![Volume {
                        name: "root".into(),
                        host_path: Some(k8s_openapi::api::core::v1::HostPathVolumeSource {
                            path: "/".into(),
                            type_: None,
                        }),
                        ..Volume::default()
                    }]),
                    ..PodSettings::default()
                },
                "spec.volumes[0].hostPath",
            ),
            (
                PodSettings {
                    service_account_name: Some("cluster-admin".into()),
                    ..PodSettings::default()
                },
                "spec.serviceAccountName",
            ),
            (
                PodSettings {
                    container_security_context: Some(SecurityContext {
                        privileged: Some(true),
                        ..SecurityContext::default()
                    }),
                    ..PodSettings::default()
                },
                "spec.containerSecurityContext.privileged",
            ),
        ];
        let allowed = PodPolicy {
            allow_privileged_pods: true,
        };
        for (settings, field) in refused {
            let error = check_pod_settings(&settings, PodPolicy::default()).unwrap_err();
            assert_eq!(error.field, field);
            assert!(error.message.contains("--allow-privileged-pods"), "{error}");
            assert!(check_pod_settings(&settings, allowed).is_ok());
        }
        let settings = PodSettings {
            service_account_name: Some("mine".into()),
            ..PodSettings::default()
        };
        let pod = pod_spec(&settings, Container::default(), Vec::new());
        assert_eq!(pod.automount_service_account_token, None);
    }
}
