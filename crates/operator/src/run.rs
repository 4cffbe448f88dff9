//! `brokerage run`: every reconciler, the HTTP endpoints, and leader election.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;
use kafka_operator::admin::KafkaAdmins;
use operator_common::pod_security::PodPolicy;
use operator_common::topics::TopicSettings;
use rocketmq_operator::admin::RocketMQAdmins;
use runtime::dns;
use runtime::http::Readiness;
use runtime::leader::LeaderElection;
use runtime::{Context, Metrics, Namespaces};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Namespaces to watch: `*` for all, or a comma-separated list.
    #[arg(long, env = "BROKERAGE_WATCH_NAMESPACES", default_value = "*")]
    watch_namespaces: String,
    /// How often every resource is reconciled even when nothing changed, to repair drift.
    #[arg(long, env = "BROKERAGE_RESYNC_SECONDS", default_value_t = 120)]
    resync_seconds: u64,
    /// Where `/healthz`, `/readyz` and `/metrics` are served.
    #[arg(long, env = "BROKERAGE_HTTP_ADDRESS", default_value = "0.0.0.0:8080")]
    http_address: SocketAddr,
    /// Act only while holding the `brokerage-operator` Lease in `--lease-namespace`.
    #[arg(long, env = "BROKERAGE_LEADER_ELECTION", default_value_t = false)]
    leader_election: bool,
    #[arg(long, env = "POD_NAMESPACE", default_value = "brokerage")]
    lease_namespace: String,
    /// This replica's identity in the Lease.
    #[arg(long, env = "POD_NAME", default_value = "brokerage-local")]
    identity: String,
    /// A YAML file naming Kafka clusters to reach at given addresses, instead of through a
    /// Kafka resource (see docs/topics.md).
    #[arg(long, env = "BROKERAGE_KAFKA_CONNECTIONS")]
    kafka_connections: Option<PathBuf>,
    /// A YAML file naming RocketMQ clusters to reach at given addresses, instead of through a
    /// Broker resource (see docs/rocketmq.md).
    #[arg(long, env = "BROKERAGE_ROCKETMQ_CONNECTIONS")]
    rocketmq_connections: Option<PathBuf>,
    /// The cluster's DNS server (`ip:port`), for an operator run outside the cluster: it alone
    /// resolves cluster-internal names (`*.svc`, `*.cluster.local`) of brokers and name servers.
    /// Without it such names are resolved by the system resolver in a pod, and refused outside.
    #[arg(long, env = "BROKERAGE_CLUSTER_DNS")]
    cluster_dns: Option<SocketAddr>,
    /// Whether deleting a KafkaTopic or RocketMQTopic deletes its topic in the broker.
    #[arg(long, env = "BROKERAGE_DELETE_TOPICS", default_value_t = true, action = clap::ArgAction::Set)]
    delete_topics: bool,
    /// Whether a NameService or Broker may give its pods privileged containers, added
    /// capabilities, the node's network or directories, or a ServiceAccount of its choice. Off:
    /// the pods run with rights the operator grants, so such a resource is refused (NotReady).
    #[arg(long, env = "BROKERAGE_ALLOW_PRIVILEGED_PODS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    allow_privileged_pods: bool,
}

