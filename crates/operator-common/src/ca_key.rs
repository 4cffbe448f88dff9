//! A CA certificate whose key is gone (the user supplied only `<c>-cluster-ca-cert`, or the key
//! Secret was lost) must not be replaced by a new CA: nothing that trusts the current one would
//! trust the new one. Pure: the certificates step reads the two Secrets and asks this.

use certs::{CA_CRT, CA_KEY, SecretContent};

/// Why the CA in `cert_secret` cannot be kept or renewed: it has a certificate, but
/// `key_secret` holds no key. `None` when the key is there, or when neither is (a new CA).
pub fn lost_key(
    (key_name, key): (&str, Option<&SecretContent>),
    (cert_name, cert): (&str, Option<&SecretContent>),
) -> Option<String> {
    let holds = |secret: Option<&SecretContent>, entry: &str| {
        secret
            .and_then(|secret| secret.data.get(entry))
            .is_some_and(|value| !value.is_empty())
    };
    (holds(cert, CA_CRT) && !holds(key, CA_KEY)).then(|| {
        format!(
            "the Secret {cert_name} holds a CA certificate but {key_name} holds no {CA_KEY}: a \
             new CA would not be trusted by the clients and nodes that trust this one; restore \
             {key_name}, or delete {cert_name} as well to start over with a new CA"
        )
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn secret(entry: &str) -> SecretContent {
        SecretContent {
            data: BTreeMap::from([(entry.to_string(), b"pem".to_vec())]),
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn a_certificate_without_its_key_is_refused() {
        let cert = secret(CA_CRT);
        let message = lost_key(("c-cluster-ca", None), ("c-cluster-ca-cert", Some(&cert)))
            .expect("the key is lost");
        assert!(
            message.contains("c-cluster-ca holds no ca.key"),
            "{message}"
        );
        let empty = SecretContent::default();
        assert!(lost_key(("k", Some(&empty)), ("c", Some(&cert))).is_some());
    }

    #[test]
    fn a_new_ca_or_a_key_without_its_certificate_is_fine() {
        assert_eq!(lost_key(("k", None), ("c", None)), None);
        let key = secret(CA_KEY);
        assert_eq!(lost_key(("k", Some(&key)), ("c", None)), None);
        assert_eq!(
            lost_key(("k", Some(&key)), ("c", Some(&secret(CA_CRT)))),
            None
        );
    }
}
