//! Keeping a CA's two Secrets right on every reconcile: create, keep, renew the certificate or replace
//! the key, the way Strimzi does, so that existing Strimzi Secrets carry over.

use std::collections::BTreeMap;
use std::fmt;

use time::{OffsetDateTime, UtcOffset};

use crate::authority::{CaKind, CertificateAuthority, Generations};
use crate::error::{Error, Result};
use crate::inspect::CertInfo;
use crate::password::generate_password;
use crate::pkcs12::truststore;

/// Key Secret (`<c>-cluster-ca`): the CA's private key.
pub const CA_KEY: &str = "ca.key";
/// Cert Secret (`<c>-cluster-ca-cert`): the CA certificate.
pub const CA_CRT: &str = "ca.crt";
/// Cert Secret: a PKCS#12 truststore with every trusted CA certificate.
pub const CA_P12: &str = "ca.p12";
/// Cert Secret: the truststore's password.
pub const CA_PASSWORD: &str = "ca.password";

pub const CA_KEY_GENERATION_ANNOTATION: &str = "strimzi.io/ca-key-generation";
pub const CA_CERT_GENERATION_ANNOTATION: &str = "strimzi.io/ca-cert-generation";
/// Set to `"true"` on the cert Secret by a user who wants a new CA certificate now.
pub const FORCE_RENEW_ANNOTATION: &str = "strimzi.io/force-renew";
/// Set to `"true"` on the key Secret by a user who wants a new CA key now.
pub const FORCE_REPLACE_ANNOTATION: &str = "strimzi.io/force-replace";

/// The part of a Secret this crate reads and writes.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretContent {
    pub data: BTreeMap<String, Vec<u8>>,
    pub annotations: BTreeMap<String, String>,
}

/// Shows the data keys only: the values hold private keys and passwords.
impl fmt::Debug for SecretContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretContent")
            .field("data", &self.data.keys().collect::<Vec<_>>())
            .field("annotations", &self.annotations)
            .finish()
    }
}

/// `spec.clusterCa.certificateExpirationPolicy`: what happens when the CA enters its renewal period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExpirationPolicy {
    #[default]
    RenewCertificate,
    ReplaceKey,
}

/// `spec.clusterCa` / `spec.clientsCa`, defaulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaConfig {
    pub validity_days: u32,
    /// How long before expiry the CA is renewed.
    pub renewal_days: u32,
    pub expiration_policy: ExpirationPolicy,
}

impl Default for CaConfig {
    fn default() -> Self {
        Self {
            validity_days: 365,
            renewal_days: 30,
            expiration_policy: ExpirationPolicy::RenewCertificate,
        }
    }
}

/// What this reconcile did to the CA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaAction {
    Create,
    Keep,
    /// New certificate, same key.
    RenewCert,
    /// New key and certificate; the old certificate stays trusted until it expires.
    ReplaceKey,
}

/// The CA to sign with, and what its two Secrets should contain.
#[derive(Debug)]
pub struct ReconciledCa {
    pub action: CaAction,
    pub authority: CertificateAuthority,
    /// For `<c>-cluster-ca` / `<c>-clients-ca`.
    pub key_secret: SecretContent,
    /// For `<c>-cluster-ca-cert` / `<c>-clients-ca-cert`.
    pub cert_secret: SecretContent,
}

impl ReconciledCa {
    /// Every CA certificate to trust, PEM, the current one first. After a key replacement the old one
    /// stays here until it expires, so that peers still holding old leaves keep verifying.
    pub fn trusted_certs_pem(&self) -> String {
        trusted_certs_pem(&self.cert_secret)
    }
}

