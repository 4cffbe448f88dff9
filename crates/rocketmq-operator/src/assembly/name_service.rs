//! A NameService: `size` name servers in one StatefulSet `<name>` behind the headless Service
//! `<name>`, so each has a stable DNS name (see [`names::name_server_addresses`]). Name servers
//! keep no state a restart must respect, so the StatefulSet rolls them itself, one at a time.

use api::rocketmq::{NameService, PodSettings};
use k8s_openapi::api::apps::v1::{
    StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
};
use k8s_openapi::api::core::v1::{ContainerPort, PodTemplateSpec, Service, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::ResourceExt;
use runtime::labels::{self, Labels};

use super::heap::with_heap;
use super::jvm::{Server, run_java};
use super::model::{DEFAULT_IMAGE, UPSTREAM_APP_LABEL, owner_reference};
use super::names;
use super::pod::{
    HOME, LOGS_DIR, check_pod_settings, container, pod_spec, tcp_probe, template_metadata,
};
use super::services::port;
use super::storage::{Storage, storage};
use operator_common::object_names;
use operator_common::pod_security::PodPolicy;
use operator_common::validation::InvalidSpec;

/// The container's name, as upstream names it.
pub const CONTAINER: &str = "name-service";
/// Upstream's pod label naming the NameService, which users' own Services select on.
pub const UPSTREAM_NAME_SERVICE_LABEL: &str = "name_service_cr";

#[derive(Clone, Debug, PartialEq)]
pub struct NameServiceModel {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub size: i32,
    pub image: String,
    pub storage: Storage,
    pub pod: PodSettings,
}

/// `pods` is what the operator lets the pods be given.
pub fn validate(
    name_service: &NameService,
    pods: PodPolicy,
) -> Result<NameServiceModel, InvalidSpec> {
    let spec = &name_service.spec;
    // The schema caps `size`; this holds for NameServices stored before it did.
    if spec.size > api::MAX_REPLICAS {
        return Err(InvalidSpec::new(
            "spec.size",
            format!(
                "{} name servers is more than the {} a NameService may have; a few are enough",
                spec.size,
                api::MAX_REPLICAS
            ),
        ));
    }
    check_pod_settings(&spec.pod, pods)?;
    let model = NameServiceModel {
        name: name_service.name_any(),
        namespace: name_service.namespace().unwrap_or_default(),
        uid: name_service.uid().unwrap_or_default(),
        size: spec.size.max(0),
        image: spec
            .name_service_image
            .clone()
            .unwrap_or_else(|| DEFAULT_IMAGE.to_string()),
        storage: storage(&spec.pod, "namesrv-storage")?,
        pod: spec.pod.clone(),
    };
    object_names::check(&NameServiceDesired::build(&model).to_json()).map_err(|problem| {
        InvalidSpec::new(
            "metadata.name",
            format!("{problem}; the NameService's name makes that name, so shorten or change it"),
        )
    })?;
    Ok(model)
}

impl NameServiceModel {
    pub fn labels(&self) -> Labels {
        Labels::new(
            "NameService",
            &self.name,
            &names::name_service_statefulset(&self.name),
        )
        .with(labels::NAME, "rocketmq-name-server")
    }

    fn metadata(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels().into_map()),
            owner_references: Some(vec![owner_reference("NameService", &self.name, &self.uid)]),
            ..ObjectMeta::default()
        }
    }
}

/// The objects of a NameService, in apply order: the Service before the StatefulSet that names it.
#[derive(Clone, Debug, PartialEq)]
pub struct NameServiceDesired {
    pub service: Service,
    pub statefulset: StatefulSet,
}

impl NameServiceDesired {
    pub fn build(model: &NameServiceModel) -> NameServiceDesired {
        NameServiceDesired {
            service: build_service(model),
            statefulset: build_statefulset(model),
        }
    }

    pub fn to_json(&self) -> Vec<serde_json::Value> {
        [
            serde_json::to_value(&self.service),
            serde_json::to_value(&self.statefulset),
        ]
        .into_iter()
        .map(|value| value.expect("Kubernetes objects serialize"))
        .collect()
    }
}

