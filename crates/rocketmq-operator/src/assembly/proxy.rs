//! A Proxy: RocketMQ 5's proxy as the Deployment `<name>` and the Service `<name>` (gRPC on
//! 8081, remoting on 8080), pointed at the NameService of its namespace by stable DNS names.
//! Of the user's `proxyDeployment` it takes what upstream takes
//! ([`user_deployment`](super::user_deployment)); the proxy's configuration is the operator's,
//! written by the start script.
//!
//! In `CLUSTER` mode the proxy forwards to the brokers of its namespace's Broker (the first by
//! name when there are several). It signs its own requests to them with that cluster's admin
//! credentials, so it must check its clients exactly when the brokers would: with ACL 2.0 on in
//! the Broker's configuration, the proxy authenticates and authorizes every client against the
//! users and ACLs the brokers hold (`RocketMQUser`s), else an unsigned client would reach the
//! brokers as the admin. In `LOCAL` mode it runs a broker of the user's `broker.conf` in its
//! own pod, one pod only (two would be two brokers of one name).

use api::rocketmq::{Broker, NameService, Proxy};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service, Volume, VolumeMount};
use kube::ResourceExt;
use std::collections::BTreeMap;

use super::heap::with_heap;
use super::jvm::{Server, run_java};
use super::model::{require_version, resolve_name_servers};
use super::names;
use super::pod::{LOGS_DIR, container_port, env_from_secret, tcp_probe, tmp_volume};
use super::user_config::common_config;
use super::user_deployment::{self, Declared, UserDeployment};
use operator_common::pod_security::{PodPolicy, container_security_context};
use operator_common::validation::{InvalidSpec, Warning};

pub const GRPC_PORT: i32 = 8081;
pub const REMOTING_PORT: i32 = 8080;
/// The image's user, as for the other RocketMQ servers.
const ROCKETMQ_USER: i64 = 3000;
/// Where the start script writes the proxy's configuration.
const CONFIG_FILE: &str = "/tmp/rmq-proxy.json";
/// Where a `LOCAL` proxy's broker keeps its messages: the pod's own volume, gone with it.
const LOCAL_STORE: &str = "/home/rocketmq/store";
const ACCESS_KEY_ENV: &str = "ADMIN_ACCESS_KEY";
const SECRET_KEY_ENV: &str = "ADMIN_SECRET_KEY";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyMode {
    Cluster,
    Local,
}

/// The Broker a `CLUSTER` proxy fronts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrontedCluster {
    /// The Broker's name: its cluster's name and the name of its admin credentials.
    pub name: String,
    /// Whether its brokers check ACL 2.0, and so the proxy too.
    pub acl: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProxyModel {
    pub deployment: UserDeployment,
    pub mode: ProxyMode,
    /// `LOCAL`: the broker configuration file the user's pod mounts.
    pub broker_config_path: Option<String>,
    /// `;`-separated `host:port`.
    pub name_servers: String,
    pub cluster: Option<FrontedCluster>,
    pub warnings: Vec<Warning>,
}

/// What validation reads besides the Proxy.
#[derive(Clone, Debug, Default)]
pub struct ProxyInputs {
    pub name_services: Vec<NameService>,
    pub brokers: Vec<Broker>,
    /// The ConfigMaps the fronted Broker mounts, by name: its ACL settings are in one.
    pub config_maps: BTreeMap<String, ConfigMap>,
    pub pods: PodPolicy,
}

/// The Broker a `CLUSTER` proxy in the namespace of `brokers` fronts: the first by name.
pub fn fronted_broker(brokers: &[Broker]) -> Option<&Broker> {
    brokers.iter().min_by_key(|broker| broker.name_any())
}

