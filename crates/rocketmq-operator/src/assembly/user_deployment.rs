//! The Deployment a user declares for a stateless RocketMQ server (a Console's
//! `consoleDeployment`, a Proxy's `proxyDeployment`): what the operator takes of it, as upstream
//! takes it, and the Deployment and Service it builds from that: the operator's labels and
//! owner, restricted pods, nothing of the user's that reaches beyond the pod (no directory of
//! the node, no Secret of the namespace, unless the operator allows privileged pods).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, LocalObjectReference, PodSpec, PodTemplateSpec, Service, ServicePort,
    ServiceSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use runtime::labels::{self, Labels};

use super::model::owner_reference;
use operator_common::pod_security::{PodPolicy, pod_security_context};
use operator_common::validation::InvalidSpec;

/// Which resource a Deployment is declared by, and how to speak of what it runs.
pub struct Declared<'a> {
    pub kind: &'static str,
    /// The `app.kubernetes.io/name` of its objects.
    pub app: &'static str,
    /// The spec field holding the Deployment, e.g. `spec.consoleDeployment`.
    pub field: &'static str,
    /// What its pods run, in messages: "dashboard".
    pub what: &'static str,
    /// The container's name when the user's has none.
    pub default_container: &'static str,
    /// An image to suggest when none is given.
    pub image_example: &'static str,
    pub name: &'a str,
    pub namespace: &'a str,
    pub uid: &'a str,
}

/// What the operator takes of the user's Deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct UserDeployment {
    pub kind: &'static str,
    pub app: &'static str,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub replicas: i32,
    /// The first container, with only the name, image, pull policy, resources, env, ports and
    /// volume mounts.
    pub container: Container,
    pub pod_labels: BTreeMap<String, String>,
    pub image_pull_secrets: Option<Vec<LocalObjectReference>>,
    /// The pod's volumes, none of them a directory of the node unless the operator allows it.
    pub volumes: Vec<Volume>,
}

/// Reads `deployment` as `declared` takes it; `pods` is what the operator lets pods be given.
pub fn read(
    declared: &Declared<'_>,
    deployment: &Deployment,
    pods: PodPolicy,
) -> Result<UserDeployment, InvalidSpec> {
    let field = declared.field;
    let spec = deployment.spec.clone().unwrap_or_default();
    let replicas = spec.replicas.unwrap_or(1);
    if !(0..=api::MAX_REPLICAS).contains(&replicas) {
        return Err(InvalidSpec::new(
            format!("{field}.spec.replicas"),
            format!(
                "{replicas} {what}s; ask for between 0 and {max}",
                what = declared.what,
                max = api::MAX_REPLICAS
            ),
        ));
    }
    let template = spec.template;
    let pod = template.spec.unwrap_or_default();
    let given = pod.containers.into_iter().next().unwrap_or_default();
    let image = (given.image)
        .filter(|image| !image.trim().is_empty())
        .ok_or_else(|| {
            InvalidSpec::new(
                format!("{field}.spec.template.spec.containers[0].image"),
                format!(
                    "the {}'s image is needed, such as {}",
                    declared.what, declared.image_example
                ),
            )
        })?;
    let volumes = pod.volumes.unwrap_or_default();
    for (index, volume) in volumes.iter().enumerate() {
        let at = format!("{field}.spec.template.spec.volumes[{index}]");
        if volume.host_path.is_some() {
            pods.check(
                &format!("{at}.hostPath"),
                "a hostPath volume (a directory of the node)",
            )?;
        }
        // The pod runs an image of the user's choice: a Secret of the namespace mounted there
        // is the user's to read, whether or not the user may read Secrets.
        let projected_secret = (volume.projected.as_ref()).is_some_and(|projected| {
            projected
                .sources
                .iter()
                .flatten()
                .any(|s| s.secret.is_some())
        });
        if volume.secret.is_some() || projected_secret {
            pods.check(
                &at,
                "a Secret of the namespace in a pod of the user's image",
            )?;
        }
    }
    for (index, var) in given.env.iter().flatten().enumerate() {
        if (var.value_from.as_ref()).is_some_and(|from| from.secret_key_ref.is_some()) {
            pods.check(
                &format!("{field}.spec.template.spec.containers[0].env[{index}]"),
                "a Secret of the namespace in a pod of the user's image",
            )?;
        }
    }
    let container = Container {
        name: Some(given.name)
            .filter(|name| !name.is_empty())
            .unwrap_or(declared.default_container.into()),
        image: Some(image),
        image_pull_policy: given.image_pull_policy,
        resources: given.resources,
        env: given.env,
        ports: given.ports.filter(|ports| !ports.is_empty()),
        volume_mounts: given.volume_mounts,
        ..Container::default()
    };
    Ok(UserDeployment {
        kind: declared.kind,
        app: declared.app,
        name: declared.name.into(),
        namespace: declared.namespace.into(),
        uid: declared.uid.into(),
        replicas,
        container,
        pod_labels: (template.metadata)
            .and_then(|meta| meta.labels)
            .unwrap_or_default(),
        image_pull_secrets: pod.image_pull_secrets,
        volumes,
    })
}

