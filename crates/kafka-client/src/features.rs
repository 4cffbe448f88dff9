//! Cluster-wide feature levels: what the cluster has finalized (ApiVersions) and moving one up
//! (UpdateFeatures), such as `metadata.version` after every node runs a newer release.

use kafka_protocol::messages::update_features_request::FeatureUpdateKey;
use kafka_protocol::messages::{ApiVersionsRequest, UpdateFeaturesRequest};
use kafka_protocol::protocol::StrBytes;

use crate::client::AdminClient;
use crate::cluster::Target;
use crate::error::{Error, KafkaError};

/// The KRaft metadata version's feature name.
pub const METADATA_VERSION_FEATURE: &str = "metadata.version";

/// The KRaft protocol version's feature name: level 1 makes a static controller quorum dynamic
/// (KIP-853, Kafka 4.1 and later), so that voters can be added and removed.
pub const KRAFT_VERSION_FEATURE: &str = "kraft.version";

/// UpdateFeatures v1's `upgradeType` for a plain upgrade (no downgrade of any kind).
const UPGRADE: i8 = 1;

impl AdminClient {
    /// The level the cluster has finalized for feature `name`, as a broker reports it; `None`
    /// when the cluster has not finalized it.
    pub async fn finalized_feature_level(&self, name: &str) -> Result<Option<i16>, Error> {
        let request = |_version| {
            ApiVersionsRequest::default()
                .with_client_software_name(StrBytes::from_static_str("brokerage-kafka-client"))
                .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")))
        };
        self.cluster
            .call(Target::Any, request, |response| {
                KafkaError::check(response.error_code, None)?;
                Ok(response
                    .finalized_features
                    .iter()
                    .find(|feature| feature.name.as_str() == name)
                    .map(|feature| feature.max_version_level))
            })
            .await
    }

    /// Moves feature `name` up to `level`; Kafka refuses a level lower than the finalized one.
    pub async fn upgrade_feature(&self, name: &str, level: i16) -> Result<(), Error> {
        let timeout_ms = self.cluster.broker_timeout_ms();
        let request = |version: i16| {
            let update = FeatureUpdateKey::default()
                .with_feature(StrBytes::from_string(name.to_string()))
                .with_max_version_level(level);
            // v0 says "no downgrade" with allowDowngrade, v1 and later with upgradeType.
            let update = if version >= 1 {
                update.with_upgrade_type(UPGRADE)
            } else {
                update.with_allow_downgrade(false)
            };
            UpdateFeaturesRequest::default()
                .with_timeout_ms(timeout_ms)
                .with_feature_updates(vec![update])
        };
        self.cluster
            .call(Target::Controller, request, |response| {
                KafkaError::check(response.error_code, response.error_message.as_deref())?;
                response.results.iter().try_for_each(|result| {
                    KafkaError::check(result.error_code, result.error_message.as_deref())
                        .map_err(Error::from)
                })
            })
            .await
    }
}
