//! ACL 2.0 against a real RocketMQ 5.5.0 cluster of two brokers with authentication and
//! authorization on: signed requests, users, ACLs, and what a Normal user may do.

mod common;

use std::time::Duration;

use common::{client, client_as, eventually, start};
use rocketmq_client::{Acl, Error, Policy, PolicyEntry, TopicConfig, User};
use testenv::rocketmq::{AclAdmin, Broker, RocketMQCluster, RocketMQOptions};
use tokio::sync::OnceCell;

const ADMIN: &str = "admin";
const ADMIN_PASSWORD: &str = "admin-secret";

static ROCKETMQ: OnceCell<RocketMQCluster> = OnceCell::const_new();

async fn rocketmq() -> &'static RocketMQCluster {
    ROCKETMQ
        .get_or_init(|| {
            start(RocketMQOptions {
                brokers: 2,
                acl: Some(AclAdmin {
                    username: ADMIN.into(),
                    password: ADMIN_PASSWORD.into(),
                }),
                ..RocketMQOptions::default()
            })
        })
        .await
}

fn admin(rocketmq: &RocketMQCluster) -> rocketmq_client::AdminClient {
    client_as(&rocketmq.name_server_addr(), ADMIN, ADMIN_PASSWORD)
}

fn normal_user(name: &str, password: &str) -> User {
    User {
        username: name.into(),
        password: Some(password.into()),
        user_type: Some("Normal".into()),
        user_status: None,
    }
}

fn entry(resource: &str, actions: &[&str], decision: &str) -> PolicyEntry {
    PolicyEntry {
        resource: resource.into(),
        actions: actions.iter().map(|action| action.to_string()).collect(),
        source_ips: vec![],
        decision: decision.into(),
    }
}

fn acl(subject: &str, entries: Vec<PolicyEntry>) -> Acl {
    Acl {
        subject: subject.into(),
        policies: vec![Policy {
            policy_type: Some("Custom".into()),
            entries,
        }],
    }
}

/// The entries of the Custom policy, sorted by resource.
fn custom_entries(acl: &Acl) -> Vec<PolicyEntry> {
    let mut entries: Vec<PolicyEntry> = acl
        .policies
        .iter()
        .filter(|policy| policy.policy_type.as_deref() == Some("Custom"))
        .flat_map(|policy| policy.entries.clone())
        .collect();
    entries.sort_by(|a, b| a.resource.cmp(&b.resource));
    entries
}

#[tokio::test]
async fn requests_without_good_credentials_are_refused() {
    let rocketmq = rocketmq().await;
    let broker = rocketmq.brokers()[0].addr();
    let anonymous = client(&rocketmq.name_server_addr());
    match anonymous.topic_configs(&broker).await {
        Err(Error::NoPermission(error)) => {
            assert_eq!(error.code, 16);
            assert!(error.remark.contains("username"), "{}", error.remark);
        }
        other => panic!("expected NoPermission, got {other:?}"),
    }
    let wrong = client_as(&rocketmq.name_server_addr(), ADMIN, "not-the-password");
    match wrong.broker_config(&broker).await {
        Err(Error::NoPermission(error)) => {
            assert!(error.remark.contains("signature"), "{}", error.remark)
        }
        other => panic!("expected NoPermission, got {other:?}"),
    }
    let unknown = client_as(&rocketmq.name_server_addr(), "nobody", "x");
    assert!(matches!(
        unknown.list_users(&broker).await,
        Err(Error::NoPermission(_))
    ));
    // Name servers do not authenticate.
    assert!(anonymous.cluster_info().await.is_ok());
    // The admin's signature is good.
    assert!(admin(rocketmq).topic_configs(&broker).await.is_ok());
}