/// Every CA certificate a cert Secret holds, PEM, the current one (`ca.crt`) first, then the
/// retired ones a key replacement keeps trusted until they expire.
pub fn trusted_certs_pem(cert_secret: &SecretContent) -> String {
    let current = cert_secret.data.get(CA_CRT).into_iter();
    let retired = cert_secret
        .data
        .iter()
        .filter(|(name, _)| is_retired_cert(name))
        .map(|(_, pem)| pem);
    current
        .chain(retired)
        .map(|pem| format!("{}\n", String::from_utf8_lossy(pem).trim_end()))
        .collect()
}

/// Decides and builds the CA from its two Secrets as they are now (`None` when absent).
pub fn reconcile_ca(
    kind: CaKind,
    config: &CaConfig,
    key_secret: Option<&SecretContent>,
    cert_secret: Option<&SecretContent>,
    now: OffsetDateTime,
) -> Result<ReconciledCa> {
    let (action, authority) = next_authority(kind, config, key_secret, cert_secret, now)?;
    let mut retired: BTreeMap<String, String> = cert_secret
        .into_iter()
        .flat_map(|secret| &secret.data)
        .filter(|(name, _)| is_retired_cert(name))
        .filter_map(|(name, pem)| Some((name.clone(), String::from_utf8(pem.clone()).ok()?)))
        .collect();
    if let (CaAction::ReplaceKey, Some(old_pem)) = (action, text(cert_secret, CA_CRT)?) {
        let old = CertInfo::from_pem(old_pem)?;
        retired.insert(retired_cert_name(old.not_after()), old_pem.to_owned());
    }
    retired.retain(|_, pem| CertInfo::from_pem(pem).is_ok_and(|cert| cert.not_after() > now));

    let mut trusted = retired;
    trusted.insert(CA_CRT.to_owned(), authority.cert_pem().to_owned());
    let (p12, password) = truststore_for(&trusted, cert_secret)?;
    let cert_data = trusted
        .into_iter()
        .map(|(name, pem)| (name, pem.into_bytes()))
        .chain([(CA_P12.to_owned(), p12), (CA_PASSWORD.to_owned(), password)])
        .collect();
    Ok(ReconciledCa {
        action,
        key_secret: SecretContent {
            data: BTreeMap::from([(CA_KEY.to_owned(), authority.key_pem().into())]),
            annotations: BTreeMap::from([(
                CA_KEY_GENERATION_ANNOTATION.to_owned(),
                authority.generations().key.to_string(),
            )]),
        },
        cert_secret: SecretContent {
            data: cert_data,
            annotations: BTreeMap::from([(
                CA_CERT_GENERATION_ANNOTATION.to_owned(),
                authority.generations().cert.to_string(),
            )]),
        },
        authority,
    })
}

/// The CA as its Secrets hold it, for signing without changing it (the user operator's view of the
/// clients CA, which the cluster operator keeps).
pub fn load_ca(
    kind: CaKind,
    key_secret: &SecretContent,
    cert_secret: &SecretContent,
) -> Result<CertificateAuthority> {
    let required =
        |secret, key: &str| text(Some(secret), key)?.ok_or_else(|| Error::Missing(key.to_owned()));
    let generations = Generations {
        key: generation(Some(key_secret), CA_KEY_GENERATION_ANNOTATION)?.unwrap_or_default(),
        cert: generation(Some(cert_secret), CA_CERT_GENERATION_ANNOTATION)?.unwrap_or_default(),
    };
    CertificateAuthority::from_pem(
        kind,
        required(cert_secret, CA_CRT)?,
        required(key_secret, CA_KEY)?,
        generations,
    )
}

