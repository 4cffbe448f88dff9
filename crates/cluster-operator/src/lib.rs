//! Assembly reconcilers. `kafka` turns a Kafka and its KafkaNodePools into a KRaft cluster.
//!
//! This crate's model and builders are pure: no client, no clock, no randomness, no I/O. They
//! are what unit tests and golden snapshots cover, and what `brokerage render` prints.

pub mod kafka;