pub async fn run(args: RunArgs) -> Result<()> {
    let client = kube::Client::try_default()
        .await
        .context("connecting to Kubernetes (KUBECONFIG or in-cluster)")?;
    let metrics = Arc::new(Metrics::default());
    let readiness = Readiness::default();
    let http = tokio::spawn(runtime::http::serve(
        args.http_address,
        metrics.clone(),
        readiness.clone(),
    ));

    let election = args.leader_election.then(|| {
        LeaderElection::new(
            client.clone(),
            &args.lease_namespace,
            "brokerage-operator",
            &args.identity,
        )
    });
    if let Some(election) = &election {
        // A standby is a healthy replica, ready to take over: report it ready, or the
        // Deployment never counts more than one replica available.
        readiness.set_ready();
        election.acquire().await?;
    }

    let namespaces = Namespaces::parse(&args.watch_namespaces);
    let context = Arc::new(Context::new(
        client,
        metrics,
        Duration::from_secs(args.resync_seconds),
    ));
    let kafka_overrides = match &args.kafka_connections {
        Some(file) => crate::kafka_connections::load(file)?,
        None => Vec::new(),
    };
    let rocketmq_overrides = match &args.rocketmq_connections {
        Some(file) => crate::rocketmq_connections::load(file)?,
        None => Vec::new(),
    };
    let connector = dns::Connector::new(args.cluster_dns)?;
    let kafka = Arc::new(KafkaAdmins::new(
        context.client.clone(),
        kafka_overrides,
        &connector,
    ));
    let rocketmq = Arc::new(RocketMQAdmins::new(
        context.client.clone(),
        rocketmq_overrides,
        &connector,
    ));
    let settings = TopicSettings {
        delete_topics: args.delete_topics,
    };
    let pods = PodPolicy {
        allow_privileged_pods: args.allow_privileged_pods,
    };
    let kafka_operator = futures::future::join4(
        kafka_operator::assembly::reconcile::run(&namespaces, context.clone(), kafka.clone(), pods),
        kafka_operator::topics::run(
            &namespaces,
            context.clone(),
            kafka.clone(),
            settings.clone(),
        ),
        kafka_operator::users::run(&namespaces, context.clone(), kafka.clone()),
        kafka_operator::rebalance::run(&namespaces, context.clone(), kafka),
    );
    let rocketmq_operator = futures::future::join4(
        rocketmq_operator::assembly::reconcile::run(
            &namespaces,
            context.clone(),
            rocketmq.clone(),
            pods,
        ),
        rocketmq_operator::topics::run(&namespaces, context.clone(), rocketmq.clone(), settings),
        rocketmq_operator::users::run(&namespaces, context.clone(), rocketmq.clone()),
        rocketmq_operator::transfers::run(&namespaces, context, rocketmq),
    );
    let controllers = futures::future::join(kafka_operator, rocketmq_operator);
    readiness.set_ready();
    tracing::info!(
        namespaces = ?namespaces,
        cluster_dns = ?args.cluster_dns,
        "brokerage is running"
    );

    let lost_leadership = async {
        match &election {
            Some(election) => election.keep().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = controllers => anyhow::bail!("the controllers stopped"),
        lost = lost_leadership => anyhow::bail!("{lost}; exiting at once so another replica takes over"),
        served = http => anyhow::bail!("the HTTP server stopped: {served:?}"),
        signal = asked_to_stop() => tracing::info!("{signal}; stopping"),
    }
    // The controllers are dropped by now: hand the Lease over rather than make the next
    // leader wait out its duration.
    if let Some(election) = &election
        && let Err(error) = election.release().await
    {
        tracing::warn!(%error, "could not release the lease; it expires by itself");
    }
    Ok(())
}

/// SIGTERM (Kubernetes stopping the pod) or SIGINT (Ctrl-C).
async fn asked_to_stop() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let terminated = async {
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => terminate.recv().await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = terminated => "terminated",
        _ = tokio::signal::ctrl_c() => "interrupted",
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::RunArgs;

    #[derive(Parser)]
    struct Run {
        #[command(flatten)]
        args: RunArgs,
    }

    #[test]
    fn privileged_pods_are_off_unless_asked_for() {
        let run = |args: &[&str]| {
            Run::try_parse_from(args)
                .unwrap()
                .args
                .allow_privileged_pods
        };
        assert!(!run(&["run"]));
        assert!(run(&["run", "--allow-privileged-pods"]));
        assert!(!run(&["run", "--allow-privileged-pods", "false"]));
    }

    #[test]
    fn cluster_dns_is_an_ip_and_port() {
        let run = Run::try_parse_from(["run", "--cluster-dns", "10.96.0.10:53"]).unwrap();
        assert_eq!(run.args.cluster_dns, Some("10.96.0.10:53".parse().unwrap()));
        for invalid in ["10.96.0.10", "kube-dns.kube-system.svc:53"] {
            assert!(Run::try_parse_from(["run", "--cluster-dns", invalid]).is_err());
        }
    }
}
