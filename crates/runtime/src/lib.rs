//! Shared operator machinery. It knows nothing about Kafka or RocketMQ; it uses only the
//! `Condition` shape from the API crate, which every kind shares.

pub mod apply;
pub mod assembly;
pub mod batched;
pub mod conditions;
mod contains;
pub mod controller;
pub mod dns;
mod error;
pub mod finalizer;
pub mod http;
pub mod labels;
pub mod latest;
pub mod leader;
pub mod managed;
pub mod metrics;
pub mod pause;
pub mod pods;
pub mod readiness;
pub mod status;
pub mod steps;
pub mod watches;

pub use apply::{Applied, Applier};
pub use controller::{Context, Namespaces};
pub use error::Error;
pub use metrics::Metrics;
pub use readiness::{Progress, Readiness};
pub use steps::{Flow, Step, Steps};
