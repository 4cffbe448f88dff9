//! A Controller: `size` RocketMQ controllers in one StatefulSet `<name>` behind the headless
//! Service `<name>-svc-headless` and the Service `<name>-svc`, as upstream names them
//! ([`server_set`](super::server_set)). The controllers form a DLedger (Raft) group among
//! themselves, each peer named by its stable DNS name; brokers in controller mode reach them on
//! the same address and leave the election of each group's master to them.

use api::rocketmq::Controller;
use k8s_openapi::api::core::v1::Container;

use super::heap::with_heap;
use super::jvm::{Server, run_java};
use super::model::require_version;
use super::names::{self, CONTROLLER_PORT};
use super::pod::{LOGS_DIR, container, container_port, env_from_field, tcp_probe};
use super::server_set::{self, ServerSet, ServerSetDesired, SetKind};
use super::services::port;
use operator_common::pod_security::PodPolicy;
use operator_common::validation::InvalidSpec;

/// The container's name, as upstream names it.
pub const CONTAINER: &str = "controller";

pub const CONTROLLER: SetKind = SetKind {
    kind: "Controller",
    app: "rocketmq-controller",
    upstream_app: "controller",
    upstream_label: "controller_cr",
    server: "controller",
    creating: "the controllers are",
    default_volume: "controller-storage",
};

/// Where a controller keeps its Raft log and its configuration, on the data volume.
const STORE_DIR: &str = "/home/rocketmq/controller";
/// The configuration the start script writes: a controller's own peer ID is in it.
const CONFIG_FILE: &str = "/tmp/controller.conf";

/// `pods` is what the operator lets the pods be given.
pub fn validate(controller: &Controller, pods: PodPolicy) -> Result<ServerSet, InvalidSpec> {
    let spec = &controller.spec;
    if let Some(image) = &spec.controller_image {
        require_version(
            image,
            "spec.controllerImage",
            ("the controller", (5, 0)),
            "",
        )?;
    }
    let asked = (spec.size, spec.controller_image.as_ref(), &spec.pod);
    server_set::validate(CONTROLLER, controller, asked, pods, build)
}

/// The two Services and the StatefulSet of the controllers.
pub fn build(set: &ServerSet) -> ServerSetDesired {
    let headless = names::controller_headless_service(&set.name);
    let ports = vec![port("controller", CONTROLLER_PORT)];
    ServerSetDesired {
        services: vec![
            set.service(&headless, true, ports.clone()),
            set.service(&names::controller_service(&set.name), false, ports),
        ],
        statefulset: set.statefulset(&headless, controller(set)),
    }
}

/// The DLedger group's peers, `n<i>-<host>:<port>` joined by `;`: the ID of each is `n` and
/// its pod's ordinal, which its start script derives from the pod's name.
fn peers(set: &ServerSet) -> String {
    let headless = names::controller_headless_service(&set.name);
    names::stable_addresses(
        &set.namespace,
        &headless,
        &set.name,
        set.size,
        CONTROLLER_PORT,
    )
    .iter()
    .enumerate()
    .map(|(ordinal, address)| format!("n{ordinal}-{address}"))
    .collect::<Vec<_>>()
    .join(";")
}

/// The start script: writes the controller's configuration, its own ID taken from its pod's
/// ordinal, then runs it. Every value is generated (names Kubernetes checked, numbers), so
/// none needs quoting.
fn start_script(set: &ServerSet) -> String {
    let config = [
        format!("controllerDLegerGroup={}", set.name),
        format!("controllerDLegerPeers={}", peers(set)),
        "controllerDLegerSelfId=n${POD_NAME##*-}".to_string(),
        format!("controllerStorePath={STORE_DIR}/DLedgerController"),
        format!("configStorePath={STORE_DIR}/controller.properties"),
    ]
    .join("\n");
    format!(
        "set -euf\ncat > {CONFIG_FILE} <<EOF\n{config}\nEOF\n{}",
        run_java(Server::Controller, &format!("-c {CONFIG_FILE}"))
    )
}

