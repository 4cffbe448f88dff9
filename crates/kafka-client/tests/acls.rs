//! ACLs on a real Kafka node with the StandardAuthorizer.

mod common;

use common::{plain_client, start};
use kafka_client::{
    AclBinding, AclBindingFilter, AclOperation, AclPermission, PatternType, ResourceType,
};
use testenv::kafka::{KafkaCluster, KafkaOptions};
use tokio::sync::OnceCell;

static KAFKA: OnceCell<KafkaCluster> = OnceCell::const_new();

async fn kafka() -> &'static KafkaCluster {
    KAFKA
        .get_or_init(|| {
            start(KafkaOptions {
                config: [
                    (
                        "authorizer.class.name",
                        "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                    ),
                    // The plain listener's (and the controller listener's) principal.
                    ("super.users", "User:ANONYMOUS"),
                ]
                .into_iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
                ..KafkaOptions::default()
            })
        })
        .await
}

fn binding(principal: &str, name: &str, pattern: PatternType, op: AclOperation) -> AclBinding {
    AclBinding {
        resource_type: ResourceType::Topic,
        resource_name: name.into(),
        pattern_type: pattern,
        principal: principal.into(),
        host: "*".into(),
        operation: op,
        permission: AclPermission::Allow,
    }
}

#[tokio::test]
async fn acls_are_created_described_and_deleted() {
    let client = plain_client(kafka().await).await;
    let alice = [
        binding(
            "User:alice",
            "orders",
            PatternType::Literal,
            AclOperation::Read,
        ),
        binding(
            "User:alice",
            "orders",
            PatternType::Literal,
            AclOperation::Write,
        ),
        binding(
            "User:alice",
            "audit-",
            PatternType::Prefixed,
            AclOperation::Describe,
        ),
    ];
    let bob = binding(
        "User:bob",
        "orders",
        PatternType::Literal,
        AclOperation::Read,
    );
    let mut all = alice.to_vec();
    all.push(bob.clone());

    let created = client.create_acls(&all).await.unwrap();
    assert_eq!(created, vec![Ok(()); 4]);

    let mut described = client
        .describe_acls(&AclBindingFilter::principal("User:alice"))
        .await
        .unwrap();
    described.sort();
    let mut expected = alice.to_vec();
    expected.sort();
    assert_eq!(described, expected);

    // Every binding on the literal topic "orders", whoever it is for.
    let on_orders = AclBindingFilter {
        resource_type: ResourceType::Topic,
        resource_name: Some("orders".into()),
        pattern_type: PatternType::Literal,
        principal: None,
        host: None,
        operation: AclOperation::Any,
        permission: AclPermission::Any,
    };
    assert_eq!(client.describe_acls(&on_orders).await.unwrap().len(), 3);

    // An invalid binding fails on its own, in its place.
    let mut invalid = bob.clone();
    invalid.principal = "not-a-principal".into();
    let results = client.create_acls(&[invalid, bob.clone()]).await.unwrap();
    assert!(results[0].is_err(), "{results:?}");
    assert_eq!(results[1], Ok(()));

    let deleted = client
        .delete_acls(&[
            AclBindingFilter::from(&alice[0]),
            AclBindingFilter::principal("User:nobody"),
            AclBindingFilter::principal("User:bob"),
        ])
        .await
        .unwrap();
    assert_eq!(deleted.len(), 3);
    assert_eq!(deleted[0], Ok(vec![alice[0].clone()]));
    assert_eq!(deleted[1], Ok(vec![]));
    assert_eq!(deleted[2], Ok(vec![bob.clone()]));

    let mut left = client
        .describe_acls(&AclBindingFilter::principal("User:alice"))
        .await
        .unwrap();
    left.sort();
    let mut expected = alice[1..].to_vec();
    expected.sort();
    assert_eq!(left, expected);
    assert_eq!(
        client
            .describe_acls(&AclBindingFilter::principal("User:bob"))
            .await
            .unwrap(),
        []
    );
}
