//! Admin connections to RocketMQ clusters, for the Broker reconciler and the topic and user
//! operators.
//!
//! A cluster this operator runs is reached through its name servers (the Broker's
//! `nameServers`, else the NameService in its namespace), which list its brokers; requests are
//! signed with the cluster's generated admin credentials, so they pass when the user turns ACL 2.0
//! on, and brokers are reached over TLS, verified against the Broker's own CA. Overrides name clusters the operator reaches another way (clusters it did not create, or
//! real brokers on loopback in tests). Every connection, to name servers and to the brokers they
//! list, is opened by the operator's `runtime::dns::Connector`, so cluster-internal names are
//! resolved by cluster DNS only.

use std::collections::BTreeMap;

use api::rocketmq::{Broker, NameService};
use certs::trusted_certs_pem;
use k8s_openapi::api::core::v1::Secret;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};
use rocketmq_client::{AdminClient, ClientConfig, Connector, Credentials, TlsConfig};
use runtime::batched::Unreachable;
use runtime::dns;

use crate::assembly::{names, tls};
use operator_common::admin_cache::AdminCache;
use operator_common::cluster_ref::ClusterRef;
use operator_common::secret_content::secret_content;

/// How to reach one cluster, instead of through its Broker resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RocketMQOverride {
    /// `None`: the Broker of this name in every namespace.
    pub namespace: Option<String>,
    /// The Broker resource's name.
    pub cluster: String,
    /// The brokers' `brokerClusterName`; the Broker's name when absent.
    pub cluster_name: Option<String>,
    /// `;`-separated `host:port` name servers.
    pub name_servers: String,
    /// TLS to the name servers and brokers.
    pub tls: Option<TlsConfig>,
    pub credentials: Option<Credentials>,
    /// Where the broker in each pod listens, by pod name.
    pub brokers: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RocketMQAdminError {
    #[error("the RocketMQ cluster {0} does not exist: there is no Broker of that name")]
    NoSuchCluster(String),
    #[error("the RocketMQ cluster {cluster} is not ready for clients yet: {reason}")]
    NotReady { cluster: String, reason: String },
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

/// One admin client per cluster, reused across reconciles and rebuilt when the way to reach
/// the cluster changes (other name servers, new credentials).
pub struct RocketMQAdmins {
    client: Client,
    overrides: Vec<RocketMQOverride>,
    /// One for every client: configurations compare equal only with the same connector.
    connector: Connector,
    connected: AdminCache<AdminClient>,
    controllers: AdminClient,
}

impl RocketMQAdmins {
    pub fn new(
        client: Client,
        overrides: Vec<RocketMQOverride>,
        connector: &dns::Connector,
    ) -> RocketMQAdmins {
        let connector = connector.clone();
        let connector = Connector::new(move |address| connector.connect(address));
        let controllers = AdminClient::new(ClientConfig {
            connector: Some(connector.clone()),
            ..ClientConfig::new("")
        });
        RocketMQAdmins {
            client,
            overrides,
            connector,
            connected: AdminCache::default(),
            controllers,
        }
    }

    /// A client for RocketMQ controllers, at the addresses each request names: they serve
    /// plain TCP and check no signature, so no cluster's TLS or credentials.
    pub fn controllers(&self) -> &AdminClient {
        &self.controllers
    }

    /// A client for `cluster`: its name servers, signed with its admin credentials.
    pub async fn admin(&self, cluster: &ClusterRef) -> Result<AdminClient, RocketMQAdminError> {
        let mut config = match self.config(cluster).await {
            Ok(config) => config,
            Err(error) => {
                self.connected.forget(cluster);
                return Err(error);
            }
        };
        config.connector = Some(self.connector.clone());
        if let Some(admin) = self.connected.get(cluster, |kept| *kept.config() == config) {
            return Ok(admin);
        }
        let admin = AdminClient::new(config);
        self.connected.insert(cluster, admin.clone());
        Ok(admin)
    }

    /// The `brokerClusterName` the brokers of `cluster` register under.
    pub fn cluster_name(&self, cluster: &ClusterRef) -> String {
        self.override_for(cluster)
            .and_then(|found| found.cluster_name.clone())
            .unwrap_or_else(|| cluster.name.clone())
    }

    /// Where the broker in `pod` listens: the override's address, else the pod's stable DNS name.
    pub fn broker_address(&self, cluster: &ClusterRef, pod: &str) -> String {
        self.override_for(cluster)
            .and_then(|found| found.brokers.get(pod).cloned())
            .unwrap_or_else(|| names::broker_pod_address(&cluster.namespace, &cluster.name, pod))
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
    /// override and no Broker. Its topics and users can never be deleted, so their finalizers
    /// may go.
    async fn is_gone(&self, cluster: &ClusterRef, error: &RocketMQAdminError) -> bool {
        if !matches!(error, RocketMQAdminError::NoSuchCluster(_))
            || self.override_for(cluster).is_some()
        {
            return false;
        }
        let brokers: Api<Broker> = Api::namespaced(self.client.clone(), &cluster.namespace);
        matches!(brokers.get_opt(&cluster.name).await, Ok(None))
    }

    fn override_for(&self, cluster: &ClusterRef) -> Option<&RocketMQOverride> {
        self.overrides.iter().find(|candidate| {
            candidate.cluster == cluster.name
                && candidate
                    .namespace
                    .as_deref()
                    .is_none_or(|only| only == cluster.namespace)
        })
    }

    async fn config(&self, cluster: &ClusterRef) -> Result<ClientConfig, RocketMQAdminError> {
        if let Some(found) = self.override_for(cluster) {
            let mut config = ClientConfig::new(&found.name_servers);
            config.tls = found.tls.clone();
            config.credentials = found.credentials.clone();
            return Ok(config);
        }
        let namespace = &cluster.namespace;
        let brokers: Api<Broker> = Api::namespaced(self.client.clone(), namespace);
        let Some(broker) = brokers.get_opt(&cluster.name).await? else {
            return Err(RocketMQAdminError::NoSuchCluster(cluster.to_string()));
        };
        let not_ready = |reason: String| RocketMQAdminError::NotReady {
            cluster: cluster.to_string(),
            reason,
        };
        let name_servers = match broker.spec.name_servers.as_deref().map(str::trim) {
            Some(listed) if !listed.is_empty() => listed.to_string(),
            _ => {
                let name_services: Api<NameService> =
                    Api::namespaced(self.client.clone(), namespace);
                let mut found = name_services.list(&ListParams::default()).await?.items;
                found.sort_by_key(|name_service| name_service.name_any());
                let first = found.first().ok_or_else(|| {
                    not_ready(format!("no NameService in the namespace {namespace}"))
                })?;
                names::name_server_addresses(first).join(";")
            }
        };
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let secret = names::admin_credentials_secret(&cluster.name);
        let data = secrets
            .get_opt(&secret)
            .await?
            .and_then(|found| found.data)
            .unwrap_or_default();
        let read = |key: &str| {
            data.get(key)
                .and_then(|bytes| String::from_utf8(bytes.0.clone()).ok())
                .ok_or_else(|| not_ready(format!("the Secret {secret} has no {key} yet")))
        };
        let mut config = ClientConfig::new(&name_servers);
        config.credentials = Some(Credentials {
            access_key: read(names::ACCESS_KEY)?,
            secret_key: read(names::SECRET_KEY)?,
        });
        let ca_secret = names::broker_ca_cert_secret(&cluster.name);
        let trusted = secrets
            .get_opt(&ca_secret)
            .await?
            .map(|found| trusted_certs_pem(&secret_content(&found)))
            .filter(|pem| !pem.is_empty())
            .ok_or_else(|| {
                not_ready(format!(
                    "the Secret {ca_secret} has no {} yet",
                    certs::CA_CRT
                ))
            })?;
        config.tls = Some(TlsConfig {
            ca_pem: trusted,
            server_name: Some(tls::server_name(namespace, &cluster.name)),
            name_servers: false,
        });
        Ok(config)
    }
}
