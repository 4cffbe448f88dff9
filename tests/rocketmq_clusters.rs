//! The RocketMQ assembly on the real local cluster: the issue's NameService and Broker reach
//! Ready with upstream's objects and a no-op reconcile writes nothing; a Broker waits for its
//! NameService and invalid specs say what to fix; groups scale out and in (claims kept, a group
//! that cannot be checked held until forced); a change that needs a restart rolls replicas before
//! masters, or waits while restarts are off; two clusters in two namespaces stay independent
//! and deletion collects everything. Then against real RocketMQ brokers mapped onto the pods: a
//! name-server change reaches a running broker without a restart, scaling out copies topics and
//! subscription groups, and scaling in waits while messages are unconsumed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use api::rocketmq::{Broker, Console, Controller, NameService, Proxy};
use brokerage_e2e::operators::{Clusters, Operators};
use brokerage_e2e::wait_ready;
use brokerage_e2e::{counter, repo_path, setup, wait_condition};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Secret, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use rocketmq_client::{AdminClient, ClientConfig, SubscriptionGroup, TopicConfig};
use rocketmq_operator::admin::RocketMQOverride;
use runtime::Metrics;
use serde_json::json;
use testenv::rocketmq::{NameServer, RocketMQCluster, RocketMQOptions};
use tokio::sync::OnceCell;

const WAIT: Duration = Duration::from_secs(60);
/// Short, so that resources a Broker depends on but does not own (a NameService appearing, a
/// user's ConfigMap) are noticed quickly.
const RESYNC: Duration = Duration::from_secs(10);

/// Runs the cluster operator in this test's runtime, watching `namespaces` only, reaching the
/// RocketMQ clusters `overrides` name at real addresses.
fn start_operator(
    client: &Client,
    namespaces: &[&str],
    overrides: Vec<RocketMQOverride>,
) -> Arc<Metrics> {
    Operators::watching(client, namespaces)
        .resync(RESYNC)
        .rocketmq(overrides)
        .start(&[Clusters])
}

/// Applies a Broker (server-side, so later calls change it) with `spec`.
async fn apply_broker(brokers: &Api<Broker>, name: &str, spec: serde_json::Value) -> Result<()> {
    let broker = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1",
        "kind": "Broker",
        "metadata": {"name": name},
        "spec": spec,
    });
    let params = PatchParams::apply("rocketmq-clusters-test").force();
    brokers.patch(name, &params, &Patch::Apply(&broker)).await?;
    Ok(())
}

async fn patch_spec<K>(api: &Api<K>, name: &str, spec: serde_json::Value) -> Result<()>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let patch = json!({"spec": spec});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

