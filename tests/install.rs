//! `install/` on the real local cluster: the manifests apply, the Deployment's pods run (on
//! kwok nodes), and the operator's ServiceAccount may do everything the operator does: its
//! token alone reconciles a Kafka and a RocketMQ cluster to Ready, takes the leader Lease, and
//! runs the topic and user operators of both.

use std::time::Duration;

use anyhow::{Result, bail};
use api::kafka::{Kafka, KafkaTopic, KafkaUser};
use api::rocketmq::{Broker, RocketMQTopic, RocketMQUser};
use brokerage_e2e::operators::{ALL, Operators};
use brokerage_e2e::{repo_path, setup};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};
use runtime::leader::LeaderElection;

/// How long the cluster may take to do what a test waits for.
const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_install_manifests_run_and_their_rbac_is_sufficient() -> Result<()> {
    let (admin, namespace) = setup("install").await?;
    let mut files: Vec<_> = std::fs::read_dir(repo_path("install"))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|file| file.extension().is_some_and(|ext| ext == "yaml"));
    files.sort();
    for file in &files {
        testenv::apply_yaml(&admin, &std::fs::read_to_string(file)?, "brokerage").await?;
    }
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), "brokerage");
    testenv::eventually("the operator Deployment is available", WAIT, || async {
        let status = deployments
            .get("brokerage-operator")
            .await?
            .status
            .unwrap_or_default();
        Ok(status.available_replicas == Some(2))
    })
    .await?;

    // The kwok pods run no binary, so run the operator here with the ServiceAccount's token.
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), "brokerage");
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec![],
            expiration_seconds: Some(3600),
            ..TokenRequestSpec::default()
        },
        ..TokenRequest::default()
    };
    let issued: TokenRequest = accounts
        .create_subresource(
            "token",
            "brokerage-operator",
            &PostParams::default(),
            &request,
        )
        .await?;
    let token = issued.status.expect("a token").token;
    let operator = testenv::shared().await.client_with_token(&token).await?;

    LeaderElection::new(
        operator.clone(),
        "brokerage",
        "brokerage-operator",
        "rbac-test",
    )
    .acquire()
    .await?;
    Operators::watching(&operator, &[&namespace]).start(&ALL);

    let yaml = std::fs::read_to_string(repo_path("examples/kafka/ephemeral-single-node.yaml"))?;
    testenv::apply_yaml(&admin, &yaml, &namespace).await?;
    let kafkas: Api<Kafka> = Api::namespaced(admin.clone(), &namespace);
    testenv::eventually(
        "the Kafka reconciled with the operator's RBAC is Ready",
        WAIT,
        || async {
            let kafka = kafkas.get("my-cluster").await?;
            let conditions = kafka.status.and_then(|s| s.conditions).unwrap_or_default();
            if let Some(failed) = conditions
                .iter()
                .find(|c| c.type_ == "NotReady" && c.reason.as_deref() == Some("InvalidSpec"))
            {
                bail!("unexpected: {failed:?}");
            }
            Ok(conditions.iter().any(|c| c.type_ == "Ready"))
        },
    )
    .await?;

    // The topic and user operators' watches, finalizers and status writes: kwok runs no Kafka,
    // so each waits, NotReady, for a broker to answer.
    let topic = std::fs::read_to_string(repo_path("examples/kafka/topic.yaml"))?;
    testenv::apply_yaml(&admin, &topic, &namespace).await?;
    let topics: Api<KafkaTopic> = Api::namespaced(admin.clone(), &namespace);
    let finalizer = kafka_operator::topics::FINALIZER;
    waits_for_broker(&topics, "orders", finalizer, "KafkaError").await?;
    let user = std::fs::read_to_string(repo_path("examples/kafka/user-scram.yaml"))?
        .replace("secure-cluster", "my-cluster");
    testenv::apply_yaml(&admin, &user, &namespace).await?;
    let users: Api<KafkaUser> = Api::namespaced(admin.clone(), &namespace);
    let finalizer = kafka_operator::users::FINALIZER;
    waits_for_broker(&users, "orders-app", finalizer, "KafkaError").await?;

    // The RocketMQ kinds: the example cluster becomes Ready, and its topic and user wait,
    // NotReady, for brokers to answer.
    for example in ["name-service", "broker", "topic", "user"] {
        let yaml =
            std::fs::read_to_string(repo_path(&format!("examples/rocketmq/{example}.yaml")))?;
        testenv::apply_yaml(&admin, &yaml, &namespace).await?;
    }
    let brokers: Api<Broker> = Api::namespaced(admin.clone(), &namespace);
    testenv::eventually("the RocketMQ Broker is Ready", WAIT, || async {
        let conditions = brokers
            .get("broker")
            .await?
            .status
            .and_then(|s| s.conditions);
        Ok(conditions
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Ready"))
    })
    .await?;
    let topics: Api<RocketMQTopic> = Api::namespaced(admin.clone(), &namespace);
    let finalizer = rocketmq_operator::topics::FINALIZER;
    waits_for_broker(&topics, "orders", finalizer, "RocketMQError").await?;
    let users: Api<RocketMQUser> = Api::namespaced(admin, &namespace);
    let finalizer = rocketmq_operator::users::FINALIZER;
    waits_for_broker(&users, "orders-app", finalizer, "RocketMQError").await
}

/// Waits until the resource carries `finalizer` and says, with `reason`, that its brokers cannot
/// be reached.
async fn waits_for_broker<K>(api: &Api<K>, name: &str, finalizer: &str, reason: &str) -> Result<()>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + serde::Serialize,
{
    testenv::eventually(
        &format!("{name} says why its brokers cannot be reached"),
        WAIT,
        || async {
            let object = serde_json::to_value(api.get(name).await?)?;
            let finalized = object["metadata"]["finalizers"]
                .as_array()
                .is_some_and(|all| all.iter().any(|f| f == finalizer));
            let conditions = object["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            Ok(finalized
                && conditions
                    .iter()
                    .any(|c| c["type"] == "NotReady" && c["reason"] == reason))
        },
    )
    .await
}
