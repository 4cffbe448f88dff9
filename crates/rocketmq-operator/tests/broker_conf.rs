//! The generated `broker.conf` boots the real broker: the operator's file for a master, with
//! only what the pod would fill in swapped for loopback values (ports, paths, name servers, the
//! pod IP and the credentials from the Secret), runs a real RocketMQ 5.5.0 broker that registers
//! with a real name server under the Broker's cluster and group names. With a user's
//! `broker-common.conf` merged in that turns ACL 2.0 on, it keeps the user's settings and answers
//! admin requests signed with the cluster's generated credentials; with no settings at all (ACL
//! off), it answers unsigned requests and still keeps users, the admin first, as RocketMQUsers
//! need.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use kube::ResourceExt;
use rocketmq_client::{AdminClient, ClientConfig, Credentials, User};
use rocketmq_operator::assembly::broker_conf::build_broker_conf;
use rocketmq_operator::assembly::manifest::read;
use rocketmq_operator::assembly::{BrokerInputs, Node, validate};
use testenv::ports::free_broker_port;
use testenv::rocketmq::{Broker, NameServer};

const ACCESS_KEY: &str = "brokerage0123456789ab";
const SECRET_KEY: &str = "0123456789abcdef0123456789abcdef";

/// The issue's NameService and a Broker mounting the user's settings the upstream way.
const MANIFEST: &str = r#"
apiVersion: rocketmq.apache.org/v1alpha1
kind: NameService
metadata: {name: name-service}
spec: {size: 1}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: broker-config}
data:
  broker-common.conf: |
    deleteWhen=04
    fileReservedTime=48
    flushDiskType=ASYNC_FLUSH
    brokerRole=ASYNC_MASTER
    authenticationEnabled=true
    authenticationProvider=org.apache.rocketmq.auth.authentication.provider.DefaultAuthenticationProvider
    authenticationMetadataProvider=org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider
---
apiVersion: rocketmq.apache.org/v1alpha1
kind: Broker
metadata: {name: orders}
spec:
  size: 1
  replicaPerGroup: 1
  resources: {limits: {memory: 1Gi}}
  volumes:
    - name: broker-config
      configMap:
        name: broker-config
        items: [{key: broker-common.conf, path: broker-common.conf}]
"#;

/// A NameService and a Broker that sets nothing of its own.
const PLAIN_MANIFEST: &str = r#"
apiVersion: rocketmq.apache.org/v1alpha1
kind: NameService
metadata: {name: name-service}
spec: {size: 1}
---
apiVersion: rocketmq.apache.org/v1alpha1
kind: Broker
metadata: {name: orders}
spec: {size: 1, resources: {limits: {memory: 1Gi}}}
"#;

/// A real name server, and a real broker on the `broker.conf` the operator generates for the
/// first master of `manifest`'s Broker, registered with it as `orders/orders-0`.
struct Booted {
    name_server: NameServer,
    broker: Broker,
    _store: tempfile::TempDir,
}

