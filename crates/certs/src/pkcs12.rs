//! PKCS#12 stores for Java clients, which read them directly (`ca.p12`, `user.p12`).
//!
//! p12-keystore writes PBES2 with AES-256 and an HMAC-SHA256 MAC, the JDK's own default since
//! JDK 8u301 and 11.0.12.

use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
use rcgen::KeyPair;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::inspect::CertInfo;
use crate::leaf::IssuedCert;

/// A truststore with one trusted entry per `(alias, certificate PEM)`.
pub fn truststore<'a>(
    certs: impl IntoIterator<Item = (&'a str, &'a str)>,
    password: &str,
) -> Result<Vec<u8>> {
    let mut store = KeyStore::new();
    for (alias, pem) in certs {
        store.add_entry(alias, KeyStoreEntry::Certificate(certificate(pem)?));
    }
    Ok(store.writer(password).write()?)
}

/// A keystore with one entry, `alias`: the leaf's private key and its chain (the leaf, then the CA).
pub fn keystore(
    alias: &str,
    leaf: &IssuedCert,
    ca_cert_pem: &str,
    password: &str,
) -> Result<Vec<u8>> {
    let key_der = KeyPair::from_pem(&leaf.key_pem)
        .map_err(|source| Error::InvalidKey {
            what: format!("the private key for {alias}"),
            source,
        })?
        .serialize_der();
    let leaf_cert = certificate(&leaf.cert_pem)?;
    // Java links a key to its certificate through this id; a digest of the leaf is unique enough.
    let local_key_id = Sha256::digest(leaf_cert.as_der()).to_vec();
    let chain = PrivateKeyChain::new(
        local_key_id,
        PrivateKey::from_der(&key_der)?,
        [leaf_cert, certificate(ca_cert_pem)?],
    );
    let mut store = KeyStore::new();
    store.add_entry(alias, KeyStoreEntry::PrivateKeyChain(chain));
    Ok(store.writer(password).write()?)
}

fn certificate(pem: &str) -> Result<Certificate> {
    Ok(Certificate::from_der(CertInfo::from_pem(pem)?.der())?)
}

#[cfg(test)]
mod tests {
    use p12_keystore::Pkcs12ImportPolicy;
    use time::macros::datetime;

    use super::*;
    use crate::authority::{CaKind, CertificateAuthority, Generations};

    fn ca(kind: CaKind) -> CertificateAuthority {
        let now = datetime!(2026-01-01 0:00 UTC);
        CertificateAuthority::generate(kind, Generations::default(), now, 365).unwrap()
    }

    fn der(pem: &str) -> Vec<u8> {
        CertInfo::from_pem(pem).unwrap().der().to_vec()
    }

    #[test]
    fn keystore_reads_back_with_the_key_and_the_chain() {
        let ca = ca(CaKind::Clients);
        let leaf = ca
            .issue_client_cert(
                &crate::Subject::User("alice".into()),
                datetime!(2026-01-01 0:00 UTC),
                365,
            )
            .unwrap();
        let p12 = keystore("alice", &leaf, ca.cert_pem(), "secret").unwrap();

        let store = KeyStore::from_pkcs12(&p12, "secret", Pkcs12ImportPolicy::Strict).unwrap();
        let (alias, chain) = store.private_key_chain().unwrap();
        assert_eq!(alias, "alice");
        let key_der = KeyPair::from_pem(&leaf.key_pem).unwrap().serialize_der();
        assert_eq!(chain.key().as_der(), key_der.as_slice());
        let certs: Vec<_> = chain.certs().iter().map(|c| c.as_der().to_vec()).collect();
        assert_eq!(certs, [der(&leaf.cert_pem), der(ca.cert_pem())]);
    }

    #[test]
    fn truststore_reads_back_with_every_certificate_and_no_key() {
        let (cluster, clients) = (ca(CaKind::Cluster), ca(CaKind::Clients));
        let p12 = truststore(
            [
                ("ca.crt", cluster.cert_pem()),
                ("old.crt", clients.cert_pem()),
            ],
            "secret",
        )
        .unwrap();

        let store = KeyStore::from_pkcs12(&p12, "secret", Pkcs12ImportPolicy::Strict).unwrap();
        assert!(store.private_key_chain().is_none());
        let trusted = |alias| match store.entry(alias) {
            Some(KeyStoreEntry::Certificate(cert)) => cert.as_der().to_vec(),
            other => panic!("{alias}: {other:?}"),
        };
        assert_eq!(trusted("ca.crt"), der(cluster.cert_pem()));
        assert_eq!(trusted("old.crt"), der(clients.cert_pem()));
        assert_eq!(store.entries_len(), 2);
    }

    #[test]
    fn a_store_does_not_open_with_another_password() {
        let ca = ca(CaKind::Cluster);
        let p12 = truststore([("ca.crt", ca.cert_pem())], "secret").unwrap();
        assert!(KeyStore::from_pkcs12(&p12, "guess", Pkcs12ImportPolicy::Strict).is_err());
    }
}
