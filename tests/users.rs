//! The user operator against a real Kafka with SCRAM and mutual-TLS listeners and the ACL
//! authorizer, on the real local cluster: clients authenticate with the generated Secrets and
//! are allowed or denied exactly as their ACLs say; ACLs removed from the spec are removed from
//! Kafka; quotas are set and removed; a referenced password that changes reaches Kafka; deleting
//! a user removes everything it had. Users cannot take what is not theirs: the operator's
//! principals, another user's principal, or a Secret they do not own; and on a Kafka without an
//! authorizer users still get their credentials.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use api::kafka::KafkaUser;
use brokerage_e2e::operators::{KafkaUsers, Operators};
use brokerage_e2e::{counter, install_clients_ca, setup, wait_condition};
use certs::{CaKind, SecretContent, Subject};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kafka_client::{
    AclBindingFilter, AdminClient, ClientCertificate, ClientConfig, KafkaError, NewTopic,
    QuotaFilter, QuotaMatch, SaslConfig, TlsConfig,
};
use kafka_operator::admin::AdminOverride;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use runtime::Metrics;
use serde_json::json;
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};

const WAIT: Duration = Duration::from_secs(60);
/// Short, so that a changed password Secret is seen soon.
const RESYNC: Duration = Duration::from_secs(2);
const CLUSTER: &str = "my-cluster";

struct Harness {
    kafka: KafkaCluster,
    users: Api<KafkaUser>,
    secrets: Api<Secret>,
    /// A super user on the plain listener.
    admin: AdminClient,
    metrics: Arc<Metrics>,
}

impl Harness {
    async fn start() -> Result<Harness> {
        Harness::start_with(BTreeMap::from([
            (
                "authorizer.class.name".into(),
                "org.apache.kafka.metadata.authorizer.StandardAuthorizer".into(),
            ),
            // The plain listener (the brokers' own, and the operator's here), the test's
            // admin certificate, and the operator's principal as a cluster it runs has it.
            (
                "super.users".into(),
                format!(
                    "User:ANONYMOUS;User:CN=admin;User:{}",
                    operator().principal()
                ),
            ),
        ]))
        .await
    }

    /// A Kafka with `config`: without an authorizer when it names none.
    async fn start_with(config: BTreeMap<String, String>) -> Result<Harness> {
        let options = KafkaOptions {
            listeners: vec![Listener::Scram, Listener::MutualTls],
            config,
            ..KafkaOptions::default()
        };
        let kafka = tokio::task::spawn_blocking(move || KafkaCluster::start(&options)).await??;
        let (client, namespace) = setup("users").await?;
        let config = ClientConfig::new([kafka.bootstrap(Listener::Plain)]);
        let overrides = vec![AdminOverride {
            namespace: Some(namespace.clone()),
            cluster: CLUSTER.into(),
            config: config.clone(),
        }];
        let metrics = Operators::watching(&client, &[&namespace])
            .resync(RESYNC)
            .kafka(overrides)
            .start(&[KafkaUsers]);
        let admin = AdminClient::connect(config).await?;
        Ok(Harness {
            users: Api::namespaced(client.clone(), &namespace),
            secrets: Api::namespaced(client, &namespace),
            kafka,
            admin,
            metrics,
        })
    }

    /// Makes the testenv CA the cluster's clients CA, as the cluster operator would have
    /// stored its own: the mutual-TLS listener trusts it.
    async fn install_clients_ca(&self) -> Result<()> {
        let tls = self
            .kafka
            .tls()
            .ok_or_else(|| anyhow!("the cluster has TLS"))?;
        install_clients_ca(&self.secrets, CLUSTER, tls).await
    }

    async fn apply(&self, name: &str, spec: serde_json::Value) -> Result<()> {
        let user = json!({
            "apiVersion": "kafka.strimzi.io/v1",
            "kind": "KafkaUser",
            "metadata": {"name": name, "labels": {"strimzi.io/cluster": CLUSTER}},
            "spec": spec,
        });
        let params = PatchParams::apply("users-test").force();
        self.users
            .patch(name, &params, &Patch::Apply(&user))
            .await?;
        Ok(())
    }

