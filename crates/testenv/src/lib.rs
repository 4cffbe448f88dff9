//! A real local Kubernetes for tests, benchmarks and `make run`: etcd, kube-apiserver,
//! kube-controller-manager and kube-scheduler built from the Go module proxy, and kwok
//! simulating nodes whose pods become Running and Ready, with a default StorageClass whose
//! claims are bound at once. And real KRaft Kafka nodes ([`kafka`]) and RocketMQ name servers
//! and brokers ([`rocketmq`]) on loopback, from jars fetched from Maven Central.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let cluster = testenv::shared().await;
//! let client = cluster.client().await?;
//! let namespace = testenv::fresh_namespace(&client, "my-test").await?;
//! # Ok(()) }
//! ```

mod api_proxy;
mod api_server;
mod cluster;
mod eventually;
pub mod images;
mod install;
pub mod kafka;
mod kubeconfig;
mod manifests;
pub mod node;
mod nodes;
pub mod operator;
mod pki;
pub mod pods;
pub mod ports;
mod process;
pub mod rocketmq;
mod rundir;
mod shared;
pub mod snapshots;
mod storage;
pub mod tools;

pub use api_proxy::{ApiProxy, Trip};
pub use api_server::ApiServer;
pub use cluster::Cluster;
pub use eventually::eventually;
pub use install::{OPERATOR_NAMESPACE, built_operator, install_operator, steer_to_real_node};
pub use manifests::{apply_files, apply_yaml, wait_established};
pub use shared::{fresh_namespace, fresh_namespace_on_real_node, real_node_annotations, shared};
