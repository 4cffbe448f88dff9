//! The annotations the RocketMQ reconcilers read and write.

use kube::api::ObjectMeta;

/// On a broker pod (from its template): what a restart would change, the hash of its
/// `broker.conf` and pod template without the name servers, which are updated live.
pub const CONFIGURATION_HASH: &str = "brokerage.io/configuration-hash";

/// On a broker pod: the name servers it uses. Set from the template when the pod is created and
/// after each live update, so a change is pushed once, not asked about at every reconcile.
pub const NAME_SERVERS: &str = "brokerage.io/name-servers";

/// On a new broker group's master StatefulSet: `pending` until the cluster's topics and
/// subscription groups were copied to it, then `copied from <pod>`.
pub const METADATA_COPY: &str = "brokerage.io/metadata-copy";
pub const METADATA_COPY_PENDING: &str = "pending";

/// On a broker's pod or StatefulSet, Strimzi's way to ask for a restart: done in the rolling
/// update's order, even with `allowRestart: false`.
pub use api::kafka::annotations::MANUAL_ROLLING_UPDATE_ANNOTATION as MANUAL_ROLLING_UPDATE;

/// On a Broker: remove broker groups even while their masters hold unconsumed messages.
pub const FORCE_SCALE_IN: &str = "brokerage.io/force-scale-in";

/// Whether `key` is `"true"` on `meta`.
pub fn is_true(meta: &ObjectMeta, key: &str) -> bool {
    annotation(meta, key) == Some("true")
}

pub fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}
