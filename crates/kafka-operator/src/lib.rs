//! Kafka on Kubernetes. [`assembly`]: a Kafka and its KafkaNodePools become a KRaft cluster
//! (the pure model and builders, then `assembly::reconcile`, the I/O steps); [`topics`]:
//! KafkaTopics become topics in it; [`users`]: KafkaUsers become principals with credentials,
//! ACLs and quotas. [`admin`] holds the one admin connection per cluster that all three share;
//! [`reassignment`] plans partition moves and [`moves`] carries them out.

pub mod admin;
pub mod assembly;
pub mod moves;
pub mod reassignment;
pub mod rebalance;
pub mod topics;
pub mod users;
