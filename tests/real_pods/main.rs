//! End-to-end tests on real pods: the operator runs as `kubectl apply -f install/` installs it,
//! in its pod on the local cluster's real node, and the brokers it creates run there too. Each
//! test checks what a user would: Ready, a message produced and consumed, a user that
//! authenticates, a roll that never fails a producer.

mod kafka;
mod kafka_security;
mod pod_security;
mod rocketmq;
mod rocketmq_controller;
mod rocketmq_transfer;