fn controller(set: &ServerSet) -> Container {
    let mut server = container(CONTAINER, &set.image, &set.pod);
    server.command = Some(vec!["sh".into(), "-c".into(), start_script(set)]);
    let user_env = set.pod.env.clone().unwrap_or_default();
    let mut env = vec![env_from_field("POD_NAME", "metadata.name")];
    env.extend(with_heap(
        &user_env,
        set.pod.resources.as_ref(),
        Server::Controller,
    ));
    server.env = Some(env);
    server.ports = Some(vec![container_port("controller", CONTROLLER_PORT)]);
    // The root filesystem is read-only: the Raft log and the configuration go to the volume.
    server.volume_mounts = Some(vec![
        set.storage.mount(LOGS_DIR, "logs"),
        set.storage.mount(STORE_DIR, "controller"),
    ]);
    server.readiness_probe = Some(tcp_probe(CONTROLLER_PORT, 5));
    server.liveness_probe = Some(tcp_probe(CONTROLLER_PORT, 30));
    server.startup_probe = Some(operator_common::probes::startup_probe(CONTROLLER_PORT));
    server
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::manifest::read;

    const UPSTREAM_EXAMPLE: &str = r#"
apiVersion: rocketmq.apache.org/v1alpha1
kind: Controller
metadata:
  name: controller
spec:
  size: 3
  controllerImage: apache/rocketmq:5.5.0
  imagePullPolicy: IfNotPresent
  resources:
    requests:
      memory: "2Gi"
    limits:
      memory: "2Gi"
  storageMode: StorageClass
  volumeClaimTemplates:
    - metadata:
        name: controller-storage
      spec:
        accessModes: [ "ReadWriteOnce" ]
        resources:
          requests:
            storage: 8Gi
"#;

    fn example() -> Controller {
        read(UPSTREAM_EXAMPLE, "mq").unwrap().controllers[0].clone()
    }

    #[test]
    fn controllers_are_a_statefulset_behind_upstreams_two_services() {
        let set = validate(&example(), PodPolicy::default()).unwrap();
        let desired = build(&set);
        let services: Vec<_> = desired
            .services
            .iter()
            .map(|service| {
                let spec = service.spec.as_ref().unwrap();
                (
                    service.metadata.name.as_deref().unwrap(),
                    spec.cluster_ip.as_deref(),
                    spec.ports
                        .as_ref()
                        .unwrap()
                        .iter()
                        .map(|p| p.port)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(
            services,
            [
                ("controller-svc-headless", Some("None"), vec![9878]),
                ("controller-svc", None, vec![9878]),
            ]
        );
        let spec = desired.statefulset.spec.unwrap();
        assert_eq!(
            desired.statefulset.metadata.name.as_deref(),
            Some("controller")
        );
        assert_eq!(spec.replicas, Some(3));
        assert_eq!(
            spec.service_name.as_deref(),
            Some("controller-svc-headless")
        );
        assert_eq!(spec.volume_claim_templates.unwrap().len(), 1);
        let labels = spec.template.metadata.unwrap().labels.unwrap();
        assert_eq!(labels["app"], "controller");
        assert_eq!(labels["controller_cr"], "controller");
        assert_eq!(labels["strimzi.io/kind"], "Controller");
        let pod = spec.template.spec.unwrap();
        let server = &pod.containers[0];
        assert_eq!(server.name, "controller");
        let env = server.env.as_ref().unwrap();
        assert_eq!(env[0].name, "POD_NAME");
        // Half the 2Gi limit.
        assert_eq!(env[1].value.as_deref(), Some("-Xms1024m -Xmx1024m"));
        let script = &server.command.as_ref().unwrap()[2];
        assert!(
            script.contains(
                "controllerDLegerPeers=n0-controller-0.controller-svc-headless.mq.svc:9878;\
                 n1-controller-1.controller-svc-headless.mq.svc:9878;\
                 n2-controller-2.controller-svc-headless.mq.svc:9878\n"
            ),
            "{script}"
        );
        assert!(
            script.contains("\ncontrollerDLegerSelfId=n${POD_NAME##*-}\n"),
            "{script}"
        );
        assert!(
            script.ends_with(
                " org.apache.rocketmq.controller.ControllerStartup -c /tmp/controller.conf\n"
            ),
            "{script}"
        );
        let mounts: Vec<_> = server
            .volume_mounts
            .iter()
            .flatten()
            .map(|mount| mount.mount_path.as_str())
            .collect();
        assert_eq!(
            mounts,
            ["/home/rocketmq/logs", "/home/rocketmq/controller", "/tmp"]
        );
    }

    #[test]
    fn a_controller_name_too_long_for_its_services_is_invalid() {
        let mut controller = example();
        // `<name>-svc-headless`, at most 63 characters.
        controller.metadata.name = Some("c".repeat(51));
        let error = validate(&controller, PodPolicy::default()).unwrap_err();
        assert_eq!(error.field, "metadata.name");
        assert!(error.message.contains("Service"), "{error}");
        controller.metadata.name = Some("c".repeat(50));
        assert!(validate(&controller, PodPolicy::default()).is_ok());
    }

    #[test]
    fn host_path_storage_needs_the_operators_permission() {
        let mut controller = example();
        controller.spec.pod.storage_mode = Some(api::rocketmq::StorageMode::HostPath);
        controller.spec.pod.host_path = Some("/data/rocketmq/controller".into());
        let error = validate(&controller, PodPolicy::default()).unwrap_err();
        assert_eq!(error.field, "spec.storageMode");
    }

    #[test]
    fn an_image_before_controllers_existed_is_refused() {
        let mut controller = example();
        controller.spec.controller_image = Some("apache/rocketmq:4.9.7".into());
        let error = validate(&controller, PodPolicy::default()).unwrap_err();
        assert_eq!(error.field, "spec.controllerImage");
        assert!(error.message.contains("came with RocketMQ 5.0"), "{error}");
    }
}
