//! A certificate authority: its key, its self-signed certificate, and the generations Strimzi tracks.

use std::fmt;

use rcgen::{BasicConstraints, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::inspect::CertInfo;
use crate::params::{STRIMZI_ORGANIZATION, base_params, days_after, subject};

/// Which of a Kafka cluster's two CAs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaKind {
    /// Signs the nodes' certificates; clients trust it to know they reached the real brokers.
    Cluster,
    /// Signs the users' client certificates; brokers trust it for mutual TLS.
    Clients,
}

impl CaKind {
    fn name(self) -> &'static str {
        match self {
            Self::Cluster => "cluster-ca",
            Self::Clients => "clients-ca",
        }
    }

    /// `<cluster>-cluster-ca` or `<cluster>-clients-ca`: the Secret with the private key.
    pub fn key_secret_name(self, cluster: &str) -> String {
        format!("{cluster}-{}", self.name())
    }

    /// `<cluster>-cluster-ca-cert` or `<cluster>-clients-ca-cert`: the Secret everyone may read.
    pub fn cert_secret_name(self, cluster: &str) -> String {
        format!("{cluster}-{}-cert", self.name())
    }
}

/// How often a CA's key and certificate have changed; Strimzi keeps them as Secret annotations and
/// components compare them to notice that they must pick up a new CA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Generations {
    /// `strimzi.io/ca-key-generation`: up by one when the key is replaced.
    pub key: u32,
    /// `strimzi.io/ca-cert-generation`: up by one whenever the certificate changes.
    pub cert: u32,
}

/// A CA that can sign leaf certificates.
pub struct CertificateAuthority {
    kind: CaKind,
    key: KeyPair,
    key_pem: String,
    cert: CertInfo,
    cert_pem: String,
    generations: Generations,
}

impl CertificateAuthority {
    /// A new key and a certificate valid for `validity_days` from `now`.
    pub fn generate(
        kind: CaKind,
        generations: Generations,
        now: OffsetDateTime,
        validity_days: u32,
    ) -> Result<Self> {
        let key = KeyPair::generate()?;
        let key_pem = key.serialize_pem();
        Self::self_signed(kind, key, key_pem, generations, now, validity_days)
    }

    /// The CA as stored: certificate and PKCS#8 key in PEM. Fails when they do not belong together.
    pub fn from_pem(
        kind: CaKind,
        cert_pem: &str,
        key_pem: &str,
        generations: Generations,
    ) -> Result<Self> {
        let key = parse_key(key_pem)?;
        let cert = CertInfo::parse_pem(cert_pem, "ca.crt")?;
        if cert.public_key_info() != key.subject_public_key_info() {
            return Err(Error::KeyMismatch);
        }
        Ok(Self {
            kind,
            key,
            key_pem: key_pem.to_owned(),
            cert,
            cert_pem: cert_pem.to_owned(),
            generations,
        })
    }

    /// A new certificate for a stored key whose certificate is gone.
    pub(crate) fn from_key_pem(
        kind: CaKind,
        key_pem: &str,
        generations: Generations,
        now: OffsetDateTime,
        validity_days: u32,
    ) -> Result<Self> {
        let key = parse_key(key_pem)?;
        Self::self_signed(
            kind,
            key,
            key_pem.to_owned(),
            generations,
            now,
            validity_days,
        )
    }

    /// Same key, new certificate: leaves signed earlier still verify against it.
    pub fn renew(self, now: OffsetDateTime, validity_days: u32) -> Result<Self> {
        let generations = Generations {
            cert: self.generations.cert + 1,
            ..self.generations
        };
        Self::self_signed(
            self.kind,
            self.key,
            self.key_pem,
            generations,
            now,
            validity_days,
        )
    }

    /// New key and certificate: every leaf signed by the old key has to be re-issued.
    pub fn replace_key(&self, now: OffsetDateTime, validity_days: u32) -> Result<Self> {
        let generations = Generations {
            key: self.generations.key + 1,
            cert: self.generations.cert + 1,
        };
        Self::generate(self.kind, generations, now, validity_days)
    }

    fn self_signed(
        kind: CaKind,
        key: KeyPair,
        key_pem: String,
        generations: Generations,
        now: OffsetDateTime,
        validity_days: u32,
    ) -> Result<Self> {
        // The key generation is part of the name, as in Strimzi, so that the old and the new CA
        // certificate stay distinguishable while both are trusted during a key replacement.
        let common_name = format!("{} v{}", kind.name(), generations.key);
        let not_after = days_after(now, validity_days);
        let mut params = base_params(
            subject(Some(STRIMZI_ORGANIZATION), &common_name),
            now,
            not_after,
        );
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert_pem = params.self_signed(&key)?.pem();
        Ok(Self {
            kind,
            cert: CertInfo::parse_pem(&cert_pem, "the generated CA certificate")?,
            key,
            key_pem,
            cert_pem,
            generations,
        })
    }

    pub fn kind(&self) -> CaKind {
        self.kind
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    pub fn cert(&self) -> &CertInfo {
        &self.cert
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.cert.not_after()
    }

    pub fn generations(&self) -> Generations {
        self.generations
    }

    pub(crate) fn issuer(&self) -> Result<Issuer<'_, &KeyPair>> {
        Ok(Issuer::from_ca_cert_der(
            &self.cert.der().into(),
            &self.key,
        )?)
    }
}

