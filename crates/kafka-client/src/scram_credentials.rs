//! SCRAM credentials of users: describe, create or change (the client salts and hashes the
//! password, so it never reaches the broker), delete.

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, DescribeUserScramCredentialsRequest,
};
use kafka_protocol::protocol::StrBytes;

use crate::client::AdminClient;
use crate::cluster::Target;
use crate::error::{Error, KafkaError};
use crate::scram;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScramMechanism {
    Sha256,
    Sha512,
}

impl ScramMechanism {
    fn code(self) -> i8 {
        match self {
            ScramMechanism::Sha256 => 1,
            ScramMechanism::Sha512 => 2,
        }
    }

    fn from_code(code: i8) -> Option<ScramMechanism> {
        match code {
            1 => Some(ScramMechanism::Sha256),
            2 => Some(ScramMechanism::Sha512),
            _ => None,
        }
    }

    /// What AlterUserScramCredentials stores: `Hi(password, salt, iterations)` of RFC 5802.
    fn salted_password(self, password: &str, salt: &[u8], iterations: i32) -> Vec<u8> {
        // Kafka refuses counts below 4096 itself; a negative one cannot be hashed.
        let iterations = u32::try_from(iterations).unwrap_or(0);
        match self {
            ScramMechanism::Sha256 => scram::salted_password_sha256(password, salt, iterations),
            ScramMechanism::Sha512 => scram::salted_password_sha512(password, salt, iterations),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScramCredentialInfo {
    pub mechanism: ScramMechanism,
    pub iterations: i32,
}

// Debug by hand, below: the password stays out of logs.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScramAlteration {
    /// Creates or replaces the user's credential for `mechanism`, with a fresh random salt.
    Upsert {
        user: String,
        mechanism: ScramMechanism,
        iterations: i32,
        password: String,
    },
    Delete {
        user: String,
        mechanism: ScramMechanism,
    },
}

impl fmt::Debug for ScramAlteration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScramAlteration::Upsert {
                user,
                mechanism,
                iterations,
                password: _,
            } => f
                .debug_struct("Upsert")
                .field("user", user)
                .field("mechanism", mechanism)
                .field("iterations", iterations)
                .field("password", &format_args!("<redacted>"))
                .finish(),
            ScramAlteration::Delete { user, mechanism } => f
                .debug_struct("Delete")
                .field("user", user)
                .field("mechanism", mechanism)
                .finish(),
        }
    }
}

impl ScramAlteration {
    fn user(&self) -> &str {
        match self {
            ScramAlteration::Upsert { user, .. } | ScramAlteration::Delete { user, .. } => user,
        }
    }
}

/// As long as the longest hash (SHA-512), like Kafka's own tools' salts.
const SALT_LENGTH: usize = 64;

fn string(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_string())
}

impl AdminClient {
    /// None = every user with credentials.
    pub async fn describe_user_scram_credentials(
        &self,
        users: Option<&[String]>,
    ) -> Result<BTreeMap<String, Result<Vec<ScramCredentialInfo>, KafkaError>>, Error> {
        let users: Option<Vec<UserName>> = users.map(|users| {
            users
                .iter()
                .map(|user| UserName::default().with_name(string(user)))
                .collect()
        });
        let request =
            |_version| DescribeUserScramCredentialsRequest::default().with_users(users.clone());
        self.cluster
            .call(Target::Any, request, |response| {
                KafkaError::check(response.error_code, response.error_message.as_deref())?;
                Ok(response
                    .results
                    .into_iter()
                    .map(|result| {
                        let infos =
                            KafkaError::check(result.error_code, result.error_message.as_deref())
                                .map(|()| {
                                    result
                                        .credential_infos
                                        .iter()
                                        // A mechanism newer than this client is left out.
                                        .filter_map(|info| {
                                            Some(ScramCredentialInfo {
                                                mechanism: ScramMechanism::from_code(
                                                    info.mechanism,
                                                )?,
                                                iterations: info.iterations,
                                            })
                                        })
                                        .collect()
                                });
                        (result.user.to_string(), infos)
                    })
                    .collect())
            })
            .await
    }