async fn boot(manifest: &str) -> Result<Booted> {
    let manifest = read(manifest, "rocketmq")?;
    let inputs = BrokerInputs {
        name_services: manifest.name_services.clone(),
        config_maps: manifest
            .config_maps
            .iter()
            .map(|config_map| (config_map.name_any(), config_map.clone()))
            .collect(),
        ..BrokerInputs::default()
    };
    let model = validate(&manifest.brokers[0], &inputs)?;
    assert!(model.warnings.is_empty(), "{:?}", model.warnings);
    let generated = build_broker_conf(&model, &Node::master(0));

    let name_server = tokio::task::spawn_blocking(NameServer::start).await??;
    let store = tempfile::tempdir()?;
    let conf = for_loopback(&generated, &name_server.addr(), store.path())?;
    let broker = tokio::task::spawn_blocking(move || Broker::start_with_config(&conf)).await??;

    let admin = AdminClient::new(ClientConfig::new(&name_server.addr()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let masters = admin
            .cluster_info()
            .await
            .map(|info| info.masters("orders"));
        if let Ok(masters) = &masters
            && masters.contains(&("orders-0".to_string(), broker.addr()))
        {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "the broker did not register as orders/orders-0: {masters:?}\n{}",
                broker.log_tail(40)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(Booted {
        name_server,
        broker,
        _store: store,
    })
}

fn signed(name_server: &NameServer) -> AdminClient {
    let mut signed = ClientConfig::new(&name_server.addr());
    signed.credentials = Some(Credentials {
        access_key: ACCESS_KEY.into(),
        secret_key: SECRET_KEY.into(),
    });
    AdminClient::new(signed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_broker_conf_boots_a_real_broker() -> Result<()> {
    let Booted {
        name_server,
        broker,
        ..
    } = boot(MANIFEST).await?;
    let admin = AdminClient::new(ClientConfig::new(&name_server.addr()));

    // ACL 2.0 is on, as the user's settings said: unsigned requests are refused, requests
    // signed with the cluster's generated credentials pass.
    let unsigned = admin.broker_config(&broker.addr()).await;
    assert!(
        matches!(unsigned, Err(rocketmq_client::Error::NoPermission(_))),
        "{unsigned:?}"
    );
    let settings = signed(&name_server)
        .broker_config(&broker.addr())
        .await
        .with_context(|| broker.log_tail(40))?;
    assert_eq!(settings["brokerClusterName"], "orders");
    assert_eq!(settings["brokerName"], "orders-0");
    assert_eq!(settings["brokerRole"], "ASYNC_MASTER");
    assert_eq!(settings["deleteWhen"], "04");
    assert_eq!(settings["fileReservedTime"], "48");
    assert_eq!(settings["authenticationEnabled"], "true");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_acl_off_the_generated_broker_conf_boots_and_keeps_users() -> Result<()> {
    let Booted {
        name_server,
        broker,
        ..
    } = boot(PLAIN_MANIFEST).await?;
    // ACL is off: requests need no signature.
    let unsigned = AdminClient::new(ClientConfig::new(&name_server.addr()));
    let settings = unsigned.broker_config(&broker.addr()).await?;
    assert_eq!(settings["brokerName"], "orders-0");

    // The admin user was created as a super user, and users can be kept, as RocketMQUsers need
    // (and as they must be when ACL is turned on later).
    let admin = signed(&name_server);
    let stored = admin
        .get_user(&broker.addr(), ACCESS_KEY)
        .await
        .with_context(|| broker.log_tail(40))?
        .context("the admin user is missing")?;
    assert_eq!(stored.user_type.as_deref(), Some("Super"));
    let app = User {
        username: "orders-app".into(),
        password: Some("app-secret".into()),
        user_type: Some("Normal".into()),
        user_status: None,
    };
    admin.create_user(&broker.addr(), &app).await?;
    let users: Vec<String> = admin
        .list_users(&broker.addr())
        .await?
        .into_iter()
        .map(|user| user.username)
        .collect();
    assert!(users.contains(&"orders-app".to_string()), "{users:?}");
    Ok(())
}

/// What the pod's start script and mounts provide, for a broker on loopback: the pod IP and
/// credentials placeholders filled in, free ports, a temporary store, the test's name server.
/// Small commit-log files keep the test light; nothing else changes.
fn for_loopback(generated: &str, name_server: &str, store: &Path) -> Result<String> {
    let listen = free_broker_port()?;
    let store = store.display();
    let mut text = String::new();
    for line in generated.lines() {
        let line = match line.split_once('=').map(|(key, _)| key) {
            Some("namesrvAddr") => format!("namesrvAddr={name_server}"),
            Some("listenPort") => format!("listenPort={listen}"),
            Some("haListenPort") => format!("haListenPort={}", listen + 1),
            Some("storePathRootDir") => format!("storePathRootDir={store}"),
            Some("storePathCommitLog") => format!("storePathCommitLog={store}/commitlog"),
            _ => line
                .replace("@POD_IP@", "127.0.0.1")
                .replace("@ADMIN_ACCESS_KEY@", ACCESS_KEY)
                .replace("@ADMIN_SECRET_KEY@", SECRET_KEY),
        };
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str("\n# Test only\nbindAddress=127.0.0.1\nmappedFileSizeCommitLog=67108864\n");
    Ok(text)
}
