//! `testenv tools` builds the control-plane binaries; `testenv run` starts a local cluster in
//! the foreground, applies manifests, and stops everything on Ctrl-C.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
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
    /// Build (once, cached by version) etcd, the Kubernetes control plane, kubectl and kwok.
    Tools,
    /// Start a local cluster and keep it running until Ctrl-C.
    Run {
        /// YAML files, or directories of them, to apply once the cluster is up (CRDs first).
        #[arg(long)]
        apply: Vec<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Tools => {
            let tools = Tools::ensure()?;
            println!("{}\n{}", tools.hyperkube.display(), tools.kwok.display());
            Ok(())
        }
        Command::Run { apply } => run(&apply).await,
    }
}

async fn run(manifests: &[PathBuf]) -> Result<()> {
    let tools = Tools::ensure()?;
    eprintln!("starting the local cluster...");
    let cluster = Cluster::start().await?;
    let client = cluster.client().await?;
    for file in manifest_files(manifests)? {
        let yaml = std::fs::read_to_string(&file)?;
        let applied = testenv::apply_yaml(&client, &yaml, "default")
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
        testenv::wait_established(&client, &crds).await?;
        eprintln!("applied {}", file.display());
    }
    let bin = write_kubectl_wrapper(&cluster, &tools.hyperkube)?;
    println!(
        "\nThe local cluster is up ({:.1} s). In another shell:\n\n  export KUBECONFIG={} PATH={}:$PATH\n  kubectl get nodes\n  kubectl get crds\n\nComponent logs: {}\nPress Ctrl-C to stop it.",
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
