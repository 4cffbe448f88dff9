//! The exporter's process: its arguments, the admin client over mutual TLS, and the HTTP
//! endpoint Prometheus scrapes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use kafka_client::{AdminClient, ClientCertificate, ClientConfig, TlsConfig};
use regex::Regex;

use crate::filters::Filters;
use crate::render::render;
use crate::snapshot::gather;

#[derive(Clone, Debug, clap::Args)]
pub struct ExporterArgs {
    /// The cluster's bootstrap servers (`host:port`, comma-separated).
    #[arg(long)]
    pub bootstrap_servers: String,
    /// PEM file of the CA the brokers' certificates chain to.
    #[arg(long)]
    pub ca_file: PathBuf,
    /// PEM files of the exporter's client certificate and key.
    #[arg(long)]
    pub cert_file: PathBuf,
    #[arg(long)]
    pub key_file: PathBuf,
    /// Topics to export (an unanchored regular expression).
    #[arg(long, default_value = ".*")]
    pub topic_regex: String,
    #[arg(long)]
    pub topic_exclude_regex: Option<String>,
    /// Consumer groups to export (an unanchored regular expression).
    #[arg(long, default_value = ".*")]
    pub group_regex: String,
    #[arg(long)]
    pub group_exclude_regex: Option<String>,
    /// Where `/metrics` and `/healthz` are served.
    #[arg(long, default_value = "0.0.0.0:9404")]
    pub listen: SocketAddr,
}

impl ExporterArgs {
    fn filters(&self) -> Result<Filters> {
        let regex = |pattern: &str| Regex::new(pattern).with_context(|| format!("{pattern:?}"));
        let optional = |pattern: &Option<String>| pattern.as_deref().map(regex).transpose();
        Ok(Filters {
            topics: regex(&self.topic_regex)?,
            topics_excluded: optional(&self.topic_exclude_regex)?,
            groups: regex(&self.group_regex)?,
            groups_excluded: optional(&self.group_exclude_regex)?,
        })
    }

    fn client_config(&self) -> Result<ClientConfig> {
        let read = |path: &PathBuf| {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
        };
        let mut config = ClientConfig::new([self.bootstrap_servers.as_str()]);
        config.client_id = "brokerage-kafka-exporter".into();
        config.tls = Some(TlsConfig {
            ca_pem: read(&self.ca_file)?,
            client_certificate: Some(ClientCertificate {
                certificate_pem: read(&self.cert_file)?,
                key_pem: read(&self.key_file)?,
            }),
        });
        Ok(config)
    }
}

/// Serves until the process is stopped. The client connects on the first scrape (and again
/// after a failure), so the exporter starts before the cluster does. The certificate files are
/// read on every scrape and a changed set reconnects: the operator renews them in the mounted
/// Secret, and a connection made with the old ones would otherwise live on until it broke.
pub async fn run(args: ExporterArgs) -> Result<()> {
    let listen = args.listen;
    let args = Arc::new(args);
    let filters = Arc::new(args.filters()?);
    let connected = Arc::new(tokio::sync::Mutex::new(None::<(ClientConfig, AdminClient)>));
    let scrape = move || {
        let (args, filters, connected) = (args.clone(), filters.clone(), connected.clone());
        async move {
            let mut connected = connected.lock().await;
            let snapshot = async {
                let config = args.client_config()?;
                let client = match connected.take() {
                    Some((current, client)) if current == config => client,
                    _ => AdminClient::connect(config.clone()).await?,
                };
                let snapshot = gather(&client, &filters).await?;
                *connected = Some((config, client));
                anyhow::Ok(snapshot)
            };
            match snapshot.await {
                Ok(snapshot) => (StatusCode::OK, render(&snapshot)),
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), "scrape failed");
                    (StatusCode::SERVICE_UNAVAILABLE, format!("{error:#}\n"))
                }
            }
        }
    };
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(scrape));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(address = %listen, "serving Kafka metrics");
    axum::serve(listener, app).await?;
    Ok(())
}