/// Leaves the key out, so that logging a CA never leaks it.
impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("kind", &self.kind)
            .field("generations", &self.generations)
            .field("not_after", &self.not_after())
            .finish_non_exhaustive()
    }
}

fn parse_key(key_pem: &str) -> Result<KeyPair> {
    KeyPair::from_pem(key_pem).map_err(|source| Error::InvalidKey {
        what: "ca.key".to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;
    use x509_parser::certificate::X509Certificate;
    use x509_parser::extensions::BasicConstraints as X509BasicConstraints;
    use x509_parser::prelude::FromDer;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

    fn parse(ca: &CertificateAuthority) -> X509Certificate<'_> {
        X509Certificate::from_der(ca.cert().der()).unwrap().1
    }

    fn common_name(ca: &CertificateAuthority) -> String {
        let cert = parse(ca);
        let cn = cert.subject().iter_common_name().next().unwrap();
        cn.as_str().unwrap().to_owned()
    }

    #[test]
    fn generated_ca_is_a_ca_named_like_strimzi_and_valid_for_the_given_days() {
        let ca = CertificateAuthority::generate(CaKind::Cluster, Generations::default(), NOW, 365)
            .unwrap();
        let cert = parse(&ca);
        assert_eq!(cert.subject().to_string(), "O=io.strimzi, CN=cluster-ca v0");
        assert_eq!(cert.subject(), cert.issuer());
        assert!(matches!(
            cert.basic_constraints().unwrap().unwrap().value,
            X509BasicConstraints { ca: true, .. }
        ));
        assert_eq!(ca.not_after(), datetime!(2027-01-01 0:00 UTC));
    }

    #[test]
    fn a_validity_of_billions_of_days_ends_in_the_year_9999_and_renewal_covers_it_all() {
        let ca =
            CertificateAuthority::generate(CaKind::Cluster, Generations::default(), NOW, u32::MAX)
                .unwrap();
        assert_eq!(ca.not_after(), datetime!(9999-12-31 23:59:59 UTC));
        assert!(!ca.cert().is_within_renewal_period(NOW, 30));
        assert!(ca.cert().is_within_renewal_period(NOW, u32::MAX));
    }

    #[test]
    fn stored_ca_loads_back_from_pem() {
        let generations = Generations { key: 2, cert: 5 };
        let ca = CertificateAuthority::generate(CaKind::Clients, generations, NOW, 365).unwrap();
        let loaded = CertificateAuthority::from_pem(
            CaKind::Clients,
            ca.cert_pem(),
            ca.key_pem(),
            generations,
        )
        .unwrap();
        assert_eq!(loaded.cert(), ca.cert());
        assert_eq!(loaded.key_pem(), ca.key_pem());
        assert_eq!(loaded.generations(), generations);
        assert_eq!(common_name(&loaded), "clients-ca v2");
    }

    #[test]
    fn a_certificate_with_another_key_is_refused() {
        let ca = CertificateAuthority::generate(CaKind::Cluster, Generations::default(), NOW, 365)
            .unwrap();
        let other =
            CertificateAuthority::generate(CaKind::Cluster, Generations::default(), NOW, 365)
                .unwrap();
        let mixed = CertificateAuthority::from_pem(
            CaKind::Cluster,
            ca.cert_pem(),
            other.key_pem(),
            Generations::default(),
        );
        assert!(matches!(mixed, Err(Error::KeyMismatch)));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let result =
            CertificateAuthority::from_pem(CaKind::Cluster, "nope", "nope", Generations::default());
        assert!(matches!(result, Err(Error::InvalidKey { .. })));
    }

    #[test]
    fn renewal_keeps_the_key_and_replacement_changes_it() {
        let ca = CertificateAuthority::generate(CaKind::Cluster, Generations::default(), NOW, 365)
            .unwrap();
        let first_cert = ca.cert().clone();
        let first_spki = ca.cert().public_key_info().to_vec();

        let later = NOW + Duration::days(340);
        let renewed = ca.renew(later, 365).unwrap();
        assert_eq!(renewed.generations(), Generations { key: 0, cert: 1 });
        assert_eq!(renewed.cert().public_key_info(), first_spki);
        assert_ne!(renewed.cert(), &first_cert);
        assert_eq!(renewed.not_after(), later + Duration::days(365));
        assert_eq!(common_name(&renewed), "cluster-ca v0");

        let replaced = renewed.replace_key(later, 365).unwrap();
        assert_eq!(replaced.generations(), Generations { key: 1, cert: 2 });
        assert_ne!(replaced.cert().public_key_info(), first_spki);
        assert_eq!(common_name(&replaced), "cluster-ca v1");
    }

    #[test]
    fn secret_names_follow_strimzi() {
        assert_eq!(CaKind::Cluster.key_secret_name("my"), "my-cluster-ca");
        assert_eq!(CaKind::Cluster.cert_secret_name("my"), "my-cluster-ca-cert");
        assert_eq!(CaKind::Clients.key_secret_name("my"), "my-clients-ca");
        assert_eq!(CaKind::Clients.cert_secret_name("my"), "my-clients-ca-cert");
    }
}
