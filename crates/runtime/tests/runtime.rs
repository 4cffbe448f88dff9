//! The runtime against a real apiserver: apply skips what already matches and repairs what
//! drifted; a controller driven by `drive` reconciles, honours the pause annotation, and counts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::{Client, Resource, ResourceExt};
use runtime::labels::Labels;
use runtime::steps::{Flow, Steps};
use runtime::{Applied, Applier, Context, Metrics, pause};

/// How long the cluster may take to do what a test waits for.
const WAIT: Duration = Duration::from_secs(60);

async fn setup(prefix: &str) -> Result<(Client, String)> {
    let client = testenv::shared().await.client().await?;
    let namespace = testenv::fresh_namespace(&client, prefix).await?;
    Ok((client, namespace))
}

fn config_map(namespace: &str, name: &str, data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(namespace.into()),
            labels: Some(Labels::new("Echo", name, name).into_map()),
            ..ObjectMeta::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..ConfigMap::default()
    }
}

#[tokio::test]
async fn apply_writes_only_what_changed_and_repairs_drift() -> Result<()> {
    let (client, namespace) = setup("apply").await?;
    let applier = Applier::new(client.clone(), "Test", Arc::new(Metrics::default()));
    let api: Api<ConfigMap> = Api::namespaced(client, &namespace);

    let desired = config_map(&namespace, "settings", &[("a", "1"), ("b", "2")]);
    assert_eq!(applier.apply(&desired).await?, Applied::Written);
    assert_eq!(applier.apply(&desired).await?, Applied::Unchanged);
    assert_eq!(applier.writes(), 1);

    // Someone edits a field the operator owns: the next apply puts it back.
    let edit = serde_json::json!({"data": {"a": "tampered"}});
    api.patch("settings", &PatchParams::default(), &Patch::Merge(&edit))
        .await?;
    assert_eq!(applier.apply(&desired).await?, Applied::Written);
    assert_eq!(api.get("settings").await?.data.unwrap()["a"], "1");

    // A key the model no longer wants is removed, although the live object "contains" the rest.
    let smaller = config_map(&namespace, "settings", &[("a", "1")]);
    assert_eq!(applier.apply(&smaller).await?, Applied::Written);
    let data = api.get("settings").await?.data.unwrap();
    assert_eq!(data, BTreeMap::from([("a".to_string(), "1".to_string())]));
    assert_eq!(applier.apply(&smaller).await?, Applied::Unchanged);
    assert_eq!(applier.writes(), 3);
    Ok(())
}

#[tokio::test]
async fn the_sweep_removes_only_owned_objects_the_reconcile_did_not_apply() -> Result<()> {
    let (client, namespace) = setup("orphans").await?;
    let metrics = Arc::new(Metrics::default());
    let applier = Applier::new(client.clone(), "Test", metrics.clone());
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let owner = api
        .create(
            &PostParams::default(),
            &config_map(&namespace, "owner", &[]),
        )
        .await?;
    let owner_uid = owner.uid().unwrap_or_default();
    for name in ["keep", "stale"] {
        let mut owned = config_map(&namespace, name, &[]);
        owned.metadata.owner_references = owner.controller_owner_ref(&()).map(|owner| vec![owner]);
        applier.apply(&owned).await?;
    }
    // Labelled like the operator's objects, but owned by nothing: someone else's.
    applier
        .apply(&config_map(&namespace, "labelled-only", &[]))
        .await?;
    api.create(
        &PostParams::default(),
        &ConfigMap {
            metadata: ObjectMeta {
                name: Some("not-ours".into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        },
    )
    .await?;

    // The next reconcile wants "keep" only.
    let reconcile = Applier::new(client.clone(), "Test", metrics);
    let mut kept = config_map(&namespace, "keep", &[]);
    kept.metadata.owner_references = owner.controller_owner_ref(&()).map(|owner| vec![owner]);
    reconcile.apply(&kept).await?;
    let selector = "app.kubernetes.io/managed-by=brokerage";
    let deleted = reconcile
        .sweep::<ConfigMap>(&namespace, selector, &owner_uid)
        .await?;
    assert_eq!(deleted, ["stale"]);
    let mut left: Vec<String> = api
        .list(&Default::default())
        .await?
        .items
        .iter()
        .map(|cm| cm.name_any())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "keep",
            "kube-root-ca.crt",
            "labelled-only",
            "not-ours",
            "owner"
        ]
    );
    Ok(())
}

