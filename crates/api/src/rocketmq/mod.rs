//! `rocketmq.apache.org/v1alpha1`: apache/rocketmq-operator's `NameService`, `Broker`,
//! `Controller`, `Console`, `Proxy` and `TopicTransfer`, plus `RocketMQTopic` and `RocketMQUser` in the same style.

mod broker;
mod cluster_ref;
mod console;
mod controller;
mod name_service;
mod pod;
mod proxy;
mod topic;
mod topic_transfer;
mod user;

pub use broker::*;
pub use cluster_ref::*;
pub use console::*;
pub use controller::*;
pub use name_service::*;
pub use pod::*;
pub use proxy::*;
pub use topic::*;
pub use topic_transfer::*;
pub use user::*;

/// The API group of every kind in this module.
pub const GROUP: &str = "rocketmq.apache.org";
/// The only version, as upstream serves it.
pub const VERSION: &str = "v1alpha1";
