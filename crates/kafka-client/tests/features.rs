//! Feature levels on a real broker: a cluster formatted with an older metadata version reports
//! it, moves up when asked, and refuses to move back.

mod common;

use std::time::Duration;

use common::{plain_client, start};
use kafka_client::{Error, METADATA_VERSION_FEATURE};
use testenv::kafka::KafkaOptions;

/// `3.9-IV0` and `4.1-IV1` as Kafka numbers them.
const LEVEL_3_9: i16 = 21;
const LEVEL_4_1: i16 = 27;

#[tokio::test]
async fn the_metadata_version_moves_up_and_never_back() {
    let kafka = start(KafkaOptions {
        metadata_version: Some("3.9-IV0".into()),
        ..KafkaOptions::default()
    })
    .await;
    let client = plain_client(&kafka).await;
    let level = || client.finalized_feature_level(METADATA_VERSION_FEATURE);
    assert_eq!(level().await.unwrap(), Some(LEVEL_3_9));
    assert_eq!(
        client
            .finalized_feature_level("no.such.feature")
            .await
            .unwrap(),
        None
    );

    client
        .upgrade_feature(METADATA_VERSION_FEATURE, LEVEL_4_1)
        .await
        .unwrap();
    // Brokers learn the new level from the metadata log, a moment after the controller.
    common::eventually(
        "the broker reports 4.1-IV1",
        Duration::from_secs(30),
        || async { (level().await.unwrap() == Some(LEVEL_4_1)).then_some(()) },
    )
    .await;

    let refused = client
        .upgrade_feature(METADATA_VERSION_FEATURE, LEVEL_3_9)
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Kafka(_)), "{refused}");
    assert_eq!(level().await.unwrap(), Some(LEVEL_4_1));
}
