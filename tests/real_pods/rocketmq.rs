//! RocketMQ on real pods: name servers and brokers the operator in its pod creates, topics and
//! users it makes in them, clients that send and receive through the name servers' DNS names, a
//! name-server change a running broker takes without a restart, and deletion. Controller mode is
//! in `rocketmq_controller`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use api::rocketmq::{Broker, NameService, Proxy, RocketMQTopic, RocketMQUser};
use brokerage_e2e::real_pods::{
    RocketMQConnection, one_heavy_test_at_a_time, rocketmq_consume, rocketmq_grpc_round_trip,
    rocketmq_send, setup_on_real_node,
};
use brokerage_e2e::{repo_path, wait_condition};

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Secret, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use rocketmq_client::{AdminClient, ClientConfig, Credentials, TlsConfig};
use serde_json::json;

use crate::pod_security::{enforce_restricted, ensure_restricted_pods};

/// Cold JVMs on a busy two-core machine: scheduling, image layers, RocketMQ's start.
pub(crate) const READY: Duration = Duration::from_secs(300);
const TOPIC_READY: Duration = Duration::from_secs(120);
/// Pods stop (the JVMs' shutdown) and the garbage collector follows the owners.
const GONE: Duration = Duration::from_secs(120);

pub(crate) fn example(file: &str) -> Result<String> {
    Ok(std::fs::read_to_string(
        repo_path("examples/rocketmq").join(file),
    )?)
}

/// The broker settings, mounted the upstream way (`spec.volumes`, key `broker-common.conf`).
async fn apply_broker_settings(client: &Client, namespace: &str, settings: &str) -> Result<()> {
    let config_map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "broker-config"},
        "data": {"broker-common.conf": settings},
    });
    testenv::apply_yaml(client, &serde_yaml::to_string(&config_map)?, namespace).await?;
    Ok(())
}

fn settings_volume() -> serde_json::Value {
    json!([{
        "name": "broker-config",
        "configMap": {
            "name": "broker-config",
            "items": [{"key": "broker-common.conf", "path": "broker-common.conf"}],
        },
    }])
}

/// A Broker named `broker` with `spec`, applied server-side.
pub(crate) async fn apply_broker(
    client: &Client,
    namespace: &str,
    spec: serde_json::Value,
) -> Result<()> {
    let broker = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1",
        "kind": "Broker",
        "metadata": {"name": "broker"},
        "spec": spec,
    });
    testenv::apply_yaml(client, &serde_yaml::to_string(&broker)?, namespace).await?;
    Ok(())
}

/// The stable DNS name of name server `ordinal` of the NameService `name-service`.
fn name_server(namespace: &str, ordinal: i32) -> String {
    format!("name-service-{ordinal}.name-service.{namespace}.svc:9876")
}

/// `pod`'s IP: the test process reaches pods on the real node by IP (it cannot resolve their
/// cluster names).
pub(crate) async fn pod_ip(pods: &Api<Pod>, pod: &str) -> Result<String> {
    pods.get(pod)
        .await?
        .status
        .and_then(|status| status.pod_ip)
        .with_context(|| format!("{pod} has no IP"))
}

/// An admin client asking the name server in `pod`.
pub(crate) async fn name_server_admin(pods: &Api<Pod>, pod: &str) -> Result<AdminClient> {
    let address = format!("{}:9876", pod_ip(pods, pod).await?);
    Ok(AdminClient::new(ClientConfig::new(&address)))
}

/// The pod's UID and its container's restart count: a restart changes one of them.
async fn incarnation(pods: &Api<Pod>, pod: &str) -> Result<(String, i32)> {
    let pod = pods.get(pod).await?;
    let restarts = pod
        .status
        .as_ref()
        .and_then(|status| status.container_statuses.as_ref())
        .and_then(|statuses| statuses.first())
        .map(|status| status.restart_count)
        .unwrap_or_default();
    Ok((pod.uid().unwrap_or_default(), restarts))
}

