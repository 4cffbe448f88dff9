//! Nothing this crate prints with `{:?}` holds a private key or a password.

use std::collections::BTreeMap;

use certs::{CaKind, CertificateAuthority, Generations, OffsetDateTime, SecretContent};

/// The base64 body of a PEM text, without its armour: what must not show up.
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|line| !line.starts_with("-----"))
        .collect()
}

#[test]
fn debug_hides_private_keys_and_secret_values() {
    let now = OffsetDateTime::now_utc();
    let ca =
        CertificateAuthority::generate(CaKind::Cluster, Generations::default(), now, 365).unwrap();
    let printed = format!("{ca:?}");
    assert!(
        !printed.contains(&pem_body(ca.key_pem())[..40]),
        "{printed}"
    );

    let issued = ca
        .issue_server_cert("node", &["node.example".to_string()], now, 30)
        .unwrap();
    let printed = format!("{issued:?}");
    assert!(
        !printed.contains(&pem_body(&issued.key_pem)[..40]),
        "{printed}"
    );

    let secret = SecretContent {
        data: BTreeMap::from([("ca.password".to_string(), b"hunter2".to_vec())]),
        annotations: BTreeMap::new(),
    };
    let printed = format!("{secret:?}");
    assert!(printed.contains("ca.password"), "{printed}");
    assert!(
        !printed.contains("hunter2") && !printed.contains("104, 117"),
        "{printed}"
    );
}
