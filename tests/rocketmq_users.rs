//! The RocketMQUser operator against two real RocketMQ brokers with ACL 2.0 on (each keeps its
//! own users) and the real local cluster: a user authenticates with its generated Secret and is
//! allowed or denied as its ACLs say; a change moves its permissions; a referenced password is used; deletion removes it.
//! A user cannot take another's user name or a Secret it does not own.

use std::time::Duration;

use anyhow::{Context as _, Result};
use api::rocketmq::RocketMQUser;
use brokerage_e2e::operators::{Operators, RocketMQUsers};
use brokerage_e2e::{setup, wait_condition};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use rocketmq_client::{AdminClient, ClientConfig, Credentials, TopicConfig};
use rocketmq_operator::admin::RocketMQOverride;
use serde_json::json;
use testenv::rocketmq::{AclAdmin, RocketMQCluster, RocketMQOptions};
use tokio::sync::OnceCell;

const WAIT: Duration = Duration::from_secs(60);
/// Short, so that a changed referenced password is seen soon.
const RESYNC: Duration = Duration::from_secs(3);
const ADMIN: (&str, &str) = ("brokerage-admin", "admin-secret-1");

/// One real RocketMQ with ACL 2.0 for every test here, with the topics they send to.
async fn shared_rocketmq() -> Result<&'static RocketMQCluster> {
    static ROCKETMQ: OnceCell<RocketMQCluster> = OnceCell::const_new();
    ROCKETMQ
        .get_or_try_init(|| async {
            let options = RocketMQOptions {
                brokers: 2,
                acl: Some(AclAdmin {
                    username: ADMIN.0.into(),
                    password: ADMIN.1.into(),
                }),
                ..RocketMQOptions::default()
            };
            let rocketmq =
                tokio::task::spawn_blocking(move || RocketMQCluster::start(&options)).await??;
            let admin = admin_client(&rocketmq);
            for broker in rocketmq.brokers() {
                for topic in ["orders", "payments"] {
                    admin
                        .create_topic(&broker.addr(), &TopicConfig::new(topic))
                        .await?;
                }
            }
            anyhow::Ok(rocketmq)
        })
        .await
}

fn admin_client(rocketmq: &RocketMQCluster) -> AdminClient {
    let mut config = ClientConfig::new(&rocketmq.name_server_addr());
    config.credentials = Some(admin_credentials());
    AdminClient::new(config)
}

fn admin_credentials() -> Credentials {
    Credentials {
        access_key: ADMIN.0.into(),
        secret_key: ADMIN.1.into(),
    }
}

struct Harness {
    users: Api<RocketMQUser>,
    secrets: Api<Secret>,
    admin: AdminClient,
    name_servers: String,
    /// The broker the user's messages go to, and every broker.
    broker: String,
    brokers: Vec<String>,
}

impl Harness {
    async fn start(prefix: &str) -> Result<Harness> {
        let rocketmq = shared_rocketmq().await?;
        let (client, namespace) = setup(prefix).await?;
        let overrides = vec![RocketMQOverride {
            namespace: Some(namespace.clone()),
            cluster: "broker".into(),
            cluster_name: Some("DefaultCluster".into()),
            name_servers: rocketmq.name_server_addr(),
            credentials: Some(admin_credentials()),
            ..RocketMQOverride::default()
        }];
        Operators::watching(&client, &[&namespace])
            .resync(RESYNC)
            .rocketmq(overrides)
            .start(&[RocketMQUsers]);
        Ok(Harness {
            users: Api::namespaced(client.clone(), &namespace),
            secrets: Api::namespaced(client, &namespace),
            admin: admin_client(rocketmq),
            name_servers: rocketmq.name_server_addr(),
            broker: rocketmq.brokers()[0].addr(),
            brokers: rocketmq
                .brokers()
                .iter()
                .map(|broker| broker.addr())
                .collect(),
        })
    }

    async fn apply(&self, name: &str, spec: serde_json::Value) -> Result<()> {
        let mut spec = spec;
        spec["clusterRef"] = json!({"name": "broker"});
        let user = json!({
            "apiVersion": "rocketmq.apache.org/v1alpha1",
            "kind": "RocketMQUser",
            "metadata": {"name": name},
            "spec": spec,
        });
        let params = PatchParams::apply("rocketmq-users-test").force();
        self.users
            .patch(name, &params, &Patch::Apply(&user))
            .await?;
        Ok(())
    }

    async fn wait_ready(&self, name: &str) -> Result<()> {
        wait_condition(&self.users, name, "Ready", None, WAIT)
            .await
            .map(|_| ())
    }

    /// The credentials in the user's Secret.
    async fn credentials(&self, name: &str) -> Result<Credentials> {
        let secret = self.secrets.get(name).await?;
        let data = secret.data.context("the user's Secret has no data")?;
        let read = |key: &str| -> Result<String> {
            Ok(String::from_utf8(
                data.get(key).context("missing key")?.0.clone(),
            )?)
        };
        Ok(Credentials {
            access_key: read("username")?,
            secret_key: read("password")?,
        })
    }

