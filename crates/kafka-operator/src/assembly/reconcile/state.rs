//! What one reconcile of a Kafka knows: the resource, the model and the objects built from it,
//! and what the steps observed along the way.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use api::kafka::{Kafka, KafkaNodePool, ListenerStatus};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Pod, Service};
use runtime::{Applier, Progress};

use crate::admin::KafkaAdmins;
use crate::assembly::{Desired, KafkaModel};

pub struct KafkaReconcile {
    pub kafka: Arc<Kafka>,
    pub pools: Vec<KafkaNodePool>,
    pub model: KafkaModel,
    pub desired: Desired,
    pub applier: Applier,
    pub admins: Arc<KafkaAdmins>,
    /// The cluster's Services as `observe` listed them, by name.
    pub services: BTreeMap<String, Service>,
    /// The cluster's StatefulSets as the node-removal step listed them, by name.
    pub statefulsets: BTreeMap<String, StatefulSet>,
    /// Whether the Kafka's status holds the model's cluster ID and quorum mode: only then may a
    /// status carry them.
    pub identity_recorded: bool,
    /// The cluster CA certificate (PEM), which TLS listeners report for clients to trust.
    pub cluster_ca_cert: Option<String>,
    /// Where clients connect, once the cluster is Ready.
    pub listeners: Vec<ListenerStatus>,
    /// Each node's certificate fingerprint, by pod name: a new certificate restarts the pod.
    pub node_certificates: BTreeMap<String, String>,
    /// The metadata version the cluster runs: the status's, or for a new cluster the one its
    /// storage is formatted with; the metadata-version step moves it up.
    pub running_metadata_version: String,
    /// Brokers a scale-up added that partitions still move onto (`spec.cruiseControl.autoRebalance`).
    pub filling: BTreeSet<i32>,
    /// The voters of a dynamic quorum as Kafka last reported them; `None` until it formed.
    pub quorum_voters: Option<Vec<i32>>,
    /// The cluster's pods, as the readiness step last saw them.
    pub pods: Vec<Pod>,
    pub progress: Progress,
}