#[tokio::test]
async fn users_and_acls_are_managed_per_broker() {
    let rocketmq = rocketmq().await;
    let admin = admin(rocketmq);
    let broker = rocketmq.brokers()[0].addr();
    let other_broker = rocketmq.brokers()[1].addr();

    let alice = normal_user("alice", "alice-1");
    admin.create_user(&broker, &alice).await.unwrap();
    let stored = admin.get_user(&broker, "alice").await.unwrap().unwrap();
    assert_eq!(stored.password.as_deref(), Some("alice-1"));
    assert_eq!(stored.user_type.as_deref(), Some("Normal"));
    assert_eq!(stored.user_status.as_deref(), Some("enable"));
    let users = admin.list_users(&broker).await.unwrap();
    let names: Vec<&str> = users.iter().map(|user| user.username.as_str()).collect();
    assert!(
        names.contains(&"alice") && names.contains(&ADMIN),
        "{names:?}"
    );
    assert!(matches!(
        admin.create_user(&broker, &alice).await,
        Err(Error::NoPermission(e)) if e.remark.contains("existed")
    ));
    // Each broker keeps its own users.
    assert_eq!(admin.get_user(&other_broker, "alice").await.unwrap(), None);
    assert_eq!(admin.get_user(&broker, "nobody").await.unwrap(), None);

    let first = acl(
        "User:alice",
        vec![entry("Topic:orders", &["Pub", "Sub"], "Allow")],
    );
    admin.create_acl(&broker, &first).await.unwrap();
    let stored = admin.get_acl(&broker, "User:alice").await.unwrap().unwrap();
    assert_eq!(stored.subject, "User:alice");
    assert_eq!(custom_entries(&stored), custom_entries(&first));
    assert_eq!(
        admin.get_acl(&other_broker, "User:alice").await.unwrap(),
        None
    );

    // An update merges: a new resource is added, a given one replaced.
    let update = acl(
        "User:alice",
        vec![
            entry("Group:alice-*", &["Sub"], "Allow"),
            entry("Topic:orders", &["Sub"], "Deny"),
        ],
    );
    admin.update_acl(&broker, &update).await.unwrap();
    let stored = admin.get_acl(&broker, "User:alice").await.unwrap().unwrap();
    assert_eq!(custom_entries(&stored), custom_entries(&update));
    let listed = admin.list_acls(&broker).await.unwrap();
    assert!(listed.iter().any(|acl| acl.subject == "User:alice"));

    // Deleting one resource's entry, then the rest; absent ones are no error.
    admin
        .delete_acl(&broker, "User:alice", Some("Topic:orders"))
        .await
        .unwrap();
    let stored = admin.get_acl(&broker, "User:alice").await.unwrap().unwrap();
    assert_eq!(
        custom_entries(&stored),
        [entry("Group:alice-*", &["Sub"], "Allow")]
    );
    admin.delete_acl(&broker, "User:alice", None).await.unwrap();
    assert_eq!(admin.get_acl(&broker, "User:alice").await.unwrap(), None);
    admin.delete_acl(&broker, "User:alice", None).await.unwrap();
    admin
        .delete_acl(&broker, "User:nobody", None)
        .await
        .unwrap();
    assert_eq!(admin.get_acl(&broker, "User:nobody").await.unwrap(), None);

    // Updates stick (5.3.1 itself ignores them: the client recreates the user).
    let change = User {
        username: "alice".into(),
        password: None,
        user_type: None,
        user_status: Some("disable".into()),
    };
    admin.update_user(&broker, &change).await.unwrap();
    let stored = admin.get_user(&broker, "alice").await.unwrap().unwrap();
    assert_eq!(stored.user_status.as_deref(), Some("disable"));
    assert_eq!(stored.password.as_deref(), Some("alice-1"), "kept");
    assert!(matches!(
        admin
            .update_user(&broker, &normal_user("nobody", "x"))
            .await,
        Err(Error::NoPermission(_))
    ));

    admin.delete_user(&broker, "alice").await.unwrap();
    assert_eq!(admin.get_user(&broker, "alice").await.unwrap(), None);
    admin.delete_user(&broker, "alice").await.unwrap();
}

#[tokio::test]
async fn a_normal_user_sends_only_where_its_acl_allows() {
    let rocketmq = rocketmq().await;
    let admin = admin(rocketmq);
    let brokers: Vec<String> = rocketmq.brokers().iter().map(Broker::addr).collect();
    let broker = &brokers[0];
    for topic in ["bob-allowed", "bob-denied"] {
        admin
            .create_topic(broker, &TopicConfig::new(topic))
            .await
            .unwrap();
    }
    admin
        .create_user(broker, &normal_user("bob", "bob-1"))
        .await
        .unwrap();
    admin
        .create_acl(
            broker,
            &acl(
                "User:bob",
                vec![entry("Topic:bob-allowed", &["Pub"], "Allow")],
            ),
        )
        .await
        .unwrap();

    let bob = client_as(&rocketmq.name_server_addr(), "bob", "bob-1");
    bob.send_message(broker, "bob-allowed", b"hello")
        .await
        .unwrap();
    // The admin's scale-in check works with ACLs on.
    assert!(admin.unconsumed_messages(broker).await.unwrap() >= 1);
    match bob.send_message(broker, "bob-denied", b"hello").await {
        Err(Error::NoPermission(error)) => assert!(error.remark.contains("bob"), "{error}"),
        other => panic!("expected NoPermission, got {other:?}"),
    }
    // A Normal user is no admin.
    assert!(matches!(
        bob.list_users(broker).await,
        Err(Error::NoPermission(_))
    ));
    // Users and ACLs are per broker: the other one does not know bob.
    assert!(matches!(
        bob.send_message(&brokers[1], "bob-allowed", b"hello").await,
        Err(Error::NoPermission(e)) if e.remark.contains("not found")
    ));

    // A new password: the old one stops working, the new one works, the ACL stays.
    let mut changed = normal_user("bob", "bob-2");
    changed.user_type = None;
    admin.update_user(broker, &changed).await.unwrap();
    let new_bob = client_as(&rocketmq.name_server_addr(), "bob", "bob-2");
    eventually(
        "the new password works",
        Duration::from_secs(10),
        || async {
            new_bob
                .send_message(broker, "bob-allowed", b"again")
                .await
                .ok()
        },
    )
    .await;
    assert!(matches!(
        bob.send_message(broker, "bob-allowed", b"old").await,
        Err(Error::NoPermission(_))
    ));
    assert!(matches!(
        new_bob.send_message(broker, "bob-denied", b"hello").await,
        Err(Error::NoPermission(_))
    ));
}