/// A toy reconciler: every ConfigMap labelled for it gets an owned Secret echoing its data.
struct Echo {
    source: Arc<ConfigMap>,
    applier: Applier,
}

fn copy_to_secret(echo: &mut Echo) -> BoxFuture<'_, Result<Flow, runtime::Error>> {
    Box::pin(async move {
        let source = &echo.source;
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(format!("{}-echo", source.name_any())),
                namespace: source.namespace(),
                labels: Some(Labels::new("Echo", &source.name_any(), "echo").into_map()),
                owner_references: source.controller_owner_ref(&()).map(|owner| vec![owner]),
                ..ObjectMeta::default()
            },
            // `data`, not `stringData`: the apiserver never returns stringData, so the live
            // object would never match and every reconcile would write.
            data: source.data.as_ref().map(|data| {
                data.iter()
                    .map(|(k, v)| (k.clone(), k8s_openapi::ByteString(v.clone().into_bytes())))
                    .collect()
            }),
            ..Secret::default()
        };
        echo.applier.apply(&secret).await?;
        Ok(Flow::Continue)
    })
}

fn reconcile(
    source: Arc<ConfigMap>,
    context: Arc<Context>,
) -> BoxFuture<'static, Result<Action, runtime::Error>> {
    Box::pin(async move {
        if pause::is_paused(source.meta()) {
            return Ok(Action::await_change());
        }
        let applier = Applier::new(context.client.clone(), "Echo", context.metrics.clone());
        let mut echo = Echo { source, applier };
        Steps::new("Echo")
            .step("secret", copy_to_secret)
            .run(&mut echo, &context.metrics)
            .await?;
        Ok(Action::requeue(context.resync))
    })
}

#[tokio::test]
async fn a_driven_controller_reconciles_pauses_and_resumes() -> Result<()> {
    let (client, namespace) = setup("controller").await?;
    let metrics = Arc::new(Metrics::default());
    let context = Arc::new(Context::new(
        client.clone(),
        metrics.clone(),
        Duration::from_secs(120),
    ));
    let sources: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let controller = Controller::new(
        sources.clone(),
        kube::runtime::watcher::Config::default().labels("strimzi.io/kind=Echo"),
    )
    .owns(
        Api::<Secret>::namespaced(client.clone(), &namespace),
        Default::default(),
    );
    let running = tokio::spawn(runtime::controller::drive(
        "Echo", controller, reconcile, context,
    ));

    let secrets: Api<Secret> = Api::namespaced(client, &namespace);
    let value = |secret: Option<Secret>| {
        secret.and_then(|s| s.data).and_then(|d| {
            d.get("greeting")
                .map(|v| String::from_utf8_lossy(&v.0).into_owned())
        })
    };
    sources
        .create(
            &PostParams::default(),
            &config_map(&namespace, "hello", &[("greeting", "hi")]),
        )
        .await?;
    testenv::eventually("the echo Secret exists", WAIT, || async {
        Ok(value(secrets.get_opt("hello-echo").await?).as_deref() == Some("hi"))
    })
    .await?;
    let secret = secrets.get("hello-echo").await?;
    assert_eq!(secret.owner_references()[0].name, "hello");
    assert_eq!(secret.labels()["app.kubernetes.io/managed-by"], "brokerage");

    // Paused: a change to the source is not echoed.
    let paused = serde_json::json!({"metadata": {"annotations": {pause::PAUSE_ANNOTATION: "true"}}, "data": {"greeting": "paused"}});
    sources
        .patch("hello", &PatchParams::default(), &Patch::Merge(&paused))
        .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        value(secrets.get_opt("hello-echo").await?).as_deref(),
        Some("hi")
    );

    // Unpaused: the change arrives.
    let resumed = serde_json::json!({"metadata": {"annotations": {pause::PAUSE_ANNOTATION: null}}});
    sources
        .patch("hello", &PatchParams::default(), &Patch::Merge(&resumed))
        .await?;
    testenv::eventually("the change is echoed after unpausing", WAIT, || async {
        Ok(value(secrets.get_opt("hello-echo").await?).as_deref() == Some("paused"))
    })
    .await?;

    let text = metrics.render();
    assert!(
        text.contains("brokerage_reconciliations_total{kind=\"Echo\"}"),
        "{text}"
    );
    assert!(text.contains("step=\"secret\""), "{text}");
    assert!(
        text.contains("brokerage_managed_resources{kind=\"Echo\"} 1"),
        "{text}"
    );
    running.abort();
    Ok(())
}

