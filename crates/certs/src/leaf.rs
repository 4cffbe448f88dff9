//! Leaf certificates signed by a CA, and when to re-issue them.

use std::collections::BTreeSet;
use std::fmt;

use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose, SanType};
use time::OffsetDateTime;

use crate::authority::CertificateAuthority;
use crate::error::Result;
use crate::inspect::{CertInfo, SubjectAltName};
use crate::params::{CLOCK_SKEW, STRIMZI_ORGANIZATION, base_params, days_after, subject};

/// Who a leaf certificate names. Kafka's principal for a certificate is its whole subject, so
/// the operator's and the nodes' certificates carry `O=io.strimzi`, which a user's never does:
/// no user can be issued a certificate with their principal, whatever it is called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// The operator or a node: `O=io.strimzi, CN=<name>`.
    Component(String),
    /// A KafkaUser: `CN=<name>` only.
    User(String),
}

impl Subject {
    /// The principal name Kafka gives a certificate with this subject.
    pub fn principal(&self) -> String {
        match self {
            Self::Component(name) => format!("CN={name},O={STRIMZI_ORGANIZATION}"),
            Self::User(name) => format!("CN={name}"),
        }
    }

    fn distinguished_name(&self) -> rcgen::DistinguishedName {
        match self {
            Self::Component(name) => subject(Some(STRIMZI_ORGANIZATION), name),
            Self::User(name) => subject(None, name),
        }
    }
}

/// A freshly issued certificate and its new private key (PKCS#8), both PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedCert {
    pub cert_pem: String,
    pub key_pem: String,
}

/// Leaves the key out, so that logging a certificate never leaks it.
impl fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCert")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// A certificate for a Kafka node, `O=io.strimzi, CN=<common_name>`. `sans` holds every
    /// address clients use, DNS names and IP addresses alike. Nodes also present it to each other
    /// as clients, hence both usages.
    pub fn issue_server_cert(
        &self,
        common_name: &str,
        sans: &[String],
        now: OffsetDateTime,
        validity_days: u32,
    ) -> Result<IssuedCert> {
        let subject = Subject::Component(common_name.to_owned());
        let mut params = self.leaf_params(&subject, now, validity_days);
        params.subject_alt_names = sans
            .iter()
            .map(|name| san_type(SubjectAltName::parse(name)))
            .collect::<Result<_>>()?;
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        self.sign(&params)
    }

    /// A client certificate: for a KafkaUser or the operator itself.
    pub fn issue_client_cert(
        &self,
        subject: &Subject,
        now: OffsetDateTime,
        validity_days: u32,
    ) -> Result<IssuedCert> {
        let mut params = self.leaf_params(subject, now, validity_days);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(&params)
    }

    fn leaf_params(
        &self,
        subject: &Subject,
        now: OffsetDateTime,
        validity_days: u32,
    ) -> CertificateParams {
        // A leaf never outlives its CA, so leaves enter their renewal period no later than the CA does.
        let not_after = days_after(now, validity_days).min(self.not_after());
        let mut params = base_params(subject.distinguished_name(), now, not_after);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        params
    }

    fn sign(&self, params: &CertificateParams) -> Result<IssuedCert> {
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer()?)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

fn san_type(name: SubjectAltName) -> Result<SanType> {
    Ok(match name {
        SubjectAltName::Dns(dns) => SanType::DnsName(dns.try_into()?),
        SubjectAltName::Ip(ip) => SanType::IpAddress(ip),
    })
}

/// Why an existing leaf certificate has to be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReissueReason {
    Missing,
    Unreadable,
    /// Signed by another CA key, or issued before the current CA certificate was.
    CaChanged,
    /// Issued for another subject, such as a node certificate from before nodes carried
    /// `O=io.strimzi`.
    SubjectChanged,
    SubjectAltNamesChanged,
    Expiring,
}

impl fmt::Display for ReissueReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "the certificate is missing",
            Self::Unreadable => "the certificate cannot be read",
            Self::CaChanged => "the CA certificate changed",
            Self::SubjectChanged => "the subject changed",
            Self::SubjectAltNamesChanged => "the subject alternative names changed",
            Self::Expiring => "the certificate is within its renewal period",
        })
    }
}