/// The examples with ACL 2.0 turned on (the two settings `broker-common.conf` needs, since the
/// operator names the providers): a master and a replica reach Ready, the example topics and
/// user become Ready through the operator in its pod, and a producer signing as the example user
/// sends through the name server's DNS name while an unsigned one is refused; the same through
/// the example Proxy's Service; a consumer signing as a reader user receives every message
/// through the proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_with_acl_on_serve_users_producers_and_consumers() -> Result<()> {
    let _alone = one_heavy_test_at_a_time().await;
    let started = Instant::now();
    let (client, namespace) = setup_on_real_node("rocketmq-examples").await?;
    enforce_restricted(&client, &namespace, true).await?;
    testenv::apply_yaml(&client, &example("name-service.yaml")?, &namespace).await?;
    apply_broker_settings(
        &client,
        &namespace,
        "authenticationEnabled=true\nauthorizationEnabled=true\n",
    )
    .await?;
    let mut broker: serde_json::Value = serde_yaml::from_str(&example("broker.yaml")?)?;
    broker["spec"]["volumes"] = settings_volume();
    testenv::apply_yaml(&client, &serde_yaml::to_string(&broker)?, &namespace).await?;
    testenv::apply_yaml(&client, &example("proxy.yaml")?, &namespace).await?;

    let name_services: Api<NameService> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&name_services, "name-service", "Ready", None, READY).await?;
    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&brokers, "broker", "Ready", None, READY).await?;
    let proxies: Api<Proxy> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&proxies, "proxy", "Ready", None, READY).await?;
    eprintln!(
        "rocketmq examples: the proxy Ready after {:?}",
        started.elapsed()
    );
    ensure_restricted_pods(&client, &namespace, "broker").await?;
    ensure_restricted_pods(&client, &namespace, "name-service").await?;
    ensure_restricted_pods(&client, &namespace, "proxy").await?;
    enforce_restricted(&client, &namespace, false).await?;
    let nodes = brokers.get("broker").await?.status.and_then(|s| s.nodes);
    let master_and_replica = ["broker-0-master-0", "broker-0-replica-1-0"].map(String::from);
    ensure!(nodes == Some(master_and_replica.to_vec()), "{nodes:?}");
    // What `mqadmin clusterList` shows: the group's master (id 0) and replica (id 1), registered
    // with the name server at their pod IPs.
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let mut expected = BTreeMap::new();
    for (id, pod) in master_and_replica.iter().enumerate() {
        expected.insert(id as i64, format!("{}:10911", pod_ip(&pods, pod).await?));
    }
    let admin = name_server_admin(&pods, "name-service-0").await?;
    testenv::eventually(
        "the master and the replica are registered with the name server",
        Duration::from_secs(60),
        || async {
            let info = admin.cluster_info().await.ok();
            let group = info.and_then(|mut info| info.brokers.remove("broker-0"));
            Ok(group.is_some_and(|group| group.addresses == expected))
        },
    )
    .await?;
    eprintln!("rocketmq examples: Ready after {:?}", started.elapsed());

    testenv::apply_yaml(&client, &example("topic.yaml")?, &namespace).await?;
    testenv::apply_yaml(&client, &example("user.yaml")?, &namespace).await?;
    // mqadmin's consumer reads through the group TOOLS_CONSUMER and asks for queue offsets (Get).
    let reader = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1",
        "kind": "RocketMQUser",
        "metadata": {"name": "orders-reader"},
        "spec": {
            "clusterRef": {"name": "broker"},
            "acls": [
                {"resource": "Topic:orders", "actions": ["Sub", "Get"]},
                {"resource": "Group:TOOLS_CONSUMER", "actions": ["Sub"]},
            ],
        },
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&reader)?, &namespace).await?;
    let topics: Api<RocketMQTopic> = Api::namespaced(client.clone(), &namespace);
    for topic in ["orders", "payments-fifo"] {
        wait_condition(&topics, topic, "Ready", None, TOPIC_READY).await?;
    }
    let users: Api<RocketMQUser> = Api::namespaced(client.clone(), &namespace);
    for user in ["orders-app", "orders-reader"] {
        wait_condition(&users, user, "Ready", None, TOPIC_READY).await?;
    }
    eprintln!(
        "rocketmq examples: topics and users Ready after {:?}",
        started.elapsed()
    );
    brokers_serve_tls_for_their_own_ca(&client, &namespace, &pods).await?;

    let name_servers = name_server(&namespace, 0);
    let as_app = RocketMQConnection {
        name_servers: name_servers.clone(),
        user: Some("orders-app"),
    };
    let bodies = ["order-1", "order-2", "order-3"];
    let sent = rocketmq_send(&client, &namespace, "producer", &as_app, "orders", &bodies).await?;
    ensure!(
        sent.stored == bodies.len() && sent.failures.is_empty(),
        "{sent:?}"
    );
    let anonymous = RocketMQConnection {
        name_servers,
        user: None,
    };
    let refused = rocketmq_send(
        &client,
        &namespace,
        "anonymous-producer",
        &anonymous,
        "orders",
        &["unsigned"],
    )
    .await?;
    // NO_PERMISSION (16): ACL 2.0 refuses a request without credentials.
    ensure!(
        refused.stored == 0 && refused.failures.iter().all(|f| f.contains("CODE: 16")),
        "{refused:?}"
    );
    // Through the proxy, which remoting clients take for a name server: the same user sends, an
    // unsigned client is refused by the proxy itself, and the reader receives everything.
    let proxy = proxies
        .get("proxy")
        .await?
        .status
        .and_then(|status| status.remoting_address)
        .context("the Proxy's status has no remoting address")?;
    let through_proxy = |user| RocketMQConnection {
        name_servers: proxy.clone(),
        user,
    };
    let proxied = ["proxied-1", "proxied-2"];
    let sent = rocketmq_send(
        &client,
        &namespace,
        "proxy-producer",
        &through_proxy(Some("orders-app")),
        "orders",
        &proxied,
    )
    .await?;
    ensure!(
        sent.stored == proxied.len() && sent.failures.is_empty(),
        "{sent:?}"
    );
    let refused = rocketmq_send(
        &client,
        &namespace,
        "proxy-anonymous-producer",
        &through_proxy(None),
        "orders",
        &["unsigned"],
    )
    .await?;
    // The proxy refuses the unsigned client's first request, its route lookup, which the client
    // reports as no route: the signed one above was routed to the same topic.
    ensure!(
        refused.stored == 0
            && (refused.failures.iter()).all(|f| f.contains("No route info of this topic")),
        "{refused:?}"
    );
    let received = rocketmq_consume(
        &client,
        &namespace,
        "consumer",
        &through_proxy(Some("orders-reader")),
        "orders",
    )
    .await?;
    let expected: BTreeSet<&str> = bodies.iter().chain(&proxied).copied().collect();
    ensure!(
        received.iter().map(String::as_str).collect::<BTreeSet<_>>() == expected,
        "received {received:?}"
    );
    grpc_clients_go_through_the_proxy_as_acl_users(&client, &namespace, &proxies).await?;
    eprintln!("rocketmq examples: done after {:?}", started.elapsed());
    Ok(())
}

