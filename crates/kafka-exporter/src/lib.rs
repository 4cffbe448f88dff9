//! The Kafka exporter that `spec.kafkaExporter` deploys: on each scrape it asks the cluster for
//! its brokers, its topics' partitions and offsets and its consumer groups' committed offsets,
//! and serves them as Prometheus metrics named as `kafka_exporter` names them, which Strimzi's
//! dashboards read. It is written here, on the project's own admin client, rather than shipped:
//! `kafka_exporter` is not served by the registries this project builds from.

mod filters;
mod render;
mod server;
mod snapshot;

pub use filters::Filters;
pub use render::render;
pub use server::{ExporterArgs, run};
pub use snapshot::{GroupState, PartitionState, Snapshot, TopicState, gather};
