//! A CA kept in two Secrets (its key, its certificates) and the leaf certificates it signs,
//! brought up to date on every reconcile: a Kafka's cluster and clients CAs, and a RocketMQ
//! Broker's CA. Unchanged material is written back byte for byte, so it makes no write.

use certs::{
    CaAction, CaConfig, CaKind, CertificateAuthority, FORCE_RENEW_ANNOTATION,
    FORCE_REPLACE_ANNOTATION, IssuedCert, OffsetDateTime, SecretContent, Subject, kept_leaf,
    reconcile_ca,
};
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;
use runtime::{Applier, Error};

use crate::ca_key::lost_key;
use crate::secret_content::{secret_content, without_annotation};

/// The two Secrets of one CA, as they are now.
pub struct StoredCa {
    pub key_name: String,
    pub cert_name: String,
    pub key: Option<Secret>,
    pub cert: Option<Secret>,
}

impl StoredCa {
    /// Reads the Secrets `key_name` and `cert_name` of `namespace`.
    pub async fn read(
        applier: &Applier,
        namespace: &str,
        key_name: String,
        cert_name: String,
    ) -> Result<StoredCa, Error> {
        Ok(StoredCa {
            key: live(applier, namespace, &key_name).await?,
            cert: live(applier, namespace, &cert_name).await?,
            key_name,
            cert_name,
        })
    }

    /// Why the stored CA cannot sign: `error` from the certs crate, in a message that names the
    /// Secrets to fix.
    pub fn unusable(&self, error: certs::Error) -> Error {
        Error::transient(format!(
            "the CA in the Secrets {} ({}) and {} ({}) cannot be used: {error}; put the PEM \
             private key and certificate there",
            self.key_name,
            certs::CA_KEY,
            self.cert_name,
            certs::CA_CRT
        ))
    }

    /// The CA created, kept, renewed or re-keyed as `config` and the force annotations say,
    /// its Secrets written as `build` makes them from a name and a content. A certificate whose
    /// key is lost is refused: a new CA would not be trusted by whatever trusts this one.
    pub async fn keep_up_to_date(
        &self,
        applier: &Applier,
        (kind, config): (CaKind, &CaConfig),
        now: OffsetDateTime,
        build: impl Fn(&str, &SecretContent) -> Secret,
    ) -> Result<CertificateAuthority, Error> {
        let key = self.key.as_ref().map(secret_content);
        let cert = self.cert.as_ref().map(secret_content);
        if let Some(message) = lost_key(
            (&self.key_name, key.as_ref()),
            (&self.cert_name, cert.as_ref()),
        ) {
            return Err(Error::transient(message));
        }
        let reconciled = reconcile_ca(kind, config, key.as_ref(), cert.as_ref(), now)
            .map_err(|error| self.unusable(error))?;
        let secrets = [
            (
                &self.key_name,
                &self.key,
                &reconciled.key_secret,
                FORCE_REPLACE_ANNOTATION,
            ),
            (
                &self.cert_name,
                &self.cert,
                &reconciled.cert_secret,
                FORCE_RENEW_ANNOTATION,
            ),
        ];
        for (name, live, content, force) in secrets {
            let desired = build(name, content);
            // Applied over the Secret as read, unless it was just replaced.
            let mut live = live.as_ref();
            if let Some(replaced) = live
                && reconciled.action != CaAction::Keep
                && replaced.annotations().contains_key(force)
            {
                applier
                    .replace(&without_annotation(replaced, &desired, force))
                    .await?;
                live = None;
            }
            applier.apply_over(&desired, live).await?;
        }
        Ok(reconciled.authority)
    }
}

/// The stored certificate and key `<name>.crt` / `<name>.key` of `existing` when still good
/// for `subject` and `sans`, else new ones from `issue`.
pub fn leaf(
    existing: &SecretContent,
    name: &str,
    (subject, sans): (&Subject, &[String]),
    ca: &CertificateAuthority,
    (now, renewal_days): (OffsetDateTime, u32),
    issue: impl FnOnce(&CertificateAuthority) -> certs::Result<IssuedCert>,
) -> Result<(String, String), Error> {
    let text = |key: String| {
        existing
            .data
            .get(&key)
            .and_then(|bytes| String::from_utf8(bytes.clone()).ok())
    };
    let stored = (text(format!("{name}.crt")), text(format!("{name}.key")));
    if let Some(kept) = kept_leaf(stored, ca, (subject, sans), (now, renewal_days)) {
        return Ok(kept);
    }
    let issued = issue(ca).map_err(certificate_error)?;
    Ok((issued.cert_pem, issued.key_pem))
}

/// A Secret as a step read it: the object, for the step to apply over, and what it holds
/// (empty when there is none).
pub struct Stored {
    pub live: Option<Secret>,
    pub content: SecretContent,
}

/// The Secret `name` of `namespace`, read once for both its content and the apply over it.
pub async fn stored(applier: &Applier, namespace: &str, name: &str) -> Result<Stored, Error> {
    let live = live(applier, namespace, name).await?;
    let content = live.as_ref().map(secret_content).unwrap_or_default();
    Ok(Stored { live, content })
}

pub fn certificate_error(error: certs::Error) -> Error {
    Error::transient(format!("certificates: {error}"))
}

async fn live(applier: &Applier, namespace: &str, name: &str) -> Result<Option<Secret>, Error> {
    let secrets: Api<Secret> = Api::namespaced(applier.client().clone(), namespace);
    Ok(secrets.get_opt(name).await?)
}
