//! SASL on a real Kafka node: SCRAM-SHA-512 (and PLAIN on the same listener), and SCRAM
//! credentials managed through the client.

mod common;

use std::time::Duration;

use common::{bootstrap, eventually, plain_client, start};
use kafka_client::{
    AdminClient, ClientConfig, Error, KafkaError, SaslConfig, ScramAlteration, ScramCredentialInfo,
    ScramMechanism,
};
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};
use tokio::sync::OnceCell;

static KAFKA: OnceCell<KafkaCluster> = OnceCell::const_new();

async fn kafka() -> &'static KafkaCluster {
    KAFKA
        .get_or_init(|| {
            start(KafkaOptions {
                listeners: vec![Listener::Scram],
                scram_users: vec![("admin".into(), "admin-secret".into())],
                config: [
                    (
                        "listener.name.scram.sasl.enabled.mechanisms",
                        "SCRAM-SHA-512,PLAIN",
                    ),
                    (
                        "listener.name.scram.plain.sasl.jaas.config",
                        "org.apache.kafka.common.security.plain.PlainLoginModule required user_plain-user=\"plain-secret\";",
                    ),
                ]
                .into_iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
                ..KafkaOptions::default()
            })
        })
        .await
}

fn sasl_config(kafka: &KafkaCluster, sasl: SaslConfig) -> ClientConfig {
    let mut config = ClientConfig::new(bootstrap(kafka, Listener::Scram));
    config.sasl = Some(sasl);
    config.request_timeout = Duration::from_secs(10);
    config
}

fn scram(user: &str, password: &str) -> SaslConfig {
    SaslConfig::ScramSha512 {
        username: user.into(),
        password: password.into(),
    }
}

#[tokio::test]
async fn good_scram_credentials_connect() {
    let kafka = kafka().await;
    let client = AdminClient::connect(sasl_config(kafka, scram("admin", "admin-secret")))
        .await
        .unwrap();
    let cluster = client.describe_cluster().await.unwrap();
    assert_eq!(
        cluster.brokers[0].address(),
        kafka.address(0, Listener::Scram).to_string()
    );
}

#[tokio::test]
async fn a_bad_password_is_an_authentication_error() {
    let kafka = kafka().await;
    let result = AdminClient::connect(sasl_config(kafka, scram("admin", "wrong"))).await;
    match result {
        Err(Error::Authentication(message)) => {
            assert!(message.contains("invalid credentials"), "{message}")
        }
        Err(other) => panic!("expected an authentication error, got {other}"),
        Ok(_) => panic!("connected with a wrong password"),
    }
    let unknown = AdminClient::connect(sasl_config(kafka, scram("nobody", "x"))).await;
    assert!(matches!(unknown, Err(Error::Authentication(_))));
}

#[tokio::test]
async fn plain_credentials_connect_and_bad_ones_do_not() {
    let kafka = kafka().await;
    let plain = |password: &str| SaslConfig::Plain {
        username: "plain-user".into(),
        password: password.into(),
    };
    let client = AdminClient::connect(sasl_config(kafka, plain("plain-secret")))
        .await
        .unwrap();
    assert!(client.list_topics().await.is_ok());
    let result = AdminClient::connect(sasl_config(kafka, plain("wrong"))).await;
    assert!(
        matches!(result, Err(Error::Authentication(_))),
        "{:?}",
        result.err()
    );
}

#[tokio::test]
async fn scram_users_are_created_used_described_and_deleted() {
    let kafka = kafka().await;
    let admin = plain_client(kafka).await;
    let user = "carol".to_string();
    let users = [user.clone()];

    let before = admin
        .describe_user_scram_credentials(Some(&users))
        .await
        .unwrap();
    assert_eq!(
        before[&user].as_ref().unwrap_err().code,
        KafkaError::RESOURCE_NOT_FOUND
    );

    let created = admin
        .alter_user_scram_credentials(&[ScramAlteration::Upsert {
            user: user.clone(),
            mechanism: ScramMechanism::Sha512,
            iterations: 8192,
            password: "carol-secret".into(),
        }])
        .await
        .unwrap();
    assert_eq!(created[&user], Ok(()));

    // The new credential reaches the broker's authenticator through the metadata log.
    let carol = eventually("carol can log in", Duration::from_secs(30), || async {
        AdminClient::connect(sasl_config(kafka, scram("carol", "carol-secret")))
            .await
            .ok()
    })
    .await;
    assert!(carol.describe_cluster().await.is_ok());
    let wrong = AdminClient::connect(sasl_config(kafka, scram("carol", "not-it"))).await;
    assert!(matches!(wrong, Err(Error::Authentication(_))));

    let described = admin
        .describe_user_scram_credentials(Some(&users))
        .await
        .unwrap();
    assert_eq!(
        described[&user],
        Ok(vec![ScramCredentialInfo {
            mechanism: ScramMechanism::Sha512,
            iterations: 8192,
        }])
    );
    let everyone = admin.describe_user_scram_credentials(None).await.unwrap();
    assert!(
        everyone.contains_key("admin") && everyone.contains_key("carol"),
        "{everyone:?}"
    );

    let deleted = admin
        .alter_user_scram_credentials(&[ScramAlteration::Delete {
            user: user.clone(),
            mechanism: ScramMechanism::Sha512,
        }])
        .await
        .unwrap();
    assert_eq!(deleted[&user], Ok(()));
    let after = admin
        .describe_user_scram_credentials(Some(&users))
        .await
        .unwrap();
    assert_eq!(
        after[&user].as_ref().unwrap_err().code,
        KafkaError::RESOURCE_NOT_FOUND
    );
    eventually(
        "carol can no longer log in",
        Duration::from_secs(30),
        || async {
            matches!(
                AdminClient::connect(sasl_config(kafka, scram("carol", "carol-secret"))).await,
                Err(Error::Authentication(_))
            )
            .then_some(())
        },
    )
    .await;

    // Too few iterations are Kafka's to refuse, per user.
    let refused = admin
        .alter_user_scram_credentials(&[ScramAlteration::Upsert {
            user: "dave".into(),
            mechanism: ScramMechanism::Sha512,
            iterations: 10,
            password: "x".into(),
        }])
        .await
        .unwrap();
    assert_eq!(
        refused["dave"].as_ref().unwrap_err().code,
        KafkaError::UNACCEPTABLE_CREDENTIAL
    );
}
