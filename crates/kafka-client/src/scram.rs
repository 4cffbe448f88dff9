//! SCRAM-SHA-512 (RFC 5802 with SHA-512, as Kafka implements it), client side, plus the salted
//! password that AlterUserScramCredentials stores.
//!
//! Written by hand on hmac/pbkdf2/sha2: no maintained crate implements the client side of
//! SCRAM with SHA-512.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256, Sha512};

use crate::error::Error;

/// Highest iteration count accepted from a server: far above Kafka's maximum (16384), low
/// enough that a hostile server cannot make the client spin for minutes.
const MAX_ITERATIONS: u32 = 1_000_000;

/// `Hi(password, salt, iterations)` of RFC 5802 (PBKDF2 with HMAC-SHA-512, 64 bytes).
pub(crate) fn salted_password_sha512(password: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    pbkdf2::pbkdf2_hmac::<Sha512>(password.as_bytes(), salt, iterations, &mut out);
    out
}

/// The same with SHA-256 (32 bytes), for SCRAM-SHA-256 credentials.
pub(crate) fn salted_password_sha256(password: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut out);
    out
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this never fails.
    let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| {
        unreachable!("HMAC accepts keys of every length");
    });
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// One SCRAM exchange: [`first_message`](Self::first_message), then
/// [`final_message`](Self::final_message) for the server's first message, then
/// [`verify_server_final`](Self::verify_server_final).
pub(crate) struct ScramClient {
    password: String,
    client_first_bare: String,
    client_nonce: String,
    /// What the server must sign in its final message, once the proof was sent.
    expected_server_signature: Option<Vec<u8>>,
}

impl ScramClient {
    pub(crate) fn new(username: &str, password: &str) -> ScramClient {
        let nonce: [u8; 24] = rand::random();
        ScramClient::with_nonce(username, password, &BASE64.encode(nonce))
    }

    fn with_nonce(username: &str, password: &str, nonce: &str) -> ScramClient {
        ScramClient {
            password: password.to_string(),
            client_first_bare: format!("n={},r={nonce}", escape_username(username)),
            client_nonce: nonce.to_string(),
            expected_server_signature: None,
        }
    }

    /// `n,,n=user,r=nonce`: no channel binding, no authorization identity.
    pub(crate) fn first_message(&self) -> Vec<u8> {
        format!("n,,{}", self.client_first_bare).into_bytes()
    }

    /// The client-final-message (with the proof) for the server-first-message.
    pub(crate) fn final_message(&mut self, server_first: &[u8]) -> Result<Vec<u8>, Error> {
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| auth_error("the server's first SCRAM message is not UTF-8"))?;
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for attribute in server_first.split(',') {
            match attribute.split_once('=') {
                Some(("r", value)) => nonce = Some(value),
                Some(("s", value)) => salt = Some(value),
                Some(("i", value)) => iterations = Some(value),
                Some(("e", value)) => return Err(auth_error(&format!("server error: {value}"))),
                Some(("m", _)) => return Err(auth_error("unsupported mandatory SCRAM extension")),
                _ => {}
            }
        }
        let nonce = nonce.ok_or_else(|| auth_error("the server sent no nonce"))?;
        if !nonce.starts_with(&self.client_nonce) || nonce.len() == self.client_nonce.len() {
            return Err(auth_error(
                "the server's nonce does not extend the client's",
            ));
        }
        let salt = BASE64
            .decode(salt.ok_or_else(|| auth_error("the server sent no salt"))?)
            .map_err(|_| auth_error("the server's salt is not base64"))?;
        let iterations: u32 = iterations
            .and_then(|i| i.parse().ok())
            .filter(|i| (1..=MAX_ITERATIONS).contains(i))
            .ok_or_else(|| auth_error("the server sent no usable iteration count"))?;

