//! Two replicas of the real operator binary with leader election, each talking to the API
//! server through a proxy of its own, so every write can be traced to the replica that made it:
//! only the leader ever writes; when the leader is killed the other takes over within the lease
//! duration and a retry period; a leader cut off from the API server stops (exits) before the
//! other may take its lease; and a leader stopped with SIGTERM hands the lease over at once.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use api::rocketmq::NameService;
use brokerage_e2e::setup;
use brokerage_e2e::wait_ready;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use testenv::ApiProxy;
use testenv::operator::Operator;

/// The operator's defaults: a Lease is valid 15 s after its last renewal, a leader gives up
/// after 10 s without one, and replicas try every 2 s.
const LEASE_DURATION: Duration = Duration::from_secs(15);
const RENEW_DEADLINE: Duration = Duration::from_secs(10);
const RETRY_PERIOD: Duration = Duration::from_secs(2);
const LEASE: &str = "brokerage-operator";
const WAIT: Duration = Duration::from_secs(90);

/// One replica: its identity, its own proxy to the API server, and its files.
struct Replica {
    identity: &'static str,
    proxy: ApiProxy,
    dir: PathBuf,
}

impl Replica {
    async fn new(identity: &'static str, dir: &Path) -> Result<Replica> {
        let proxy = ApiProxy::start(testenv::shared().await.client().await?).await?;
        let dir = dir.join(identity);
        std::fs::create_dir_all(&dir)?;
        proxy.write_kubeconfig(&dir.join("kubeconfig"))?;
        Ok(Replica {
            identity,
            proxy,
            dir,
        })
    }

    /// Starts the binary, watching `namespace` and holding its Lease there.
    async fn start(&self, namespace: &str) -> Result<Operator> {
        let args = [
            "--watch-namespaces",
            namespace,
            "--leader-election",
            "--lease-namespace",
            namespace,
            "--identity",
            self.identity,
        ];
        let (kubeconfig, log) = (self.dir.join("kubeconfig"), self.dir.join("operator.log"));
        Operator::start(&kubeconfig, &log, &args).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_writes_and_the_other_replica_takes_over() -> Result<()> {
    let (client, namespace) = setup("leadership").await?;
    let dir = std::env::temp_dir().join(format!("brokerage-leadership-{}", std::process::id()));
    let (a, b) = (
        Replica::new("a", &dir).await?,
        Replica::new("b", &dir).await?,
    );
    let leases: Api<Lease> = Api::namespaced(client.clone(), &namespace);
    let holder = || async {
        let lease = leases.get_opt(LEASE).await?;
        Ok::<_, anyhow::Error>(lease.and_then(|l| l.spec?.holder_identity))
    };

    // A leads, B stands by; work arrives, and only A writes.
    let leader = a.start(&namespace).await?;
    testenv::eventually("a holds the lease", WAIT, || async {
        Ok(holder().await?.as_deref() == Some("a"))
    })
    .await?;
    let standby = b.start(&namespace).await?;
    let name_services: Api<NameService> = Api::namespaced(client.clone(), &namespace);
    create_name_service(&name_services, "before").await?;
    wait_ready(&name_services, "before", WAIT).await?;
    assert!(a.proxy.writes() > 0, "the leader wrote nothing");
    assert_eq!(b.proxy.writes(), 0, "the standby wrote while the other led");

    // A is killed: B takes over within the lease duration and a retry period, and works.
    let written_by_a = a.proxy.writes();
    let killed = Instant::now();
    leader.kill().await?;
    testenv::eventually("b holds the lease", WAIT, || async {
        Ok(holder().await?.as_deref() == Some("b"))
    })
    .await?;
    let takeover = killed.elapsed();
    create_name_service(&name_services, "after").await?;
    wait_ready(&name_services, "after", WAIT).await?;
    eprintln!(
        "failover: lease taken {:.1} s after the leader was killed, new work Ready after {:.1} s",
        takeover.as_secs_f64(),
        killed.elapsed().as_secs_f64()
    );
    if takeover > LEASE_DURATION + RETRY_PERIOD + Duration::from_secs(1) {
        bail!("the standby took {takeover:?} to take over");
    }
    assert_eq!(
        a.proxy.writes(),
        written_by_a,
        "a wrote after it was killed"
    );
    assert!(b.proxy.writes() > 0, "the new leader wrote nothing");

    // A comes back as the standby; B is then cut off from the API server. B stops within the
    // renew deadline, before its Lease expires for A; then A takes over.
    let standby_again = a.start(&namespace).await?;
    let written_by_a = a.proxy.writes();
    b.proxy.set_stalled(true);
    let cut_off = Instant::now();
    let mut stopped = None;
    let deadline = cut_off + WAIT;
    loop {
        // Read in this order, a write seen before a Lease still not a's came from a standby.
        let written = a.proxy.writes();
        if holder().await?.as_deref() == Some("a") {
            break;
        }
        assert_eq!(
            written, written_by_a,
            "the standby wrote before it took over"
        );
        if stopped.is_none() && standby.check_running().is_err() {
            stopped = Some(cut_off.elapsed());
        }
        if Instant::now() > deadline {
            bail!("a never took over from the cut-off leader");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let taken = cut_off.elapsed();
    let stopped = stopped.context("the cut-off leader was still running when a took over")?;
    eprintln!(
        "cut off: the leader stopped after {:.1} s, the other took over after {:.1} s",
        stopped.as_secs_f64(),
        taken.as_secs_f64()
    );
    assert!(
        stopped <= RENEW_DEADLINE + RETRY_PERIOD,
        "stopped only after {stopped:?}"
    );
    b.proxy.set_stalled(false);

    // A is stopped as Kubernetes stops a pod (SIGTERM): it hands the Lease over, and the
    // restarted B takes it at its next try instead of a lease duration later.
    let standby = b.start(&namespace).await?;
    let stopping = Instant::now();
    standby_again.terminate().await?;
    testenv::eventually("b holds the lease again", WAIT, || async {
        Ok(holder().await?.as_deref() == Some("b"))
    })
    .await?;
    let handover = stopping.elapsed();
    eprintln!("handover on SIGTERM: {:.1} s", handover.as_secs_f64());
    if handover > RETRY_PERIOD + Duration::from_secs(1) {
        bail!("the handover on SIGTERM took {handover:?}");
    }
    standby.kill().await
}

async fn create_name_service(name_services: &Api<NameService>, name: &str) -> Result<()> {
    let name_service = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "NameService",
        "metadata": {"name": name},
        "spec": {"size": 1, "nameServiceImage": "apache/rocketmq:5.5.0", "storageMode": "EmptyDir"}
    });
    name_services
        .patch(
            name,
            &PatchParams::apply("leadership-test"),
            &Patch::Apply(&name_service),
        )
        .await?;
    Ok(())
}
