//! The metadata version the cluster runs moves up to the model's only once every node runs the
//! new release and is Ready (this step comes after readiness): Kafka refuses a level that one of
//! its nodes does not know, and a node of the old release could not read the new metadata. The
//! status records what the cluster runs, which the next validation keeps from moving back.

use futures::future::BoxFuture;
use runtime::{Error, Flow};
use std::time::Duration;

use super::state::KafkaReconcile;
use crate::assembly::versions;
use kafka_client::METADATA_VERSION_FEATURE;
use operator_common::cluster_ref::ClusterRef;

/// How soon to try again when Kafka could not be asked or refused.
const RETRY: Duration = Duration::from_secs(30);

pub fn upgrade(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let desired = state.model.metadata_version.clone();
        let running = state.running_metadata_version.clone();
        let Some(level) = versions::upgrade_to(&running, &desired) else {
            return Ok(Flow::Continue);
        };
        match upgrade_in_kafka(state, level).await {
            Ok(now) => {
                let note = format!("the metadata version moved from {running} to {now}");
                state.progress.event("MetadataVersionUpgraded", note);
                state.running_metadata_version = now;
            }
            Err(error) => {
                tracing::info!(%error, "the metadata version could not be moved");
                state.progress.warn(
                    "MetadataVersionNotUpgraded",
                    format!(
                        "the cluster runs metadata version {running}; moving it to {desired} \
                         failed and is retried: {error}"
                    ),
                );
                state.progress.retry_in(RETRY);
            }
        }
        Ok(Flow::Continue)
    })
}

/// Asks Kafka for its finalized level and moves it up to `level` when below; returns the name
/// of what the cluster runs then.
async fn upgrade_in_kafka(state: &KafkaReconcile, level: i16) -> Result<String, String> {
    let cluster = ClusterRef {
        namespace: state.model.namespace.clone(),
        name: state.model.cluster.clone(),
    };
    let admin = state
        .admins
        .admin(&cluster)
        .await
        .map_err(|e| e.to_string())?;
    let finalized = admin
        .finalized_feature_level(METADATA_VERSION_FEATURE)
        .await
        .map_err(|e| e.to_string())?;
    if finalized.is_none_or(|finalized| finalized < level) {
        admin
            .upgrade_feature(METADATA_VERSION_FEATURE, level)
            .await
            .map_err(|e| e.to_string())?;
    }
    let running = finalized.map_or(level, |finalized| finalized.max(level));
    versions::name_of_level(running)
        .map(str::to_string)
        .ok_or_else(|| format!("Kafka runs metadata level {running}, which no known version has"))
}
