//! A Console: the RocketMQ dashboard as the Deployment `<name>` and the Service `<name>`,
//! pointed at the name servers (`nameServers`, else the NameService of the namespace, by stable
//! DNS names). Of the user's `consoleDeployment` it takes what upstream takes (replicas, the pod
//! template's labels and pull secrets, the first container's name, image, pull policy,
//! resources, env and ports) and builds the rest: restricted pods, a probe, the owner.

use std::collections::BTreeMap;

use api::rocketmq::{Console, NameService};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EmptyDirVolumeSource, EnvVar, LocalObjectReference, PodSpec,
    PodTemplateSpec, Service, ServicePort, ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;
use runtime::labels::{self, Labels};

use super::model::{owner_reference, resolve_name_servers};
use super::pod::{env_value, tcp_probe};
use operator_common::object_names;
use operator_common::pod_security::{container_security_context, pod_security_context};
use operator_common::validation::{InvalidSpec, Warning};

/// The dashboard's port when the container lists none.
pub const DEFAULT_PORT: i32 = 8080;
/// The container's name when the user's has none.
const DEFAULT_CONTAINER: &str = "console";
/// The dashboard runs as a user of no account: whatever the image, never root.
const DASHBOARD_USER: i64 = 3000;
/// The JVM options the dashboard's image reads, where the name servers go as upstream puts them.
const JAVA_OPTS: &str = "JAVA_OPTS";
const NAMESRV_ADDR: &str = "NAMESRV_ADDR";
const FIELD: &str = "spec.consoleDeployment.spec.template.spec.containers[0]";

#[derive(Clone, Debug, PartialEq)]
pub struct ConsoleModel {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub replicas: i32,
    /// The user's container, with only the fields upstream takes.
    pub container: Container,
    pub pod_labels: BTreeMap<String, String>,
    pub image_pull_secrets: Option<Vec<LocalObjectReference>>,
    /// `;`-separated `host:port`.
    pub name_servers: String,
    pub port: i32,
    pub warnings: Vec<Warning>,
}

/// The Console's model; `name_services` are those of its namespace.
pub fn validate(
    console: &Console,
    name_services: &[NameService],
) -> Result<ConsoleModel, InvalidSpec> {
    let namespace = console.namespace().unwrap_or_default();
    let deployment = console
        .spec
        .console_deployment
        .spec
        .clone()
        .unwrap_or_default();
    let replicas = deployment.replicas.unwrap_or(1);
    if !(0..=api::MAX_REPLICAS).contains(&replicas) {
        return Err(InvalidSpec::new(
            "spec.consoleDeployment.spec.replicas",
            format!(
                "{replicas} dashboards; ask for between 0 and {}",
                api::MAX_REPLICAS
            ),
        ));
    }
    let template = deployment.template;
    let pod = template.spec.unwrap_or_default();
    let given = pod.containers.into_iter().next().unwrap_or_default();
    let image = given
        .image
        .filter(|image| !image.trim().is_empty())
        .ok_or_else(|| {
            InvalidSpec::new(
                format!("{FIELD}.image"),
                "the dashboard's image is needed, such as apacherocketmq/rocketmq-dashboard:2.0.0",
            )
        })?;
    let mut warnings = Vec::new();
    let name_servers = resolve_name_servers(
        console.spec.name_servers.as_deref(),
        &namespace,
        name_services,
        &mut warnings,
    )?;
    let ports = given
        .ports
        .filter(|ports| !ports.is_empty())
        .unwrap_or_else(|| {
            vec![ContainerPort {
                name: Some("http".into()),
                container_port: DEFAULT_PORT,
                ..ContainerPort::default()
            }]
        });
    let port = ports[0].container_port;
    let container = Container {
        name: Some(given.name)
            .filter(|name| !name.is_empty())
            .unwrap_or(DEFAULT_CONTAINER.into()),
        image: Some(image),
        image_pull_policy: given.image_pull_policy,
        resources: given.resources,
        env: given.env,
        ports: Some(ports),
        ..Container::default()
    };
    let model = ConsoleModel {
        name: console.name_any(),
        namespace,
        uid: console.uid().unwrap_or_default(),
        replicas,
        container,
        pod_labels: template
            .metadata
            .and_then(|meta| meta.labels)
            .unwrap_or_default(),
        image_pull_secrets: pod.image_pull_secrets,
        name_servers,
        port,
        warnings,
    };
    let objects = [
        serde_json::to_value(build_service(&model)),
        serde_json::to_value(build_deployment(&model)),
    ]
    .map(|object| object.expect("Kubernetes objects serialize"));
    object_names::check(&objects).map_err(|problem| {
        InvalidSpec::new(
            "metadata.name",
            format!("{problem}; the Console's name makes that name, so shorten or change it"),
        )
    })?;
    Ok(model)
}

impl ConsoleModel {
    pub fn labels(&self) -> Labels {
        Labels::new("Console", &self.name, &self.name).with(labels::NAME, "rocketmq-dashboard")
    }

    fn metadata(&self) -> ObjectMeta {
        ObjectMeta {
            name: Some(self.name.clone()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels().into_map()),
            owner_references: Some(vec![owner_reference("Console", &self.name, &self.uid)]),
            ..ObjectMeta::default()
        }
    }

    /// Where the dashboard serves.
    pub fn address(&self) -> String {
        format!("{}.{}.svc:{}", self.name, self.namespace, self.port)
    }
}

