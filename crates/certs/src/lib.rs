//! Certificates for Kafka clusters, with Strimzi's conventions: a cluster CA and a clients CA kept in
//! two Secrets each, leaf certificates for nodes, users and the operator, and PKCS#12 stores for Java.
//!
//! Everything here is pure apart from key generation: the current time and the stored material come in
//! as arguments, and the material that should be stored comes out. New keys are ECDSA P-256; a stored
//! RSA CA key (as Strimzi makes them) loads and signs as well.

mod authority;
mod error;
mod inspect;
mod leaf;
mod params;
mod password;
mod pkcs12;
mod rotation;

pub use authority::{CaKind, CertificateAuthority, Generations};
pub use error::{Error, Result};
pub use inspect::{CertInfo, SubjectAltName, fingerprint};
pub use leaf::{IssuedCert, ReissueReason, Subject, kept_leaf, reissue_reason};
pub use password::generate_password;
pub use pkcs12::{keystore, truststore};
pub use rotation::{
    CA_CERT_GENERATION_ANNOTATION, CA_CRT, CA_KEY, CA_KEY_GENERATION_ANNOTATION, CA_P12,
    CA_PASSWORD, CaAction, CaConfig, ExpirationPolicy, FORCE_RENEW_ANNOTATION,
    FORCE_REPLACE_ANNOTATION, ReconciledCa, SecretContent, load_ca, reconcile_ca,
    trusted_certs_pem,
};
/// The time type every function here takes, re-exported so that callers need not depend on `time`.
pub use time::OffsetDateTime;