#[tokio::test]
async fn only_one_replica_holds_the_lease_and_it_renews_it() -> Result<()> {
    let (client, namespace) = setup("leader").await?;
    let first =
        runtime::leader::LeaderElection::new(client.clone(), &namespace, "brokerage", "replica-a");
    let second =
        runtime::leader::LeaderElection::new(client.clone(), &namespace, "brokerage", "replica-b");
    first.acquire().await?;
    let renewing = tokio::spawn(async move { first.keep().await });
    // The second replica waits while the first renews.
    let waiting = tokio::time::timeout(Duration::from_secs(7), second.acquire()).await;
    assert!(waiting.is_err(), "the second replica took a held lease");
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> =
        Api::namespaced(client, &namespace);
    let spec = leases.get("brokerage").await?.spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("replica-a"));
    assert!(
        spec.renew_time.unwrap().0 > spec.acquire_time.unwrap().0,
        "the lease was never renewed"
    );
    renewing.abort();
    Ok(())
}

#[tokio::test]
async fn a_leader_that_cannot_renew_stops_before_another_replica_takes_over() -> Result<()> {
    use runtime::leader::{LeaderElection, LostLeadership, Timing};
    use tokio::time::Instant;

    let (client, namespace) = setup("leader-deadline").await?;
    let proxy = testenv::ApiProxy::start(client.clone()).await?;
    let timing = Timing {
        lease_duration: Duration::from_secs(4),
        renew_deadline: Duration::from_millis(2500),
        retry_period: Duration::from_millis(500),
    };
    let leader = LeaderElection::with_timing(proxy.client()?, &namespace, "brokerage", "a", timing);
    let follower = LeaderElection::with_timing(client, &namespace, "brokerage", "b", timing);
    leader.acquire().await?;
    let keeping = tokio::spawn(async move {
        let lost = leader.keep().await;
        (lost, Instant::now())
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!keeping.is_finished(), "a leader that renews gave up");
    assert!(
        proxy.writes() >= 2,
        "the leader did not renew through the proxy"
    );

    // The leader's API server stops answering: its renewals hang.
    proxy.set_stalled(true);
    let stalled = Instant::now();
    follower.acquire().await?;
    let taken_over = Instant::now();
    let (lost, lost_at) = tokio::time::timeout(Duration::from_secs(10), keeping)
        .await
        .expect("the leader never noticed it could not renew")?;
    assert!(matches!(lost, LostLeadership::RenewDeadline(_)), "{lost}");
    assert!(
        lost_at < taken_over,
        "the follower took over {:?} before the leader stopped",
        lost_at - taken_over
    );
    assert!(
        lost_at - stalled <= timing.renew_deadline + timing.retry_period * 2,
        "the leader went on for {:?} without a lease",
        lost_at - stalled
    );
    Ok(())
}

/// Batches ConfigMaps by their `group` label and records what each batch held.
struct Recorder(std::sync::Mutex<Vec<Vec<String>>>);

impl runtime::batched::BatchReconciler<ConfigMap> for Recorder {
    type Group = String;

    fn group(&self, object: &ConfigMap) -> String {
        object.labels().get("group").cloned().unwrap_or_default()
    }

    fn reconcile<'a>(
        &'a self,
        _group: &'a String,
        due: Vec<Arc<ConfigMap>>,
        _members: &'a [Arc<ConfigMap>],
    ) -> BoxFuture<'a, runtime::batched::Requeue> {
        let names = due.iter().map(|object| object.name_any()).collect();
        self.0.lock().unwrap().push(names);
        Box::pin(async { Default::default() })
    }
}

