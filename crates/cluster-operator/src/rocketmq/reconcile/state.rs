//! What one reconcile of a Broker knows: the resource, the model and the objects built from it,
//! and what the steps observed along the way.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use api::Condition;
use api::rocketmq::Broker;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use runtime::{Applier, conditions};

use super::retries::Retries;
use crate::rocketmq::admin::RocketMQAdmins;
use crate::rocketmq::status::NotReady;
use crate::rocketmq::{BrokerDesired, BrokerModel};

pub struct BrokerReconcile {
    pub broker: Arc<Broker>,
    pub model: BrokerModel,
    pub desired: BrokerDesired,
    pub applier: Applier,
    pub admins: Arc<RocketMQAdmins>,
    pub retries: Arc<Retries>,
    /// The Broker's StatefulSets as they were when the reconcile began, by name.
    pub existing: BTreeMap<String, StatefulSet>,
    /// The Broker's pods, as last listed.
    pub pods: Vec<Pod>,
    /// New groups whose masters still wait for the cluster's topics and subscription groups.
    pub metadata_pending: BTreeSet<i32>,
    /// Notable things the steps did, published as Kubernetes Events: `(reason, note)`.
    pub events: Vec<(&'static str, String)>,
    pub not_ready: NotReady,
    /// What the steps report without failing: a held scale-in, a pending restart, work on the
    /// running brokers that did not succeed yet.
    pub warnings: Vec<Condition>,
    /// When a step wants to try something again before the next periodic reconciliation.
    pub retry_after: Option<Duration>,
}

impl BrokerReconcile {
    pub fn warn(&mut self, reason: &str, message: String) {
        self.warnings.push(conditions::warning(reason, &message));
    }

    pub fn retry_in(&mut self, delay: Duration) {
        self.retry_after = Some(self.retry_after.map_or(delay, |sooner| sooner.min(delay)));
    }
}