fn next_authority(
    kind: CaKind,
    config: &CaConfig,
    key_secret: Option<&SecretContent>,
    cert_secret: Option<&SecretContent>,
    now: OffsetDateTime,
) -> Result<(CaAction, CertificateAuthority)> {
    let key_generation = generation(key_secret, CA_KEY_GENERATION_ANNOTATION)?;
    let cert_generation = generation(cert_secret, CA_CERT_GENERATION_ANNOTATION)?;
    let next = |generation: Option<u32>| generation.map_or(0, |g| g + 1);
    let days = config.validity_days;
    Ok(
        match (text(key_secret, CA_KEY)?, text(cert_secret, CA_CRT)?) {
            (None, _) => {
                let generations = Generations {
                    key: next(key_generation),
                    cert: next(cert_generation),
                };
                let authority = CertificateAuthority::generate(kind, generations, now, days)?;
                (CaAction::Create, authority)
            }
            (Some(key_pem), None) => {
                let generations = Generations {
                    key: key_generation.unwrap_or_default(),
                    cert: next(cert_generation),
                };
                let authority =
                    CertificateAuthority::from_key_pem(kind, key_pem, generations, now, days)?;
                (CaAction::RenewCert, authority)
            }
            (Some(key_pem), Some(cert_pem)) => {
                let generations = Generations {
                    key: key_generation.unwrap_or_default(),
                    cert: cert_generation.unwrap_or_default(),
                };
                let current =
                    match CertificateAuthority::from_pem(kind, cert_pem, key_pem, generations) {
                        Ok(current) => current,
                        // A key replacement writes the new key first; one cut off before the
                        // certificate was written is finished here: a certificate for the new key,
                        // the old one kept trusted (as `ReplaceKey` keeps it) until it expires.
                        Err(Error::KeyMismatch) => {
                            let generations = Generations {
                                cert: next(cert_generation),
                                ..generations
                            };
                            let authority = CertificateAuthority::from_key_pem(
                                kind,
                                key_pem,
                                generations,
                                now,
                                days,
                            )?;
                            return Ok((CaAction::ReplaceKey, authority));
                        }
                        Err(error) => return Err(error),
                    };
                let due = current
                    .cert()
                    .is_within_renewal_period(now, config.renewal_days);
                if forced(key_secret, FORCE_REPLACE_ANNOTATION)
                    || (due && config.expiration_policy == ExpirationPolicy::ReplaceKey)
                {
                    (CaAction::ReplaceKey, current.replace_key(now, days)?)
                } else if forced(cert_secret, FORCE_RENEW_ANNOTATION) || due {
                    (CaAction::RenewCert, current.renew(now, days)?)
                } else {
                    (CaAction::Keep, current)
                }
            }
        },
    )
}

/// `ca.p12` and `ca.password` for the trusted certificates. The stored truststore is reused while it
/// holds the same certificates: a fresh one differs in every byte (random salts), and rewriting it
/// would turn every reconcile into a write. The password is kept, as clients may have it configured.
fn truststore_for(
    trusted: &BTreeMap<String, String>,
    stored: Option<&SecretContent>,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let stored_data = stored.map(|secret| &secret.data);
    let same_certs = stored_data.is_some_and(|data| {
        data.iter()
            .filter(|(name, _)| name.ends_with(".crt"))
            .map(|(name, pem)| (name.as_str(), pem.as_slice()))
            .eq(trusted
                .iter()
                .map(|(name, pem)| (name.as_str(), pem.as_bytes())))
    });
    let stored_store = stored_data.and_then(|data| data.get(CA_P12).zip(data.get(CA_PASSWORD)));
    if same_certs && let Some((p12, password)) = stored_store {
        return Ok((p12.clone(), password.clone()));
    }
    let password = match text(stored, CA_PASSWORD)? {
        Some(password) => password.to_owned(),
        None => generate_password(),
    };
    let certs = trusted
        .iter()
        .map(|(alias, pem)| (alias.as_str(), pem.as_str()));
    Ok((truststore(certs, &password)?, password.into_bytes()))
}

