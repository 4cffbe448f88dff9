//! RocketMQ on Kubernetes. [`assembly`]: a NameService becomes name servers and a Broker groups
//! of brokers (the pure model and builders, then `assembly::reconcile`, the I/O steps);
//! [`topics`]: RocketMQTopics become topics on every master; [`users`]: RocketMQUsers become
//! ACL 2.0 users on every broker. [`admin`] holds the admin connections all three share.

pub mod admin;
pub mod assembly;
pub mod topics;
pub mod transfers;
pub mod users;
