//! Custom resource types served by Brokerage, and the CRDs that describe them.
//!
//! `kafka.strimzi.io` kinds are drop-in compatible with Strimzi's CRDs; `rocketmq.apache.org` kinds
//! with apache/rocketmq-operator's, plus topic and user kinds in the same style. This crate does no I/O.

mod condition;
mod crd;
pub mod kafka;
mod password;
pub mod rocketmq;
mod schema;

pub use condition::{Condition, HasConditions};
pub use crd::all_crds;
pub use password::{Password, PasswordSource};
pub use schema::FreeFormObject;

/// The most pods one node pool, Broker or NameService may ask for. No cluster comes near it,
/// and the cap stops one resource from making the operator build and hold millions of objects
/// (a `size: 1000000000` would take gigabytes and every other cluster down with it).
pub const MAX_REPLICAS: i32 = 1000;