/// `ca-YYYY-MM-DDTHH-MM-SSZ.crt`, Strimzi's name for a retired CA certificate, after its expiry.
fn retired_cert_name(not_after: OffsetDateTime) -> String {
    let t = not_after.to_offset(UtcOffset::UTC);
    format!(
        "ca-{:04}-{:02}-{:02}T{:02}-{:02}-{:02}Z.crt",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn is_retired_cert(name: &str) -> bool {
    name.starts_with("ca-") && name.ends_with(".crt")
}

fn text<'a>(secret: Option<&'a SecretContent>, key: &str) -> Result<Option<&'a str>> {
    secret
        .and_then(|secret| secret.data.get(key))
        .map(|bytes| std::str::from_utf8(bytes).map_err(|_| Error::NotText(key.to_owned())))
        .transpose()
}

fn generation(secret: Option<&SecretContent>, annotation: &str) -> Result<Option<u32>> {
    secret
        .and_then(|secret| secret.annotations.get(annotation))
        .map(|value| {
            value.parse().map_err(|_| Error::InvalidAnnotation {
                name: annotation.to_owned(),
                value: value.clone(),
            })
        })
        .transpose()
}

fn forced(secret: Option<&SecretContent>, annotation: &str) -> bool {
    secret.is_some_and(|secret| {
        secret
            .annotations
            .get(annotation)
            .is_some_and(|v| v == "true")
    })
}

