//! RocketMQ's controller mode on real pods: the example Controller's three controllers elect a
//! leader; a Broker group of a master and two replicas in controller mode keeps a producer going
//! when its master's pod is deleted (a replica is elected, no acknowledged message is lost, the
//! returning pod follows); and the controllers replace a lost leader.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use api::rocketmq::{Broker, Controller, NameService};
use brokerage_e2e::real_pods::{
    RocketMQConnection, one_heavy_test_at_a_time, rocketmq_consume, setup_on_real_node,
};
use brokerage_e2e::wait_condition;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use rocketmq_client::{AdminClient, ClientConfig, TopicConfig};
use serde_json::json;

use crate::pod_security::{enforce_restricted, ensure_restricted_pods};
use crate::rocketmq::{READY, apply_broker, example, name_server_admin, pod_ip};

const TOPIC: &str = "failover";
const BROKER_PORT: u16 = 10911;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_mode_replaces_a_lost_master_and_the_controllers_a_lost_leader() -> Result<()> {
    let _alone = one_heavy_test_at_a_time().await;
    let (client, namespace) = setup_on_real_node("rocketmq-controller").await?;
    enforce_restricted(&client, &namespace, true).await?;
    testenv::apply_yaml(&client, &example("name-service.yaml")?, &namespace).await?;
    testenv::apply_yaml(&client, &example("controller.yaml")?, &namespace).await?;
    let memory = json!({"requests": {"memory": "1Gi", "cpu": "100m"}, "limits": {"memory": "1Gi"}});
    let spec = json!({
        "size": 1, "replicaPerGroup": 2, "clusterMode": "CONTROLLER",
        "storageMode": "EmptyDir", "resources": memory,
    });
    apply_broker(&client, &namespace, spec).await?;
    let controllers: Api<Controller> = Api::namespaced(client.clone(), &namespace);
    let name_services: Api<NameService> = Api::namespaced(client.clone(), &namespace);
    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&controllers, "controller", "Ready", None, READY).await?;
    wait_condition(&name_services, "name-service", "Ready", None, READY).await?;
    wait_condition(&brokers, "broker", "Ready", None, READY).await?;
    ensure_restricted_pods(&client, &namespace, "controller").await?;
    // The test's own client pods (the consumer) are not restricted.
    enforce_restricted(&client, &namespace, false).await?;

    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let admin = AdminClient::new(ClientConfig::new(""));
    let all: Vec<String> = (0..3).map(|i| format!("controller-{i}")).collect();
    let leader = agreed_leader(&pods, &admin, &all).await?;

    // The controllers elected one master among the three brokers.
    let names = name_server_admin(&pods, "name-service-0").await?;
    let broker_pods = [
        "broker-0-master-0",
        "broker-0-replica-1-0",
        "broker-0-replica-2-0",
    ];
    let group = wait_for_group(&names, &pods, &broker_pods, None).await?;
    let master = group.master.clone();
    names
        .create_topic(&master, &TopicConfig::new(TOPIC))
        .await?;
    // The replicas copy the master's topics; the one elected next must know the topic.
    for replica in &group.replicas {
        testenv::eventually("a replica has the topic", READY, || async {
            Ok(names.topic_configs(replica).await?.contains_key(TOPIC))
        })
        .await?;
    }

    // A producer that sends continuously to whichever broker the name servers say is master.
    let stop = Arc::new(AtomicBool::new(false));
    let producer = tokio::spawn(produce(names.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(5)).await;
    let master_pod = group.pod_of(&master);
    let deleted = Instant::now();
    pods.delete(&master_pod, &DeleteParams::default()).await?;
    let others: Vec<&str> = broker_pods
        .iter()
        .copied()
        .filter(|pod| *pod != master_pod)
        .collect();
    let after = wait_for_group(&names, &pods, &others, Some(&master)).await?;
    eprintln!(
        "{} became master {:.1} s after {master_pod} was deleted",
        after.pod_of(&after.master),
        deleted.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    stop.store(true, Ordering::Relaxed);
    let produced = producer.await??;
    let after_failover = produced
        .acked
        .iter()
        .filter(|(_, at)| *at > deleted)
        .count();
    ensure!(
        after_failover > 0,
        "the producer did not recover: {} acknowledged, {} failed sends",
        produced.acked.len(),
        produced.failures
    );

    // Every acknowledged message is there to consume from the new master.
    let connection = RocketMQConnection {
        name_servers: format!("name-service-0.name-service.{namespace}.svc:9876"),
        user: None,
    };
    let consumed: BTreeSet<String> =
        rocketmq_consume(&client, &namespace, "failover-consumer", &connection, TOPIC)
            .await?
            .into_iter()
            .collect();
    let lost: Vec<&String> = (produced.acked.iter())
        .map(|(body, _)| body)
        .filter(|body| !consumed.contains(*body))
        .collect();
    ensure!(
        lost.is_empty(),
        "{} of {} acknowledged messages were lost: {lost:?}",
        lost.len(),
        produced.acked.len()
    );
    eprintln!(
        "{} messages acknowledged ({after_failover} after the failover, {} sends retried), all consumed",
        produced.acked.len(),
        produced.failures
    );

    // The deleted pod returns as a follower of the new master.
    wait_condition(&brokers, "broker", "Ready", None, READY).await?;
    let returned = wait_for_group(&names, &pods, &broker_pods, None).await?;
    ensure!(
        returned.master == after.master,
        "the master moved again: {} then {}",
        after.master,
        returned.master
    );

    // The Broker's status shows the group as the controllers elected it.
    let master_pod = returned.pod_of(&returned.master);
    let deadline = Instant::now() + READY;
    loop {
        let status = brokers.get("broker").await?.status.unwrap_or_default();
        let group = status.groups.clone().unwrap_or_default().into_iter().next();
        let settled = group.is_some_and(|group| {
            group.master.as_deref() == Some(master_pod.as_str())
                && group.in_sync_replicas.len() == broker_pods.len()
        });
        if settled {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the status never named {master_pod} master with every broker in sync: {:?}",
            status.groups
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // A restart asked of the master: the controllers elect an in-sync replica first, and only
    // then does the old master's pod restart, as a follower. The controllers' own view is the
    // witness (the name servers learn of the election a moment later).
    let leading_controller = format!("controller-{}", leader.trim_start_matches('n'));
    let leading_controller = format!("{}:9878", pod_ip(&pods, &leading_controller).await?);
    let restarted_uid = pods.get(&master_pod).await?.uid();
    let annotation =
        json!({"metadata": {"annotations": {"strimzi.io/manual-rolling-update": "true"}}});
    pods.patch(
        &master_pod,
        &PatchParams::default(),
        &Patch::Merge(&annotation),
    )
    .await?;
    testenv::eventually(
        "mastership moves before the pod restarts",
        READY,
        || async {
            let uid = pods.get_opt(&master_pod).await?.and_then(|pod| pod.uid());
            let states = admin
                .sync_states(&leading_controller, &["broker-0".to_string()])
                .await?;
            let master = states
                .get("broker-0")
                .and_then(|group| group.master_address.clone());
            let moved = master.is_some_and(|master| master != returned.master);
            ensure!(
                uid == restarted_uid,
                "{master_pod} restarted before the controllers elected another master"
            );
            Ok(moved)
        },
    )
    .await?;
    testenv::eventually("the old master's pod restarts", READY, || async {
        Ok(pods.get_opt(&master_pod).await?.and_then(|pod| pod.uid()) != restarted_uid)
    })
    .await?;
    wait_condition(&brokers, "broker", "Ready", None, READY).await?;
    let rolled = wait_for_group(&names, &pods, &broker_pods, Some(&returned.master)).await?;
    eprintln!(
        "{} led while {master_pod} restarted",
        rolled.pod_of(&rolled.master)
    );

    // The controllers elect another leader when theirs is lost.
    let leader_pod = format!("controller-{}", leader.trim_start_matches('n'));
    pods.delete(&leader_pod, &DeleteParams::default()).await?;
    let others: Vec<String> = all.iter().filter(|&p| *p != leader_pod).cloned().collect();
    let next = agreed_leader(&pods, &admin, &others).await?;
    ensure!(
        next != leader,
        "{leader} still leads after its pod was deleted"
    );
    wait_condition(&controllers, "controller", "Ready", None, READY).await?;
    ensure!(agreed_leader(&pods, &admin, &all).await? == next);
    Ok(())
}

/// A group as the name servers list it: its master's address and its replicas', each
/// `<pod IP>:10911`, with the pods they are.
struct Group {
    master: String,
    replicas: Vec<String>,
    pods: Vec<(String, String)>,
}

impl Group {
    fn pod_of(&self, address: &str) -> String {
        (self.pods.iter())
            .find(|(_, pod_address)| pod_address == address)
            .map(|(pod, _)| pod.clone())
            .unwrap_or_default()
    }
}

/// Waits until the name servers list group `broker-0` as exactly the brokers of `pods`, one of
/// them master (id 0) and not `not_master`.
async fn wait_for_group(
    names: &AdminClient,
    pods: &Api<Pod>,
    broker_pods: &[&str],
    not_master: Option<&str>,
) -> Result<Group> {
    let deadline = Instant::now() + READY;
    loop {
        if let Some(group) = group_of(names, pods, broker_pods).await
            && Some(group.master.as_str()) != not_master
        {
            return Ok(group);
        }
        ensure!(
            Instant::now() < deadline,
            "the name servers never listed {broker_pods:?} as one group with a master"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn group_of(names: &AdminClient, pods: &Api<Pod>, broker_pods: &[&str]) -> Option<Group> {
    let mut addresses = Vec::new();
    for pod in broker_pods {
        let ip = pod_ip(pods, pod).await.ok()?;
        addresses.push((pod.to_string(), format!("{ip}:{BROKER_PORT}")));
    }
    let cluster = names.cluster_info().await.ok()?;
    let group = cluster.brokers.get("broker-0")?;
    let listed: BTreeSet<&String> = group.addresses.values().collect();
    let expected: BTreeSet<&String> = addresses.iter().map(|(_, address)| address).collect();
    if listed != expected {
        return None;
    }
    let master = group.addresses.get(&0)?.clone();
    Some(Group {
        replicas: (expected.into_iter())
            .filter(|address| **address != master)
            .cloned()
            .collect(),
        master,
        pods: addresses,
    })
}

struct Produced {
    /// Every message the brokers acknowledged, with when.
    acked: Vec<(String, Instant)>,
    /// Sends that failed and were retried.
    failures: usize,
}

/// Sends `m-<i>` one after the other to the master the name servers name, until `stop`; a send
/// that fails is retried (as the same message) once the name servers are asked again.
async fn produce(names: AdminClient, stop: Arc<AtomicBool>) -> Result<Produced> {
    let mut produced = Produced {
        acked: Vec::new(),
        failures: 0,
    };
    let mut master = None;
    while !stop.load(Ordering::Relaxed) {
        if master.is_none() {
            let cluster = names.cluster_info().await.ok();
            master = cluster.and_then(|c| c.masters("broker").first().map(|(_, m)| m.clone()));
        }
        let body = format!("m-{}", produced.acked.len());
        let sent = match &master {
            Some(address) => names.send_message(address, TOPIC, body.as_bytes()).await,
            None => Err(rocketmq_client::Error::NoNameServer(
                "no master listed".into(),
            )),
        };
        match sent {
            Ok(()) => produced.acked.push((body, Instant::now())),
            Err(_) => {
                produced.failures += 1;
                master = None;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(produced)
}

/// The leader every controller of `names` names (asked at its pod IP), once they all name the
/// same one, exactly one of them says it leads, and it is one of `names`.
async fn agreed_leader(pods: &Api<Pod>, admin: &AdminClient, names: &[String]) -> Result<String> {
    let deadline = Instant::now() + READY;
    loop {
        if let Some(leader) = leader_named_by_all(pods, admin, names).await {
            return Ok(leader);
        }
        ensure!(
            Instant::now() < deadline,
            "the controllers {names:?} did not agree on a leader"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn leader_named_by_all(
    pods: &Api<Pod>,
    admin: &AdminClient,
    names: &[String],
) -> Option<String> {
    let mut views = Vec::new();
    for name in names {
        let ip = pod_ip(pods, name).await.ok()?;
        views.push(
            admin
                .controller_metadata(&format!("{ip}:9878"))
                .await
                .ok()?,
        );
    }
    let leaders: BTreeSet<_> = views.iter().map(|view| view.leader_id.clone()).collect();
    let leading = views.iter().filter(|view| view.is_leader).count();
    match Vec::from_iter(leaders).as_slice() {
        [Some(id)]
            if leading == 1
                && names.contains(&format!("controller-{}", id.trim_start_matches('n'))) =>
        {
            Some(id.clone())
        }
        _ => None,
    }
}