/// A RocketMQ 5 application (the Java gRPC client) at the Proxy's gRPC address: signed as the
/// example user it sends and its simple consumer receives every message; unsigned, or on a topic
/// the user's ACLs deny, the proxy refuses it before anything is sent or received.
async fn grpc_clients_go_through_the_proxy_as_acl_users(
    client: &Client,
    namespace: &str,
    proxies: &Api<Proxy>,
) -> Result<()> {
    let grpc = (proxies.get("proxy").await?.status)
        .and_then(|status| status.grpc_address)
        .context("the Proxy's status has no gRPC address")?;
    let orders = ("orders", "orders-grpc");
    let signed = rocketmq_grpc_round_trip(
        client,
        namespace,
        "grpc-app",
        &grpc,
        Some("orders-app"),
        orders,
        5,
    )
    .await?;
    ensure!(
        signed.sent.len() == 5 && signed.received == signed.sent && signed.failures.is_empty(),
        "{signed:?}"
    );
    let unsigned =
        rocketmq_grpc_round_trip(client, namespace, "grpc-anonymous", &grpc, None, orders, 1)
            .await?;
    // The same user on the topic its ACLs deny.
    let denied = rocketmq_grpc_round_trip(
        client,
        namespace,
        "grpc-denied",
        &grpc,
        Some("orders-app"),
        ("Payments_FIFO", "orders-grpc"),
        1,
    )
    .await?;
    let refusals = [
        (&unsigned, "username cannot be null"),
        (
            &denied,
            "User:orders-app has no permission to access Topic:Payments_FIFO",
        ),
    ];
    for (outcome, refusal) in refusals {
        ensure!(
            outcome.sent.is_empty()
                && outcome.received.is_empty()
                && !outcome.failures.is_empty()
                && (outcome.failures.iter()).all(|failure| failure.contains(refusal)),
            "expected \"{refusal}\": {outcome:?}"
        );
    }
    eprintln!("rocketmq examples: gRPC through the proxy {signed:?}");
    Ok(())
}

