//! The secure example on real pods, checked as a user would: clients that trust the cluster CA
//! from `<c>-cluster-ca-cert`, the SCRAM and mutual-TLS users' Secrets as the user operator
//! writes them, and ACLs that let each user do what its spec allows and nothing else.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use api::kafka::{Kafka, KafkaTopic, KafkaUser};
use brokerage_e2e::real_pods::{
    KafkaConnection, Produced, consume, produce, scrape, setup_on_real_node,
};
use brokerage_e2e::{repo_path, wait_condition};
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, ListParams};
use tokio::sync::OnceCell;

/// A cold Kafka pod on a busy two-core machine: scheduling, storage format, JVM start.
const KAFKA_READY: Duration = Duration::from_secs(300);
const READY: Duration = Duration::from_secs(120);
const MESSAGES: usize = 10;

/// examples/kafka/tls-scram-listeners.yaml with the example users and the topics their ACLs
/// are checked on, Ready, shared by both tests: the namespace.
async fn secure_cluster() -> Result<&'static str> {
    static NAMESPACE: OnceCell<String> = OnceCell::const_new();
    let namespace = NAMESPACE
        .get_or_try_init(|| async {
            let (client, namespace) = setup_on_real_node("kafka-security").await?;
            for file in [
                "examples/kafka/tls-scram-listeners.yaml",
                "examples/kafka/user-scram.yaml",
                "examples/kafka/user-tls.yaml",
                "tests/fixtures/secure-cluster-topics.yaml",
            ] {
                let yaml = std::fs::read_to_string(repo_path(file))?;
                testenv::apply_yaml(&client, &yaml, &namespace).await?;
            }
            let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
            wait_condition(&kafkas, "secure-cluster", "Ready", None, KAFKA_READY).await?;
            // Ready through the topic and user operators in the operator's pod, which reach the
            // brokers with the operator's certificate.
            let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), &namespace);
            for topic in ["orders", "billing.invoices", "billing.audit"] {
                wait_condition(&topics, topic, "Ready", None, READY).await?;
            }
            let users: Api<KafkaUser> = Api::namespaced(client.clone(), &namespace);
            for user in ["orders-app", "billing"] {
                wait_condition(&users, user, "Ready", None, READY).await?;
            }
            anyhow::Ok(namespace.keep())
        })
        .await?;
    Ok(namespace)
}

/// What the Kafka's status tells clients of `listener`, as a user finds it: the bootstrap
/// servers, and the certificates that verify the brokers (TLS listeners only).
async fn listener_status(
    client: &Client,
    namespace: &str,
    listener: &str,
) -> Result<(String, Vec<String>)> {
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), namespace);
    let status = kafkas
        .get("secure-cluster")
        .await?
        .status
        .and_then(|status| status.listeners)
        .into_iter()
        .flatten()
        .find(|status| status.name == listener)
        .with_context(|| format!("the Kafka's status has no listener {listener}"))?;
    let bootstrap = status
        .bootstrap_servers
        .with_context(|| format!("the listener {listener} has no bootstrap servers"))?;
    Ok((bootstrap, status.certificates.unwrap_or_default()))
}

/// The values `VerifiableProducer` sends: its message numbers.
fn sent_values() -> Vec<String> {
    (0..MESSAGES).map(|value| value.to_string()).collect()
}

