use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Settings of the cluster CA or the clients CA.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "(has(self.renewalDays) ? self.renewalDays : 30) < (has(self.validityDays) ? self.validityDays : 365)",
    "message": "renewalDays (default 30) must be less than validityDays (default 365), or every certificate would be renewed, and every node restarted, at each reconciliation",
    "fieldPath": ".renewalDays",
}]))]
pub struct CertificateAuthority {
    /// `false` when the user supplies the CA Secrets; defaults to `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate_certificate_authority: Option<bool>,
    /// Whether the CA Secrets are owned by (and deleted with) the Kafka resource; defaults to `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate_secret_owner_reference: Option<bool>,
    /// Validity of generated certificates, at most 36500 (100 years); defaults to 365.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 36500))]
    pub validity_days: Option<i32>,
    /// How many days before expiry renewal starts, less than `validityDays`; defaults to 30.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 36500))]
    pub renewal_days: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_expiration_policy: Option<CertificateExpirationPolicy>,
}

/// What renewing an expiring CA does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CertificateExpirationPolicy {
    /// Re-sign the CA certificate with the same key.
    #[default]
    #[serde(rename = "renew-certificate")]
    RenewCertificate,
    /// Generate a new CA key, which re-issues every leaf certificate.
    #[serde(rename = "replace-key")]
    ReplaceKey,
}

impl CertificateAuthority {
    pub const DEFAULT_VALIDITY_DAYS: i32 = 365;
    pub const DEFAULT_RENEWAL_DAYS: i32 = 30;
}