pub fn validate(proxy: &Proxy, inputs: &ProxyInputs) -> Result<ProxyModel, InvalidSpec> {
    let namespace = proxy.namespace().unwrap_or_default();
    let declared = Declared {
        kind: "Proxy",
        app: "rocketmq-proxy",
        field: "spec.proxyDeployment",
        what: "proxy",
        default_container: "proxy",
        image_example: super::model::DEFAULT_IMAGE,
        name: &proxy.name_any(),
        namespace: &namespace,
        uid: &proxy.uid().unwrap_or_default(),
    };
    let deployment = user_deployment::read(&declared, &proxy.spec.proxy_deployment, inputs.pods)?;
    let image = deployment.container.image.as_deref().unwrap_or_default();
    require_version(
        image,
        "spec.proxyDeployment.spec.template.spec.containers[0].image",
        ("the proxy", (5, 0)),
        "",
    )?;
    let mode = match proxy
        .spec
        .proxy_mode
        .as_deref()
        .map(str::to_ascii_uppercase)
    {
        None => ProxyMode::Cluster,
        Some(mode) if mode == "CLUSTER" => ProxyMode::Cluster,
        Some(mode) if mode == "LOCAL" => ProxyMode::Local,
        Some(other) => {
            return Err(InvalidSpec::new(
                "spec.proxyMode",
                format!("{other:?} is no proxy mode; use CLUSTER or LOCAL"),
            ));
        }
    };
    let broker_config_path = proxy
        .spec
        .broker_config_path
        .clone()
        .filter(|path| !path.trim().is_empty());
    let mut warnings = Vec::new();
    let cluster = match mode {
        ProxyMode::Cluster => fronted_cluster(inputs, &mut warnings)?,
        ProxyMode::Local => {
            check_local(&deployment, broker_config_path.as_deref())?;
            None
        }
    };
    let name_servers = resolve_name_servers(None, &namespace, &inputs.name_services, &mut warnings)
        .map_err(|_| {
            InvalidSpec::new(
                "metadata.namespace",
                format!(
                    "the proxy reaches the brokers through the name servers of a NameService in \
                     its namespace, and {namespace} has none; create one there"
                ),
            )
        })?;
    let config_file_is_ignored = proxy
        .spec
        .proxy_config_path
        .as_deref()
        .is_some_and(|path| !path.trim().is_empty());
    if config_file_is_ignored {
        warnings.push(Warning {
            reason: "ProxyConfigPathIgnored",
            message: "the operator writes the proxy's configuration (name servers, ports, ACL); \
                      the file at spec.proxyConfigPath is not read"
                .into(),
        });
    }
    let model = ProxyModel {
        deployment,
        mode,
        broker_config_path,
        name_servers,
        cluster,
        warnings,
    };
    let objects = UserDeployment::to_json(&build_service(&model), &build_deployment(&model));
    model.deployment.check_names(&objects)?;
    Ok(model)
}

/// The namespace's Broker, and whether its configuration turns ACL 2.0 on. A configuration the
/// operator cannot read leaves the proxy waiting: guessing "off" would open the brokers.
fn fronted_cluster(
    inputs: &ProxyInputs,
    warnings: &mut Vec<Warning>,
) -> Result<Option<FrontedCluster>, InvalidSpec> {
    let Some(broker) = fronted_broker(&inputs.brokers) else {
        return Ok(None);
    };
    let name = broker.name_any();
    if inputs.brokers.len() > 1 {
        warnings.push(Warning {
            reason: "SeveralBrokers",
            message: format!(
                "the namespace has {} Brokers; the proxy checks clients as the Broker {name} \
                 does and signs as its admin",
                inputs.brokers.len()
            ),
        });
    }
    let settings = common_config(&broker.spec.pod, &inputs.config_maps)
        .map_err(|invalid| {
            InvalidSpec::new(
                "metadata.namespace",
                format!(
                    "the proxy follows the ACL settings of the Broker {name}, whose \
                     configuration is invalid ({}: {}); fix the Broker",
                    invalid.field, invalid.message
                ),
            )
        })?
        .map(|config| config.settings)
        .unwrap_or_default();
    let acl = ["authenticationEnabled", "authorizationEnabled"]
        .iter()
        .any(|key| settings.get(*key).is_some_and(|v| v.trim() == "true"));
    Ok(Some(FrontedCluster { name, acl }))
}

fn check_local(
    deployment: &UserDeployment,
    broker_config: Option<&str>,
) -> Result<(), InvalidSpec> {
    if broker_config.is_none() {
        return Err(InvalidSpec::new(
            "spec.brokerConfigPath",
            "proxyMode LOCAL runs a broker in the proxy's pod and needs its broker.conf; mount \
             one and name its path here, or use proxyMode CLUSTER with a Broker",
        ));
    }
    if deployment.replicas > 1 {
        return Err(InvalidSpec::new(
            "spec.proxyDeployment.spec.replicas",
            format!(
                "proxyMode LOCAL runs a broker in each proxy pod, and {} pods would be brokers of \
                 one name; ask for 1, or use proxyMode CLUSTER with a Broker",
                deployment.replicas
            ),
        ));
    }
    Ok(())
}

impl ProxyModel {
    pub fn grpc_address(&self) -> String {
        self.deployment.address(GRPC_PORT)
    }

