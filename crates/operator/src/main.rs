//! The `brokerage` binary.

mod crds;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    version,
    about = "Brokerage: Apache Kafka and Apache RocketMQ on Kubernetes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print every CustomResourceDefinition the operator serves, or write one file each.
    Crds {
        /// Write `<plural>.<group>.yaml` files into this directory instead of printing.
        #[arg(long)]
        output_dir: Option<PathBuf>,
    },
    /// Print the operator's version.
    Version,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Crds { output_dir: None } => {
            for (_, yaml) in crds::render()? {
                print!("---\n{yaml}");
            }
        }
        Command::Crds {
            output_dir: Some(dir),
        } => crds::write(&dir)?,
        Command::Version => println!("brokerage {}", env!("CARGO_PKG_VERSION")),
    }
    Ok(())
}