impl UserDeployment {
    pub fn labels(&self) -> Labels {
        Labels::new(self.kind, &self.name, &self.name).with(labels::NAME, self.app)
    }

    fn metadata(&self) -> ObjectMeta {
        ObjectMeta {
            name: Some(self.name.clone()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels().into_map()),
            owner_references: Some(vec![owner_reference(self.kind, &self.name, &self.uid)]),
            ..ObjectMeta::default()
        }
    }

    /// The container's ports, `defaults` when the user lists none.
    pub fn ports_or(&self, defaults: &[(&str, i32)]) -> Vec<ContainerPort> {
        self.container.ports.clone().unwrap_or_else(|| {
            (defaults.iter())
                .map(|(name, number)| ContainerPort {
                    name: Some((*name).into()),
                    container_port: *number,
                    ..ContainerPort::default()
                })
                .collect()
        })
    }

    /// `<name>.<namespace>.svc:<port>`.
    pub fn address(&self, port: i32) -> String {
        format!("{}.{}.svc:{port}", self.name, self.namespace)
    }

    /// The Service `<name>` in front of the pods, on `ports` (name, number).
    pub fn service(&self, ports: &[(&str, i32)]) -> Service {
        Service {
            metadata: self.metadata(),
            spec: Some(ServiceSpec {
                selector: Some(self.labels().selector()),
                ports: Some(
                    (ports.iter())
                        .map(|(name, number)| ServicePort {
                            name: Some((*name).into()),
                            port: *number,
                            target_port: Some(IntOrString::Int(*number)),
                            protocol: Some("TCP".into()),
                            ..ServicePort::default()
                        })
                        .collect(),
                ),
                ..ServiceSpec::default()
            }),
            status: None,
        }
    }

    /// The Deployment `<name>` of `container` (built from the user's) and `volumes` (added to
    /// the user's), its pods restricted, running as `user` whatever the image says.
    pub fn deployment(&self, container: Container, volumes: Vec<Volume>, user: i64) -> Deployment {
        // The user's labels, then the operator's: its selector must select the pods.
        let mut pod_labels = self.pod_labels.clone();
        pod_labels.extend(self.labels().into_map());
        let mut all_volumes = self.volumes.clone();
        all_volumes.extend(volumes);
        Deployment {
            metadata: self.metadata(),
            spec: Some(DeploymentSpec {
                replicas: Some(self.replicas),
                selector: LabelSelector {
                    match_labels: Some(self.labels().selector()),
                    ..LabelSelector::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(pod_labels),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(PodSpec {
                        containers: vec![container],
                        image_pull_secrets: self.image_pull_secrets.clone(),
                        automount_service_account_token: Some(false),
                        security_context: Some(pod_security_context(user, user)),
                        volumes: Some(all_volumes),
                        ..PodSpec::default()
                    }),
                },
                ..DeploymentSpec::default()
            }),
            status: None,
        }
    }

    /// The Service and the Deployment built from it, as JSON: what `brokerage render` prints
    /// and what [`UserDeployment::check_names`] checks.
    pub fn to_json(service: &Service, deployment: &Deployment) -> Vec<serde_json::Value> {
        [
            serde_json::to_value(service),
            serde_json::to_value(deployment),
        ]
        .map(|object| object.expect("Kubernetes objects serialize"))
        .to_vec()
    }

    /// Refuses a name too long for the objects it names.
    pub fn check_names(&self, objects: &[serde_json::Value]) -> Result<(), InvalidSpec> {
        operator_common::object_names::check(objects).map_err(|problem| {
            InvalidSpec::new(
                "metadata.name",
                format!(
                    "{problem}; the {}'s name makes that name, so shorten or change it",
                    self.kind
                ),
            )
        })
    }
}
