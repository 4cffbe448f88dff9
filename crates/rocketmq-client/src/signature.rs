//! The remoting ACL signature, which ACL 1.0 (`AclClientRPCHook`, `PlainAccessValidator`) and
//! ACL 2.0 (`DefaultAuthenticationContextBuilder`) compute alike: the request carries
//! `AccessKey` (the username) and `Signature`, which is
//! `base64(HmacSHA1(secretKey, content))` where `content` is the values of every custom header
//! field but `Signature`, sorted by key (so `AccessKey` is in it), concatenated, then the body.

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use crate::config::Credentials;

const ACCESS_KEY: &str = "AccessKey";
const SIGNATURE: &str = "Signature";

/// Adds `AccessKey` and `Signature` to the fields of a request with this body.
pub(crate) fn sign(fields: &mut BTreeMap<String, String>, body: &[u8], credentials: &Credentials) {
    fields.insert(ACCESS_KEY.into(), credentials.access_key.clone());
    fields.remove(SIGNATURE);
    let signature = signature(fields, body, &credentials.secret_key);
    fields.insert(SIGNATURE.into(), signature);
}

fn signature(fields: &BTreeMap<String, String>, body: &[u8], secret_key: &str) -> String {
    // HMAC takes keys of any length, so this never fails.
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret_key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    // Java sorts the keys as UTF-16 strings and BTreeMap as UTF-8 bytes: the same order for
    // header field names, which are ASCII.
    for value in fields.values() {
        mac.update(value.as_bytes());
    }
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> Credentials {
        Credentials {
            access_key: "rocketmq2".into(),
            secret_key: "12345678".into(),
        }
    }

    #[test]
    fn signs_sorted_values_then_the_body() {
        let mut fields = BTreeMap::from([
            ("topic".to_string(), "orders".to_string()),
            ("perm".to_string(), "6".to_string()),
        ]);
        sign(&mut fields, b"{\"a\":1}", &credentials());
        assert_eq!(fields["AccessKey"], "rocketmq2");
        // Computed independently with Python:
        //   content = b"rocketmq2" + b"6" + b"orders" + b'{"a":1}'   (AccessKey, perm, topic)
        //   base64.b64encode(hmac.new(b"12345678", content, hashlib.sha1).digest())
        assert_eq!(fields["Signature"], "7Xo8Dwqml9QUsFgVBLZXAGikJ0I=");
        assert_eq!(fields.len(), 4);
    }

    #[test]
    fn a_request_without_fields_or_body_signs_the_access_key() {
        let mut fields = BTreeMap::new();
        sign(&mut fields, b"", &credentials());
        // base64.b64encode(hmac.new(b"12345678", b"rocketmq2", hashlib.sha1).digest())
        assert_eq!(fields["Signature"], "Ou1T58RIcyZWaTIwzkhJZWn/Zvs=");
    }

    #[test]
    fn signing_again_ignores_the_old_signature() {
        let mut fields = BTreeMap::new();
        sign(&mut fields, b"", &credentials());
        let first = fields["Signature"].clone();
        sign(&mut fields, b"", &credentials());
        assert_eq!(fields["Signature"], first);
    }
}