async fn annotate<K>(api: &Api<K>, name: &str, key: &str, value: Option<&str>) -> Result<()>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let patch = json!({"metadata": {"annotations": {key: value}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// Waits for a Warning (or, with `type_`, another condition) with `reason`; returns its message.
async fn wait_reason<K>(api: &Api<K>, name: &str, type_: &str, reason: &str) -> Result<String>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    let found = wait_condition(api, name, type_, Some(reason), WAIT).await?;
    Ok(found.message.unwrap_or_default())
}

async fn wait_gone<K>(api: &Api<K>, name: &str) -> Result<()>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    testenv::eventually(&format!("{name} is deleted"), WAIT, || async {
        Ok(api.get_opt(name).await?.is_none())
    })
    .await
}

/// Waits for the Broker's status to report `size` groups.
async fn wait_size(brokers: &Api<Broker>, name: &str, size: i32) -> Result<()> {
    testenv::eventually(&format!("{name} reports {size} groups"), WAIT, || async {
        Ok(brokers.get(name).await?.status.and_then(|s| s.size) == Some(size))
    })
    .await
}

/// `kind/name -> resourceVersion` of every object the operator manages in `namespace`.
async fn resource_versions(client: &Client, namespace: &str) -> Result<BTreeMap<String, String>> {
    let selector = ListParams::default().labels("app.kubernetes.io/managed-by=brokerage");
    let mut versions = BTreeMap::new();
    macro_rules! record {
        ($kind:ty) => {
            for object in Api::<$kind>::namespaced(client.clone(), namespace)
                .list(&selector)
                .await?
            {
                let key = format!("{}/{}", stringify!($kind), object.name_any());
                versions.insert(key, object.resource_version().unwrap_or_default());
            }
        };
    }
    record!(StatefulSet);
    record!(Service);
    record!(ConfigMap);
    record!(Secret);
    Ok(versions)
}

fn statefulset_annotation(set: &StatefulSet, key: &str) -> Option<String> {
    set.metadata.annotations.as_ref()?.get(key).cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issue_example_becomes_ready_with_upstreams_objects_and_a_noop_writes_nothing()
-> Result<()> {
    let (client, namespace) = setup("rmq-example").await?;
    let metrics = start_operator(&client, &[&namespace], Vec::new());
    let yaml = std::fs::read_to_string(repo_path("tests/fixtures/rocketmq-cluster.yaml"))?;
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    let name_services: Api<NameService> = Api::namespaced(client.clone(), &namespace);
    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    wait_ready(&name_services, "name-service", WAIT).await?;
    wait_ready(&brokers, "broker", WAIT).await?;

    // Name servers by stable DNS names.
    let name_service = name_services.get("name-service").await?;
    let address = format!("name-service-0.name-service.{namespace}.svc:9876");
    assert_eq!(
        name_service.status.as_ref().unwrap().name_servers,
        Some(vec![address.clone()])
    );
    let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
    let headless = services.get("name-service").await?;
    assert_eq!(
        headless.spec.as_ref().unwrap().cluster_ip.as_deref(),
        Some("None")
    );
    assert_eq!(
        headless.owner_references()[0].uid,
        name_service.uid().unwrap()
    );

    // Two groups of a master and a replica, named as upstream names them.
    let broker = brokers.get("broker").await?;
    let status = broker.status.clone().unwrap();
    assert_eq!(status.size, Some(2));
    assert_eq!(
        status.nodes.unwrap(),
        [
            "broker-0-master-0",
            "broker-0-replica-1-0",
            "broker-1-master-0",
            "broker-1-replica-1-0"
        ]
    );
    let types: Vec<String> = status
        .conditions
        .unwrap()
        .into_iter()
        .map(|c| c.type_)
        .collect();
    assert_eq!(types, ["Ready"], "no warning for the issue's example");
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    for name in [
        "broker-0-master",
        "broker-0-replica-1",
        "broker-1-master",
        "broker-1-replica-1",
    ] {
        let set = sets.get(name).await?;
        assert_eq!(set.owner_references()[0].uid, broker.uid().unwrap());
        assert_eq!(set.labels()["app.kubernetes.io/managed-by"], "brokerage");
    }
    assert_eq!(
        services.get("broker-brokers").await?.owner_references()[0].kind,
        "Broker"
    );
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let conf = config_maps
        .get("broker-1-replica-1-config")
        .await?
        .data
        .unwrap()["broker.conf"]
        .clone();
    assert!(conf.contains("brokerName=broker-1\nbrokerId=1\nbrokerRole=SLAVE\n"));
    assert!(conf.contains(&format!("namesrvAddr={address}\n")));
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let credentials = secrets.get("broker-admin-credentials").await?.data.unwrap();
    assert_eq!(
        credentials.keys().collect::<Vec<_>>(),
        ["accessKey", "secretKey"]
    );
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let pod = pods.get("broker-0-master-0").await?;
    let env = pod.spec.unwrap().containers[0].env.clone().unwrap();
    let value = |name: &str| {
        env.iter()
            .find(|e| e.name == name)
            .and_then(|e| e.value.clone())
    };
    assert_eq!(value("BROKER_NAME").as_deref(), Some("broker-0"));
    assert_eq!(value("JAVA_OPT_EXT").as_deref(), Some("$(BROKER_MEM)"));

    // Nothing changed, so another reconcile must not write anything at all.
    let before = resource_versions(&client, &namespace).await?;
    let series = "brokerage_reconciliations_total{kind=\"Broker\"}";
    let reconciled = counter(&metrics, series);
    annotate(&brokers, "broker", "test/touch", Some("1")).await?;
    testenv::eventually("the Broker is reconciled again", WAIT, || async {
        Ok(counter(&metrics, series) >= reconciled + 1.0)
    })
    .await?;
    assert_eq!(
        resource_versions(&client, &namespace).await?,
        before,
        "a no-op reconcile wrote"
    );
    assert_eq!(
        brokers.get("broker").await?.status,
        broker.status,
        "the status was rewritten"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstreams_controller_example_is_refused_its_host_path_then_becomes_a_quorum_that_scales()
-> Result<()> {
    let (client, namespace) = setup("rmq-controller").await?;
    start_operator(&client, &[&namespace], Vec::new());
    let yaml = std::fs::read_to_string(repo_path("tests/fixtures/rocketmq-controller.yaml"))?;
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    let controllers: Api<Controller> = Api::namespaced(client.clone(), &namespace);
    let message = wait_reason(&controllers, "controller", "NotReady", "InvalidSpec").await?;
    assert!(
        message.starts_with("spec.storageMode:") && message.contains("--allow-privileged-pods"),
        "{message}"
    );
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    assert!(sets.get_opt("controller").await?.is_none());

    patch_spec(
        &controllers,
        "controller",
        json!({"storageMode": "EmptyDir"}),
    )
    .await?;
    wait_ready(&controllers, "controller", WAIT).await?;
    let controller = controllers.get("controller").await?;
    let status = controller.status.clone().unwrap();
    let headless = format!("controller-svc-headless.{namespace}.svc");
    assert_eq!(
        status.nodes,
        Some(vec![format!("controller-0.{headless}:9878")])
    );
    assert_eq!(status.size, Some(1));
    assert_eq!(status.observed_generation, controller.metadata.generation);
    let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
    for name in ["controller-svc-headless", "controller-svc"] {
        let service = services.get(name).await?;
        assert_eq!(service.owner_references()[0].uid, controller.uid().unwrap());
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let pod = pods.get("controller-0").await?;
    assert_eq!(pod.labels()["controller_cr"], "controller");
    let container = &pod.spec.unwrap().containers[0];
    assert_eq!(container.name, "controller");
    assert_eq!(
        container.image.as_deref(),
        Some("apacherocketmq/rocketmq-nameserver:5.0.0-alpine-operator-0.4.0")
    );

    // Three controllers: every one is told every peer by its stable name.
    patch_spec(&controllers, "controller", json!({"size": 3})).await?;
    testenv::eventually("the Controller reports 3 controllers", WAIT, || async {
        let status = controllers
            .get("controller")
            .await?
            .status
            .unwrap_or_default();
        Ok(status.size == Some(3) && status.conditions.is_some_and(|c| c[0].status == "True"))
    })
    .await?;
    let set = sets.get("controller").await?;
    let spec = set.spec.unwrap();
    assert_eq!(spec.replicas, Some(3));
    let script = &spec.template.spec.unwrap().containers[0]
        .command
        .clone()
        .unwrap()[2];
    let peers = (0..3)
        .map(|i| format!("n{i}-controller-{i}.{headless}:9878"))
        .collect::<Vec<_>>()
        .join(";");
    assert!(
        script.contains(&format!("controllerDLegerPeers={peers}\n")),
        "{script}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstreams_console_example_waits_for_a_name_service_then_serves_the_dashboard() -> Result<()>
{
    let (client, namespace) = setup("rmq-console").await?;
    start_operator(&client, &[&namespace], Vec::new());
    let yaml = std::fs::read_to_string(repo_path("tests/fixtures/rocketmq-console.yaml"))?;
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    let consoles: Api<Console> = Api::namespaced(client.clone(), &namespace);
    let message = wait_reason(&consoles, "console", "NotReady", "InvalidSpec").await?;
    assert!(message.contains("create a NameService"), "{message}");

    let name_service = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "NameService",
        "metadata": {"name": "names"}, "spec": {"size": 2},
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&name_service)?, &namespace).await?;
    wait_ready(&consoles, "console", WAIT).await?;
    let console = consoles.get("console").await?;
    let status = console.status.clone().unwrap();
    assert_eq!(
        status.address,
        Some(format!("console.{namespace}.svc:8080"))
    );
    assert_eq!(status.ready_replicas, Some(1));
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &namespace);
    let deployment = deployments.get("console").await?;
    assert_eq!(deployment.owner_references()[0].uid, console.uid().unwrap());
    let pod = deployment.spec.unwrap().template.spec.unwrap();
    let env = pod.containers[0].env.clone().unwrap();
    let names = format!("names-0.names.{namespace}.svc:9876;names-1.names.{namespace}.svc:9876");
    assert!(
        env.iter()
            .any(|var| var.name == "NAMESRV_ADDR" && var.value.as_deref() == Some(&names)),
        "{env:?}"
    );
    let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
    let service = services.get("console").await?;
    assert_eq!(service.spec.unwrap().ports.unwrap()[0].port, 8080);

    // Scaled as upstream scales it: the Deployment's replicas.
    let patch = json!({"spec": {"consoleDeployment": {"spec": {"replicas": 2}}}});
    consoles
        .patch("console", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    testenv::eventually("the Console reports 2 ready dashboards", WAIT, || async {
        let status = consoles.get("console").await?.status.unwrap_or_default();
        Ok(status.ready_replicas == Some(2))
    })
    .await?;
    wait_ready(&consoles, "console", WAIT).await?;
    Ok(())
}

/// Upstream's Proxy example (LOCAL mode, a broker in the proxy's pod) waits for a NameService,
/// then runs with the name servers' DNS names and says it does not read its own config file;
/// LOCAL refuses a second pod; in CLUSTER mode beside a Broker with ACL 2.0 on, the proxy
/// checks clients and signs with that Broker's admin credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstreams_proxy_example_waits_for_a_name_service_then_follows_the_brokers_acl()
-> Result<()> {
    let (client, namespace) = setup("rmq-proxy").await?;
    start_operator(&client, &[&namespace], Vec::new());
    let yaml = std::fs::read_to_string(repo_path("tests/fixtures/rocketmq-proxy.yaml"))?;
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    let proxies: Api<Proxy> = Api::namespaced(client.clone(), &namespace);
    let message = wait_reason(&proxies, "proxy", "NotReady", "InvalidSpec").await?;
    assert!(message.contains("create one there"), "{message}");

    let name_service = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "NameService",
        "metadata": {"name": "names"}, "spec": {"size": 1},
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&name_service)?, &namespace).await?;
    wait_ready(&proxies, "proxy", WAIT).await?;
    let proxy = proxies.get("proxy").await?;
    let status = proxy.status.clone().unwrap();
    assert_eq!(
        status.grpc_address,
        Some(format!("proxy.{namespace}.svc:8081"))
    );
    assert_eq!(status.ready_replicas, Some(1));
    let ignored = status.conditions.unwrap_or_default();
    assert!(
        ignored
            .iter()
            .any(|c| c.reason.as_deref() == Some("ProxyConfigPathIgnored")),
        "{ignored:?}"
    );
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &namespace);
    let script = |deployment: &Deployment| {
        let pod = deployment.spec.clone().unwrap().template.spec.unwrap();
        pod.containers[0]
            .command
            .clone()
            .unwrap_or_default()
            .join(" ")
    };
    let deployment = deployments.get("proxy").await?;
    assert_eq!(deployment.owner_references()[0].uid, proxy.uid().unwrap());
    assert!(
        script(&deployment).contains(&format!(
            "-n 'names-0.names.{namespace}.svc:9876' -pm local -bc '/root/rocketmq/broker/conf/broker.conf'"
        )),
        "{}",
        script(&deployment)
    );
    let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
    let ports: Vec<i32> = (services
        .get("proxy")
        .await?
        .spec
        .unwrap()
        .ports
        .unwrap()
        .iter())
    .map(|port| port.port)
    .collect();
    assert_eq!(ports, [8081, 8080]);

    let patch = json!({"spec": {"proxyDeployment": {"spec": {"replicas": 2}}}});
    proxies
        .patch("proxy", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let message = wait_reason(&proxies, "proxy", "NotReady", "InvalidSpec").await?;
    assert!(message.contains("brokers of one name"), "{message}");

    // CLUSTER mode beside a Broker whose configuration turns ACL 2.0 on.
    let acl = json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "acl"},
        "data": {"broker-common.conf": "authenticationEnabled=true\nauthorizationEnabled=true\n"},
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&acl)?, &namespace).await?;
    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    let volume = json!([{"name": "acl", "configMap": {"name": "acl", "items": [
        {"key": "broker-common.conf", "path": "broker-common.conf"}]}}]);
    apply_broker(&brokers, "secured", json!({"size": 1, "volumes": volume})).await?;
    let patch = json!({"spec": {"proxyMode": "CLUSTER"}});
    proxies
        .patch("proxy", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    testenv::eventually(
        "the proxy checks clients as the Broker does",
        WAIT,
        || async {
            let deployment = deployments.get("proxy").await?;
            Ok(script(&deployment).contains("\"authenticationEnabled\": true"))
        },
    )
    .await?;
    let deployment = deployments.get("proxy").await?;
    let env = deployment.spec.unwrap().template.spec.unwrap().containers[0]
        .env
        .clone()
        .unwrap_or_default();
    let signs_as = env
        .iter()
        .filter_map(|var| var.value_from.as_ref()?.secret_key_ref.as_ref())
        .map(|secret| secret.name.clone())
        .collect::<Vec<_>>();
    assert_eq!(signs_as, ["secured-admin-credentials"; 2]);
    wait_ready(&proxies, "proxy", WAIT).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_waits_for_its_name_service_and_invalid_specs_say_what_to_fix() -> Result<()> {
    let (client, namespace) = setup("rmq-invalid").await?;
    start_operator(&client, &[&namespace], Vec::new());
    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    apply_broker(&brokers, "waiting", json!({"size": 1, "nameServers": ""})).await?;
    let message = wait_reason(&brokers, "waiting", "NotReady", "InvalidSpec").await?;
    assert!(message.contains("create a NameService"), "{message}");

    // The NameService appearing is enough: no edit of the Broker.
    let name_service = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "NameService",
        "metadata": {"name": "names"}, "spec": {"size": 2},
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&name_service)?, &namespace).await?;
    wait_ready(&brokers, "waiting", WAIT).await?;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let conf = config_maps
        .get("waiting-0-master-config")
        .await?
        .data
        .unwrap()["broker.conf"]
        .clone();
    assert!(conf.contains(&format!(
        "namesrvAddr=names-0.names.{namespace}.svc:9876;names-1.names.{namespace}.svc:9876\n"
    )));

    apply_broker(
        &brokers,
        "unstored",
        json!({"size": 1, "storageMode": "StorageClass"}),
    )
    .await?;
    let message = wait_reason(&brokers, "unstored", "NotReady", "InvalidSpec").await?;
    assert!(
        message.starts_with("spec.volumeClaimTemplates:"),
        "{message}"
    );

    apply_broker(
        &brokers,
        "controlled",
        json!({"size": 1, "clusterMode": "CONTROLLER"}),
    )
    .await?;
    let message = wait_reason(&brokers, "controlled", "NotReady", "InvalidSpec").await?;
    assert!(
        message.contains("no Controller in the namespace"),
        "{message}"
    );
    // A Controller appearing is enough: the brokers register with its controllers.
    let controller = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "Controller",
        "metadata": {"name": "ctrl"}, "spec": {"size": 3},
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&controller)?, &namespace).await?;
    wait_ready(&brokers, "controlled", WAIT).await?;
    let conf = config_maps
        .get("controlled-0-master-config")
        .await?
        .data
        .unwrap()["broker.conf"]
        .clone();
    let addresses = (0..3)
        .map(|i| format!("ctrl-{i}.ctrl-svc-headless.{namespace}.svc:9878"))
        .collect::<Vec<_>>()
        .join(";");
    assert!(
        conf.contains(&format!(
            "enableControllerMode=true\ncontrollerAddr={addresses}\n"
        )),
        "{conf}"
    );

    // What reaches beyond the pod needs the operator's flag, which is off by default.
    apply_broker(
        &brokers,
        "privileged",
        json!({"size": 1, "hostNetwork": true, "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}),
    )
    .await?;
    let message = wait_reason(&brokers, "privileged", "NotReady", "InvalidSpec").await?;
    assert!(
        message.starts_with("spec.hostNetwork:") && message.contains("--allow-privileged-pods"),
        "{message}"
    );
    let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    assert!(statefulsets.get_opt("privileged-0-master").await?.is_none());

    // What only Kubernetes refuses still reaches the status, with its words.
    apply_broker(
        &brokers,
        "refused",
        json!({"size": 1, "resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}}),
    )
    .await?;
    let message = wait_reason(&brokers, "refused", "NotReady", "ReconciliationFailed").await?;
    assert!(
        message.contains("refused-0-master") && message.contains("less than or equal to"),
        "{message}"
    );

    // The user's settings the upstream way: a missing ConfigMap is invalid, then once it is
    // there its keys are merged and an operator-owned one is named in a warning.
    let volume = json!([{"name": "broker-config", "configMap": {"name": "broker-config",
        "items": [{"key": "broker-common.conf", "path": "broker-common.conf"}]}}]);
    apply_broker(
        &brokers,
        "configured",
        json!({"size": 1, "volumes": volume}),
    )
    .await?;
    let message = wait_reason(&brokers, "configured", "NotReady", "InvalidSpec").await?;
    assert!(
        message.contains("broker-config does not exist"),
        "{message}"
    );
    let user_config = json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "broker-config"},
        "data": {"broker-common.conf": "fileReservedTime=24\nbrokerId=3\n\\u0062rokerRole=SLAVE\nnote=a\\nbrokerRole=SLAVE\n"},
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&user_config)?, &namespace).await?;
    wait_ready(&brokers, "configured", WAIT).await?;
    let message = wait_reason(&brokers, "configured", "Warning", "ForbiddenConfig").await?;
    assert!(message.contains("brokerId"), "{message}");
    let conf = config_maps
        .get("configured-0-master-config")
        .await?
        .data
        .unwrap()["broker.conf"]
        .clone();
    assert!(conf.contains("fileReservedTime=24\n") && conf.contains("brokerId=0\n"));
    // An escaped owned key is the owned key; an escaped line break stays inside its value.
    let lines: Vec<&str> = conf.lines().collect();
    assert!(lines.contains(&"brokerRole=ASYNC_MASTER"), "{conf}");
    assert!(!lines.contains(&"brokerRole=SLAVE"), "{conf}");
    assert!(lines.contains(&r"note=a\nbrokerRole=SLAVE"), "{conf}");

    // Name servers given claims after the fact: their StatefulSet cannot take them.
    let name_services: Api<NameService> = Api::namespaced(client.clone(), &namespace);
    wait_ready(&name_services, "names", WAIT).await?;
    let claims = json!({"storageMode": "StorageClass", "volumeClaimTemplates": [{
        "metadata": {"name": "namesrv-storage"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]});
    patch_spec(&name_services, "names", claims).await?;
    let message = wait_reason(&name_services, "names", "NotReady", "NotSupported").await?;
    assert!(message.contains("StatefulSet names"), "{message}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_scale_out_and_in_keeping_claims_and_holding_what_cannot_be_checked() -> Result<()> {
    let (client, namespace) = setup("rmq-scale").await?;
    start_operator(&client, &[&namespace], Vec::new());
    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    let claim = json!([{"metadata": {"name": "broker-storage"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]);
    apply_broker(
        &brokers,
        "scaled",
        json!({"size": 1, "replicaPerGroup": 1, "nameServers": "127.0.0.1:9876",
               "storageMode": "StorageClass", "volumeClaimTemplates": claim}),
    )
    .await?;
    wait_ready(&brokers, "scaled", WAIT).await?;

    // Out: the new group's master waits for the cluster's metadata, which no broker can give
    // here (kwok's pods run none); the Kubernetes side is Ready anyway.
    patch_spec(&brokers, "scaled", json!({"size": 2})).await?;
    wait_ready(&brokers, "scaled", WAIT).await?;
    let message = wait_reason(&brokers, "scaled", "Warning", "MetadataCopyPending").await?;
    assert!(message.contains("scaled-1-master-0"), "{message}");
    let master = sets.get("scaled-1-master").await?;
    assert_eq!(
        statefulset_annotation(&master, "brokerage.io/metadata-copy").as_deref(),
        Some("pending")
    );
    assert_eq!(brokers.get("scaled").await?.status.unwrap().size, Some(2));

    // In: nothing can say whether the group's messages were consumed, so it is held...
    patch_spec(&brokers, "scaled", json!({"size": 1})).await?;
    let message = wait_reason(&brokers, "scaled", "Warning", "ScaleInHeld").await?;
    assert!(
        message.contains("scaled-1") && message.contains("force-scale-in"),
        "{message}"
    );
    assert!(sets.get_opt("scaled-1-master").await?.is_some());
    assert_eq!(brokers.get("scaled").await?.status.unwrap().size, Some(2));

    // ...until the user forces it. Its claims stay.
    annotate(
        &brokers,
        "scaled",
        "brokerage.io/force-scale-in",
        Some("true"),
    )
    .await?;
    wait_gone(&sets, "scaled-1-master").await?;
    wait_gone(&sets, "scaled-1-replica-1").await?;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    wait_gone(&config_maps, "scaled-1-master-config").await?;
    wait_size(&brokers, "scaled", 1).await?;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &namespace);
    assert!(
        claims
            .get_opt("broker-storage-scaled-1-master-0")
            .await?
            .is_some()
    );

    // Paused: a change waits until the annotation goes.
    annotate(
        &brokers,
        "scaled",
        "strimzi.io/pause-reconciliation",
        Some("true"),
    )
    .await?;
    wait_reason(
        &brokers,
        "scaled",
        "ReconciliationPaused",
        "ReconciliationPaused",
    )
    .await?;
    patch_spec(&brokers, "scaled", json!({"size": 2})).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(sets.get_opt("scaled-1-master").await?.is_none());
    annotate(&brokers, "scaled", "strimzi.io/pause-reconciliation", None).await?;
    wait_ready(&brokers, "scaled", WAIT).await?;
    assert!(sets.get_opt("scaled-1-master").await?.is_some());

    // Bigger volumes would need new claim templates, which Kubernetes refuses: NotSupported,
    // nothing applied, until they are put back.
    let mut bigger = claim.clone();
    bigger[0]["spec"]["resources"]["requests"]["storage"] = json!("16Gi");
    patch_spec(&brokers, "scaled", json!({"volumeClaimTemplates": bigger})).await?;
    let message = wait_reason(&brokers, "scaled", "NotReady", "NotSupported").await?;
    assert!(
        message.contains("scaled-0-master") && message.contains("spec.volumeClaimTemplates"),
        "{message}"
    );
    patch_spec(&brokers, "scaled", json!({"volumeClaimTemplates": claim})).await?;
    wait_ready(&brokers, "scaled", WAIT).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_needs_a_restart_rolls_replicas_before_masters_unless_restarts_are_off()
-> Result<()> {
    let (client, namespace) = setup("rmq-roll").await?;
    start_operator(&client, &[&namespace], Vec::new());
    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let spec = |memory: &str, allow_restart: bool| {
        json!({"size": 1, "replicaPerGroup": 1, "nameServers": "127.0.0.1:9876",
               "allowRestart": allow_restart,
               "resources": {"limits": {"memory": memory}}})
    };
    apply_broker(&brokers, "rolled", spec("2Gi", true)).await?;
    wait_ready(&brokers, "rolled", WAIT).await?;
    let (master, replica) = ("rolled-0-master-0", "rolled-0-replica-1-0");
    let uid =
        async |pod: &str| -> Result<String> { Ok(pods.get(pod).await?.uid().unwrap_or_default()) };
    let (master_uid, replica_uid) = (uid(master).await?, uid(replica).await?);

    // With restarts off, a new heap waits and says which brokers it waits for.
    apply_broker(&brokers, "rolled", spec("4Gi", false)).await?;
    let message = wait_reason(&brokers, "rolled", "Warning", "RestartPending").await?;
    assert!(
        message.contains(master) && message.contains(replica),
        "{message}"
    );
    assert_eq!(
        (uid(master).await?, uid(replica).await?),
        (master_uid.clone(), replica_uid.clone())
    );

    // With restarts on, the replica restarts first, and the master only once it is back.
    apply_broker(&brokers, "rolled", spec("4Gi", true)).await?;
    // The pods in the order they were replaced, polled faster than a restart takes.
    let order = std::sync::Mutex::new(Vec::new());
    testenv::eventually("both brokers restarted", WAIT, || async {
        for (pod, before) in [(replica, &replica_uid), (master, &master_uid)] {
            let now = pods.get_opt(pod).await?.and_then(|found| found.uid());
            let mut order = order.lock().expect("order");
            if now.as_ref().is_some_and(|now| now != before) && !order.contains(&pod) {
                order.push(pod);
            }
        }
        Ok(order.lock().expect("order").len() == 2)
    })
    .await?;
    assert_eq!(*order.lock().expect("order"), [replica, master]);
    wait_ready(&brokers, "rolled", WAIT).await?;
    let restarted = pods.get(master).await?;
    let java = restarted.spec.unwrap().containers[0]
        .env
        .clone()
        .unwrap_or_default()
        .into_iter()
        .find(|env| env.name == "JAVA_OPT_EXT")
        .and_then(|env| env.value)
        .unwrap_or_default();
    assert!(java.contains("-Xmx2048m"), "half the new 4Gi limit: {java}");

    // Strimzi's manual rolling update restarts a broker even with restarts off: asked on a
    // StatefulSet, it is handed to the pod and done once; asked on a pod, that pod restarts.
    apply_broker(&brokers, "rolled", spec("4Gi", false)).await?;
    wait_ready(&brokers, "rolled", WAIT).await?;
    let (master_uid, replica_uid) = (uid(master).await?, uid(replica).await?);
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    let manual = "strimzi.io/manual-rolling-update";
    annotate(&sets, "rolled-0-replica-1", manual, Some("true")).await?;
    testenv::eventually("the replica restarted", WAIT, || async {
        Ok(uid(replica)
            .await
            .ok()
            .is_some_and(|now| now != replica_uid))
    })
    .await?;
    testenv::eventually("the request was done once", WAIT, || async {
        let set = sets.get("rolled-0-replica-1").await?;
        Ok(statefulset_annotation(&set, manual).is_none())
    })
    .await?;
    assert_eq!(uid(master).await?, master_uid);
    annotate(&pods, master, manual, Some("true")).await?;
    testenv::eventually("the master restarted", WAIT, || async {
        Ok(uid(master).await.ok().is_some_and(|now| now != master_uid))
    })
    .await?;
    wait_ready(&brokers, "rolled", WAIT).await?;
    let replaced = pods.get(master).await?;
    assert!(!replaced.annotations().contains_key(manual));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_in_two_namespaces_stay_independent_and_deletion_collects_everything() -> Result<()>
{
    let (client, first) = setup("rmq-first").await?;
    let (_, second) = setup("rmq-second").await?;
    start_operator(&client, &[&first, &second], Vec::new());
    let yaml = std::fs::read_to_string(repo_path("tests/fixtures/rocketmq-cluster.yaml"))?;
    testenv::apply_yaml(&client, &yaml, &first).await?;
    let smaller = yaml.replace("size: 2", "size: 1");
    testenv::apply_yaml(&client, &smaller, &second).await?;

    let api = |namespace: &str| -> Api<Broker> { Api::namespaced(client.clone(), namespace) };
    wait_ready(&api(&first), "broker", WAIT).await?;
    wait_ready(&api(&second), "broker", WAIT).await?;
    for (namespace, size) in [(&first, 2), (&second, 1)] {
        let status = api(namespace).get("broker").await?.status.unwrap();
        assert_eq!(status.size, Some(size));
        let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
        let conf = config_maps
            .get("broker-0-master-config")
            .await?
            .data
            .unwrap()["broker.conf"]
            .clone();
        assert!(conf.contains(&format!(".{namespace}.svc:9876\n")), "{conf}");
    }
    let secret = |namespace: &str| {
        let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
        async move { secrets.get("broker-admin-credentials").await }
    };
    assert_ne!(secret(&first).await?.data, secret(&second).await?.data);

    // Deleting the first cluster's resources collects their objects; the second is untouched.
    api(&first)
        .delete("broker", &DeleteParams::foreground())
        .await?;
    let name_services: Api<NameService> = Api::namespaced(client.clone(), &first);
    name_services
        .delete("name-service", &DeleteParams::foreground())
        .await?;
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &first);
    for name in ["broker-0-master", "broker-1-replica-1", "name-service"] {
        wait_gone(&sets, name).await?;
    }
    let services: Api<Service> = Api::namespaced(client.clone(), &first);
    wait_gone(&services, "broker-brokers").await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &first);
    wait_gone(&secrets, "broker-admin-credentials").await?;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &first);
    wait_gone(&config_maps, "broker-1-master-config").await?;
    wait_ready(&api(&second), "broker", WAIT).await?;
    let other: Api<StatefulSet> = Api::namespaced(client.clone(), &second);
    assert!(other.get_opt("broker-0-master").await?.is_some());
    Ok(())
}

/// Real RocketMQ shared by the tests below: a name server with the brokers `broker-a` and
/// `broker-b`, and a second name server. Brokers apply a changed name-server list every 10 s
/// here (the operator's `broker.conf` says 30 s).
struct RealRocketMQ {
    cluster: RocketMQCluster,
    second_name_server: NameServer,
}

async fn real_rocketmq() -> Result<&'static RealRocketMQ> {
    static ROCKETMQ: OnceCell<RealRocketMQ> = OnceCell::const_new();
    ROCKETMQ
        .get_or_try_init(|| async {
            tokio::task::spawn_blocking(|| {
                let options = RocketMQOptions {
                    brokers: 2,
                    config: BTreeMap::from([(
                        "updateNameServerAddrPeriod".to_string(),
                        "10000".to_string(),
                    )]),
                    ..RocketMQOptions::default()
                };
                Ok(RealRocketMQ {
                    cluster: RocketMQCluster::start(&options)?,
                    second_name_server: NameServer::start()?,
                })
            })
            .await?
        })
        .await
}

/// The Broker `name` reaches the real brokers as the pods `pods` name them.
fn mapped(
    namespace: &str,
    name: &str,
    rocketmq: &RealRocketMQ,
    pods: &[(&str, usize)],
) -> RocketMQOverride {
    RocketMQOverride {
        namespace: Some(namespace.to_string()),
        cluster: name.into(),
        cluster_name: Some("DefaultCluster".into()),
        name_servers: rocketmq.cluster.name_server_addr(),
        tls: None,
        credentials: None,
        brokers: pods
            .iter()
            .map(|(pod, index)| (pod.to_string(), rocketmq.cluster.brokers()[*index].addr()))
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_server_change_reaches_a_running_broker_without_a_restart() -> Result<()> {
    let rocketmq = real_rocketmq().await?;
    let (client, namespace) = setup("rmq-live").await?;
    let real = &rocketmq.cluster.brokers()[0];
    let overrides = vec![mapped(
        &namespace,
        "live",
        rocketmq,
        &[("live-0-master-0", 0)],
    )];
    start_operator(&client, &[&namespace], overrides);
    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    let first = rocketmq.cluster.name_server_addr();
    apply_broker(&brokers, "live", json!({"size": 1, "nameServers": first})).await?;
    wait_ready(&brokers, "live", WAIT).await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let pod_uid = pods.get("live-0-master-0").await?.uid();
    let pid = real.pid();

    let second = rocketmq.second_name_server.addr();
    patch_spec(&brokers, "live", json!({"nameServers": second})).await?;
    let admin = AdminClient::new(ClientConfig::new(&second));
    testenv::eventually(
        "the running broker uses the second name server",
        WAIT,
        || async {
            let config = admin.broker_config(&real.addr()).await?;
            Ok(config.get("namesrvAddr") == Some(&second))
        },
    )
    .await?;
    testenv::eventually(
        "the broker registers with it",
        Duration::from_secs(90),
        || async {
            let info = admin.cluster_info().await?;
            Ok(info.addresses("DefaultCluster").contains(&real.addr()))
        },
    )
    .await?;
    assert_eq!(real.pid(), pid, "the broker was restarted");
    let pod = pods.get("live-0-master-0").await?;
    assert_eq!(pod.uid(), pod_uid, "the pod was restarted");
    assert_eq!(
        pod.annotations().get("brokerage.io/name-servers"),
        Some(&second)
    );
    wait_ready(&brokers, "live", WAIT).await?;
    let conditions = brokers
        .get("live")
        .await?
        .status
        .unwrap()
        .conditions
        .unwrap();
    assert!(
        conditions.iter().all(|c| c.type_ == "Ready"),
        "{conditions:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_out_copies_metadata_and_scaling_in_waits_for_consumers() -> Result<()> {
    let rocketmq = real_rocketmq().await?;
    let (client, namespace) = setup("rmq-metadata").await?;
    let (source, target) = (
        &rocketmq.cluster.brokers()[0],
        &rocketmq.cluster.brokers()[1],
    );
    let overrides = vec![mapped(
        &namespace,
        "meta",
        rocketmq,
        &[("meta-0-master-0", 0), ("meta-1-master-0", 1)],
    )];
    start_operator(&client, &[&namespace], overrides);
    let admin = AdminClient::new(ClientConfig::new(&rocketmq.cluster.name_server_addr()));
    let topic = format!("{namespace}-orders");
    let group = format!("{namespace}-billing");
    admin
        .create_topic(&source.addr(), &TopicConfig::new(&topic))
        .await?;
    let subscription = SubscriptionGroup {
        name: group.clone(),
        config: json!({"groupName": group, "retryMaxTimes": 7}),
    };
    admin
        .update_subscription_group(&source.addr(), &subscription)
        .await?;

    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    let name_servers = rocketmq.cluster.name_server_addr();
    apply_broker(
        &brokers,
        "meta",
        json!({"size": 1, "nameServers": name_servers}),
    )
    .await?;
    wait_ready(&brokers, "meta", WAIT).await?;
    patch_spec(&brokers, "meta", json!({"size": 2})).await?;
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    let copied = testenv::eventually("the new group got the metadata", WAIT, || async {
        let Some(set) = sets.get_opt("meta-1-master").await? else {
            return Ok(false);
        };
        Ok(
            statefulset_annotation(&set, "brokerage.io/metadata-copy").as_deref()
                == Some("copied from meta-0-master-0"),
        )
    })
    .await;
    if let Err(error) = copied {
        let status = brokers.get("meta").await?.status;
        anyhow::bail!("{error}; the Broker's status: {status:?}");
    }
    let topics = admin.topic_configs(&target.addr()).await?;
    assert_eq!(topics[&topic].read_queue_nums, 8);
    let groups = admin.subscription_groups(&target.addr()).await?;
    let copied = groups
        .iter()
        .find(|g| g.name == group)
        .expect("the group was copied");
    assert_eq!(copied.config["retryMaxTimes"], 7);
    wait_ready(&brokers, "meta", WAIT).await?;

    // A message nobody consumed holds the group's removal until the user forces it.
    admin
        .send_message(&target.addr(), &topic, b"not consumed yet")
        .await?;
    // Brokers index a message moments after storing it.
    testenv::eventually("the message counts as unconsumed", WAIT, || async {
        Ok(admin.unconsumed_messages(&target.addr()).await? > 0)
    })
    .await?;
    patch_spec(&brokers, "meta", json!({"size": 1})).await?;
    let message = wait_reason(&brokers, "meta", "Warning", "ScaleInHeld").await?;
    assert!(
        message.contains("meta-1") && message.contains("not consumed"),
        "{message}"
    );
    assert!(sets.get_opt("meta-1-master").await?.is_some());
    annotate(
        &brokers,
        "meta",
        "brokerage.io/force-scale-in",
        Some("true"),
    )
    .await?;
    wait_gone(&sets, "meta-1-master").await?;
    // Ready held all along (the kept group ran), so wait for the status to count one group.
    wait_size(&brokers, "meta", 1).await?;
    wait_ready(&brokers, "meta", WAIT).await?;
    Ok(())
}
