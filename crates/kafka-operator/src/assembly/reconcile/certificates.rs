//! The certificates step: the cluster and clients CAs (created, kept, renewed or re-keyed as
//! the spec says), one certificate per node in `<c>-kafka-brokers`, and the operator's own
//! client certificate.

use std::collections::BTreeMap;

use api::kafka::CertificateAuthority as CaSpec;
use certs::{
    CaKind, CertificateAuthority, OffsetDateTime, SecretContent, Subject, fingerprint, load_ca,
};
use futures::future::BoxFuture;
use runtime::{Error, Flow, Readiness};

use super::state::KafkaReconcile;
use crate::assembly::certificates::{
    build_secret, ca_config, node_subject_alt_names, operator_certificate_secret,
};
use crate::assembly::names;
use operator_common::ca_secrets::{self, Stored, StoredCa, certificate_error, leaf};
use operator_common::secret_content::secret_content;

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
                &existing.content,
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
        let desired = build_secret(model, &nodes_secret, &content, true);
        state
            .applier
            .apply_over(&desired, existing.live.as_ref())
            .await?;

        let operator_secret = operator_certificate_secret(&model.cluster);
        let operator = names::OPERATOR_COMMON_NAME;
        client_certificate(state, &operator_secret, operator, &cluster_ca, now).await?;
        if state.model.kafka_exporter.is_some() {
            let secret = names::kafka_exporter_certificate_secret(&state.model.cluster);
            let exporter = names::kafka_exporter(&state.model.cluster);
            client_certificate(state, &secret, &exporter, &cluster_ca, now).await?;
        }
        Ok(Flow::Continue)
    })
}

/// A client certificate of the cluster CA for `O=io.strimzi, CN=<common_name>`, kept in Secret
/// `secret` as `<common_name>.crt` and `.key` with the CA's `ca.crt`, re-issued when due.
async fn client_certificate(
    state: &KafkaReconcile,
    secret: &str,
    common_name: &str,
    cluster_ca: &CertificateAuthority,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let model = &state.model;
    let config = ca_config(state.kafka.spec.cluster_ca.as_ref());
    let existing = stored(state, secret).await?;
    let subject = Subject::Component(common_name.into());
    let (cert, key) = leaf(
        &existing.content,
        common_name,
        (&subject, &[]),
        cluster_ca,
        (now, config.renewal_days),
        |ca| ca.issue_client_cert(&subject, now, config.validity_days),
    )?;
    let data = BTreeMap::from([
        (format!("{common_name}.crt"), cert.into_bytes()),
        (format!("{common_name}.key"), key.into_bytes()),
        (
            certs::CA_CRT.to_string(),
            cluster_ca.cert_pem().as_bytes().to_vec(),
        ),
    ]);
    let content = SecretContent {
        data,
        annotations: BTreeMap::new(),
    };
    let desired = build_secret(model, secret, &content, true);
    state
        .applier
        .apply_over(&desired, existing.live.as_ref())
        .await?;
    Ok(())
}

/// The CA of `kind`, brought up to date in its two Secrets. `None` when the user said they
/// provide the CA (`generateCertificateAuthority: false`) and its Secrets are not there.
async fn ensure_ca(
    state: &KafkaReconcile,
    kind: CaKind,
    spec: Option<&CaSpec>,
    now: OffsetDateTime,
) -> Result<Option<CertificateAuthority>, Error> {
    let model = &state.model;
    let stored = StoredCa::read(
        &state.applier,
        &model.namespace,
        kind.key_secret_name(&model.cluster),
        kind.cert_secret_name(&model.cluster),
    )
    .await?;
    if spec.and_then(|spec| spec.generate_certificate_authority) == Some(false) {
        return match (&stored.key, &stored.cert) {
            (Some(key), Some(cert)) => load_ca(kind, &secret_content(key), &secret_content(cert))
                .map(Some)
                .map_err(|error| stored.unusable(error)),
            _ => Ok(None),
        };
    }
    let owned = spec.and_then(|spec| spec.generate_secret_owner_reference) != Some(false);
    let authority = stored
        .keep_up_to_date(
            &state.applier,
            (kind, &ca_config(spec)),
            now,
            |name, content| build_secret(model, name, content, owned),
        )
        .await?;
    Ok(Some(authority))
}

async fn stored(state: &KafkaReconcile, name: &str) -> Result<Stored, Error> {
    ca_secrets::stored(&state.applier, &state.model.namespace, name).await
}

fn missing_ca(state: &mut KafkaReconcile, kind: CaKind) -> Flow {
    let cluster = &state.model.cluster;
    state.progress.readiness = Readiness::Held {
        reason: "CertificateAuthorityMissing",
        message: format!(
            "generateCertificateAuthority is false, so the CA must be provided in Secrets {} (ca.key) and {} (ca.crt)",
            kind.key_secret_name(cluster),
            kind.cert_secret_name(cluster)
        ),
    };
    Flow::Stop
}
