//! The certificates step: the cluster and clients CAs (created, kept, renewed or re-keyed as
//! the spec says), one certificate per node in `<c>-kafka-brokers`, and the operator's own
//! client certificate. Unchanged material is written back byte for byte, so it makes no write.

use std::collections::BTreeMap;

use api::kafka::CertificateAuthority as CaSpec;
use certs::{
    CaAction, CaKind, CertificateAuthority, FORCE_RENEW_ANNOTATION, FORCE_REPLACE_ANNOTATION,
    OffsetDateTime, SecretContent, Subject, fingerprint, load_ca, reconcile_ca, reissue_reason,
};
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;
use runtime::{Error, Flow};

use super::state::KafkaReconcile;
use crate::kafka::ca_key::lost_key;
use crate::kafka::certificates::{
    build_secret, ca_config, node_subject_alt_names, operator_certificate_secret, secret_content,
    without_annotation,
};
use crate::kafka::names;

pub fn apply(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let now = OffsetDateTime::now_utc();
        let spec = state.kafka.spec.clone();
        let Some(cluster_ca) =
            ensure_ca(state, CaKind::Cluster, spec.cluster_ca.as_ref(), now).await?
        else {
            return Ok(missing_ca(state, CaKind::Cluster));
        };
        if ensure_ca(state, CaKind::Clients, spec.clients_ca.as_ref(), now)
            .await?
            .is_none()
        {
            return Ok(missing_ca(state, CaKind::Clients));
        }
        state.cluster_ca_cert = Some(cluster_ca.cert_pem().to_string());
        let config = ca_config(spec.cluster_ca.as_ref());
        let model = &state.model;

        let nodes_secret = names::node_certificates_secret(&model.cluster);
        let existing = stored(state, &nodes_secret).await?;
        let mut data = BTreeMap::new();
        for node in model.nodes() {
            let pod = model.pod_name(&node);
            let sans = node_subject_alt_names(model, &node);
            let common_name = names::node_common_name(&model.cluster);
            let subject = Subject::Component(common_name.clone());
            let (cert, key) = leaf(
                &existing,
                &pod,
                (&subject, &sans),
                &cluster_ca,
                (now, config.renewal_days),
                |ca| ca.issue_server_cert(&common_name, &sans, now, config.validity_days),
            )?;
            state
                .node_certificates
                .insert(pod.clone(), fingerprint(&cert).map_err(certificate_error)?);
            data.insert(format!("{pod}.crt"), cert.into_bytes());
            data.insert(format!("{pod}.key"), key.into_bytes());
        }
        let content = SecretContent {
            data,
            annotations: BTreeMap::new(),
        };
        state
            .applier
            .apply(&build_secret(model, &nodes_secret, &content, true))
            .await?;

        let operator_secret = operator_certificate_secret(&model.cluster);
        let existing = stored(state, &operator_secret).await?;
        let operator = names::OPERATOR_COMMON_NAME;
        let subject = Subject::Component(operator.into());
        let (cert, key) = leaf(
            &existing,
            operator,
            (&subject, &[]),
            &cluster_ca,
            (now, config.renewal_days),
            |ca| ca.issue_client_cert(&subject, now, config.validity_days),
        )?;
        let data = BTreeMap::from([
            (
                format!("{}.crt", names::OPERATOR_COMMON_NAME),
                cert.into_bytes(),
            ),
            (
                format!("{}.key", names::OPERATOR_COMMON_NAME),
                key.into_bytes(),
            ),
            (
                certs::CA_CRT.to_string(),
                cluster_ca.cert_pem().as_bytes().to_vec(),
            ),
        ]);
        let content = SecretContent {
            data,
            annotations: BTreeMap::new(),
        };
        state
            .applier
            .apply(&build_secret(model, &operator_secret, &content, true))
            .await?;
        Ok(Flow::Continue)
    })
}