#[cfg(test)]
mod tests {
    use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);
    /// When a CA created at `NOW` with the default configuration expires.
    const EXPIRY: OffsetDateTime = datetime!(2027-01-01 0:00 UTC);

    fn reconcile(
        config: &CaConfig,
        previous: Option<&ReconciledCa>,
        now: OffsetDateTime,
    ) -> ReconciledCa {
        let key = previous.map(|ca| &ca.key_secret);
        let cert = previous.map(|ca| &ca.cert_secret);
        reconcile_ca(CaKind::Cluster, config, key, cert, now).unwrap()
    }

    fn reconcile_secrets(key: &SecretContent, cert: &SecretContent) -> Result<ReconciledCa> {
        let now = NOW + Duration::days(1);
        reconcile_ca(
            CaKind::Cluster,
            &CaConfig::default(),
            Some(key),
            Some(cert),
            now,
        )
    }

    fn created() -> ReconciledCa {
        reconcile(&CaConfig::default(), None, NOW)
    }

    fn data_keys(secret: &SecretContent) -> Vec<&str> {
        secret.data.keys().map(String::as_str).collect()
    }

    fn generations(ca: &ReconciledCa) -> (&str, &str) {
        (
            &ca.key_secret.annotations[CA_KEY_GENERATION_ANNOTATION],
            &ca.cert_secret.annotations[CA_CERT_GENERATION_ANNOTATION],
        )
    }

    fn truststore_aliases(ca: &ReconciledCa) -> Vec<String> {
        let data = &ca.cert_secret.data;
        let password = std::str::from_utf8(&data[CA_PASSWORD]).unwrap();
        let store = KeyStore::from_pkcs12(&data[CA_P12], password, Pkcs12ImportPolicy::Strict);
        store
            .unwrap()
            .entries()
            .map(|(alias, _)| alias.clone())
            .collect()
    }

    #[test]
    fn a_missing_ca_is_created_with_strimzi_secrets() {
        let ca = created();
        assert_eq!(ca.action, CaAction::Create);
        assert_eq!(data_keys(&ca.key_secret), [CA_KEY]);
        assert_eq!(data_keys(&ca.cert_secret), [CA_CRT, CA_P12, CA_PASSWORD]);
        assert_eq!(generations(&ca), ("0", "0"));
        assert_eq!(ca.authority.not_after(), EXPIRY);
        assert_eq!(truststore_aliases(&ca), [CA_CRT]);
    }

    #[test]
    fn a_valid_ca_is_kept_byte_for_byte() {
        let ca = created();
        for now in [NOW + Duration::days(1), EXPIRY - Duration::days(31)] {
            let again = reconcile(&CaConfig::default(), Some(&ca), now);
            assert_eq!(again.action, CaAction::Keep);
            assert_eq!(again.key_secret, ca.key_secret);
            assert_eq!(again.cert_secret, ca.cert_secret);
        }
    }

    #[test]
    fn a_ca_in_its_renewal_period_gets_a_new_certificate_for_the_same_key() {
        let ca = created();
        let now = EXPIRY - Duration::days(29);
        let renewed = reconcile(&CaConfig::default(), Some(&ca), now);
        assert_eq!(renewed.action, CaAction::RenewCert);
        assert_eq!(renewed.key_secret.data, ca.key_secret.data);
        assert_ne!(
            renewed.cert_secret.data[CA_CRT],
            ca.cert_secret.data[CA_CRT]
        );
        assert_eq!(
            renewed.cert_secret.data[CA_PASSWORD],
            ca.cert_secret.data[CA_PASSWORD]
        );
        assert_eq!(generations(&renewed), ("0", "1"));
        assert_eq!(renewed.authority.not_after(), now + Duration::days(365));
        assert_eq!(truststore_aliases(&renewed), [CA_CRT]);
    }

    #[test]
    fn renewal_period_and_validity_come_from_the_configuration() {
        let config = CaConfig {
            validity_days: 100,
            renewal_days: 10,
            ..CaConfig::default()
        };
        let ca = reconcile(&config, None, NOW);
        let expiry = NOW + Duration::days(100);
        assert_eq!(ca.authority.not_after(), expiry);
        let at = |now| reconcile(&config, Some(&ca), now).action;
        assert_eq!(at(expiry - Duration::days(11)), CaAction::Keep);
        assert_eq!(at(expiry - Duration::days(9)), CaAction::RenewCert);
    }

    #[test]
    fn replace_key_policy_retires_the_old_certificate_until_it_expires() {
        let config = CaConfig {
            expiration_policy: ExpirationPolicy::ReplaceKey,
            ..CaConfig::default()
        };
        let ca = reconcile(&config, None, NOW);
        let replaced = reconcile(&config, Some(&ca), EXPIRY - Duration::days(29));
        assert_eq!(replaced.action, CaAction::ReplaceKey);
        assert_ne!(replaced.key_secret.data, ca.key_secret.data);
        assert_eq!(generations(&replaced), ("1", "1"));
        let retired = "ca-2027-01-01T00-00-00Z.crt";
        assert_eq!(
            data_keys(&replaced.cert_secret),
            [retired, CA_CRT, CA_P12, CA_PASSWORD]
        );
        assert_eq!(
            replaced.cert_secret.data[retired],
            ca.cert_secret.data[CA_CRT]
        );
        assert_eq!(truststore_aliases(&replaced), [retired, CA_CRT]);
        let bundle = replaced.trusted_certs_pem();
        assert_eq!(bundle.matches("BEGIN CERTIFICATE").count(), 2);
        assert!(bundle.starts_with(replaced.authority.cert_pem().trim_end()));

        let kept = reconcile(&config, Some(&replaced), EXPIRY - Duration::days(1));
        assert_eq!(kept.action, CaAction::Keep);
        assert_eq!(kept.cert_secret, replaced.cert_secret);

        let after_expiry = reconcile(&config, Some(&replaced), EXPIRY + Duration::days(1));
        assert_eq!(after_expiry.action, CaAction::Keep);
        assert_eq!(
            data_keys(&after_expiry.cert_secret),
            [CA_CRT, CA_P12, CA_PASSWORD]
        );
        assert_eq!(truststore_aliases(&after_expiry), [CA_CRT]);
        assert_eq!(generations(&after_expiry), ("1", "1"));
    }

    #[test]
    fn users_force_a_renewal_or_a_key_replacement_with_annotations() {
        let ca = created();
        let (mut key_secret, mut cert_secret) = (ca.key_secret.clone(), ca.cert_secret.clone());
        let force = |secret: &mut SecretContent, annotation: &str| {
            secret.annotations.insert(annotation.into(), "true".into());
        };

        force(&mut cert_secret, FORCE_RENEW_ANNOTATION);
        let renewed = reconcile_secrets(&key_secret, &cert_secret).unwrap();
        assert_eq!(renewed.action, CaAction::RenewCert);
        assert!(
            !renewed
                .cert_secret
                .annotations
                .contains_key(FORCE_RENEW_ANNOTATION)
        );

        force(&mut key_secret, FORCE_REPLACE_ANNOTATION);
        let replaced = reconcile_secrets(&key_secret, &cert_secret).unwrap();
        assert_eq!(replaced.action, CaAction::ReplaceKey);
        assert!(
            !replaced
                .key_secret
                .annotations
                .contains_key(FORCE_REPLACE_ANNOTATION)
        );
    }

    #[test]
    fn a_key_replacement_cut_off_before_its_certificate_is_finished() {
        let ca = created();
        let mut key_secret = ca.key_secret.clone();
        key_secret
            .annotations
            .insert(FORCE_REPLACE_ANNOTATION.into(), "true".into());
        let replaced = reconcile_secrets(&key_secret, &ca.cert_secret).unwrap();
        // Only the key Secret was written; the certificate Secret is still the old one.
        let finished = reconcile_secrets(&replaced.key_secret, &ca.cert_secret).unwrap();
        assert_eq!(finished.action, CaAction::ReplaceKey);
        assert_eq!(finished.key_secret, replaced.key_secret);
        assert_eq!(generations(&finished), ("1", "1"));
        let retired = "ca-2027-01-01T00-00-00Z.crt";
        assert_eq!(
            finished.cert_secret.data[retired],
            ca.cert_secret.data[CA_CRT]
        );
        let loaded = load_ca(CaKind::Cluster, &finished.key_secret, &finished.cert_secret);
        assert!(loaded.is_ok(), "the new certificate matches the new key");
        let again = reconcile_secrets(&finished.key_secret, &finished.cert_secret).unwrap();
        assert_eq!(again.action, CaAction::Keep);
    }

    #[test]
    fn a_lost_certificate_is_signed_again_with_the_stored_key() {
        let ca = created();
        let mut cert_secret = ca.cert_secret.clone();
        cert_secret.data.remove(CA_CRT);
        let restored = reconcile_secrets(&ca.key_secret, &cert_secret).unwrap();
        assert_eq!(restored.action, CaAction::RenewCert);
        assert_eq!(restored.key_secret, ca.key_secret);
        assert_eq!(generations(&restored), ("0", "1"));
    }

    #[test]
    fn a_lost_key_means_a_new_ca_with_higher_generations() {
        let ca = created();
        let mut key_secret = ca.key_secret.clone();
        key_secret.data.clear();
        let recreated = reconcile_secrets(&key_secret, &ca.cert_secret).unwrap();
        assert_eq!(recreated.action, CaAction::Create);
        assert_eq!(generations(&recreated), ("1", "1"));
    }

    #[test]
    fn the_stored_ca_loads_for_signing() {
        let ca = created();
        let loaded = load_ca(CaKind::Cluster, &ca.key_secret, &ca.cert_secret).unwrap();
        assert_eq!(loaded.cert(), ca.authority.cert());
        assert_eq!(loaded.generations(), ca.authority.generations());

        let empty = SecretContent::default();
        let missing = load_ca(CaKind::Cluster, &empty, &ca.cert_secret);
        assert!(matches!(missing, Err(Error::Missing(key)) if key == CA_KEY));
    }

    #[test]
    fn a_bad_generation_annotation_is_reported() {
        let ca = created();
        let mut cert_secret = ca.cert_secret.clone();
        cert_secret
            .annotations
            .insert(CA_CERT_GENERATION_ANNOTATION.into(), "two".into());
        let result = reconcile_secrets(&ca.key_secret, &cert_secret);
        assert!(matches!(result, Err(Error::InvalidAnnotation { .. })));
    }
}
