//! Admin connections to Kafka clusters, for the rolling update and the topic and user operators.
//!
//! A cluster this operator runs is reached through its bootstrap Service on the replication
//! listener, with mutual TLS: the cluster CA and the operator's own client certificate, a super
//! user. Overrides name clusters the operator reaches another way (clusters it did not create, or
//! a real Kafka on loopback in tests). Every connection, the bootstrap and the brokers it names,
//! is opened by the operator's `runtime::dns::Connector`, so cluster-internal names are resolved by
//! cluster DNS only.

use std::collections::BTreeMap;

use api::kafka::Kafka;
use k8s_openapi::api::core::v1::Secret;
use kafka_client::{
    AdminClient, ClientCertificate, ClientConfig, ConfigResource, Connector, TlsConfig,
};
use kube::{Api, Client};
use runtime::batched::Unreachable;
use runtime::{conditions, dns};

use crate::assembly::availability::Availability;
use crate::assembly::certificates::operator_certificate_secret;
use crate::assembly::listeners::REPLICATION_PORT;
use crate::assembly::names;
use operator_common::admin_cache::AdminCache;
use operator_common::cluster_ref::ClusterRef;

/// How to reach one cluster, instead of through the Kafka resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminOverride {
    /// `None`: the cluster of this name in every namespace.
    pub namespace: Option<String>,
    pub cluster: String,
    pub config: ClientConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("the Kafka cluster {0} does not exist")]
    NoSuchCluster(String),
    #[error("the Kafka cluster {cluster} is not ready for clients yet: {reason}")]
    NotReady { cluster: String, reason: String },
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("{0}")]
    Kafka(#[from] kafka_client::Error),
}

/// One admin client per cluster, reused across reconciles and rebuilt when the way to reach the
/// cluster changes (new certificates, a new override).
pub struct KafkaAdmins {
    client: Client,
    overrides: Vec<AdminOverride>,
    /// One for every client: configurations compare equal only with the same connector.
    connector: Connector,
    connected: AdminCache<(ClientConfig, AdminClient)>,
}

impl KafkaAdmins {
    pub fn new(
        client: Client,
        overrides: Vec<AdminOverride>,
        connector: &dns::Connector,
    ) -> KafkaAdmins {
        let connector = connector.clone();
        KafkaAdmins {
            client,
            overrides,
            connector: Connector::new(move |address| connector.connect(address)),
            connected: AdminCache::default(),
        }
    }

    /// An admin client for `cluster`.
    pub async fn admin(&self, cluster: &ClusterRef) -> Result<AdminClient, AdminError> {
        let mut config = match self.config(&cluster.namespace, &cluster.name).await {
            Ok(config) => config,
            Err(error) => {
                self.connected.forget(cluster);
                return Err(error);
            }
        };
        config.connector = Some(self.connector.clone());
        if let Some((_, admin)) = self.connected.get(cluster, |(known, _)| *known == config) {
            return Ok(admin);
        }
        let admin = AdminClient::connect(config.clone()).await?;
        self.connected.insert(cluster, (config, admin.clone()));
        Ok(admin)
    }

    /// An admin client for `cluster`, for a batch of its topics or users; when there is none,
    /// why, and whether the cluster has gone for good.
    pub async fn reach(&self, cluster: &ClusterRef) -> Result<AdminClient, Unreachable> {
        match self.admin(cluster).await {
            Ok(admin) => Ok(admin),
            Err(error) => Err(Unreachable {
                gone: self.is_gone(cluster, &error).await,
                message: error.to_string(),
            }),
        }
    }

    /// Whether `cluster`, which `error` kept the caller from reaching, has gone for good: no
    /// override and no Kafka resource. Its topics and users can never be deleted in Kafka, so
    /// their finalizers may go.
    async fn is_gone(&self, cluster: &ClusterRef, error: &AdminError) -> bool {
        if !matches!(error, AdminError::NoSuchCluster(_))
            || self
                .override_for(&cluster.namespace, &cluster.name)
                .is_some()
        {
            return false;
        }
        let kafkas: Api<Kafka> = Api::namespaced(self.client.clone(), &cluster.namespace);
        matches!(kafkas.get_opt(&cluster.name).await, Ok(None))
    }

    fn override_for(&self, namespace: &str, name: &str) -> Option<&AdminOverride> {
        self.overrides.iter().find(|candidate| {
            candidate.cluster == name
                && candidate
                    .namespace
                    .as_deref()
                    .is_none_or(|only| only == namespace)
        })
    }

