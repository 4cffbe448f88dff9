//! The user operator, run as the real binary against a real Kafka with the ACL authorizer:
//! 1,000, then 10,000 SCRAM KafkaUsers with 5 ACLs each created at once, until every one is
//! Ready with its credential and ACLs in Kafka; and the operator's memory after the first.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use api::kafka::KafkaUser;
use kafka_client::{AclBindingFilter, AdminClient};
use kube::Client;
use kube::api::Api;

use crate::Figure;
use crate::resources::{self, create_all};
use crate::timeline::Phases;
use testenv::operator::Operator;

const ACLS_PER_USER: usize = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs against `operator`, which reaches the Kafka `admin` talks to as the cluster `bench`.
pub async fn run(client: &Client, operator: &Operator, admin: &AdminClient) -> Result<Vec<Figure>> {
    let took_1000 = create_until_ready(client, operator, "user", 1_000).await?;
    let resident = operator.resident_mib()?;
    let took_10000 = create_until_ready(client, operator, "user-10k", 10_000).await?;
    check_in_kafka(admin, &[("user", 1_000), ("user-10k", 10_000)]).await?;
    Ok(vec![
        Figure {
            name: "users_1000_ready",
            value: took_1000.as_secs_f64(),
            unit: "s",
        },
        Figure {
            name: "users_1000_per_second",
            value: 1_000.0 / took_1000.as_secs_f64(),
            unit: "users/s",
        },
        Figure {
            name: "operator_rss_1000_users",
            value: resident,
            unit: "MiB",
        },
        Figure {
            name: "users_10000_ready",
            value: took_10000.as_secs_f64(),
            unit: "s",
        },
        Figure {
            name: "users_10000_per_second",
            value: 10_000.0 / took_10000.as_secs_f64(),
            unit: "users/s",
        },
    ])
}

/// Fails unless every user made with each `(prefix, count)` has its credential in Kafka, and
/// Kafka holds at least their ACLs.
async fn check_in_kafka(admin: &AdminClient, made: &[(&str, usize)]) -> Result<()> {
    let credentials = admin.describe_user_scram_credentials(None).await?;
    let acls = admin.describe_acls(&AclBindingFilter::any()).await?.len();
    let users: usize = made.iter().map(|(_, count)| count).sum();
    let with_credentials = made
        .iter()
        .flat_map(|(prefix, count)| (0..*count).map(move |index| format!("{prefix}-{index}")))
        .filter(|name| credentials.contains_key(name))
        .count();
    if with_credentials != users || acls < users * ACLS_PER_USER {
        bail!(
            "{with_credentials} of {users} users have credentials and Kafka has {acls} ACLs, not {}",
            users * ACLS_PER_USER
        );
    }
    Ok(())
}

/// Creates `count` SCRAM users named `<prefix>-<index>` (5 ACLs each) at once in a namespace
/// of their own and waits until every one is Ready; returns how long that took.
pub async fn create_until_ready(
    client: &Client,
    operator: &Operator,
    prefix: &str,
    count: usize,
) -> Result<Duration> {
    let namespace = testenv::fresh_namespace(client, &format!("bench-{prefix}s")).await?;
    let users: Api<KafkaUser> = Api::namespaced(client.clone(), &namespace);
    let phases = Phases::read(operator, "KafkaUser").await?;
    let began = Instant::now();
    create_all(&users, (0..count).map(|index| manifest(prefix, index))).await?;
    resources::until_all_ready(&users, count, is_ready, READY_TIMEOUT).await?;
    operator.check_running()?;
    let took = began.elapsed();
    Phases::read(operator, "KafkaUser").await?.print_since(
        &phases,
        &format!("{count} KafkaUsers"),
        took.as_secs_f64(),
    );
    Ok(took)
}

/// The benchmark's KafkaUser `<prefix>-<index>`: SCRAM, with 5 ACLs, in the cluster `bench`.
pub fn manifest(prefix: &str, index: usize) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaUser",
        "metadata": {"name": format!("{prefix}-{index}"), "labels": {"strimzi.io/cluster": "bench"}},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": [
                {"resource": {"type": "topic", "name": format!("orders-{index}")}, "operations": ["Read", "Write", "Describe"]},
                {"resource": {"type": "group", "name": format!("app-{index}"), "patternType": "prefix"}, "operations": ["Read"]},
                {"resource": {"type": "transactionalId", "name": format!("tx-{index}")}, "operations": ["Write"]},
            ]},
        },
    })
}

pub fn is_ready(user: &KafkaUser) -> bool {
    let status = user.status.as_ref();
    let conditions = status.and_then(|status| status.conditions.as_deref());
    let observed = status.and_then(|status| status.observed_generation);
    resources::is_ready(conditions, observed, user.metadata.generation)
}