pub fn build_service(model: &ConsoleModel) -> Service {
    Service {
        metadata: model.metadata(),
        spec: Some(ServiceSpec {
            selector: Some(model.labels().selector()),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: model.port,
                target_port: Some(IntOrString::Int(model.port)),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

pub fn build_deployment(model: &ConsoleModel) -> Deployment {
    let mut container = model.container.clone();
    container.env = Some(with_name_servers(
        container.env.unwrap_or_default(),
        &model.name_servers,
    ));
    container.security_context = Some(container_security_context());
    container.readiness_probe = Some(tcp_probe(model.port, 10));
    // The dashboard keeps its data under /tmp; the root filesystem is read-only.
    container.volume_mounts = Some(vec![VolumeMount {
        name: "tmp".into(),
        mount_path: "/tmp".into(),
        ..VolumeMount::default()
    }]);
    // The user's labels, then the operator's: its selector must select the pods.
    let mut pod_labels = model.pod_labels.clone();
    pod_labels.extend(model.labels().into_map());
    Deployment {
        metadata: model.metadata(),
        spec: Some(DeploymentSpec {
            replicas: Some(model.replicas),
            selector: LabelSelector {
                match_labels: Some(model.labels().selector()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    image_pull_secrets: model.image_pull_secrets.clone(),
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security_context(DASHBOARD_USER, DASHBOARD_USER)),
                    volumes: Some(vec![Volume {
                        name: "tmp".into(),
                        empty_dir: Some(EmptyDirVolumeSource::default()),
                        ..Volume::default()
                    }]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}

/// The user's env with the name servers where the dashboard looks: RocketMQ's client reads
/// `NAMESRV_ADDR`, and upstream passes them in `JAVA_OPTS`, after the user's own options (a
/// `JAVA_OPTS` read from a ConfigMap or Secret cannot be extended, so it is left as given).
fn with_name_servers(mut env: Vec<EnvVar>, name_servers: &str) -> Vec<EnvVar> {
    let user = env.iter().rfind(|var| var.name == JAVA_OPTS).cloned();
    env.retain(|var| var.name != NAMESRV_ADDR);
    env.push(env_value(NAMESRV_ADDR, name_servers));
    if user.as_ref().is_some_and(|var| var.value_from.is_some()) {
        return env;
    }
    env.retain(|var| var.name != JAVA_OPTS);
    let user_options = user.and_then(|var| var.value).unwrap_or_default();
    let options = format!(
        "{user_options} -Drocketmq.namesrv.addr={name_servers} \
         -Dcom.rocketmq.sendMessageWithVIPChannel=false"
    );
    env.push(env_value(JAVA_OPTS, options.trim()));
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::manifest::read;
    use crate::assembly::testing::name_service;

    /// apache/rocketmq-operator's example Console.
    const UPSTREAM_EXAMPLE: &str = r#"
apiVersion: rocketmq.apache.org/v1alpha1
kind: Console
metadata:
  name: console
spec:
  nameServers: ""
  consoleDeployment:
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      labels:
        app: rocketmq-console
    spec:
      replicas: 1
      selector:
        matchLabels:
          app: rocketmq-console
      template:
        metadata:
          labels:
            app: rocketmq-console
        spec:
          containers:
            - name: console
              image: apacherocketmq/rocketmq-dashboard:1.0.0
              ports:
                - containerPort: 8080
"#;

    fn example() -> Console {
        read(UPSTREAM_EXAMPLE, "rocketmq").unwrap().consoles[0].clone()
    }

    #[test]
    fn upstreams_example_becomes_a_restricted_dashboard_pointed_at_the_name_service() {
        let model = validate(&example(), &[name_service("names", 2)]).unwrap();
        assert_eq!(model.address(), "console.rocketmq.svc:8080");
        let deployment = build_deployment(&model);
        assert_eq!(deployment.metadata.name.as_deref(), Some("console"));
        let spec = deployment.spec.unwrap();
        assert_eq!(spec.replicas, Some(1));
        let template = spec.template;
        let labels = template.metadata.unwrap().labels.unwrap();
        assert_eq!(
            labels["app"], "rocketmq-console",
            "the user's labels are kept"
        );
        for (key, value) in spec.selector.match_labels.unwrap() {
            assert_eq!(labels[&key], value, "the selector selects the pods");
        }
        let pod = template.spec.unwrap();
        assert_eq!(pod.security_context.unwrap().run_as_non_root, Some(true));
        let container = &pod.containers[0];
        assert_eq!(
            container.image.as_deref(),
            Some("apacherocketmq/rocketmq-dashboard:1.0.0")
        );
        let env = container.env.clone().unwrap();
        let names = "names-0.names.rocketmq.svc:9876;names-1.names.rocketmq.svc:9876";
        assert_eq!(env[0].name, "NAMESRV_ADDR");
        assert_eq!(env[0].value.as_deref(), Some(names));
        assert_eq!(
            env[1].value.as_deref(),
            Some(
                format!(
                    "-Drocketmq.namesrv.addr={names} -Dcom.rocketmq.sendMessageWithVIPChannel=false"
                )
                .as_str()
            )
        );
        let service = build_service(&model).spec.unwrap();
        assert_eq!(service.ports.unwrap()[0].port, 8080);
    }

    #[test]
    fn a_dashboard_without_an_image_or_name_servers_says_what_to_add() {
        let mut console = example();
        let template = console.spec.console_deployment.spec.as_mut().unwrap();
        template.template.spec.as_mut().unwrap().containers[0].image = None;
        let error = validate(&console, &[name_service("names", 1)]).unwrap_err();
        assert_eq!(error.field, format!("{FIELD}.image"));

        let error = validate(&example(), &[]).unwrap_err();
        assert_eq!(error.field, "spec.nameServers");

        let mut listed = example();
        listed.spec.name_servers = Some("ns:9876".into());
        let model = validate(&listed, &[]).unwrap();
        assert_eq!(model.name_servers, "ns:9876");
    }
}