#[tokio::test]
async fn a_batch_worker_ends_when_its_group_has_no_resources_left() -> Result<()> {
    let (client, namespace) = setup("batch-workers").await?;
    let metrics = Arc::new(Metrics::default());
    let context = Arc::new(Context::new(client.clone(), metrics.clone(), WAIT));
    let recorder = Arc::new(Recorder(Default::default()));
    let watched = runtime::Namespaces::Only(vec![namespace.clone()]);
    let reconciler = recorder.clone();
    let running =
        tokio::spawn(async move { runtime::batched::run(&watched, context, reconciler).await });
    let workers = || {
        metrics
            .render()
            .lines()
            .find_map(|line| {
                let value = line.strip_prefix("brokerage_batch_workers{kind=\"ConfigMap\"} ")?;
                value.parse::<u32>().ok()
            })
            .unwrap_or(0)
    };
    let api: Api<ConfigMap> = Api::namespaced(client, &namespace);
    for (name, group) in [("a1", "a"), ("a2", "a"), ("b1", "b")] {
        let mut object = config_map(&namespace, name, &[]);
        object.labels_mut().insert("group".into(), group.into());
        api.create(&PostParams::default(), &object).await?;
    }
    // Groups a, b, and "" for the namespace's own kube-root-ca.crt.
    testenv::eventually("a worker per group", WAIT, || async { Ok(workers() == 3) }).await?;
    api.delete("a1", &Default::default()).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(workers(), 3, "group a still has a2");
    api.delete("a2", &Default::default()).await?;
    testenv::eventually("the empty group's worker gone", WAIT, || async {
        Ok(workers() == 2)
    })
    .await?;
    let batches = recorder.0.lock().unwrap().concat();
    assert!(batches.contains(&"b1".to_string()), "{batches:?}");
    running.abort();
    Ok(())
}

#[tokio::test]
async fn every_resource_listed_at_start_is_reconciled_however_long_the_list() -> Result<()> {
    // Several pages of a list (kube asks for 500 at a time): the cache takes the list in only
    // once it is complete, so a batch begun before then must not lose what it was given.
    const MANY: usize = 2_000;
    let (client, namespace) = setup("batch-list").await?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    futures::stream::iter(0..MANY)
        .map(|index| {
            let object = config_map(&namespace, &format!("listed-{index}"), &[]);
            let api = api.clone();
            async move { api.create(&PostParams::default(), &object).await }
        })
        .buffer_unordered(64)
        .try_collect::<Vec<_>>()
        .await?;
    // A resync far beyond the test: what is reconciled comes from the first list.
    let context = Arc::new(Context::new(
        client,
        Arc::new(Metrics::default()),
        Duration::from_secs(3600),
    ));
    let recorder = Arc::new(Recorder(Default::default()));
    let watched = runtime::Namespaces::Only(vec![namespace.clone()]);
    let reconciler = recorder.clone();
    let running =
        tokio::spawn(async move { runtime::batched::run(&watched, context, reconciler).await });
    let reconciled = || {
        let batches = recorder.0.lock().unwrap().concat();
        let names: std::collections::BTreeSet<String> = batches.into_iter().collect();
        names
            .iter()
            .filter(|name| name.starts_with("listed-"))
            .count()
    };
    testenv::eventually(
        "every listed ConfigMap reconciled",
        Duration::from_secs(20),
        || async { Ok(reconciled() == MANY) },
    )
    .await?;
    running.abort();
    Ok(())
}
