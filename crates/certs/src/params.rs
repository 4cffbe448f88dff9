//! What every certificate this crate signs has in common.

use rand::RngExt;
use rcgen::{CertificateParams, DistinguishedName, DnType, SerialNumber};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// Backdates `notBefore` so that a node whose clock runs a little behind still accepts a fresh certificate.
pub(crate) const CLOCK_SKEW: Duration = Duration::minutes(5);

/// The organization of every certificate the operator makes for itself and its nodes, as Strimzi's.
pub(crate) const STRIMZI_ORGANIZATION: &str = "io.strimzi";

/// `O=<organization>, CN=<common name>`, in the order Strimzi writes them.
pub(crate) fn subject(organization: Option<&str>, common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    if let Some(organization) = organization {
        name.push(DnType::OrganizationName, organization);
    }
    name.push(DnType::CommonName, common_name);
    name
}

/// The last moment an X.509 certificate can name (RFC 5280's GeneralizedTime has four-digit years).
const LAST_X509_TIME: OffsetDateTime = datetime!(9999-12-31 23:59:59 UTC);

/// `days` after `now`, or the last moment a certificate can name if that is later: a validity of
/// two billion days ends on the last day of the year 9999 instead of overflowing.
pub(crate) fn days_after(now: OffsetDateTime, days: u32) -> OffsetDateTime {
    now.checked_add(Duration::days(days.into()))
        .map_or(LAST_X509_TIME, |end| end.min(LAST_X509_TIME))
}

pub(crate) fn base_params(
    subject: DistinguishedName,
    now: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject;
    params.not_before = now - CLOCK_SKEW;
    params.not_after = not_after;
    params.serial_number = Some(random_serial());
    params
}

/// rcgen's default serial is a hash of the public key, so a CA renewed with the same key would reuse
/// its serial; RFC 5280 wants serials unique per issuer.
fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::rng().random();
    // Positive, and with a non-zero first byte so that the DER encoding keeps all 16 bytes.
    bytes[0] = (bytes[0] & 0x7f).max(1);
    SerialNumber::from_slice(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_ends_at_the_last_time_a_certificate_can_name() {
        let now = datetime!(2025-01-01 00:00 UTC);
        assert_eq!(days_after(now, 365), datetime!(2026-01-01 00:00 UTC));
        assert_eq!(days_after(now, 3_000_000), LAST_X509_TIME);
        assert_eq!(days_after(now, u32::MAX), LAST_X509_TIME);
    }
}