/// The users' keys went to the brokers over TLS (the operator reaches managed brokers no other
/// way): the master serves a certificate for the brokers' Service that chains to the CA in
/// `broker-broker-ca-cert`, and a client trusting another CA is refused in the handshake.
async fn brokers_serve_tls_for_their_own_ca(
    client: &Client,
    namespace: &str,
    pods: &Api<Pod>,
) -> Result<()> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let read = |secret: Secret, key: &str| {
        secret
            .data
            .as_ref()
            .and_then(|data| data.get(key))
            .map(|value| String::from_utf8_lossy(&value.0).into_owned())
            .with_context(|| format!("{} has no {key}", secret.name_any()))
    };
    let ca_pem = read(secrets.get("broker-broker-ca-cert").await?, "ca.crt")?;
    // Authentication is on: the request is signed as the operator signs its own.
    let admin = secrets.get("broker-admin-credentials").await?;
    let credentials = Credentials {
        access_key: read(admin.clone(), "accessKey")?,
        secret_key: read(admin, "secretKey")?,
    };
    let other_ca = certs::CertificateAuthority::generate(
        certs::CaKind::Cluster,
        certs::Generations::default(),
        certs::OffsetDateTime::now_utc(),
        30,
    )?;
    let master = format!("{}:10911", pod_ip(pods, "broker-0-master-0").await?);
    let over_tls = |ca_pem: &str| {
        let mut config = ClientConfig::new(&name_server(namespace, 0));
        config.credentials = Some(credentials.clone());
        config.tls = Some(TlsConfig {
            server_name: Some(format!("broker-brokers.{namespace}.svc")),
            name_servers: false,
            ..TlsConfig::new(ca_pem)
        });
        AdminClient::new(config)
    };
    let served = over_tls(&ca_pem).broker_config(&master).await?;
    ensure!(
        served.get("brokerName").map(String::as_str) == Some("broker-0"),
        "{served:?}"
    );
    match over_tls(other_ca.cert_pem()).broker_config(&master).await {
        Err(rocketmq_client::Error::Tls(message)) => {
            ensure!(message.contains("certificate"), "{message}")
        }
        other => bail!("a client trusting another CA got {other:?}"),
    }
    Ok(())
}

/// Scaling the NameService out changes the name-server list of the Broker that uses it: the
/// running broker reports the new list and registers with the new name server, in the same pod
/// with no container restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_name_server_reaches_the_running_broker_without_a_restart() -> Result<()> {
    let started = Instant::now();
    let (client, namespace) = setup_on_real_node("rocketmq-name-servers").await?;
    testenv::apply_yaml(&client, &example("name-service.yaml")?, &namespace).await?;
    // The shortest periods RocketMQ allows, so that the broker takes up a new list, and registers
    // with it, within seconds rather than a minute.
    apply_broker_settings(
        &client,
        &namespace,
        "updateNameServerAddrPeriod=10000\nregisterNameServerPeriod=10000\n",
    )
    .await?;
    apply_broker(
        &client,
        &namespace,
        json!({
            "size": 1,
            "resources": {"limits": {"memory": "1Gi"}},
            "storageMode": "EmptyDir",
            "volumes": settings_volume(),
        }),
    )
    .await?;
    let name_services: Api<NameService> = Api::namespaced(client.clone(), &namespace);
    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&brokers, "broker", "Ready", None, READY).await?;
    wait_condition(&name_services, "name-service", "Ready", None, READY).await?;
    eprintln!("rocketmq name servers: Ready after {:?}", started.elapsed());

    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let broker_pod = "broker-0-master-0";
    let before = incarnation(&pods, broker_pod).await?;
    let broker_address = format!("{}:10911", pod_ip(&pods, broker_pod).await?);
    let first = name_server(&namespace, 0);
    let admin = name_server_admin(&pods, "name-service-0").await?;
    let config = admin.broker_config(&broker_address).await?;
    ensure!(
        config.get("namesrvAddr") == Some(&first),
        "namesrvAddr {:?}",
        config.get("namesrvAddr")
    );

    name_services
        .patch(
            "name-service",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 2}})),
        )
        .await?;
    wait_condition(&name_services, "name-service", "Ready", None, READY).await?;
    let both = format!("{first};{}", name_server(&namespace, 1));
    testenv::eventually(
        "the running broker reports both name servers",
        Duration::from_secs(120),
        || async {
            let config = admin.broker_config(&broker_address).await.ok();
            Ok(config.and_then(|config| config.get("namesrvAddr").cloned()) == Some(both.clone()))
        },
    )
    .await?;
    let second = name_server_admin(&pods, "name-service-1").await?;
    testenv::eventually(
        "the broker registers with the new name server",
        Duration::from_secs(90),
        || async {
            let info = second.cluster_info().await.ok();
            Ok(info.is_some_and(|info| info.addresses("broker").contains(&broker_address)))
        },
    )
    .await?;
    ensure!(
        incarnation(&pods, broker_pod).await? == before,
        "the broker's pod or container was restarted"
    );
    wait_condition(&brokers, "broker", "Ready", None, READY).await?;
    eprintln!("rocketmq name servers: done after {:?}", started.elapsed());
    Ok(())
}

