//! `testenv tools` builds the control-plane binaries; `testenv run` starts a local cluster in
//! the foreground, applies manifests, and stops everything on Ctrl-C.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
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
    /// Build (once, cached by version) etcd, the Kubernetes control plane, kubectl and kwok, and
    /// fetch the Kafka and RocketMQ jars from Maven Central.
    Tools,
    /// Start a local cluster and keep it running until Ctrl-C.
    Run {
        /// YAML files, or directories of them, to apply once the cluster is up (CRDs first).
        #[arg(long)]
        apply: Vec<PathBuf>,
        /// A program to run against the cluster (with KUBECONFIG set) once those are applied,
        /// such as the operator; stopped with the cluster.
        #[arg(long, num_args = 1.., allow_hyphen_values = true)]
        exec: Vec<String>,
        /// YAML files or directories to apply after `--exec` started, e.g. examples.
        #[arg(long)]
        then_apply: Vec<PathBuf>,
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
            println!(
                "{}\n{}\n{}\n{}\n{}\n{}",
                tools.hyperkube.display(),
                tools.kwok.display(),
                tools.coredns.display(),
                tools.pause.display(),
                tools.kafka_libs.display(),
                tools.rocketmq_libs.display()
            );
            Ok(())
        }
        Command::Run {
            apply,
            exec,
            then_apply,
            wait_for,
        } => run(&apply, &exec, &then_apply, &wait_for).await,
    }
}

async fn run(
    manifests: &[PathBuf],
    exec: &[String],
    then_apply: &[PathBuf],
    wait_for: &[String],
) -> Result<()> {
    let tools = Tools::ensure()?;
    eprintln!("starting the local cluster...");
    let cluster = Cluster::start().await?;
    let client = cluster.client().await?;
    apply_files(&client, manifests).await?;
    let bin = write_kubectl_wrapper(&cluster, &tools.hyperkube)?;
    // Killed when dropped, with the cluster.
    let _program = match exec.split_first() {
        Some((program, args)) => {
            eprintln!("starting {}", exec.join(" "));
            let child = tokio::process::Command::new(program)
                .args(args)
                .env("KUBECONFIG", cluster.kubeconfig())
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("starting {program}"))?;
            Some(child)
        }
        None => None,
    };
    let applied = apply_files(&client, then_apply).await?;
    let awaited: Vec<&DynamicObject> = applied
        .iter()
        .filter(|object| wait_for.iter().any(|kind_| kind_ == kind(object)))
        .collect();
    report_ready(&client, awaited).await;
    println!(
        "\nThe local cluster is up (started in {:.1} s). In another shell:\n\n  export KUBECONFIG={} PATH={}:$PATH\n  kubectl get nodes\n  kubectl get brokerage -A\n\nComponent logs: {}\nPress Ctrl-C to stop it.",
        cluster.startup_time().as_secs_f64(),
        cluster.kubeconfig().display(),
        bin.display(),
        cluster.log_dir().display(),
    );
    tokio::signal::ctrl_c().await?;
    eprintln!("stopping the local cluster");
    drop(cluster);
    Ok(())
}

/// Applies each file (directories expanded) into `default`, waiting for CRDs to be Established.
async fn apply_files(client: &kube::Client, paths: &[PathBuf]) -> Result<Vec<DynamicObject>> {
    let mut all = Vec::new();
    for file in manifest_files(paths)? {
        let yaml = std::fs::read_to_string(&file)?;
        let applied = testenv::apply_yaml(client, &yaml, "default")
            .await
            .with_context(|| format!("applying {}", file.display()))?;
        let crds: Vec<String> = applied
            .iter()
            .filter(|object| {
                object
                    .types
                    .as_ref()
                    .is_some_and(|t| t.kind == "CustomResourceDefinition")
            })
            .filter_map(|object| object.metadata.name.clone())
            .collect();
        testenv::wait_established(client, &crds).await?;
        eprintln!("applied {}", file.display());
        all.extend(applied);
    }
    Ok(all)
}

/// Prints each resource as it becomes Ready (waiting up to 2 min).
async fn report_ready(client: &kube::Client, mut waiting: Vec<&DynamicObject>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
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

/// The given files, with directories expanded to their sorted `.yaml` files.
fn manifest_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
                .map(|entry| entry.map(|entry| entry.path()))
                .collect::<Result<_, _>>()?;
            entries.retain(|file| file.extension().is_some_and(|ext| ext == "yaml"));
            entries.sort();
            files.extend(entries);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
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