    pub fn remoting_address(&self) -> String {
        self.deployment.address(REMOTING_PORT)
    }
}

pub fn build_service(model: &ProxyModel) -> Service {
    model
        .deployment
        .service(&[("grpc", GRPC_PORT), ("remoting", REMOTING_PORT)])
}

pub fn build_deployment(model: &ProxyModel) -> Deployment {
    let mut proxy = model.deployment.container.clone();
    proxy.command = Some(vec!["sh".into(), "-c".into(), start_script(model)]);
    let heap = match model.mode {
        ProxyMode::Cluster => Server::Proxy,
        ProxyMode::Local => Server::Broker,
    };
    let user_env = proxy.env.take().unwrap_or_default();
    let mut env = with_heap(&user_env, proxy.resources.as_ref(), heap);
    if let Some(cluster) = &model.cluster {
        let secret = names::admin_credentials_secret(&cluster.name);
        env.push(env_from_secret(ACCESS_KEY_ENV, &secret, names::ACCESS_KEY));
        env.push(env_from_secret(SECRET_KEY_ENV, &secret, names::SECRET_KEY));
    }
    proxy.env = Some(env);
    proxy.ports = Some(vec![
        container_port("grpc", GRPC_PORT),
        container_port("remoting", REMOTING_PORT),
    ]);
    proxy.security_context = Some(container_security_context());
    proxy.readiness_probe = Some(tcp_probe(GRPC_PORT, 5));
    proxy.liveness_probe = Some(tcp_probe(REMOTING_PORT, 30));
    proxy.startup_probe = Some(operator_common::probes::startup_probe(REMOTING_PORT));
    let (tmp_mount, tmp) = tmp_volume();
    let mut volumes = vec![tmp, empty_dir("logs")];
    let mounts = proxy.volume_mounts.get_or_insert_default();
    mounts.push(tmp_mount);
    mounts.push(mount("logs", LOGS_DIR));
    if model.mode == ProxyMode::Local {
        volumes.push(empty_dir("store"));
        mounts.push(mount("store", LOCAL_STORE));
    }
    model.deployment.deployment(proxy, volumes, ROCKETMQ_USER)
}

/// The start script: writes the proxy's configuration, then runs it. Every value but the
/// credentials is generated; those are checked safe for a JSON string when the Broker's
/// reconcile stores them ([`credentials`](super::credentials)).
fn start_script(model: &ProxyModel) -> String {
    let mut settings = vec![
        format!("\"grpcServerPort\": {GRPC_PORT}"),
        format!("\"remotingListenPort\": {REMOTING_PORT}"),
    ];
    if let Some(cluster) = &model.cluster {
        settings.push(format!("\"rocketMQClusterName\": \"{}\"", cluster.name));
        settings.push("\"enableAclRpcHookForClusterMode\": true".into());
        settings.push(format!(
            "\"innerClientAuthenticationCredentials\": \
             \"{{\\\"accessKey\\\":\\\"${ACCESS_KEY_ENV}\\\",\\\"secretKey\\\":\\\"${SECRET_KEY_ENV}\\\"}}\""
        ));
        if cluster.acl {
            settings.extend(
                ACL_SETTINGS
                    .iter()
                    .map(|(key, value)| format!("\"{key}\": {value}")),
            );
        }
    }
    let mut arguments = format!("-pc {CONFIG_FILE} -n '{}'", model.name_servers);
    match (model.mode, &model.broker_config_path) {
        (ProxyMode::Local, Some(path)) => {
            arguments += &format!(" -pm local -bc '{}'", path.replace('\'', "'\\''"));
        }
        _ => arguments += " -pm cluster",
    }
    format!(
        "set -euf\ncat > {CONFIG_FILE} <<EOF\n{{\n  {}\n}}\nEOF\n{}",
        settings.join(",\n  "),
        run_java(Server::Proxy, &arguments)
    )
}

/// ACL 2.0 in the proxy: it checks every client's signature and permissions against the users
/// and ACLs it reads from the brokers.
const ACL_SETTINGS: &[(&str, &str)] = &[
    ("authenticationEnabled", "true"),
    ("authorizationEnabled", "true"),
    (
        "authenticationProvider",
        "\"org.apache.rocketmq.auth.authentication.provider.DefaultAuthenticationProvider\"",
    ),
    (
        "authenticationMetadataProvider",
        "\"org.apache.rocketmq.proxy.auth.ProxyAuthenticationMetadataProvider\"",
    ),
    (
        "authorizationProvider",
        "\"org.apache.rocketmq.auth.authorization.provider.DefaultAuthorizationProvider\"",
    ),
    (
        "authorizationMetadataProvider",
        "\"org.apache.rocketmq.proxy.auth.ProxyAuthorizationMetadataProvider\"",
    ),
];

fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(Default::default()),
        ..Volume::default()
    }
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::manifest::read;
    use crate::assembly::testing::name_service;

    /// apache/rocketmq-operator's example Proxy (its ConfigMaps aside).
    const UPSTREAM_EXAMPLE: &str = r#"
apiVersion: rocketmq.apache.org/v1alpha1
kind: Proxy
metadata:
  name: proxy
spec:
  brokerConfigPath: "/root/rocketmq/broker/conf/broker.conf"
  proxyConfigPath: "/root/rocketmq/proxy/conf/rmq-proxy.json"
  proxyMode: "LOCAL"
  proxyDeployment:
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      labels:
        app: rocketmq-proxy
    spec:
      replicas: 1
      selector:
        matchLabels:
          app: rocketmq-proxy
      template:
        metadata:
          labels:
            app: rocketmq-proxy
        spec:
          containers:
            - name: proxy
              image: apacherocketmq/rocketmq-proxy:5.0.0-alpine-operator-0.3.0
              ports:
                - containerPort: 8081
              volumeMounts:
                - mountPath: "/root/rocketmq/proxy/conf/broker.conf"
                  subPath: broker.conf
                  name: broker-config
          volumes:
            - name: broker-config
              configMap:
                name: broker-config
"#;

    fn example() -> Proxy {
        read(UPSTREAM_EXAMPLE, "rocketmq").unwrap().proxies[0].clone()
    }

    fn cluster_mode(settings: &[&str]) -> (Proxy, ProxyInputs) {
        let settings = settings.join("\n    ");
        let mut proxy = example();
        proxy.spec.proxy_mode = None;
        proxy.spec.proxy_config_path = None;
        let manifest = read(
            &format!(
                r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: broker-config
data:
  broker-common.conf: |
    {settings}
---
apiVersion: rocketmq.apache.org/v1alpha1
kind: Broker
metadata:
  name: broker
spec:
  size: 1
  brokerImage: apache/rocketmq:5.5.0
  volumes:
    - name: broker-config
      configMap:
        name: broker-config
        items:
          - key: broker-common.conf
            path: broker-common.conf
"#
            ),
            "rocketmq",
        )
        .unwrap();
        let inputs = ProxyInputs {
            name_services: vec![name_service("names", 1)],
            brokers: manifest.brokers,
            config_maps: (manifest.config_maps.into_iter())
                .map(|config_map| (config_map.name_any(), config_map))
                .collect(),
            pods: PodPolicy::default(),
        };
        (proxy, inputs)
    }

    fn script_of(deployment: &Deployment) -> String {
        let pod = deployment.spec.clone().unwrap().template.spec.unwrap();
        pod.containers[0].command.clone().unwrap()[2].clone()
    }

    #[test]
    fn a_cluster_proxy_checks_clients_exactly_when_its_brokers_do() {
        let (proxy, inputs) =
            cluster_mode(&["authenticationEnabled=true", "authorizationEnabled=true"]);
        let model = validate(&proxy, &inputs).unwrap();
        assert_eq!(
            model.cluster,
            Some(FrontedCluster {
                name: "broker".into(),
                acl: true
            })
        );
        let deployment = build_deployment(&model);
        let script = script_of(&deployment);
        assert!(
            script.contains("\"authenticationEnabled\": true"),
            "{script}"
        );
        assert!(
            script.contains("ProxyAuthorizationMetadataProvider"),
            "{script}"
        );
        assert!(script.contains("\"enableAclRpcHookForClusterMode\": true"));
        assert!(script.contains("-n 'names-0.names.rocketmq.svc:9876' -pm cluster"));
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        let env = pod.containers[0].env.clone().unwrap();
        let secret = env
            .iter()
            .find(|var| var.name == ACCESS_KEY_ENV)
            .and_then(|var| var.value_from.clone())
            .and_then(|from| from.secret_key_ref)
            .unwrap();
        assert_eq!(secret.name, "broker-admin-credentials");

        let (open, inputs) = cluster_mode(&["deleteWhen=04"]);
        let model = validate(&open, &inputs).unwrap();
        assert!(!model.cluster.as_ref().unwrap().acl);
        let script = script_of(&build_deployment(&model));
        assert!(!script.contains("authenticationEnabled"), "{script}");
        assert!(script.contains("innerClientAuthenticationCredentials"));
    }

    #[test]
    fn upstreams_local_example_runs_its_broker_in_one_restricted_pod() {
        let inputs = ProxyInputs {
            name_services: vec![name_service("names", 1)],
            ..ProxyInputs::default()
        };
        let model = validate(&example(), &inputs).unwrap();
        assert_eq!(model.mode, ProxyMode::Local);
        assert_eq!(model.warnings[0].reason, "ProxyConfigPathIgnored");
        let deployment = build_deployment(&model);
        assert!(
            script_of(&deployment)
                .contains("-pm local -bc '/root/rocketmq/broker/conf/broker.conf'")
        );
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        assert_eq!(pod.security_context.unwrap().run_as_non_root, Some(true));
        let mounts = pod.containers[0].volume_mounts.clone().unwrap();
        assert!(mounts.iter().any(|mount| mount.name == "broker-config"));
        assert!(mounts.iter().any(|mount| mount.mount_path == LOCAL_STORE));
        let service = build_service(&model).spec.unwrap();
        let ports: Vec<i32> = service.ports.unwrap().iter().map(|p| p.port).collect();
        assert_eq!(ports, [GRPC_PORT, REMOTING_PORT]);
        assert_eq!(model.grpc_address(), "proxy.rocketmq.svc:8081");

        let mut two = example();
        two.spec.proxy_deployment.spec.as_mut().unwrap().replicas = Some(2);
        let error = validate(&two, &inputs).unwrap_err();
        assert_eq!(error.field, "spec.proxyDeployment.spec.replicas");
    }

    #[test]
    fn a_proxy_without_name_servers_a_mode_or_a_safe_volume_says_what_to_change() {
        let error = validate(&example(), &ProxyInputs::default()).unwrap_err();
        assert_eq!(error.field, "metadata.namespace");
        let inputs = ProxyInputs {
            name_services: vec![name_service("names", 1)],
            ..ProxyInputs::default()
        };
        let mut old = example();
        let pod = old.spec.proxy_deployment.spec.as_mut().unwrap();
        pod.template.spec.as_mut().unwrap().containers[0].image =
            Some("apache/rocketmq:4.9.7".into());
        let error = validate(&old, &inputs).unwrap_err();
        assert!(error.message.contains("came with RocketMQ 5.0"), "{error}");
        let mut odd = example();
        odd.spec.proxy_mode = Some("EDGE".into());
        assert_eq!(validate(&odd, &inputs).unwrap_err().field, "spec.proxyMode");
        let mut host = example();
        let pod = host.spec.proxy_deployment.spec.as_mut().unwrap();
        pod.template
            .spec
            .as_mut()
            .unwrap()
            .volumes
            .as_mut()
            .unwrap()[0]
            .host_path = Some(Default::default());
        let error = validate(&host, &inputs).unwrap_err();
        assert_eq!(
            error.field,
            "spec.proxyDeployment.spec.template.spec.volumes[0].hostPath"
        );
        // Another resource's Secret, mounted or read into the env, in a pod of the user's image.
        let mut mounted = example();
        let pod = mounted.spec.proxy_deployment.spec.as_mut().unwrap();
        let volume = &mut pod
            .template
            .spec
            .as_mut()
            .unwrap()
            .volumes
            .as_mut()
            .unwrap()[0];
        (volume.config_map, volume.secret) = (None, Some(Default::default()));
        let error = validate(&mounted, &inputs).unwrap_err();
        assert_eq!(
            error.field,
            "spec.proxyDeployment.spec.template.spec.volumes[0]"
        );
        let mut read: Proxy = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "proxy", "namespace": "rocketmq"},
            "spec": {"proxyDeployment": {"spec": {"template": {"spec": {"containers": [{
                "image": "apache/rocketmq:5.5.0",
                "env": [{"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "other-user", "key": "password"}}}],
            }]}}}}},
        }))
        .unwrap();
        read.spec.proxy_mode = None;
        let error = validate(&read, &inputs).unwrap_err();
        assert_eq!(
            error.field,
            "spec.proxyDeployment.spec.template.spec.containers[0].env[0]"
        );
        let allowed = ProxyInputs {
            pods: PodPolicy {
                allow_privileged_pods: true,
            },
            ..inputs.clone()
        };
        assert!(validate(&read, &allowed).is_ok());
    }
}