    /// One result per user named in `alterations`.
    pub async fn alter_user_scram_credentials(
        &self,
        alterations: &[ScramAlteration],
    ) -> Result<BTreeMap<String, Result<(), KafkaError>>, Error> {
        // Salted once, so a retry sends the same credential.
        let salted = salt_upsertions(alterations).await?;
        let mut deletions: BTreeMap<&str, Vec<ScramCredentialDeletion>> = BTreeMap::new();
        let mut upsertions: BTreeMap<&str, Vec<ScramCredentialUpsertion>> = BTreeMap::new();
        for (alteration, salted) in alterations.iter().zip(salted) {
            match alteration {
                ScramAlteration::Delete { user, mechanism } => {
                    deletions.entry(user).or_default().push(
                        ScramCredentialDeletion::default()
                            .with_name(string(user))
                            .with_mechanism(mechanism.code()),
                    );
                }
                ScramAlteration::Upsert {
                    user,
                    mechanism,
                    iterations,
                    password: _,
                } => {
                    let (salt, salted) = salted.unwrap_or_default();
                    upsertions.entry(user).or_default().push(
                        ScramCredentialUpsertion::default()
                            .with_name(string(user))
                            .with_mechanism(mechanism.code())
                            .with_iterations(*iterations)
                            .with_salt(salt)
                            .with_salted_password(salted),
                    );
                }
            }
        }
        let mut users: Vec<String> = alterations.iter().map(|a| a.user().to_string()).collect();
        users.sort();
        users.dedup();
        let results = self
            .cluster
            .call_per_item(
                Target::Controller,
                users.clone(),
                |pending, _version| {
                    AlterUserScramCredentialsRequest::default()
                        .with_deletions(of_users(&deletions, pending))
                        .with_upsertions(of_users(&upsertions, pending))
                },
                |_pending, response| {
                    Ok(response
                        .results
                        .into_iter()
                        .map(|result| {
                            let outcome = KafkaError::check(
                                result.error_code,
                                result.error_message.as_deref(),
                            );
                            (result.user.to_string(), outcome)
                        })
                        .collect())
                },
            )
            .await?;
        let mut map: BTreeMap<String, Result<(), KafkaError>> = results.into_iter().collect();
        for user in users {
            map.entry(user).or_insert_with(|| {
                Err(KafkaError::new(
                    KafkaError::UNKNOWN_SERVER_ERROR,
                    Some("the broker's response did not mention it".into()),
                ))
            });
        }
        Ok(map)
    }
}

/// A random salt and the salted password of each upsertion (`None` for a deletion). PBKDF2 is
/// thousands of hash rounds per credential (a thousand credentials are seconds of hashing), so
/// a batch is salted on blocking threads, one per core: the runtime's workers (and with them
/// `/healthz`) keep answering meanwhile.
async fn salt_upsertions(
    alterations: &[ScramAlteration],
) -> Result<Vec<Option<(Bytes, Bytes)>>, Error> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per_thread = alterations.len().div_ceil(threads).max(1);
    let saltings: Vec<_> = alterations
        .chunks(per_thread)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            tokio::task::spawn_blocking(move || chunk.iter().map(salt).collect::<Vec<_>>())
        })
        .collect();
    let mut salted = Vec::with_capacity(alterations.len());
    for salting in saltings {
        match salting.await {
            Ok(part) => salted.extend(part),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => {
                return Err(Error::ConnectionClosed(
                    "the runtime is shutting down".into(),
                ));
            }
        }
    }
    Ok(salted)
}

fn salt(alteration: &ScramAlteration) -> Option<(Bytes, Bytes)> {
    match alteration {
        ScramAlteration::Upsert {
            mechanism,
            iterations,
            password,
            ..
        } => {
            let salt = random_salt();
            let salted = mechanism.salted_password(password, &salt, *iterations);
            Some((Bytes::copy_from_slice(&salt), Bytes::from(salted)))
        }
        ScramAlteration::Delete { .. } => None,
    }
}

/// The alterations of `users`.
fn of_users<T: Clone>(alterations: &BTreeMap<&str, Vec<T>>, users: &[String]) -> Vec<T> {
    users
        .iter()
        .filter_map(|user| alterations.get(user.as_str()))
        .flatten()
        .cloned()
        .collect()
}

fn random_salt() -> [u8; SALT_LENGTH] {
    let mut salt = [0u8; SALT_LENGTH];
    rand::fill(&mut salt[..]);
    salt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salted_passwords_are_pbkdf2_of_the_mechanism() {
        // hashlib.pbkdf2_hmac("sha512", b"secret", b"salt", 4096).hex()[:16], and sha256's.
        let sha512 = ScramMechanism::Sha512.salted_password("secret", b"salt", 4096);
        let sha256 = ScramMechanism::Sha256.salted_password("secret", b"salt", 4096);
        assert_eq!(sha512.len(), 64);
        assert_eq!(sha256.len(), 32);
        assert_eq!(
            sha512,
            scram::salted_password_sha512("secret", b"salt", 4096)
        );
        assert_eq!(
            sha256,
            scram::salted_password_sha256("secret", b"salt", 4096)
        );
    }

    #[test]
    fn salts_are_random() {
        assert_ne!(random_salt(), random_salt());
    }

    #[test]
    fn debug_hides_the_password() {
        let upsert = ScramAlteration::Upsert {
            user: "alice".into(),
            mechanism: ScramMechanism::Sha512,
            iterations: 4096,
            password: "hunter2".into(),
        };
        let printed = format!("{upsert:?}");
        assert!(
            printed.contains("alice") && !printed.contains("hunter2"),
            "{printed}"
        );
    }

    #[test]
    fn mechanism_codes() {
        assert_eq!(ScramMechanism::Sha256.code(), 1);
        assert_eq!(ScramMechanism::Sha512.code(), 2);
        assert_eq!(ScramMechanism::from_code(2), Some(ScramMechanism::Sha512));
        assert_eq!(ScramMechanism::from_code(0), None);
    }
}