/// Whether the leaf in `existing_cert_pem` must be re-issued, and why; `None` keeps it.
pub fn reissue_reason(
    existing_cert_pem: Option<&str>,
    ca: &CertificateAuthority,
    desired_subject: &Subject,
    desired_sans: &[String],
    now: OffsetDateTime,
    renewal_days: u32,
) -> Option<ReissueReason> {
    let Some(pem) = existing_cert_pem else {
        return Some(ReissueReason::Missing);
    };
    let Ok(cert) = CertInfo::from_pem(pem) else {
        return Some(ReissueReason::Unreadable);
    };
    let desired: BTreeSet<_> = desired_sans
        .iter()
        .map(|name| SubjectAltName::parse(name))
        .collect();
    // A CA renewed with the same key still verifies old leaves; Strimzi re-issues them anyway so that
    // leaves and CA stay in step. A leaf issued before the CA certificate's validity began predates it.
    let issued = cert.not_before() + CLOCK_SKEW;
    if !cert.is_signed_by(ca.cert().der()) || issued < ca.cert().not_before() {
        Some(ReissueReason::CaChanged)
    } else if cert.principal() != desired_subject.principal() {
        Some(ReissueReason::SubjectChanged)
    } else if cert.subject_alt_names() != &desired {
        Some(ReissueReason::SubjectAltNamesChanged)
    } else if cert.is_within_renewal_period(now, renewal_days) {
        Some(ReissueReason::Expiring)
    } else {
        None
    }
}

