//! What one reconcile of a Broker knows: the resource, the model and the objects built from it,
//! and what the steps observed along the way.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use api::rocketmq::Broker;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use runtime::{Applier, Progress};

use super::retries::Retries;
use crate::admin::RocketMQAdmins;
use crate::assembly::elected::ElectedGroup;
use crate::assembly::{BrokerDesired, BrokerModel};

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
    /// In controller mode, what the controllers elected, when they said.
    pub elected: Option<ControllersView>,
    pub progress: Progress,
}

/// The leading controller and each group as it elected it.
pub struct ControllersView {
    pub leader: String,
    pub groups: Vec<ElectedGroup>,
}
