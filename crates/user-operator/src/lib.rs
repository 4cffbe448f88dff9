//! The user operator: KafkaUsers become Kafka principals with SCRAM or TLS credentials, ACLs and
//! quotas ([`kafka`]); RocketMQUsers become RocketMQ ACL 2.0 users with their policies on every
//! broker of their cluster ([`rocketmq`]). Each user's credentials are kept in a Secret named
//! after it, and Kubernetes is the source of truth.

mod error;
pub mod kafka;
mod password;
pub mod rocketmq;
pub mod secrets;

pub use error::UserError;