    /// Asserts that every broker holds exactly `resources` in the ACL of `subject`.
    async fn assert_resources(&self, subject: &str, resources: &[&str]) -> Result<()> {
        for broker in &self.brokers {
            let acl = self
                .admin
                .get_acl(broker, subject)
                .await?
                .context("no ACL")?;
            let found: Vec<&str> = acl
                .policies
                .iter()
                .flat_map(|policy| &policy.entries)
                .map(|entry| entry.resource.as_str())
                .collect();
            assert_eq!(found, resources, "the ACL of {subject} on {broker}");
        }
        Ok(())
    }

    /// Whether a client with `credentials` may send to `topic`.
    async fn may_send(&self, credentials: &Credentials, topic: &str) -> bool {
        let mut config = ClientConfig::new(&self.name_servers);
        config.credentials = Some(credentials.clone());
        let client = AdminClient::new(config);
        client
            .send_message(&self.broker, topic, b"hello")
            .await
            .is_ok()
    }

    /// Waits until sending to `topic` with `credentials` is `allowed` (ACL changes reach the
    /// broker's cache a moment late).
    async fn wait_may_send(
        &self,
        credentials: &Credentials,
        topic: &str,
        allowed: bool,
    ) -> Result<()> {
        testenv::eventually(
            &format!("sending to {topic} allowed: {allowed}"),
            WAIT,
            || async { Ok(self.may_send(credentials, topic).await == allowed) },
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_is_allowed_and_denied_as_its_acls_say_and_removed_on_deletion() -> Result<()> {
    let test = Harness::start("rmq-users-acl").await?;
    test.apply(
        "orders-app",
        json!({"acls": [{"resource": "Topic:orders", "actions": ["Pub", "Sub"]}]}),
    )
    .await?;
    test.wait_ready("orders-app").await?;
    let credentials = test.credentials("orders-app").await?;
    assert_eq!(credentials.access_key, "orders-app");
    assert!(credentials.secret_key.len() >= 16);
    test.wait_may_send(&credentials, "orders", true).await?;
    assert!(
        !test.may_send(&credentials, "payments").await,
        "payments must be denied"
    );
    let wrong = Credentials {
        secret_key: "wrong-password".into(),
        ..credentials.clone()
    };
    assert!(
        !test.may_send(&wrong, "orders").await,
        "a wrong password must fail"
    );
    test.assert_resources("User:orders-app", &["Topic:orders"])
        .await?;

    // The ACL moves from orders to payments: exactly in sync, nothing left behind.
    test.apply(
        "orders-app",
        json!({"acls": [{"resource": "Topic:payments", "actions": ["Pub"]}]}),
    )
    .await?;
    test.wait_may_send(&credentials, "payments", true).await?;
    test.wait_may_send(&credentials, "orders", false).await?;
    // Ready for this generation: every broker, not only the one sent to, has the change.
    test.wait_ready("orders-app").await?;
    test.assert_resources("User:orders-app", &["Topic:payments"])
        .await?;

    // Source addresses reach the broker: an entry for other addresses allows nothing here.
    test.apply(
        "orders-app",
        json!({"acls": [
            {"resource": "Topic:orders", "actions": ["Pub"]},
            {"resource": "Topic:payments", "actions": ["Pub"], "sourceIps": ["10.0.0.0/8"]}
        ]}),
    )
    .await?;
    test.wait_may_send(&credentials, "orders", true).await?;
    test.wait_may_send(&credentials, "payments", false).await?;

    test.users
        .delete("orders-app", &DeleteParams::default())
        .await?;
    testenv::eventually("the user is gone from every broker", WAIT, || async {
        for broker in &test.brokers {
            if test.admin.get_user(broker, "orders-app").await?.is_some() {
                return Ok(false);
            }
        }
        Ok(true)
    })
    .await?;
    for broker in &test.brokers {
        assert!(
            test.admin
                .get_acl(broker, "User:orders-app")
                .await?
                .is_none()
        );
    }
    test.wait_may_send(&credentials, "orders", false).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referenced_password_is_used_and_a_change_reaches_the_broker() -> Result<()> {
    let test = Harness::start("rmq-users-password").await?;
    let password_secret = |password: &str| {
        serde_json::from_value::<Secret>(json!({
            "metadata": {"name": "app-password"},
            "stringData": {"pw": password},
        }))
    };
    test.secrets
        .create(
            &PostParams::default(),
            &password_secret("first-password-1")?,
        )
        .await?;
    test.apply(
        "billing",
        json!({"username": "billing-svc", "userType": "Normal",
               "password": {"valueFrom": {"secretKeyRef": {"name": "app-password", "key": "pw"}}},
               "acls": [{"resource": "Topic:payments", "actions": ["Pub"]}]}),
    )
    .await?;
    test.wait_ready("billing").await?;
    let first = Credentials {
        access_key: "billing-svc".into(),
        secret_key: "first-password-1".into(),
    };
    assert_eq!(test.credentials("billing").await?, first);
    test.wait_may_send(&first, "payments", true).await?;
    let status = test.users.get("billing").await?.status.unwrap();
    assert_eq!(status.username.as_deref(), Some("billing-svc"));
    assert_eq!(status.secret.as_deref(), Some("billing"));

    test.secrets
        .replace(
            "app-password",
            &PostParams::default(),
            &password_secret("second-password-2")?,
        )
        .await?;
    let second = Credentials {
        secret_key: "second-password-2".into(),
        ..first.clone()
    };
    test.wait_may_send(&second, "payments", true).await?;
    test.wait_may_send(&first, "payments", false).await?;

    // A missing key is named in the condition.
    test.apply(
        "broken",
        json!({"password": {"valueFrom": {"secretKeyRef": {"name": "app-password", "key": "nope"}}}}),
    )
    .await?;
    let condition = wait_condition(
        &test.users,
        "broken",
        "NotReady",
        Some("RocketMQError"),
        WAIT,
    )
    .await?;
    assert!(
        condition
            .message
            .unwrap_or_default()
            .contains("no key nope")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_cannot_take_another_users_name_the_admin_user_or_a_secret_they_do_not_own()
-> Result<()> {
    let test = Harness::start("rmq-users-conflicts").await?;

    // Two resources for one user name: the older keeps it and its password.
    test.apply(
        "first",
        json!({"username": "shared-user", "acls": [{"resource": "Topic:orders", "actions": ["Pub"]}]}),
    )
    .await?;
    test.wait_ready("first").await?;
    // A broker that registered late gets the user at the next full reconciliation.
    testenv::eventually("the user is on every broker", WAIT, || async {
        for broker in &test.brokers {
            if test.admin.get_user(broker, "shared-user").await?.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    })
    .await?;
    let credentials = test.credentials("first").await?;
    test.apply(
        "second",
        json!({"username": "shared-user", "userType": "Super"}),
    )
    .await?;
    let condition = wait_condition(
        &test.users,
        "second",
        "NotReady",
        Some("ResourceConflict"),
        WAIT,
    )
    .await?;
    assert!(condition.message.unwrap_or_default().contains("first"));
    assert!(test.secrets.get_opt("second").await?.is_none());
    test.users
        .delete("second", &DeleteParams::default())
        .await?;
    testenv::eventually("the younger resource is gone", WAIT, || async {
        Ok(test.users.get_opt("second").await?.is_none())
    })
    .await?;
    for broker in &test.brokers {
        let user = test.admin.get_user(broker, "shared-user").await?;
        assert!(
            user.is_some(),
            "the older resource's user stays on {broker}"
        );
    }
    test.wait_may_send(&credentials, "orders", true).await?;

    // A Secret of the user's name that someone else made is neither changed nor deleted.
    let theirs = serde_json::from_value::<Secret>(json!({
        "metadata": {"name": "taken", "labels": {"app": "theirs"}},
        "stringData": {"password": "their-password", "config": "theirs"},
    }))?;
    let before = test.secrets.create(&PostParams::default(), &theirs).await?;
    test.apply("taken", json!({})).await?;
    let condition = wait_condition(
        &test.users,
        "taken",
        "NotReady",
        Some("SecretConflict"),
        WAIT,
    )
    .await?;
    assert!(condition.message.unwrap_or_default().contains("taken"));
    for broker in &test.brokers {
        let user = test.admin.get_user(broker, "taken").await?;
        assert!(user.is_none(), "nothing is made on {broker}");
    }
    test.users.delete("taken", &DeleteParams::default()).await?;
    testenv::eventually("the user is gone", WAIT, || async {
        Ok(test.users.get_opt("taken").await?.is_none())
    })
    .await?;
    let after = test.secrets.get("taken").await?;
    assert_eq!(
        after.metadata.resource_version,
        before.metadata.resource_version
    );

    // The operator's own admin user is nobody's to take: refused, and its deletion leaves the
    // admin user as it was.
    test.apply(
        "takeover",
        json!({"username": ADMIN.0, "userType": "Super"}),
    )
    .await?;
    let condition = wait_condition(
        &test.users,
        "takeover",
        "NotReady",
        Some("InvalidSpec"),
        WAIT,
    )
    .await?;
    assert!(condition.message.unwrap_or_default().contains("admin user"));
    test.users
        .delete("takeover", &DeleteParams::default())
        .await?;
    testenv::eventually("the refused resource is gone", WAIT, || async {
        Ok(test.users.get_opt("takeover").await?.is_none())
    })
    .await?;
    // The admin still signs requests: the operator can list the broker's users.
    for broker in &test.brokers {
        assert!(test.admin.get_user(broker, ADMIN.0).await?.is_some());
    }
    Ok(())
}
