//! What one reconcile of a Kafka knows: the resource, the model and the objects built from it,
//! and what the steps observed along the way.

use std::collections::BTreeMap;
use std::sync::Arc;

use api::kafka::{Kafka, KafkaNodePool, ListenerStatus};
use k8s_openapi::api::core::v1::Pod;
use runtime::Applier;

use crate::admin::KafkaAdmins;
use crate::kafka::{Desired, KafkaModel};

pub struct KafkaReconcile {
    pub kafka: Arc<Kafka>,
    pub pools: Vec<KafkaNodePool>,
    pub model: KafkaModel,
    pub desired: Desired,
    pub applier: Applier,
    pub admins: Arc<KafkaAdmins>,
    /// The cluster CA certificate (PEM), which TLS listeners report for clients to trust.
    pub cluster_ca_cert: Option<String>,
    /// Where clients connect, once the cluster is Ready.
    pub listeners: Vec<ListenerStatus>,
    /// Each node's certificate fingerprint, by pod name: a new certificate restarts the pod.
    pub node_certificates: BTreeMap<String, String>,
    /// The cluster's pods, as the readiness step last saw them.
    pub pods: Vec<Pod>,
    /// Notable things the steps did, published as Kubernetes Events: `(reason, note)`.
    pub events: Vec<(&'static str, String)>,
    /// Why the cluster is not Ready yet, when it is not.
    pub not_ready: Option<(String, String)>,
}
