//! Shared operator machinery. It knows nothing about Kafka or RocketMQ.

pub mod labels;