        let salted = salted_password_sha512(&self.password, &salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key = Sha512::digest(&client_key);
        // "biws" is base64 of the GS2 header "n,,".
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let signature = hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(key, sig)| key ^ sig)
            .collect();
        let server_key = hmac(&salted, b"Server Key");
        self.expected_server_signature = Some(hmac(&server_key, auth_message.as_bytes()));
        Ok(format!("{without_proof},p={}", BASE64.encode(proof)).into_bytes())
    }

    /// Checks the server-final-message: the server proves it knows the credential too.
    pub(crate) fn verify_server_final(&self, server_final: &[u8]) -> Result<(), Error> {
        let server_final = std::str::from_utf8(server_final)
            .map_err(|_| auth_error("the server's final SCRAM message is not UTF-8"))?;
        let expected = self
            .expected_server_signature
            .as_ref()
            .ok_or_else(|| auth_error("the server finished before the client sent its proof"))?;
        for attribute in server_final.split(',') {
            match attribute.split_once('=') {
                Some(("e", value)) => return Err(auth_error(&format!("server error: {value}"))),
                Some(("v", value)) => {
                    return match BASE64.decode(value) {
                        Ok(signature) if &signature == expected => Ok(()),
                        _ => Err(auth_error("the server's SCRAM signature is wrong")),
                    };
                }
                _ => {}
            }
        }
        Err(auth_error(
            "the server's final SCRAM message has no signature",
        ))
    }
}

fn auth_error(message: &str) -> Error {
    Error::Authentication(format!("SCRAM-SHA-512: {message}"))
}

/// RFC 5802 `saslname`: `=` and `,` are escaped.
fn escape_username(username: &str) -> String {
    username.replace('=', "=3D").replace(',', "=2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed independently with Python's hashlib/hmac:
    //   salted = hashlib.pbkdf2_hmac("sha512", b"pencil", base64.b64decode(salt), 4096)
    //   and the RFC 5802 formulas on top.
    const SERVER_FIRST: &str =
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";

    #[test]
    fn client_messages_and_proof_match_an_independent_computation() {
        let mut client = ScramClient::with_nonce("user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
        assert_eq!(
            client.first_message(),
            b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
        );
        let last = client.final_message(SERVER_FIRST.as_bytes()).unwrap();
        let last = String::from_utf8(last).unwrap();
        assert_eq!(
            last,
            format!("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p={PROOF}")
        );
        client
            .verify_server_final(format!("v={SERVER_SIGNATURE}").as_bytes())
            .unwrap();
        assert!(matches!(
            client.verify_server_final(b"v=AAAA"),
            Err(Error::Authentication(_))
        ));
        assert!(matches!(
            client.verify_server_final(b"e=invalid-proof"),
            Err(Error::Authentication(_))
        ));
    }

    const PROOF: &str =
        "VdS8LkrURiej1tG6iX+fqCXQfUnBb//d9llXYaH+ylUbDwBUz9geyR9fC4TewskRUM2tlYSalhAT4Aay1Q5dTA==";
    const SERVER_SIGNATURE: &str =
        "14PAAuavk9hxBEkgB0brDxUhvWu+N16meYk+qxVNFqchR8QPohM09Y4Z6WaTCuX4C6nqMB9KIJTDm6RpSM990g==";

    #[test]
    fn a_foreign_nonce_or_bad_iterations_are_refused() {
        let mut client = ScramClient::with_nonce("user", "pencil", "abc");
        for server_first in [
            "r=xyz123,s=QSXCR+Q6sek8bf92,i=4096",
            "r=abc,s=QSXCR+Q6sek8bf92,i=4096",
            "r=abc123,s=QSXCR+Q6sek8bf92,i=0",
            "r=abc123,s=QSXCR+Q6sek8bf92,i=999999999",
            "r=abc123,s=!!,i=4096",
            "r=abc123,i=4096",
            "e=unknown-user",
        ] {
            assert!(
                matches!(
                    client.final_message(server_first.as_bytes()),
                    Err(Error::Authentication(_))
                ),
                "{server_first}"
            );
        }
        assert!(client.final_message(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn usernames_are_escaped() {
        let client = ScramClient::with_nonce("a=b,c", "p", "n");
        assert_eq!(client.first_message(), b"n,,n=a=3Db=2Cc,r=n");
    }

    #[test]
    fn salted_passwords_match_pbkdf2() {
        // hashlib.pbkdf2_hmac("sha512", b"secret", b"salt", 4096).hex()
        assert_eq!(
            hex(&salted_password_sha512("secret", b"salt", 4096)),
            "01ca241fa5d243c54d014ccbbc7374a1dcc205dff2a67ed7d3c5fdaf831911da808760d85a0c61310737b19e410766903b202388ebbcc737f59e0995648d04f0"
        );
        // hashlib.pbkdf2_hmac("sha256", b"secret", b"salt", 4096).hex()
        assert_eq!(
            hex(&salted_password_sha256("secret", b"salt", 4096)),
            "609a62b5b687ba6592b12a552c79fe3bf19e4e145a167b795b7acab5e89fa0f6"
        );
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