    async fn config(&self, namespace: &str, name: &str) -> Result<ClientConfig, AdminError> {
        if let Some(found) = self.override_for(namespace, name) {
            return Ok(found.config.clone());
        }
        let cluster = format!("{namespace}/{name}");
        let kafkas: Api<Kafka> = Api::namespaced(self.client.clone(), namespace);
        let Some(kafka) = kafkas.get_opt(name).await? else {
            return Err(AdminError::NoSuchCluster(cluster));
        };
        // A Kafka its operator refused gets no certificates: say why, not which file is missing.
        if let Some(problem) = invalid_spec(&kafka) {
            return Err(AdminError::NotReady {
                cluster,
                reason: format!("the Kafka is InvalidSpec: {problem}"),
            });
        }
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let read = async |secret: String, key: &str| {
            let found = secrets.get_opt(&secret).await?;
            let value = found
                .and_then(|secret| secret.data?.remove(key))
                .and_then(|bytes| String::from_utf8(bytes.0).ok());
            value.ok_or_else(|| AdminError::NotReady {
                cluster: cluster.clone(),
                reason: format!("the Secret {secret} has no {key} yet"),
            })
        };
        let operator = operator_certificate_secret(name);
        let ca_pem = read(names::cluster_ca_cert_secret(name), "ca.crt").await?;
        let client_certificate = ClientCertificate {
            certificate_pem: read(operator.clone(), "cluster-operator.crt").await?,
            key_pem: read(operator, "cluster-operator.key").await?,
        };
        Ok(replication_listener_config(
            namespace,
            name,
            ca_pem,
            client_certificate,
        ))
    }
}

/// The message of the Kafka's `NotReady` condition when its operator refused its spec.
fn invalid_spec(kafka: &Kafka) -> Option<&str> {
    let found = kafka.status.as_ref()?.conditions.as_ref()?;
    let not_ready = found
        .iter()
        .find(|condition| condition.type_ == conditions::NOT_READY)?;
    (not_ready.reason.as_deref() == Some(conditions::INVALID_SPEC))
        .then_some(not_ready.message.as_deref().unwrap_or("no message"))
}

/// How the operator reaches a cluster it runs: the replication listener, whose TLS verifies
/// the brokers against the cluster CA and authenticates the operator by its certificate. No
/// SASL: nothing secret is sent but what TLS protects.
fn replication_listener_config(
    namespace: &str,
    name: &str,
    ca_pem: String,
    client_certificate: ClientCertificate,
) -> ClientConfig {
    let bootstrap = names::service_dns(&names::bootstrap_service(name), namespace);
    let mut config = ClientConfig::new([format!("{bootstrap}:{REPLICATION_PORT}")]);
    config.tls = Some(TlsConfig {
        ca_pem,
        client_certificate: Some(client_certificate),
    });
    config
}

/// Asks the cluster what a restart must respect: the active controller, every partition's
/// in-sync replicas, and each topic's `min.insync.replicas`.
pub async fn observe_availability(
    admin: &AdminClient,
) -> Result<Availability, kafka_client::Error> {
    const TOPICS_PER_REQUEST: usize = 1000;
    let active_controller = Some(admin.active_controller().await?);
    let topics = admin.list_topics().await?;
    let resources: Vec<ConfigResource> =
        topics.keys().cloned().map(ConfigResource::Topic).collect();
    let mut min_in_sync_replicas = BTreeMap::new();
    for chunk in resources.chunks(TOPICS_PER_REQUEST) {
        for (resource, entries) in admin.describe_configs(chunk).await? {
            let (ConfigResource::Topic(topic), Ok(entries)) = (resource, entries) else {
                continue;
            };
            let min = entries
                .iter()
                .find(|entry| entry.name == "min.insync.replicas")
                .and_then(|entry| entry.value.as_deref()?.parse().ok());
            if let Some(min) = min {
                min_in_sync_replicas.insert(topic, min);
            }
        }
    }
    Ok(Availability {
        active_controller,
        topics,
        min_in_sync_replicas,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_kafka_refused_for_its_spec_gives_its_problem() {
        let with = |condition: api::Condition| {
            let mut kafka: Kafka = serde_json::from_value(serde_json::json!({
                "apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka", "metadata": {"name": "k"},
                "spec": {"kafka": {"listeners": []}}
            }))
            .unwrap();
            kafka.status = Some(api::kafka::KafkaStatus {
                conditions: Some(vec![conditions::warning("W", "w"), condition]),
                ..Default::default()
            });
            kafka
        };
        let refused = with(conditions::not_ready(conditions::INVALID_SPEC, "no pools"));
        assert_eq!(invalid_spec(&refused), Some("no pools"));
        let failing = with(conditions::not_ready(
            conditions::RECONCILIATION_FAILED,
            "x",
        ));
        assert_eq!(invalid_spec(&failing), None);
        assert_eq!(invalid_spec(&with(conditions::ready())), None);
    }

    #[test]
    fn clusters_the_operator_runs_are_reached_over_verified_mutual_tls_without_sasl() {
        let certificate = ClientCertificate {
            certificate_pem: "OPERATOR-CERT".into(),
            key_pem: "OPERATOR-KEY".into(),
        };
        let config =
            replication_listener_config("team-a", "my-cluster", "CLUSTER-CA".into(), certificate);
        assert_eq!(
            config.bootstrap_servers,
            [format!(
                "{}:{REPLICATION_PORT}",
                names::service_dns(&names::bootstrap_service("my-cluster"), "team-a")
            )]
        );
        let tls = config.tls.as_ref().expect("TLS");
        assert_eq!(tls.ca_pem, "CLUSTER-CA");
        assert_eq!(
            tls.client_certificate.as_ref().map(|c| c.key_pem.as_str()),
            Some("OPERATOR-KEY")
        );
        assert!(config.sasl.is_none());
    }
}
