//! A Console: the RocketMQ dashboard as the Deployment `<name>` and the Service `<name>`,
//! pointed at the name servers (`nameServers`, else the NameService of the namespace, by stable
//! DNS names). Of the user's `consoleDeployment` it takes what upstream takes
//! ([`user_deployment`](super::user_deployment)) and builds the rest: restricted pods, a probe,
//! the owner.

use api::rocketmq::{Console, NameService};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{EnvVar, Service};
use kube::ResourceExt;

use super::model::resolve_name_servers;
use super::pod::{env_value, tcp_probe, tmp_volume};
use super::user_deployment::{self, Declared, UserDeployment};
use operator_common::pod_security::{PodPolicy, container_security_context};
use operator_common::validation::{InvalidSpec, Warning};

/// The dashboard's port when the container lists none.
pub const DEFAULT_PORT: i32 = 8080;
/// The dashboard runs as a user of no account: whatever the image, never root.
const DASHBOARD_USER: i64 = 3000;
/// The JVM options the dashboard's image reads, where the name servers go as upstream puts them.
const JAVA_OPTS: &str = "JAVA_OPTS";
const NAMESRV_ADDR: &str = "NAMESRV_ADDR";

#[derive(Clone, Debug, PartialEq)]
pub struct ConsoleModel {
    pub deployment: UserDeployment,
    /// `;`-separated `host:port`.
    pub name_servers: String,
    pub port: i32,
    pub warnings: Vec<Warning>,
}

/// The Console's model; `name_services` are those of its namespace, `pods` what the operator
/// lets pods be given.
pub fn validate(
    console: &Console,
    name_services: &[NameService],
    pods: PodPolicy,
) -> Result<ConsoleModel, InvalidSpec> {
    let namespace = console.namespace().unwrap_or_default();
    let declared = Declared {
        kind: "Console",
        app: "rocketmq-dashboard",
        field: "spec.consoleDeployment",
        what: "dashboard",
        default_container: "console",
        image_example: "apacherocketmq/rocketmq-dashboard:2.0.0",
        name: &console.name_any(),
        namespace: &namespace,
        uid: &console.uid().unwrap_or_default(),
    };
    let mut deployment = user_deployment::read(&declared, &console.spec.console_deployment, pods)?;
    let mut warnings = Vec::new();
    let name_servers = resolve_name_servers(
        console.spec.name_servers.as_deref(),
        &namespace,
        name_services,
        &mut warnings,
    )?;
    let ports = deployment.ports_or(&[("http", DEFAULT_PORT)]);
    let port = ports[0].container_port;
    deployment.container.ports = Some(ports);
    let model = ConsoleModel {
        deployment,
        name_servers,
        port,
        warnings,
    };
    let objects = UserDeployment::to_json(&build_service(&model), &build_deployment(&model));
    model.deployment.check_names(&objects)?;
    Ok(model)
}

impl ConsoleModel {
    /// Where the dashboard serves.
    pub fn address(&self) -> String {
        self.deployment.address(self.port)
    }
}

pub fn build_service(model: &ConsoleModel) -> Service {
    model.deployment.service(&[("http", model.port)])
}

pub fn build_deployment(model: &ConsoleModel) -> Deployment {
    let mut container = model.deployment.container.clone();
    container.env = Some(with_name_servers(
        container.env.unwrap_or_default(),
        &model.name_servers,
    ));
    container.security_context = Some(container_security_context());
    container.readiness_probe = Some(tcp_probe(model.port, 10));
    // The dashboard keeps its data under /tmp; the root filesystem is read-only.
    let (mount, volume) = tmp_volume();
    container.volume_mounts.get_or_insert_default().push(mount);
    model
        .deployment
        .deployment(container, vec![volume], DASHBOARD_USER)
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
        let model = validate(
            &example(),
            &[name_service("names", 2)],
            PodPolicy::default(),
        )
        .unwrap();
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
        let error =
            validate(&console, &[name_service("names", 1)], PodPolicy::default()).unwrap_err();
        assert_eq!(
            error.field,
            "spec.consoleDeployment.spec.template.spec.containers[0].image"
        );

        let error = validate(&example(), &[], PodPolicy::default()).unwrap_err();
        assert_eq!(error.field, "spec.nameServers");

        let mut listed = example();
        listed.spec.name_servers = Some("ns:9876".into());
        let model = validate(&listed, &[], PodPolicy::default()).unwrap();
        assert_eq!(model.name_servers, "ns:9876");
    }
}