/// Whether every send failed, each with `exception`.
fn all_failed_with(produced: &Produced, exception: &str) -> bool {
    produced.acked == 0
        && !produced.errors.is_empty()
        && produced
            .errors
            .iter()
            .all(|error| error.contains(exception))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_user_authenticates_with_its_secret_and_gets_only_its_acls() -> Result<()> {
    let namespace = secure_cluster().await?;
    let client = testenv::shared().await.client().await?;
    let (bootstrap, _) = listener_status(&client, namespace, "scram").await?;
    let mounts = [("orders-app", "/user")];
    let scram = |jaas: &str| KafkaConnection {
        bootstrap: bootstrap.clone(),
        properties: format!(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config={jaas}"
        ),
        secrets: &mounts,
    };
    // The Secret's ready-made JAAS line, and one built from its `password` key, as other clients
    // would.
    let from_secret = scram("$(cat /user/sasl.jaas.config)");
    let from_password = scram(
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"orders-app\" password=\"$(cat /user/password)\";",
    );
    let wrong_password = scram(
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"orders-app\" password=\"wrong\";",
    );

    let produced = produce(
        &client,
        namespace,
        "orders-producer",
        &from_secret,
        "orders",
        MESSAGES,
        "",
    )
    .await?;
    ensure!(
        produced.acked == MESSAGES && produced.errors.is_empty(),
        "{produced:?}"
    );
    // The user's ACL allows groups named `orders-…`; the consumer's group is its pod's name.
    let values = consume(
        &client,
        namespace,
        "orders-consumer",
        &from_password,
        "orders",
        MESSAGES,
    )
    .await?;
    ensure!(values == sent_values(), "consumed {values:?}");

    let produced = produce(
        &client,
        namespace,
        "wrong-password",
        &wrong_password,
        "orders",
        1,
        "",
    )
    .await?;
    ensure!(
        all_failed_with(&produced, "SaslAuthenticationException"),
        "a wrong password: {produced:?}"
    );
    let produced = produce(
        &client,
        namespace,
        "orders-to-billing",
        &from_secret,
        "billing.invoices",
        1,
        "",
    )
    .await?;
    ensure!(
        all_failed_with(&produced, "TopicAuthorizationException"),
        "a topic without an ACL: {produced:?}"
    );
    let denied = consume(
        &client,
        namespace,
        "audit-reader",
        &from_secret,
        "orders",
        MESSAGES,
    )
    .await;
    ensure!(
        denied
            .as_ref()
            .is_err_and(|error| format!("{error:#}").contains("GroupAuthorizationException")),
        "a group without an ACL: {denied:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_user_connects_with_its_certificate_trusting_the_cluster_ca() -> Result<()> {
    let namespace = secure_cluster().await?;
    let client = testenv::shared().await.client().await?;
    let (bootstrap, certificates) = listener_status(&client, namespace, "tls").await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let cluster_ca = secrets
        .get("secure-cluster-cluster-ca-cert")
        .await?
        .data
        .and_then(|mut data| data.remove("ca.crt"))
        .context("the cluster CA Secret has no ca.crt")?;
    ensure!(
        certificates == [String::from_utf8(cluster_ca.0)?],
        "the status's certificates for the tls listener are not the cluster CA's: {certificates:?}"
    );
    let mounts = [
        ("secure-cluster-cluster-ca-cert", "/cluster-ca"),
        ("billing", "/user"),
    ];
    // Hostname verification is on (the client's default): the brokers' certificates must name
    // the bootstrap Service and the pod addresses they advertise.
    let tls = |stores: &str| KafkaConnection {
        bootstrap: bootstrap.clone(),
        properties: format!("security.protocol=SSL\n{stores}"),
        secrets: &mounts,
    };
    let pem_truststore = "ssl.truststore.type=PEM\nssl.truststore.location=/cluster-ca/ca.crt";
    // What a Java client takes: both Secrets' PKCS#12 stores with their passwords.
    let p12 = tls(
        "ssl.truststore.type=PKCS12\nssl.truststore.location=/cluster-ca/ca.p12\nssl.truststore.password=$(cat /cluster-ca/ca.password)\n\
         ssl.keystore.type=PKCS12\nssl.keystore.location=/user/user.p12\nssl.keystore.password=$(cat /user/user.password)",
    );
    // What other clients take: the PEM files (Kafka takes the pair inline).
    let pem = tls(&format!(
        "{pem_truststore}\nssl.keystore.type=PEM\nssl.keystore.certificate.chain=$(tr '\\n' ' ' </user/user.crt)\nssl.keystore.key=$(tr '\\n' ' ' </user/user.key)"
    ));
    let anonymous = tls(pem_truststore);

    let produced = produce(
        &client,
        namespace,
        "billing-producer",
        &p12,
        "billing.invoices",
        MESSAGES,
        "",
    )
    .await?;
    ensure!(
        produced.acked == MESSAGES && produced.errors.is_empty(),
        "{produced:?}"
    );
    // The user's ACL allows the group `billing` only.
    let values = consume(
        &client,
        namespace,
        "billing",
        &pem,
        "billing.invoices",
        MESSAGES,
    )
    .await?;
    ensure!(values == sent_values(), "consumed {values:?}");

    let produced = produce(
        &client,
        namespace,
        "billing-audit",
        &p12,
        "billing.audit",
        1,
        "",
    )
    .await?;
    ensure!(
        all_failed_with(&produced, "TopicAuthorizationException"),
        "a topic the spec denies: {produced:?}"
    );
    let produced = produce(
        &client,
        namespace,
        "no-certificate",
        &anonymous,
        "billing.invoices",
        1,
        "",
    )
    .await?;
    ensure!(
        all_failed_with(&produced, "SslAuthenticationException"),
        "a client without a certificate: {produced:?}"
    );
    Ok(())
}

/// The Kafka exporter of the secure example reads the cluster through its replication listener
/// (mutual TLS, its own certificate, a super user under the cluster's authorization) and serves
/// the brokers, the topics' partitions and their offsets to Prometheus.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kafka_exporter_serves_the_clusters_topics_and_offsets() -> Result<()> {
    let namespace = secure_cluster().await?;
    let client = testenv::shared().await.client().await?;
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), namespace);
    let selector = ListParams::default().labels("strimzi.io/name=secure-cluster-kafka-exporter");
    let exporter_ip = || async {
        let listed = pods.list(&selector).await?;
        anyhow::Ok((listed.items.iter()).find_map(|pod| pod.status.as_ref()?.pod_ip.clone()))
    };
    testenv::eventually("the exporter serves the topics", KAFKA_READY, || async {
        let Some(ip) = exporter_ip().await? else {
            return Ok(false);
        };
        let metrics = scrape(&format!("{ip}:9404")).await.unwrap_or_default();
        Ok(metrics.contains(r#"kafka_topic_partitions{topic="orders"}"#))
    })
    .await?;
    let ip = exporter_ip().await?.context("the exporter's pod IP")?;
    let metrics = scrape(&format!("{ip}:9404")).await?;
    ensure!(metrics.contains("kafka_brokers 1\n"), "{metrics}");
    ensure!(
        metrics.contains(r#"kafka_topic_partition_current_offset{topic="orders",partition="0"}"#),
        "{metrics}"
    );
    Ok(())
}
