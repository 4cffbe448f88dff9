//! `testenv tools` builds the local cluster's binaries and images; `testenv run` starts a local
//! cluster in the foreground, runs the operator in its pod, applies manifests, and stops
//! everything on Ctrl-C.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Parser, Subcommand};
use kube::ResourceExt;
use kube::api::{Api, DynamicObject};
use kube::core::GroupVersionKind;
use testenv::Cluster;
use testenv::tools::Tools;

#[derive(Parser)]
#[command(about = "A real local Kubernetes control plane for Brokerage")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install the Debian packages a real node needs, build (once, cached by version) etcd, the
    /// Kubernetes components, kwok, CoreDNS and pause, fetch the Kafka and RocketMQ jars from
    /// Maven Central, and build the node's images.
    Tools,
    /// Start a local cluster with a real node, run the operator in its pod from `--install`, and
    /// keep it running until Ctrl-C.
    Run {
        /// The install manifests: `crds/`, then RBAC and the operator's Deployment.
        #[arg(long)]
        install: PathBuf,
        /// The `brokerage` binary the operator image is built from.
        #[arg(long)]
        operator: PathBuf,
        /// YAML files or directories to apply into `default` (whose pods run on the real node)
        /// once the operator runs, e.g. examples.
        #[arg(long)]
        apply: Vec<PathBuf>,
        /// Kinds among those whose `Ready` condition to report (e.g. `Kafka`).
        #[arg(long)]
        wait_for: Vec<String>,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Tools => {
            let tools = Tools::ensure()?;
            for image in testenv::node::images(&tools)? {
                println!("{}", image.display());
            }
            println!(
                "{}\n{}\n{}\n{}\n{}\n{}\n{}",
                tools.hyperkube.display(),
                tools.kwok.display(),
                tools.coredns.display(),
                tools.pause.display(),
                tools.helm.display(),
                tools.rocketmq_libs.display(),
                tools.rocketmq_grpc_client_libs.display()
            );
            for version in testenv::tools::KAFKA_VERSIONS {
                println!("{}", Tools::kafka_libs(version).display());
            }
            Ok(())
        }
        Command::Run {
            install,
            operator,
            apply,
            wait_for,
        } => run(&install, &operator, &apply, &wait_for).await,
    }
}

async fn run(
    install: &Path,
    operator: &Path,
    manifests: &[PathBuf],
    wait_for: &[String],
) -> Result<()> {
    let tools = Tools::ensure()?;
    testenv::node::images(&tools)?;
    eprintln!("starting the local cluster...");
    let cluster = Cluster::start().await?;
    let client = cluster.client().await?;
    let bin = write_kubectl_wrapper(&cluster, &tools.hyperkube)?;
    eprintln!(
        "installing the operator from {} in its pod on the real node...",
        install.display()
    );
    testenv::install_operator(&cluster, operator, install).await?;
    testenv::steer_to_real_node(&client, "default").await?;
    let applied = testenv::apply_files(&client, manifests, "default").await?;
    let awaited: Vec<&DynamicObject> = applied
        .iter()
        .filter(|object| wait_for.iter().any(|kind_| kind_ == kind(object)))
        .collect();
    report_ready(&client, awaited).await;
    println!(
        "\nThe local cluster is up (started in {:.1} s). In another shell:\n\n  export KUBECONFIG={} PATH={}:$PATH\n  kubectl get nodes\n  kubectl get brokerage -A\n{}\nComponent logs: {}\nPress Ctrl-C to stop it.",
        cluster.startup_time().as_secs_f64(),
        cluster.kubeconfig().display(),
        bin.display(),
        TRY_IT,
        cluster.log_dir().display(),
    );
    tokio::signal::ctrl_c().await?;
    eprintln!("stopping the local cluster");
    drop(cluster);
    Ok(())
}

/// What a newcomer types to send and receive a message on the examples' clusters, from pods of
/// the brokers' own images.
const TRY_IT: &str = "
Produce to the example Kafka cluster (type lines, then Ctrl-D), and consume them:

  kubectl run producer -ti --rm --restart=Never --image=apache/kafka:4.4.0 -- \\
    java -cp '/opt/kafka/libs/*' org.apache.kafka.tools.ConsoleProducer \\
    --bootstrap-server my-cluster-kafka-bootstrap:9092 --topic orders
  kubectl run consumer -ti --rm --restart=Never --image=apache/kafka:4.4.0 -- \\
    java -cp '/opt/kafka/libs/*' org.apache.kafka.tools.consumer.ConsoleConsumer \\
    --bootstrap-server my-cluster-kafka-bootstrap:9092 --topic orders --from-beginning

Send a message through the example RocketMQ cluster's name server, and read it back:

  kubectl run rocketmq-producer -ti --rm --restart=Never --image=apache/rocketmq:5.5.0 -- \\
    sh -c 'java -cp \"$ROCKETMQ_HOME/lib/*\" org.apache.rocketmq.tools.command.MQAdminStartup \\
    sendMessage -n name-service:9876 -t orders -p hello'
  kubectl run rocketmq-consumer -ti --rm --restart=Never --image=apache/rocketmq:5.5.0 -- \\
    sh -c 'java -cp \"$ROCKETMQ_HOME/lib/*\" org.apache.rocketmq.tools.command.MQAdminStartup \\
    consumeMessage -n name-service:9876 -t orders'
";

/// Prints each resource as it becomes Ready (waiting up to 10 min: brokers start slowly when
/// several share two cores).
async fn report_ready(client: &kube::Client, mut waiting: Vec<&DynamicObject>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    while !waiting.is_empty() && std::time::Instant::now() < deadline {
        let mut still = Vec::new();
        for object in waiting {
            if is_ready(client, object).await {
                eprintln!("  ready: {} {}", kind(object), object.name_any());
            } else {
                still.push(object);
            }
        }
        waiting = still;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    for object in waiting {
        eprintln!(
            "  not ready yet: {} {} (see kubectl describe)",
            kind(object),
            object.name_any()
        );
    }
}

/// Whether the live resource has a `Ready` condition that is `True`.
async fn is_ready(client: &kube::Client, object: &DynamicObject) -> bool {
    let ready = async {
        let gvk = GroupVersionKind::try_from(object.types.as_ref()?).ok()?;
        let (resource, _) = kube::discovery::pinned_kind(client, &gvk).await.ok()?;
        let namespace = object.metadata.namespace.as_deref()?;
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
        let live = api.get(&object.name_any()).await.ok()?;
        let conditions = live
            .data
            .get("status")?
            .get("conditions")?
            .as_array()?
            .clone();
        Some(
            conditions
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True"),
        )
    };
    ready.await.unwrap_or(false)
}

fn kind(object: &DynamicObject) -> &str {
    object
        .types
        .as_ref()
        .map(|t| t.kind.as_str())
        .unwrap_or_default()
}

/// A `kubectl` next to the kubeconfig, so a newcomer needs no kubectl of their own.
fn write_kubectl_wrapper(cluster: &Cluster, hyperkube: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let bin = cluster.kubeconfig().with_file_name("bin");
    std::fs::create_dir_all(&bin)?;
    let kubectl = bin.join("kubectl");
    std::fs::write(
        &kubectl,
        format!("#!/bin/sh\nexec '{}' kubectl \"$@\"\n", hyperkube.display()),
    )?;
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755))?;
    Ok(bin)
}
