//! A NameService: `size` name servers in one StatefulSet `<name>` behind the headless Service
//! `<name>` ([`server_set`](super::server_set)), so each has a stable DNS name (see
//! [`names::name_server_addresses`]).

use api::rocketmq::NameService;
use k8s_openapi::api::core::v1::Container;

use super::heap::with_heap;
use super::jvm::{Server, run_java};
use super::names;
use super::pod::{HOME, LOGS_DIR, container, container_port, tcp_probe};
use super::server_set::{self, ServerSet, ServerSetDesired, SetKind};
use super::services::port;
use operator_common::pod_security::PodPolicy;
use operator_common::validation::InvalidSpec;

/// The container's name, as upstream names it.
pub const CONTAINER: &str = "name-service";

pub const NAME_SERVICE: SetKind = SetKind {
    kind: "NameService",
    app: "rocketmq-name-server",
    upstream_app: "name_service",
    upstream_label: "name_service_cr",
    server: "name server",
    creating: "the name servers are",
    default_volume: "namesrv-storage",
};

/// `pods` is what the operator lets the pods be given.
pub fn validate(name_service: &NameService, pods: PodPolicy) -> Result<ServerSet, InvalidSpec> {
    let spec = &name_service.spec;
    let asked = (spec.size, spec.name_service_image.as_ref(), &spec.pod);
    server_set::validate(NAME_SERVICE, name_service, asked, pods, build)
}

/// The headless Service and the StatefulSet of the name servers.
pub fn build(set: &ServerSet) -> ServerSetDesired {
    let service = names::name_service_service(&set.name);
    ServerSetDesired {
        services: vec![set.service(&service, true, vec![port("main", names::NAME_SERVER_PORT)])],
        statefulset: set.statefulset(&service, name_server(set)),
    }
}

fn name_server(set: &ServerSet) -> Container {
    let mut server = container(CONTAINER, &set.image, &set.pod);
    server.command = Some(vec![
        "sh".into(),
        "-c".into(),
        format!("set -euf\n{}", run_java(Server::NameServer, "")),
    ]);
    let user_env = set.pod.env.clone().unwrap_or_default();
    let env = with_heap(&user_env, set.pod.resources.as_ref(), Server::NameServer);
    server.env = Some(env).filter(|env| !env.is_empty());
    server.ports = Some(vec![container_port("main", names::NAME_SERVER_PORT)]);
    // The root filesystem is read-only: a name server's key-value config goes to the volume.
    server.volume_mounts = Some(vec![
        set.storage.mount(LOGS_DIR, "logs"),
        set.storage.mount(&format!("{HOME}/namesrv"), "namesrv"),
    ]);
    server.readiness_probe = Some(tcp_probe(names::NAME_SERVER_PORT, 5));
    server.liveness_probe = Some(tcp_probe(names::NAME_SERVER_PORT, 30));
    server.startup_probe = Some(operator_common::probes::startup_probe(
        names::NAME_SERVER_PORT,
    ));
    server
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_name_service;

    #[test]
    fn the_issue_example_becomes_a_statefulset_behind_a_headless_service() {
        let set = validate(&example_name_service(), PodPolicy::default()).unwrap();
        let desired = build(&set);
        let [service] = &desired.services[..] else {
            panic!("one Service: {:?}", desired.services)
        };
        assert_eq!(service.metadata.name.as_deref(), Some("name-service"));
        let service = service.spec.clone().unwrap();
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