    async fn wait_ready(&self, name: &str) -> Result<KafkaUser> {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let user = self.users.get(name).await?;
            let status = user.status.clone().unwrap_or_default();
            let ready = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready");
            if ready && status.observed_generation == user.metadata.generation {
                return Ok(user);
            }
            if std::time::Instant::now() > deadline {
                bail!("KafkaUser {name} is not Ready: {:?}", status.conditions);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn secret_value(&self, name: &str, key: &str) -> Result<String> {
        let secret = self.secrets.get(name).await?;
        let value = secret
            .data
            .and_then(|mut data| data.remove(key))
            .ok_or_else(|| anyhow!("{name} has no {key}"))?;
        Ok(String::from_utf8(value.0)?)
    }

    async fn scram_client(&self, user: &str, password: &str) -> Result<AdminClient> {
        let mut config = ClientConfig::new([self.kafka.bootstrap(Listener::Scram)]);
        config.sasl = Some(SaslConfig::ScramSha512 {
            username: user.into(),
            password: password.into(),
        });
        Ok(AdminClient::connect(config).await?)
    }

    /// A client on the mutual-TLS listener with a certificate for `subject` from the clients
    /// CA, however it was issued.
    async fn certificate_client(&self, subject: &Subject) -> Result<AdminClient> {
        let tls = self.kafka.tls().ok_or_else(|| anyhow!("TLS"))?;
        let content = |key: &str, pem: &str| SecretContent {
            data: BTreeMap::from([(key.to_string(), pem.as_bytes().to_vec())]),
            annotations: BTreeMap::new(),
        };
        let ca = certs::load_ca(
            CaKind::Clients,
            &content("ca.key", &tls.ca_key_pem),
            &content("ca.crt", &tls.ca_pem),
        )?;
        let issued = ca.issue_client_cert(subject, certs::OffsetDateTime::now_utc(), 30)?;
        let mut config = ClientConfig::new([self.kafka.bootstrap(Listener::MutualTls)]);
        config.tls = Some(TlsConfig {
            ca_pem: tls.ca_pem.clone(),
            client_certificate: Some(ClientCertificate {
                certificate_pem: issued.cert_pem,
                key_pem: issued.key_pem,
            }),
        });
        Ok(AdminClient::connect(config).await?)
    }

    /// Whether the user may describe each topic, as Kafka answers.
    async fn may_describe(&self, client: &AdminClient, topics: &[&str]) -> Result<Vec<bool>> {
        let names: Vec<String> = topics.iter().map(|topic| topic.to_string()).collect();
        let described = client.describe_topics(&names).await?;
        names
            .iter()
            .map(|name| match described.get(name) {
                Some(Ok(_)) => Ok(true),
                Some(Err(error)) if error.code == KafkaError::TOPIC_AUTHORIZATION_FAILED => {
                    Ok(false)
                }
                other => Err(anyhow!("describing {name}: {other:?}")),
            })
            .collect()
    }

    async fn wait_may_describe(
        &self,
        client: &AdminClient,
        topics: &[&str],
        expected: &[bool],
    ) -> Result<()> {
        testenv::eventually(
            &format!("describing {topics:?} is allowed as {expected:?}"),
            WAIT,
            || async { Ok(self.may_describe(client, topics).await? == expected) },
        )
        .await
    }

    async fn quotas_of(&self, user: &str) -> Result<BTreeMap<String, f64>> {
        let filter = QuotaFilter {
            components: vec![("user".into(), QuotaMatch::Exact(user.into()))],
            strict: true,
        };
        let found = self.admin.describe_client_quotas(&filter).await?;
        Ok(found
            .into_iter()
            .next()
            .map(|(_, quotas)| quotas)
            .unwrap_or_default())
    }

    async fn acls_of(&self, username: &str) -> Result<usize> {
        Ok(self
            .admin
            .describe_acls(&AclBindingFilter::principal(&format!("User:{username}")))
            .await?
            .len())
    }
}

/// The subject of the operator's own certificate.
fn operator() -> Subject {
    Subject::Component(kafka_operator::assembly::names::OPERATOR_COMMON_NAME.into())
}

async fn create_topics(admin: &AdminClient, names: &[&str]) -> Result<()> {
    let topics: Vec<NewTopic> = names
        .iter()
        .map(|name| NewTopic {
            name: name.to_string(),
            partitions: Some(1),
            replication_factor: Some(1),
            configs: BTreeMap::new(),
        })
        .collect();
    for (name, result) in admin.create_topics(&topics).await? {
        match result {
            Ok(_) => {}
            Err(error) if error.code == KafkaError::TOPIC_ALREADY_EXISTS => {}
            Err(error) => bail!("creating {name}: {error}"),
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_and_tls_users_authenticate_and_get_exactly_their_acls_and_quotas() -> Result<()> {
    let test = Harness::start().await?;
    create_topics(&test.admin, &["orders", "payments"]).await?;

    // A SCRAM user with a generated password, allowed to describe `orders`, with quotas.
    test.apply("orders-app", json!({
        "authentication": {"type": "scram-sha-512"},
        "authorization": {"type": "simple", "acls": [
            {"resource": {"type": "topic", "name": "ord", "patternType": "prefix"}, "operations": ["Describe", "Read"]},
        ]},
        "quotas": {"producerByteRate": 1048576, "consumerByteRate": 2097152},
    }))
    .await?;
    let user = test.wait_ready("orders-app").await?;
    let status = user.status.unwrap_or_default();
    assert_eq!(
        (status.username.as_deref(), status.secret.as_deref()),
        (Some("orders-app"), Some("orders-app"))
    );
    let password = test.secret_value("orders-app", "password").await?;
    assert_eq!(password.len(), 32);
    assert!(
        password
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
    );
    let jaas = test.secret_value("orders-app", "sasl.jaas.config").await?;
    assert!(jaas.contains("username=\"orders-app\"") && jaas.contains(&password));
    let orders_app = test.scram_client("orders-app", &password).await?;
    assert_eq!(
        test.may_describe(&orders_app, &["orders", "payments"])
            .await?,
        [true, false]
    );
    assert!(
        test.scram_client("orders-app", "wrong-password")
            .await
            .is_err()
    );
    assert_eq!(
        test.quotas_of("orders-app").await?,
        BTreeMap::from([
            ("consumer_byte_rate".into(), 2097152.0),
            ("producer_byte_rate".into(), 1048576.0)
        ])
    );

    // The ACL removed from the spec is removed from Kafka; a quota changes, another goes.
    test.apply(
        "orders-app",
        json!({
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": [
                {"resource": {"type": "topic", "name": "payments"}, "operations": ["Describe"]},
            ]},
            "quotas": {"producerByteRate": 2048},
        }),
    )
    .await?;
    test.wait_may_describe(&orders_app, &["orders", "payments"], &[false, true])
        .await?;
    test.wait_ready("orders-app").await?;
    assert_eq!(
        test.quotas_of("orders-app").await?,
        BTreeMap::from([("producer_byte_rate".into(), 2048.0)])
    );
    assert_eq!(test.acls_of("orders-app").await?, 1);

    // A TLS user: a certificate from the clients CA, accepted by the mutual-TLS listener.
    test.install_clients_ca().await?;
    test.apply(
        "billing",
        json!({
            "authentication": {"type": "tls"},
            "authorization": {"type": "simple", "acls": [
                {"resource": {"type": "topic", "name": "payments"}, "operations": ["Describe"]},
            ]},
        }),
    )
    .await?;
    let billing = test.wait_ready("billing").await?;
    assert_eq!(
        billing.status.unwrap_or_default().username.as_deref(),
        Some("CN=billing")
    );
    for key in ["ca.crt", "user.crt", "user.key", "user.password"] {
        assert!(
            !test.secret_value("billing", key).await?.is_empty(),
            "{key}"
        );
    }
    let p12 = test.secrets.get("billing").await?.data.unwrap_or_default();
    assert!(p12.get("user.p12").is_some_and(|p12| !p12.0.is_empty()));
    let tls = test.kafka.tls().ok_or_else(|| anyhow!("TLS"))?;
    let mut config = ClientConfig::new([test.kafka.bootstrap(Listener::MutualTls)]);
    config.tls = Some(TlsConfig {
        ca_pem: tls.ca_pem.clone(),
        client_certificate: Some(ClientCertificate {
            certificate_pem: test.secret_value("billing", "user.crt").await?,
            key_pem: test.secret_value("billing", "user.key").await?,
        }),
    });
    let billing_client = AdminClient::connect(config).await?;
    assert_eq!(
        test.may_describe(&billing_client, &["orders", "payments"])
            .await?,
        [false, true]
    );

    // Deleting users removes their ACLs, credentials, quotas and Secrets.
    test.users
        .delete("orders-app", &DeleteParams::default())
        .await?;
    test.users
        .delete("billing", &DeleteParams::default())
        .await?;
    testenv::eventually("the deleted users are gone", WAIT, || async {
        Ok(test.users.get_opt("orders-app").await?.is_none()
            && test.users.get_opt("billing").await?.is_none())
    })
    .await?;
    assert_eq!(test.acls_of("orders-app").await?, 0);
    assert_eq!(test.acls_of("CN=billing").await?, 0);
    assert!(test.quotas_of("orders-app").await?.is_empty());
    let credentials = test.admin.describe_user_scram_credentials(None).await?;
    assert!(!credentials.contains_key("orders-app"), "{credentials:?}");
    assert!(test.scram_client("orders-app", &password).await.is_err());
    testenv::eventually("the users' Secrets are collected", WAIT, || async {
        Ok(test.secrets.get_opt("orders-app").await?.is_none()
            && test.secrets.get_opt("billing").await?.is_none())
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_from_a_secret_reaches_kafka_and_follows_changes() -> Result<()> {
    let test = Harness::start().await?;
    let password_secret = |password: &str| Secret {
        metadata: kube::api::ObjectMeta {
            name: Some("app-password".into()),
            ..Default::default()
        },
        data: Some([("pw".to_string(), ByteString(password.as_bytes().to_vec()))].into()),
        ..Default::default()
    };
    test.secrets
        .create(&PostParams::default(), &password_secret("first-password"))
        .await?;
    test.apply("app", json!({"authentication": {"type": "scram-sha-512", "password": {"valueFrom": {"secretKeyRef": {"name": "app-password", "key": "pw"}}}}}))
        .await?;
    test.wait_ready("app").await?;
    assert_eq!(
        test.secret_value("app", "password").await?,
        "first-password"
    );
    test.scram_client("app", "first-password").await?;

    test.secrets
        .replace(
            "app-password",
            &PostParams::default(),
            &password_secret("second-password"),
        )
        .await?;
    testenv::eventually("the new password works", WAIT, || async {
        Ok(test.scram_client("app", "second-password").await.is_ok())
    })
    .await?;
    assert!(test.scram_client("app", "first-password").await.is_err());
    assert_eq!(
        test.secret_value("app", "password").await?,
        "second-password"
    );

    // A reference to a key that is not there: a condition that names it.
    test.apply("broken", json!({"authentication": {"type": "scram-sha-512", "password": {"valueFrom": {"secretKeyRef": {"name": "app-password", "key": "missing"}}}}}))
        .await?;
    testenv::eventually("the broken user says why", WAIT, || async {
        let user = test.users.get("broken").await?;
        Ok(user
            .status
            .unwrap_or_default()
            .conditions
            .unwrap_or_default()
            .iter()
            .any(|c| {
                c.type_ == "NotReady"
                    && c.message
                        .as_deref()
                        .is_some_and(|m| m.contains("no key missing"))
            }))
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_users_cost_nothing_and_paused_or_invalid_users_say_so() -> Result<()> {
    const USERS: usize = 20;
    let test = Harness::start().await?;
    let spec = |index: usize| {
        json!({
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": [
                {"resource": {"type": "topic", "name": format!("t-{index}")}, "operations": ["Read", "Write"]},
            ]},
            "quotas": {"producerByteRate": 1024},
        })
    };
    for index in 0..USERS {
        test.apply(&format!("user-{index}"), spec(index)).await?;
    }
    for index in 0..USERS {
        test.wait_ready(&format!("user-{index}")).await?;
    }
    // Settled: several full reconciliations change nothing in Kubernetes or Kafka.
    tokio::time::sleep(RESYNC).await;
    let versions = async || -> Result<Vec<Option<String>>> {
        let mut versions = Vec::new();
        for index in 0..USERS {
            let name = format!("user-{index}");
            versions.push(test.users.get(&name).await?.metadata.resource_version);
            versions.push(test.secrets.get(&name).await?.metadata.resource_version);
        }
        Ok(versions)
    };
    let series = "brokerage_broker_requests_total{kind=\"KafkaUser\"}";
    let batches = "brokerage_reconciliations_total{kind=\"KafkaUser\"}";
    let before = versions().await?;
    let (requests_before, batches_before) = (
        counter(&test.metrics, series),
        counter(&test.metrics, batches),
    );
    tokio::time::sleep(RESYNC * 3).await;
    assert_eq!(
        versions().await?,
        before,
        "a full reconciliation wrote to users or Secrets"
    );
    let requests = counter(&test.metrics, series) - requests_before;
    let batches = counter(&test.metrics, batches) - batches_before;
    assert!(batches >= 2.0, "{batches} batches");
    // Three reads per batch (ACLs, credentials, quotas), and no change.
    assert!(
        requests <= batches * 3.0,
        "{requests} Kafka requests in {batches} batches"
    );

    // Paused and invalid users say so; Kafka is not touched for them.
    test.apply(
        "paused",
        json!({"authentication": {"type": "scram-sha-512"}}),
    )
    .await?;
    let params = PatchParams::default();
    let pause = json!({"metadata": {"annotations": {"strimzi.io/pause-reconciliation": "true"}}});
    test.users
        .patch("paused", &params, &Patch::Merge(&pause))
        .await?;
    test.apply(
        "invalid",
        json!({"authorization": {"type": "simple", "acls": [{"resource": {"type": "topic"}, "operations": ["Read"]}]}}),
    )
    .await?;
    for (name, reason) in [
        ("paused", "ReconciliationPaused"),
        ("invalid", "InvalidSpec"),
    ] {
        testenv::eventually(&format!("{name} has {reason}"), WAIT, || async {
            let user = test.users.get(name).await?;
            let conditions = user
                .status
                .unwrap_or_default()
                .conditions
                .unwrap_or_default();
            Ok(conditions
                .iter()
                .any(|c| c.reason.as_deref() == Some(reason)))
        })
        .await?;
    }
    assert_eq!(test.acls_of("invalid").await?, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_cannot_take_the_operators_principals_another_users_principal_or_a_secret()
-> Result<()> {
    let test = Harness::start().await?;
    test.install_clients_ca().await?;
    create_topics(&test.admin, &["orders"]).await?;

    // Kafka tells the operator's principal from a user certificate of the same common name:
    // only the first is a super user.
    let operator = test.certificate_client(&operator()).await?;
    assert_eq!(test.may_describe(&operator, &["orders"]).await?, [true]);
    let forged = Subject::User(kafka_operator::assembly::names::OPERATOR_COMMON_NAME.into());
    let forged = test.certificate_client(&forged).await?;
    assert_eq!(test.may_describe(&forged, &["orders"]).await?, [false]);

    // A user named after the cluster CA's key Secret: the Secret is left exactly as it was.
    let ca_key = format!("{CLUSTER}-clients-ca");
    let before = test.secrets.get(&ca_key).await?;
    test.apply(
        &ca_key,
        json!({"authentication": {"type": "scram-sha-512"}}),
    )
    .await?;
    let condition = wait_condition(
        &test.users,
        &ca_key,
        "NotReady",
        Some("SecretConflict"),
        WAIT,
    )
    .await?;
    assert!(
        condition.message.unwrap_or_default().contains(&ca_key),
        "the condition names the Secret"
    );
    let after = test.secrets.get(&ca_key).await?;
    assert_eq!(after.data, before.data);
    assert_eq!(after.metadata.labels, before.metadata.labels);
    assert_eq!(after.metadata.owner_references, None);
    let credentials = test.admin.describe_user_scram_credentials(None).await?;
    assert!(!credentials.contains_key(&ca_key), "{credentials:?}");
    // Deleting that user does not take the Secret with it.
    test.users.delete(&ca_key, &DeleteParams::default()).await?;
    testenv::eventually("the user is gone", WAIT, || async {
        Ok(test.users.get_opt(&ca_key).await?.is_none())
    })
    .await?;
    assert_eq!(test.secrets.get(&ca_key).await?.data, before.data);

    // Certificate users named as the operator or the nodes are refused, and get no certificate.
    for name in ["cluster-operator", &format!("{CLUSTER}-kafka")] {
        test.apply(name, json!({"authentication": {"type": "tls"}}))
            .await?;
        let condition =
            wait_condition(&test.users, name, "NotReady", Some("InvalidSpec"), WAIT).await?;
        assert!(condition.message.unwrap_or_default().contains("reserved"));
        assert!(test.secrets.get_opt(name).await?.is_none());
    }

    // Two users for one principal: the older keeps it, the younger changes nothing.
    test.apply(
        "alice",
        json!({"authentication": {"type": "tls"}, "authorization": {"type": "simple", "acls": [
            {"resource": {"type": "topic", "name": "orders"}, "operations": ["Describe"]},
        ]}}),
    )
    .await?;
    test.wait_ready("alice").await?;
    let alice_cert = test.secret_value("alice", "user.crt").await?;
    test.apply(
        "impostor",
        json!({"userName": "alice", "authentication": {"type": "tls"}, "authorization": {"type": "simple", "acls": [
            {"resource": {"type": "topic", "name": "*"}, "operations": ["All"]},
        ]}}),
    )
    .await?;
    let condition = wait_condition(
        &test.users,
        "impostor",
        "NotReady",
        Some("ResourceConflict"),
        WAIT,
    )
    .await?;
    assert!(condition.message.unwrap_or_default().contains("alice"));
    assert_eq!(test.acls_of("CN=alice").await?, 1);
    assert!(test.secrets.get_opt("impostor").await?.is_none());
    test.users
        .delete("impostor", &DeleteParams::default())
        .await?;
    testenv::eventually("the impostor is gone", WAIT, || async {
        Ok(test.users.get_opt("impostor").await?.is_none())
    })
    .await?;
    assert_eq!(test.acls_of("CN=alice").await?, 1, "alice keeps her ACLs");
    assert_eq!(test.secret_value("alice", "user.crt").await?, alice_cert);

    // A template cannot replace the operator's labels or the password digest: the password
    // stays put across full reconciliations.
    test.apply(
        "templated",
        json!({"authentication": {"type": "scram-sha-512"}, "template": {"secret": {"metadata": {
            "labels": {"strimzi.io/kind": "Other", "team": "a"},
            "annotations": {"brokerage.io/scram-password-digest": "forged"},
        }}}}),
    )
    .await?;
    test.wait_ready("templated").await?;
    let secret = test.secrets.get("templated").await?;
    let labels = secret.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        (labels["strimzi.io/kind"].as_str(), labels["team"].as_str()),
        ("KafkaUser", "a")
    );
    tokio::time::sleep(RESYNC * 3).await;
    let later = test.secrets.get("templated").await?;
    assert_eq!(
        later.metadata.resource_version,
        secret.metadata.resource_version
    );
    let password = test.secret_value("templated", "password").await?;
    test.scram_client("templated", &password).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_of_a_kafka_without_an_authorizer_get_credentials_and_a_warning() -> Result<()> {
    let test = Harness::start_with(BTreeMap::new()).await?;
    test.apply(
        "app",
        json!({
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": [
                {"resource": {"type": "topic", "name": "orders"}, "operations": ["Read"]},
            ]},
            "quotas": {"producerByteRate": 1024},
        }),
    )
    .await?;
    test.apply(
        "plain",
        json!({"authentication": {"type": "scram-sha-512"}}),
    )
    .await?;
    let warning = wait_condition(
        &test.users,
        "app",
        "Warning",
        Some("AuthorizationDisabled"),
        WAIT,
    )
    .await?;
    assert!(
        warning
            .message
            .unwrap_or_default()
            .contains("no authorizer")
    );
    test.wait_ready("app").await?;
    let plain = test.wait_ready("plain").await?;
    let conditions = plain
        .status
        .unwrap_or_default()
        .conditions
        .unwrap_or_default();
    assert!(
        conditions.iter().all(|c| c.type_ != "Warning"),
        "{conditions:?}"
    );
    for name in ["app", "plain"] {
        let password = test.secret_value(name, "password").await?;
        test.scram_client(name, &password).await?;
    }
    assert_eq!(
        test.quotas_of("app").await?,
        BTreeMap::from([("producer_byte_rate".into(), 1024.0)])
    );

    // Deleting them does not wait for ACLs Kafka cannot have.
    for name in ["app", "plain"] {
        test.users.delete(name, &DeleteParams::default()).await?;
    }
    testenv::eventually("the users are gone", WAIT, || async {
        Ok(test.users.get_opt("app").await?.is_none()
            && test.users.get_opt("plain").await?.is_none())
    })
    .await?;
    let credentials = test.admin.describe_user_scram_credentials(None).await?;
    assert!(credentials.is_empty(), "{credentials:?}");
    Ok(())
}