pub fn build_service(model: &NameServiceModel) -> Service {
    Service {
        metadata: model.metadata(&names::name_service_service(&model.name)),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            // Brokers resolve the names while the name servers start.
            publish_not_ready_addresses: Some(true),
            selector: Some(model.labels().selector()),
            ports: Some(vec![port("main", names::NAME_SERVER_PORT)]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

pub fn build_statefulset(model: &NameServiceModel) -> StatefulSet {
    let labels = model
        .labels()
        .with(UPSTREAM_APP_LABEL, "name_service")
        .with(UPSTREAM_NAME_SERVICE_LABEL, &model.name);
    let mut server = container(CONTAINER, &model.image, &model.pod);
    server.command = Some(vec![
        "sh".into(),
        "-c".into(),
        format!("set -euf\n{}", run_java(Server::NameServer, "")),
    ]);
    let user_env = model.pod.env.clone().unwrap_or_default();
    let env = with_heap(&user_env, model.pod.resources.as_ref(), Server::NameServer);
    server.env = Some(env).filter(|env| !env.is_empty());
    server.ports = Some(vec![ContainerPort {
        name: Some("main".into()),
        container_port: names::NAME_SERVER_PORT,
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    }]);
    // The root filesystem is read-only: a name server's key-value config goes to the volume.
    server.volume_mounts = Some(vec![
        model.storage.mount(LOGS_DIR, "logs"),
        model.storage.mount(&format!("{HOME}/namesrv"), "namesrv"),
    ]);
    server.readiness_probe = Some(tcp_probe(names::NAME_SERVER_PORT, 5));
    server.liveness_probe = Some(tcp_probe(names::NAME_SERVER_PORT, 30));
    server.startup_probe = Some(operator_common::probes::startup_probe(
        names::NAME_SERVER_PORT,
    ));
    StatefulSet {
        metadata: model.metadata(&names::name_service_statefulset(&model.name)),
        spec: Some(StatefulSetSpec {
            replicas: Some(model.size),
            selector: LabelSelector {
                match_labels: Some(model.labels().selector()),
                ..LabelSelector::default()
            },
            service_name: Some(names::name_service_service(&model.name)),
            // Name servers do not need each other to start.
            pod_management_policy: Some("Parallel".into()),
            persistent_volume_claim_retention_policy: Some(
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some("Retain".into()),
                    when_scaled: Some("Retain".into()),
                },
            ),
            volume_claim_templates: model.storage.claim_templates(),
            template: PodTemplateSpec {
                metadata: Some(template_metadata(labels, &model.pod, Default::default())),
                spec: Some(pod_spec(&model.pod, server, model.storage.volumes())),
            },
            ..StatefulSetSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_name_service;

    #[test]
    fn the_issue_example_becomes_a_statefulset_behind_a_headless_service() {
        let model = validate(&example_name_service(), PodPolicy::default()).unwrap();
        let desired = NameServiceDesired::build(&model);
        assert_eq!(
            desired.service.metadata.name.as_deref(),
            Some("name-service")
        );
        let service = desired.service.spec.unwrap();
        assert_eq!(service.cluster_ip.as_deref(), Some("None"));
        assert_eq!(service.publish_not_ready_addresses, Some(true));
        assert_eq!(service.ports.unwrap()[0].port, 9876);

        let set = desired.statefulset;
        assert_eq!(set.metadata.name.as_deref(), Some("name-service"));
        let spec = set.spec.unwrap();
        assert_eq!(spec.replicas, Some(1));
        assert_eq!(spec.service_name.as_deref(), Some("name-service"));
        assert!(spec.volume_claim_templates.is_none());
        let template_labels = spec.template.metadata.unwrap().labels.unwrap();
        assert_eq!(template_labels["name_service_cr"], "name-service");
        assert_eq!(
            service.selector.unwrap()["strimzi.io/kind"],
            template_labels["strimzi.io/kind"]
        );
        let pod = spec.template.spec.unwrap();
        let server = &pod.containers[0];
        assert_eq!(server.name, "name-service");
        assert_eq!(server.image.as_deref(), Some("apache/rocketmq:5.5.0"));
        assert_eq!(server.image_pull_policy.as_deref(), Some("IfNotPresent"));
        let command = server.command.as_ref().unwrap();
        assert_eq!(command[..2], ["sh", "-c"]);
        assert!(command[2].starts_with("set -euf\n"), "{}", command[2]);
        assert!(
            command[2].ends_with(" org.apache.rocketmq.namesrv.NamesrvStartup\n"),
            "{}",
            command[2]
        );
        // Half the 1024Mi limit.
        let env = server.env.as_ref().unwrap();
        assert_eq!(env[0].name, "JAVA_OPT_EXT");
        assert_eq!(env[0].value.as_deref(), Some("-Xms512m -Xmx512m"));
        let limits = server.resources.as_ref().unwrap().limits.as_ref().unwrap();
        assert_eq!(limits["memory"].0, "1024Mi");
        assert_eq!(pod.dns_policy.as_deref(), Some("ClusterFirst"));
        assert_eq!(pod.host_network, Some(false));
        let volumes = pod.volumes.unwrap();
        assert_eq!(volumes[0].name, "namesrv-storage");
        assert!(volumes[0].empty_dir.is_some());
        assert_eq!(
            server.volume_mounts.as_ref().unwrap()[0].name,
            "namesrv-storage"
        );
    }

    #[test]
    fn more_name_servers_than_the_cap_are_refused() {
        let mut name_service = example_name_service();
        name_service.spec.size = 1_000_000_000;
        let error = validate(&name_service, PodPolicy::default()).unwrap_err();
        assert_eq!(error.field, "spec.size");
        assert!(error.message.contains("more than the 1000"), "{error}");
        name_service.spec.size = 1000;
        assert!(validate(&name_service, PodPolicy::default()).is_ok());
    }

    #[test]
    fn a_name_kubernetes_refuses_for_a_service_is_invalid() {
        let mut name_service = example_name_service();
        name_service.metadata.name = Some("1names".into());
        let error = validate(&name_service, PodPolicy::default()).unwrap_err();
        assert_eq!(error.field, "metadata.name");
        assert!(
            error
                .message
                .starts_with("Service 1names: the name of a Service must start with a letter"),
            "{error}"
        );
        name_service.metadata.name = Some("n".repeat(53));
        let error = validate(&name_service, PodPolicy::default()).unwrap_err();
        assert!(
            error
                .message
                .contains("more than the 52 Kubernetes allows for a StatefulSet"),
            "{error}"
        );
    }
}
