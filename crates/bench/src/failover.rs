//! How long work stops when the leading replica of two goes away: killed (a lost node, the OOM
//! killer: the other waits out the Lease) and stopped with SIGTERM (a rolling upgrade: the
//! Lease is handed over).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use testenv::operator::Operator;

use crate::Figure;

const LEASE: &str = "brokerage-operator";

pub async fn run(cluster: &testenv::Cluster, out: &Path) -> Result<Vec<Figure>> {
    let client = cluster.client().await?;
    let namespace = testenv::fresh_namespace(&client, "bench-failover").await?;
    let leases: Api<Lease> = Api::namespaced(client, &namespace);
    let start = |identity: &'static str| {
        let (namespace, log) = (
            namespace.clone(),
            out.join(format!("operator-{identity}.log")),
        );
        async move {
            let args = [
                "--watch-namespaces",
                &namespace,
                "--leader-election",
                "--lease-namespace",
                &namespace,
                "--identity",
                identity,
            ];
            Operator::start(cluster.kubeconfig(), &log, &args).await
        }
    };

    let first = start("first").await?;
    held_by(&leases, "first").await?;
    let second = start("second").await?;
    let killed = Instant::now();
    first.kill().await?;
    held_by(&leases, "second").await?;
    let after_kill = killed.elapsed();

    let third = start("third").await?;
    let stopping = Instant::now();
    second.terminate().await?;
    held_by(&leases, "third").await?;
    let after_sigterm = stopping.elapsed();
    third.kill().await?;

    Ok(vec![
        Figure {
            name: "failover_after_kill",
            value: after_kill.as_secs_f64(),
            unit: "s",
        },
        Figure {
            name: "failover_after_sigterm",
            value: after_sigterm.as_secs_f64(),
            unit: "s",
        },
    ])
}

/// Waits until `identity` holds the Lease, polling every 50 ms.
async fn held_by(leases: &Api<Lease>, identity: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let lease = leases.get_opt(LEASE).await?;
        if lease.and_then(|l| l.spec?.holder_identity).as_deref() == Some(identity) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{identity} never took the lease");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
