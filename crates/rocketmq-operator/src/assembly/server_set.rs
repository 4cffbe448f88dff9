//! What a NameService and a Controller share: `size` alike servers in one StatefulSet named
//! after the resource, behind a headless Service, so each has a stable DNS name. Their pods need
//! no order a person must keep (name servers keep no state; controllers replicate theirs among
//! themselves), so the StatefulSet rolls them itself, one at a time.

use api::rocketmq::PodSettings;
use k8s_openapi::api::apps::v1::{
    StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
};
use k8s_openapi::api::core::v1::{Container, PodTemplateSpec, Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::{Resource, ResourceExt};
use runtime::labels::{self, Labels};

use super::model::{DEFAULT_IMAGE, UPSTREAM_APP_LABEL, owner_reference};
use super::pod::{check_pod_settings, pod_spec, template_metadata};
use super::storage::{Storage, storage};
use operator_common::object_names;
use operator_common::pod_security::PodPolicy;
use operator_common::validation::InvalidSpec;

/// What the two kinds differ in, besides their containers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetKind {
    /// The custom resource's kind.
    pub kind: &'static str,
    /// `app.kubernetes.io/name` of every object.
    pub app: &'static str,
    /// Upstream's pod labels: `app: <upstream_app>` and `<upstream_label>: <name>`, which users'
    /// own Services select on.
    pub upstream_app: &'static str,
    pub upstream_label: &'static str,
    /// One server, in messages.
    pub server: &'static str,
    /// What the resource's first status says it waits for.
    pub creating: &'static str,
    /// The data volume's name when the spec names none.
    pub default_volume: &'static str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServerSet {
    pub kind: SetKind,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub size: i32,
    pub image: String,
    pub storage: Storage,
    pub pod: PodSettings,
}

/// The objects of a set, in apply order: the Services before the StatefulSet that names them.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerSetDesired {
    pub services: Vec<Service>,
    pub statefulset: StatefulSet,
}

impl ServerSetDesired {
    pub fn to_json(&self) -> Vec<serde_json::Value> {
        let services = self.services.iter().map(serde_json::to_value);
        services
            .chain([serde_json::to_value(&self.statefulset)])
            .map(|value| value.expect("Kubernetes objects serialize"))
            .collect()
    }
}

/// The set `resource` asks for, or why not; `pods` is what the operator lets pods be given.
/// `build` makes its objects, whose names are checked here.
pub fn validate<K: Resource>(
    kind: SetKind,
    resource: &K,
    (size, image, settings): (i32, Option<&String>, &PodSettings),
    pods: PodPolicy,
    build: fn(&ServerSet) -> ServerSetDesired,
) -> Result<ServerSet, InvalidSpec> {
    // The schema caps `size`; this holds for resources stored before it did.
    if size > api::MAX_REPLICAS {
        return Err(InvalidSpec::new(
            "spec.size",
            format!(
                "{size} {}s is more than the {} a {} may have; a few are enough",
                kind.server,
                api::MAX_REPLICAS,
                kind.kind
            ),
        ));
    }
    check_pod_settings(settings, pods)?;
    let set = ServerSet {
        kind,
        name: resource.name_any(),
        namespace: resource.namespace().unwrap_or_default(),
        uid: resource.uid().unwrap_or_default(),
        size: size.max(0),
        image: image.cloned().unwrap_or_else(|| DEFAULT_IMAGE.to_string()),
        storage: storage(settings, kind.default_volume)?,
        pod: settings.clone(),
    };
    object_names::check(&build(&set).to_json()).map_err(|problem| {
        InvalidSpec::new(
            "metadata.name",
            format!(
                "{problem}; the {}'s name makes that name, so shorten or change it",
                kind.kind
            ),
        )
    })?;
    Ok(set)
}

impl ServerSet {
    pub fn labels(&self) -> Labels {
        Labels::new(self.kind.kind, &self.name, &self.name).with(labels::NAME, self.kind.app)
    }

    pub fn metadata(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels().into_map()),
            owner_references: Some(vec![owner_reference(self.kind.kind, &self.name, &self.uid)]),
            ..ObjectMeta::default()
        }
    }

    /// A Service named `name` selecting every server; headless (each server by its own name,
    /// resolvable while the servers start, since they find each other or are found by brokers
    /// then) or one virtual address.
    pub fn service(&self, name: &str, headless: bool, ports: Vec<ServicePort>) -> Service {
        Service {
            metadata: self.metadata(name),
            spec: Some(ServiceSpec {
                cluster_ip: headless.then(|| "None".into()),
                publish_not_ready_addresses: headless.then_some(true),
                selector: Some(self.labels().selector()),
                ports: Some(ports),
                ..ServiceSpec::default()
            }),
            status: None,
        }
    }

    /// The StatefulSet `<name>` of `server`, its pods named by the headless Service `service`.
    pub fn statefulset(&self, service: &str, server: Container) -> StatefulSet {
        let pod_labels = self
            .labels()
            .with(UPSTREAM_APP_LABEL, self.kind.upstream_app)
            .with(self.kind.upstream_label, &self.name);
        StatefulSet {
            metadata: self.metadata(&self.name),
            spec: Some(StatefulSetSpec {
                replicas: Some(self.size),
                selector: LabelSelector {
                    match_labels: Some(self.labels().selector()),
                    ..LabelSelector::default()
                },
                service_name: Some(service.into()),
                // The servers start together: controllers elect a leader once a majority is up.
                pod_management_policy: Some("Parallel".into()),
                persistent_volume_claim_retention_policy: Some(
                    StatefulSetPersistentVolumeClaimRetentionPolicy {
                        when_deleted: Some("Retain".into()),
                        when_scaled: Some("Retain".into()),
                    },
                ),
                volume_claim_templates: self.storage.claim_templates(),
                template: PodTemplateSpec {
                    metadata: Some(template_metadata(pod_labels, &self.pod, Default::default())),
                    spec: Some(pod_spec(&self.pod, server, self.storage.volumes())),
                },
                ..StatefulSetSpec::default()
            }),
            status: None,
        }
    }
}
