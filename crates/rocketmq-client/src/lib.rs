//! An async admin client for Apache RocketMQ's remoting protocol (5.x, ACL 2.0 from 5.3): cluster
//! info and topic routes from the name servers; the quorum's leader from a controller; topics,
//! broker configuration, subscription groups, unconsumed messages, users and ACLs on each broker. See `docs/rocketmq-client.md`.
//!
//! ```no_run
//! # async fn example() -> rocketmq_client::Result<()> {
//! use rocketmq_client::{AdminClient, ClientConfig, TopicConfig};
//! let client = AdminClient::new(ClientConfig::new("127.0.0.1:9876"));
//! let cluster = client.cluster_info().await?;
//! for (_, master) in cluster.masters("DefaultCluster") {
//!     client.create_topic(&master, &TopicConfig::new("orders")).await?;
//! }
//! # Ok(()) }
//! ```

mod acls;
mod backlog;
mod broker_config;
mod client;
mod cluster;
mod config;
mod connection;
mod controller;
mod error;
mod fastjson;
mod frame;
mod groups;
mod message;
mod pool;
mod request;
mod route;
mod signature;
mod tls;
mod topics;
mod users;

pub use acls::{Acl, Policy, PolicyEntry};
pub use backlog::TopicBacklog;
pub use client::AdminClient;
pub use cluster::{BrokerData, ClusterInfo};
pub use config::{ClientConfig, Connector, Credentials, TlsConfig};
pub use controller::{ControllerMetadata, Replica, ReplicaSet};
pub use error::{Error, RemotingError, Result};
pub use groups::SubscriptionGroup;
pub use route::{QueueData, TopicRoute};
pub use topics::TopicConfig;
pub use users::User;