/// The CA of `kind`, brought up to date in its two Secrets. `None` when the user said they
/// provide the CA (`generateCertificateAuthority: false`) and its Secrets are not there.
async fn ensure_ca(
    state: &KafkaReconcile,
    kind: CaKind,
    spec: Option<&CaSpec>,
    now: OffsetDateTime,
) -> Result<Option<CertificateAuthority>, Error> {
    let cluster = &state.model.cluster;
    let (key_name, cert_name) = (
        kind.key_secret_name(cluster),
        kind.cert_secret_name(cluster),
    );
    let (key_live, cert_live) = (
        live(state, &key_name).await?,
        live(state, &cert_name).await?,
    );
    let key = key_live.as_ref().map(secret_content);
    let cert = cert_live.as_ref().map(secret_content);
    let unusable = |error: certs::Error| {
        Error::transient(format!(
            "the CA in the Secrets {key_name} ({}) and {cert_name} ({}) cannot be used: {error}; \
             put the PEM private key and certificate there",
            certs::CA_KEY,
            certs::CA_CRT
        ))
    };
    if spec.and_then(|spec| spec.generate_certificate_authority) == Some(false) {
        return match (key, cert) {
            (Some(key), Some(cert)) => Ok(Some(load_ca(kind, &key, &cert).map_err(unusable)?)),
            _ => Ok(None),
        };
    }
    if let Some(message) = lost_key((&key_name, key.as_ref()), (&cert_name, cert.as_ref())) {
        return Err(Error::transient(message));
    }
    let reconciled =
        reconcile_ca(kind, &ca_config(spec), key.as_ref(), cert.as_ref(), now).map_err(unusable)?;
    let owned = spec.and_then(|spec| spec.generate_secret_owner_reference) != Some(false);
    let secrets = [
        (
            &key_name,
            &key_live,
            &reconciled.key_secret,
            FORCE_REPLACE_ANNOTATION,
        ),
        (
            &cert_name,
            &cert_live,
            &reconciled.cert_secret,
            FORCE_RENEW_ANNOTATION,
        ),
    ];
    for (name, live, content, force) in secrets {
        let desired = build_secret(&state.model, name, content, owned);
        if let Some(live) = live
            && reconciled.action != CaAction::Keep
            && live.annotations().contains_key(force)
        {
            state
                .applier
                .replace(&without_annotation(live, &desired, force))
                .await?;
        }
        state.applier.apply(&desired).await?;
    }
    Ok(Some(reconciled.authority))
}

/// The stored certificate and key `<name>.crt` / `<name>.key` when still good for `subject` and
/// `sans`, else new ones.
fn leaf(
    existing: &SecretContent,
    name: &str,
    (subject, sans): (&Subject, &[String]),
    ca: &CertificateAuthority,
    (now, renewal_days): (OffsetDateTime, u32),
    issue: impl FnOnce(&CertificateAuthority) -> certs::Result<certs::IssuedCert>,
) -> Result<(String, String), Error> {
    let text = |key: String| {
        existing
            .data
            .get(&key)
            .and_then(|bytes| String::from_utf8(bytes.clone()).ok())
    };
    let (cert, key) = (text(format!("{name}.crt")), text(format!("{name}.key")));
    if let (Some(cert), Some(key)) = (&cert, &key)
        && reissue_reason(Some(cert), ca, subject, sans, now, renewal_days).is_none()
    {
        return Ok((cert.clone(), key.clone()));
    }
    let issued = issue(ca).map_err(certificate_error)?;
    Ok((issued.cert_pem, issued.key_pem))
}

async fn live(state: &KafkaReconcile, name: &str) -> Result<Option<Secret>, Error> {
    let secrets: Api<Secret> =
        Api::namespaced(state.applier.client().clone(), &state.model.namespace);
    Ok(secrets.get_opt(name).await?)
}

async fn stored(state: &KafkaReconcile, name: &str) -> Result<SecretContent, Error> {
    Ok(live(state, name)
        .await?
        .as_ref()
        .map(secret_content)
        .unwrap_or_default())
}

fn missing_ca(state: &mut KafkaReconcile, kind: CaKind) -> Flow {
    let cluster = &state.model.cluster;
    state.not_ready = Some((
        "CertificateAuthorityMissing".into(),
        format!(
            "generateCertificateAuthority is false, so the CA must be provided in Secrets {} (ca.key) and {} (ca.crt)",
            kind.key_secret_name(cluster),
            kind.cert_secret_name(cluster)
        ),
    ));
    Flow::Stop
}

fn certificate_error(error: certs::Error) -> Error {
    Error::transient(format!("certificates: {error}"))
}