/// A stored certificate and its key, kept when both are there and [`reissue_reason`] finds
/// nothing against them; `None` when a new pair must be issued. The one keep-or-re-issue
/// decision for every leaf the operator signs (nodes, brokers, the operator, users).
pub fn kept_leaf(
    (cert, key): (Option<String>, Option<String>),
    ca: &CertificateAuthority,
    (subject, sans): (&Subject, &[String]),
    (now, renewal_days): (OffsetDateTime, u32),
) -> Option<(String, String)> {
    let (cert, key) = (cert?, key?);
    reissue_reason(Some(&cert), ca, subject, sans, now, renewal_days)
        .is_none()
        .then_some((cert, key))
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
    use time::Duration;
    use time::macros::datetime;
    use webpki::{EndEntityCert, KeyUsage, anchor_from_trusted_cert};
    use x509_parser::certificate::X509Certificate;
    use x509_parser::extensions::ParsedExtension;
    use x509_parser::prelude::FromDer;

    use super::*;
    use crate::authority::{CaKind, Generations};

    const NOW: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

    fn ca() -> CertificateAuthority {
        CertificateAuthority::generate(CaKind::Cluster, Generations::default(), NOW, 365).unwrap()
    }

    fn node() -> Subject {
        Subject::Component("my-kafka".into())
    }

    fn alice() -> Subject {
        Subject::User("alice".into())
    }

    fn sans() -> Vec<String> {
        [
            "my-kafka-0.my-kafka-brokers.ns.svc",
            "my-kafka-bootstrap.ns.svc",
            "203.0.113.10",
            "::1",
        ]
        .map(String::from)
        .to_vec()
    }

    /// Full path validation, as a TLS peer would do it.
    fn verify(
        ca: &CertificateAuthority,
        leaf: &IssuedCert,
        usage: KeyUsage,
    ) -> Result<(), webpki::Error> {
        let ca_der = CertificateDer::from(ca.cert().der());
        let leaf_info = CertInfo::from_pem(&leaf.cert_pem).unwrap();
        let leaf_der = CertificateDer::from(leaf_info.der());
        let anchors = [anchor_from_trusted_cert(&ca_der)?];
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            (NOW + Duration::days(1)).unix_timestamp() as u64,
        ));
        let end_entity = EndEntityCert::try_from(&leaf_der)?;
        end_entity.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &[],
            time,
            usage,
            None,
            None,
        )?;
        Ok(())
    }

    #[test]
    fn server_cert_verifies_against_its_ca_for_every_name() {
        let ca = ca();
        let leaf = ca.issue_server_cert("my-kafka", &sans(), NOW, 365).unwrap();
        verify(&ca, &leaf, KeyUsage::server_auth()).unwrap();
        verify(&ca, &leaf, KeyUsage::client_auth()).unwrap();

        let info = CertInfo::from_pem(&leaf.cert_pem).unwrap();
        let der = CertificateDer::from(info.der());
        let end_entity = EndEntityCert::try_from(&der).unwrap();
        for name in sans() {
            let name = ServerName::try_from(name.as_str()).unwrap();
            end_entity.verify_is_valid_for_subject_name(&name).unwrap();
        }
        let elsewhere = ServerName::try_from("elsewhere.example").unwrap();
        assert!(
            end_entity
                .verify_is_valid_for_subject_name(&elsewhere)
                .is_err()
        );
    }

    #[test]
    fn server_cert_names_its_issuer_and_the_issuer_key() {
        let ca = ca();
        let leaf = ca.issue_server_cert("my-kafka", &sans(), NOW, 365).unwrap();
        let leaf_info = CertInfo::from_pem(&leaf.cert_pem).unwrap();
        let (_, leaf_cert) = X509Certificate::from_der(leaf_info.der()).unwrap();
        let (_, ca_cert) = X509Certificate::from_der(ca.cert().der()).unwrap();
        assert_eq!(leaf_cert.issuer(), ca_cert.subject());
        assert_eq!(leaf_cert.subject().to_string(), "O=io.strimzi, CN=my-kafka");
        assert_eq!(leaf_info.principal(), "CN=my-kafka,O=io.strimzi");

        let ski = ca_cert
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0),
                _ => None,
            });
        let aki = leaf_cert
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    aki.key_identifier.as_ref().map(|id| id.0)
                }
                _ => None,
            });
        assert!(ski.is_some());
        assert_eq!(aki, ski);
    }

    #[test]
    fn server_cert_holds_exactly_the_desired_names() {
        let leaf = ca()
            .issue_server_cert("my-kafka", &sans(), NOW, 365)
            .unwrap();
        let info = CertInfo::from_pem(&leaf.cert_pem).unwrap();
        let expected = BTreeSet::from([
            SubjectAltName::Dns("my-kafka-0.my-kafka-brokers.ns.svc".into()),
            SubjectAltName::Dns("my-kafka-bootstrap.ns.svc".into()),
            SubjectAltName::Ip("203.0.113.10".parse::<IpAddr>().unwrap()),
            SubjectAltName::Ip("::1".parse::<IpAddr>().unwrap()),
        ]);
        assert_eq!(info.subject_alt_names(), &expected);
    }

    #[test]
    fn client_cert_is_for_clients_only() {
        let ca = ca();
        let leaf = ca.issue_client_cert(&alice(), NOW, 365).unwrap();
        verify(&ca, &leaf, KeyUsage::client_auth()).unwrap();
        assert!(verify(&ca, &leaf, KeyUsage::server_auth()).is_err());
        assert!(
            CertInfo::from_pem(&leaf.cert_pem)
                .unwrap()
                .subject_alt_names()
                .is_empty()
        );
    }

    #[test]
    fn a_leaf_never_outlives_its_ca() {
        let ca = ca();
        let leaf = ca
            .issue_client_cert(&alice(), NOW + Duration::days(300), 365)
            .unwrap();
        let info = CertInfo::from_pem(&leaf.cert_pem).unwrap();
        assert_eq!(info.not_after(), ca.not_after());
    }

    #[test]
    fn a_fresh_leaf_is_kept() {
        let ca = ca();
        let leaf = ca.issue_server_cert("my-kafka", &sans(), NOW, 365).unwrap();
        let later = NOW + Duration::days(300);
        assert_eq!(
            reissue_reason(Some(&leaf.cert_pem), &ca, &node(), &sans(), later, 30),
            None
        );

        let mut reordered = sans();
        reordered.reverse();
        assert_eq!(
            reissue_reason(Some(&leaf.cert_pem), &ca, &node(), &reordered, later, 30),
            None
        );

        // Issued where the clock is a minute behind the one that made the CA.
        let early = ca.issue_server_cert("my-kafka", &sans(), NOW - Duration::minutes(1), 365);
        let early = early.unwrap().cert_pem;
        assert_eq!(
            reissue_reason(Some(&early), &ca, &node(), &sans(), later, 30),
            None
        );
    }

    #[test]
    fn a_stored_pair_is_kept_only_whole_and_current() {
        let ca = ca();
        let leaf = ca.issue_server_cert("my-kafka", &sans(), NOW, 365).unwrap();
        let stored = |key: Option<&str>| (Some(leaf.cert_pem.clone()), key.map(String::from));
        let kept = kept_leaf(stored(Some("key")), &ca, (&node(), &sans()), (NOW, 30));
        assert_eq!(kept, Some((leaf.cert_pem.clone(), "key".to_string())));
        assert_eq!(
            kept_leaf(stored(None), &ca, (&node(), &sans()), (NOW, 30)),
            None
        );
        let expiring = NOW + Duration::days(350);
        assert_eq!(
            kept_leaf(stored(Some("key")), &ca, (&node(), &sans()), (expiring, 30)),
            None
        );
    }

    #[test]
    fn a_leaf_is_reissued_when_missing_or_unreadable() {
        let ca = ca();
        assert_eq!(
            reissue_reason(None, &ca, &node(), &sans(), NOW, 30),
            Some(ReissueReason::Missing)
        );
        assert_eq!(
            reissue_reason(Some("not a certificate"), &ca, &node(), &sans(), NOW, 30),
            Some(ReissueReason::Unreadable)
        );
    }

    #[test]
    fn a_leaf_is_reissued_when_its_names_change() {
        let ca = ca();
        let leaf = ca.issue_server_cert("my-kafka", &sans(), NOW, 365).unwrap();
        let mut more = sans();
        more.push("kafka.example.com".into());
        let fewer = &sans()[1..];
        for desired in [more.as_slice(), fewer] {
            assert_eq!(
                reissue_reason(Some(&leaf.cert_pem), &ca, &node(), desired, NOW, 30),
                Some(ReissueReason::SubjectAltNamesChanged)
            );
        }
    }

    #[test]
    fn a_leaf_is_reissued_when_the_ca_changes() {
        let ca = ca();
        let leaf = ca.issue_server_cert("my-kafka", &sans(), NOW, 365).unwrap();
        let later = NOW + Duration::days(10);

        let other_ca = ca.replace_key(later, 365).unwrap();
        assert_eq!(
            reissue_reason(Some(&leaf.cert_pem), &other_ca, &node(), &sans(), later, 30),
            Some(ReissueReason::CaChanged)
        );

        let renewed_ca = ca.renew(later, 365).unwrap();
        assert_eq!(
            reissue_reason(
                Some(&leaf.cert_pem),
                &renewed_ca,
                &node(),
                &sans(),
                later,
                30
            ),
            Some(ReissueReason::CaChanged)
        );
        let reissued = renewed_ca
            .issue_server_cert("my-kafka", &sans(), later, 365)
            .unwrap();
        assert_eq!(
            reissue_reason(
                Some(&reissued.cert_pem),
                &renewed_ca,
                &node(),
                &sans(),
                later,
                30
            ),
            None
        );
    }

    #[test]
    fn a_leaf_is_reissued_within_its_renewal_period() {
        let ca = ca();
        let leaf = ca.issue_client_cert(&alice(), NOW, 365).unwrap();
        let expiry = NOW + Duration::days(365);
        let reason = |now| reissue_reason(Some(&leaf.cert_pem), &ca, &alice(), &[], now, 30);
        assert_eq!(reason(expiry - Duration::days(31)), None);
        assert_eq!(
            reason(expiry - Duration::days(29)),
            Some(ReissueReason::Expiring)
        );
        assert_eq!(
            reason(expiry + Duration::days(1)),
            Some(ReissueReason::Expiring)
        );
    }

    #[test]
    fn no_user_certificate_has_the_principal_of_a_component() {
        let ca = ca();
        let operator = Subject::Component("cluster-operator".into());
        let forged = Subject::User("cluster-operator".into());
        let operator_cert = ca.issue_client_cert(&operator, NOW, 365).unwrap();
        let forged_cert = ca.issue_client_cert(&forged, NOW, 365).unwrap();
        let principal = |leaf: &IssuedCert| {
            CertInfo::from_pem(&leaf.cert_pem)
                .unwrap()
                .principal()
                .to_owned()
        };
        assert_eq!(principal(&operator_cert), operator.principal());
        assert_eq!(
            principal(&operator_cert),
            "CN=cluster-operator,O=io.strimzi"
        );
        assert_eq!(principal(&forged_cert), "CN=cluster-operator");
        assert_ne!(principal(&forged_cert), operator.principal());
    }

    #[test]
    fn a_leaf_is_reissued_when_its_subject_changes() {
        let ca = ca();
        // A node certificate as issued before nodes carried O=io.strimzi.
        let old = ca
            .issue_client_cert(&Subject::User("my-kafka".into()), NOW, 365)
            .unwrap();
        assert_eq!(
            reissue_reason(Some(&old.cert_pem), &ca, &node(), &[], NOW, 30),
            Some(ReissueReason::SubjectChanged)
        );
        let user = ca.issue_client_cert(&alice(), NOW, 365).unwrap();
        assert_eq!(
            reissue_reason(Some(&user.cert_pem), &ca, &alice(), &[], NOW, 30),
            None
        );
        let renamed = Subject::User("bob".into());
        assert_eq!(
            reissue_reason(Some(&user.cert_pem), &ca, &renamed, &[], NOW, 30),
            Some(ReissueReason::SubjectChanged)
        );
    }
}