/// Deleting the Broker and the NameService removes their StatefulSets, Services, ConfigMaps,
/// Secret and pods; the brokers' claims stay (RocketMQ has no `deleteClaim`: they hold messages).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_broker_and_name_service_removes_all_but_the_claims() -> Result<()> {
    let started = Instant::now();
    let (client, namespace) = setup_on_real_node("rocketmq-deletion").await?;
    testenv::apply_yaml(&client, &example("name-service.yaml")?, &namespace).await?;
    apply_broker(
        &client,
        &namespace,
        json!({
            "size": 1,
            "resources": {"limits": {"memory": "1Gi"}},
            "storageMode": "StorageClass",
            "volumeClaimTemplates": [{
                "metadata": {"name": "broker-storage"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }],
        }),
    )
    .await?;
    let name_services: Api<NameService> = Api::namespaced(client.clone(), &namespace);
    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&brokers, "broker", "Ready", None, READY).await?;
    wait_condition(&name_services, "name-service", "Ready", None, READY).await?;
    eprintln!("rocketmq deletion: Ready after {:?}", started.elapsed());

    let everything = ListParams::default();
    let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &namespace);
    let owned = || async {
        let names = |items: Vec<String>| items.into_iter().collect::<BTreeSet<_>>();
        let config_maps = config_maps.list(&everything).await?.items;
        Ok::<_, anyhow::Error>([
            names(
                statefulsets
                    .list(&everything)
                    .await?
                    .iter()
                    .map(|o| o.name_any())
                    .collect(),
            ),
            names(
                services
                    .list(&everything)
                    .await?
                    .iter()
                    .map(|o| o.name_any())
                    .collect(),
            ),
            // Every namespace has kube-root-ca.crt; it is not the operator's.
            names(
                config_maps
                    .iter()
                    .map(|o| o.name_any())
                    .filter(|name| name != "kube-root-ca.crt")
                    .collect(),
            ),
            names(
                secrets
                    .list(&everything)
                    .await?
                    .iter()
                    .map(|o| o.name_any())
                    .collect(),
            ),
            names(
                pods.list(&everything)
                    .await?
                    .iter()
                    .map(|o| o.name_any())
                    .collect(),
            ),
        ])
    };
    let before = owned().await?;
    ensure!(
        before
            == [
                BTreeSet::from(["broker-0-master".into(), "name-service".into()]),
                BTreeSet::from(["broker-brokers".into(), "name-service".into()]),
                BTreeSet::from(["broker-0-master-config".into()]),
                BTreeSet::from([
                    "broker-admin-credentials".into(),
                    "broker-broker-ca".into(),
                    "broker-broker-ca-cert".into(),
                    "broker-broker-tls".into(),
                ]),
                BTreeSet::from(["broker-0-master-0".into(), "name-service-0".into()]),
            ],
        "{before:?}"
    );
    let claim = "broker-storage-broker-0-master-0";
    ensure!(claims.get_opt(claim).await?.is_some(), "no claim {claim}");

    brokers.delete("broker", &DeleteParams::default()).await?;
    name_services
        .delete("name-service", &DeleteParams::default())
        .await?;
    let gone = testenv::eventually(
        "everything the Broker and NameService owned is gone",
        GONE,
        || async { Ok(owned().await?.iter().all(BTreeSet::is_empty)) },
    )
    .await;
    if let Err(error) = gone {
        bail!("{error}; left: {:?}", owned().await?);
    }
    let kept = claims.get(claim).await?;
    ensure!(
        kept.metadata.deletion_timestamp.is_none()
            && kept.status.and_then(|s| s.phase).as_deref() == Some("Bound"),
        "the claim {claim} did not stay"
    );
    eprintln!("rocketmq deletion: done after {:?}", started.elapsed());
    Ok(())
}
