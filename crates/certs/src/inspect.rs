//! Reading existing certificates: what a reconcile needs to decide whether to keep or re-issue them.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::{OID_X509_COMMON_NAME, OID_X509_ORGANIZATION_NAME};
use x509_parser::pem::parse_x509_pem;
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use crate::error::{Error, Result};

/// A subject alternative name, compared by value: `10.0.0.1` and a DNS name never collide.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubjectAltName {
    Dns(String),
    Ip(IpAddr),
}

impl SubjectAltName {
    /// Reads a desired name the way rcgen writes it: an IP address when it parses as one, a DNS name otherwise.
    pub fn parse(name: &str) -> Self {
        match name.parse() {
            Ok(ip) => Self::Ip(ip),
            Err(_) => Self::Dns(name.to_owned()),
        }
    }
}

impl fmt::Display for SubjectAltName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(name) => write!(f, "DNS:{name}"),
            Self::Ip(ip) => write!(f, "IP:{ip}"),
        }
    }
}

/// The facts about one certificate that renewal decisions depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    der: Vec<u8>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    subject_alt_names: BTreeSet<SubjectAltName>,
    public_key_info: Vec<u8>,
    /// The subject as Kafka names a certificate's principal (RFC 2253: the last RDN first).
    principal: String,
}

impl CertInfo {
    /// Parses the first certificate of a PEM document.
    pub fn from_pem(pem: &str) -> Result<Self> {
        Self::parse_pem(pem, "certificate")
    }

    pub(crate) fn parse_pem(pem: &str, what: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidCertificate {
            what: what.to_owned(),
            reason,
        };
        let (_, pem) = parse_x509_pem(pem.as_bytes()).map_err(|e| invalid(e.to_string()))?;
        let cert = pem.parse_x509().map_err(|e| invalid(e.to_string()))?;
        let subject_alt_names = match cert.subject_alternative_name() {
            Ok(Some(extension)) => extension
                .value
                .general_names
                .iter()
                .filter_map(subject_alt_name)
                .collect(),
            Ok(None) => BTreeSet::new(),
            Err(e) => return Err(invalid(e.to_string())),
        };
        Ok(Self {
            principal: rfc2253(cert.subject()),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            subject_alt_names,
            public_key_info: cert.public_key().raw.to_vec(),
            der: pem.contents,
        })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    pub fn subject_alt_names(&self) -> &BTreeSet<SubjectAltName> {
        &self.subject_alt_names
    }

    /// The principal Kafka's default SSL principal builder makes of this certificate, such as
    /// `CN=my-cluster-kafka,O=io.strimzi`.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The DER SubjectPublicKeyInfo: which key this certificate is for.
    pub fn public_key_info(&self) -> &[u8] {
        &self.public_key_info
    }

    /// True from `renewal_days` before expiry on: the window in which Strimzi renews.
    pub fn is_within_renewal_period(&self, now: OffsetDateTime, renewal_days: u32) -> bool {
        // A renewal period longer than time can count back covers every moment.
        self.not_after
            .checked_sub(Duration::days(renewal_days.into()))
            .is_none_or(|start| now > start)
    }

    /// True when `issuer_der` is the certificate whose key signed this one (same name, valid signature).
    pub fn is_signed_by(&self, issuer_der: &[u8]) -> bool {
        let (Ok((_, cert)), Ok((_, issuer))) = (
            X509Certificate::from_der(&self.der),
            X509Certificate::from_der(issuer_der),
        ) else {
            return false;
        };
        cert.issuer().as_raw() == issuer.subject().as_raw()
            && cert.verify_signature(Some(issuer.public_key())).is_ok()
    }

    /// SHA-256 of the DER encoding, lowercase hex: stable across PEM formatting, so a pod annotation
    /// carrying it changes exactly when the certificate does.
    pub fn fingerprint(&self) -> String {
        Sha256::digest(&self.der)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

/// The fingerprint of the first certificate in a PEM document (see [`CertInfo::fingerprint`]).
pub fn fingerprint(cert_pem: &str) -> Result<String> {
    Ok(CertInfo::from_pem(cert_pem)?.fingerprint())
}

/// A name as Java's `X500Principal.getName()` writes it for the attributes this crate issues.
fn rfc2253(name: &X509Name<'_>) -> String {
    let mut attributes: Vec<String> = name
        .iter()
        .flat_map(|rdn| rdn.iter())
        .map(|attribute| {
            let oid = attribute.attr_type();
            let key = if *oid == OID_X509_COMMON_NAME {
                "CN".to_owned()
            } else if *oid == OID_X509_ORGANIZATION_NAME {
                "O".to_owned()
            } else {
                oid.to_id_string()
            };
            format!("{key}={}", attribute.as_str().unwrap_or_default())
        })
        .collect();
    attributes.reverse();
    attributes.join(",")
}

fn subject_alt_name(name: &GeneralName<'_>) -> Option<SubjectAltName> {
    match name {
        GeneralName::DNSName(dns) => Some(SubjectAltName::Dns((*dns).to_owned())),
        GeneralName::IPAddress(bytes) => <[u8; 4]>::try_from(*bytes)
            .map(IpAddr::from)
            .or_else(|_| <[u8; 16]>::try_from(*bytes).map(IpAddr::from))
            .ok()
            .map(SubjectAltName::Ip),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::authority::{CaKind, CertificateAuthority, Generations};

    fn ca_pem() -> String {
        let now = datetime!(2026-01-01 0:00 UTC);
        let ca = CertificateAuthority::generate(CaKind::Cluster, Generations::default(), now, 1);
        ca.unwrap().cert_pem().to_owned()
    }

    #[test]
    fn fingerprint_follows_the_certificate_not_its_formatting() {
        let pem = ca_pem();
        let print = fingerprint(&pem).unwrap();
        assert_eq!(print.len(), 64);
        assert!(
            print
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(fingerprint(&pem.replace('\n', "\r\n")).unwrap(), print);
        assert_ne!(fingerprint(&ca_pem()).unwrap(), print);
        assert!(fingerprint("garbage").is_err());
    }

    #[test]
    fn names_that_parse_as_addresses_are_addresses() {
        let ip = |s: &str| SubjectAltName::Ip(s.parse().unwrap());
        assert_eq!(SubjectAltName::parse("10.0.0.1"), ip("10.0.0.1"));
        assert_eq!(SubjectAltName::parse("fd00::1"), ip("fd00::1"));
        assert_eq!(
            SubjectAltName::parse("kafka.example.com"),
            SubjectAltName::Dns("kafka.example.com".into())
        );
    }
}
