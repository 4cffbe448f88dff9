//! The `brokerage` binary.

mod crds;
mod kafka_connections;
mod render;
mod rocketmq_connections;
mod run;

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

// jemalloc, not the system's malloc: glibc keeps what bursts of lists and broker answers freed
// in per-thread arenas, so resident memory under thousands of resources stayed far above what
// the operator holds.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    version,
    about = "Brokerage: Apache Kafka and Apache RocketMQ on Kubernetes"
)]
struct Cli {
    /// Log format.
    #[arg(long, env = "BROKERAGE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run every reconciler against the cluster in KUBECONFIG (or in-cluster).
    Run(run::RunArgs),
    /// Print every object the operator would create for the resources in a file, with no cluster.
    Render {
        /// A YAML file with a Kafka and its KafkaNodePools, or NameServices, Controllers,
        /// Consoles, Proxies and Brokers (with the ConfigMaps they read).
        #[arg(short = 'f', long)]
        file: PathBuf,
    },
    /// Print every CustomResourceDefinition the operator serves, or write one file each.
    Crds {
        /// Write `<plural>.<group>.yaml` files into this directory instead of printing.
        #[arg(long)]
        output_dir: Option<PathBuf>,
    },
    /// Serve a Kafka cluster's topic, partition and consumer-group metrics to Prometheus, as
    /// the Deployment of `spec.kafkaExporter` runs it.
    KafkaExporter(kafka_exporter::ExporterArgs),
    /// Print the operator's version.
    Version,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        Command::Run(args) => tokio::runtime::Runtime::new()?.block_on(run::run(args))?,
        Command::Render { file } => print!("{}", render::render(&std::fs::read_to_string(file)?)?),
        Command::Crds { output_dir: None } => {
            for (_, yaml) in crds::render()? {
                print!("---\n{yaml}");
            }
        }
        Command::Crds {
            output_dir: Some(dir),
        } => crds::write(&dir)?,
        Command::KafkaExporter(args) => {
            tokio::runtime::Runtime::new()?.block_on(kafka_exporter::run(args))?
        }
        Command::Version => println!("brokerage {}", env!("CARGO_PKG_VERSION")),
    }
    Ok(())
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,kube=warn"));
    // Colours only on a terminal: in a pod, `kubectl logs` would show the escape codes.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
