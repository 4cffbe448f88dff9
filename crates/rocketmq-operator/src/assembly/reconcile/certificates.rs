//! The certificates step: the Broker's CA (created, kept or renewed in its two Secrets) and the
//! certificate its brokers serve, re-issued when due, in `<b>-broker-tls` with the CA
//! certificates beside it.

use std::collections::BTreeMap;

use certs::{CaConfig, CaKind, OffsetDateTime, SecretContent, Subject};
use futures::future::BoxFuture;
use runtime::{Error, Flow};

use super::state::BrokerReconcile;
use crate::assembly::names;
use crate::assembly::tls::{self, LEAF, build_secret, subject_alt_names};
use operator_common::ca_secrets::{self, StoredCa, leaf};

pub fn apply(state: &mut BrokerReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let now = OffsetDateTime::now_utc();
        let model = &state.model;
        let (namespace, broker) = (&model.namespace, &model.cluster);
        let config = CaConfig::default();
        let stored = StoredCa::read(
            &state.applier,
            namespace,
            names::broker_ca_secret(broker),
            names::broker_ca_cert_secret(broker),
        )
        .await?;
        let ca = stored
            .keep_up_to_date(
                &state.applier,
                (CaKind::Cluster, &config),
                now,
                |name, content| build_secret(model, name, content),
            )
            .await?;

        let secret = names::broker_certificate_secret(broker);
        let existing = ca_secrets::stored(&state.applier, namespace, &secret).await?;
        let sans = subject_alt_names(namespace, broker);
        let subject = Subject::Component(broker.clone());
        let (cert, key) = leaf(
            &existing.content,
            LEAF,
            (&subject, &sans),
            &ca,
            (now, config.renewal_days),
            |ca| ca.issue_server_cert(broker, &sans, now, config.validity_days),
        )?;
        let content = SecretContent {
            data: BTreeMap::from([
                (tls::CERT_FILE.to_string(), cert.into_bytes()),
                (tls::KEY_FILE.to_string(), key.into_bytes()),
                (certs::CA_CRT.to_string(), ca.cert_pem().as_bytes().to_vec()),
            ]),
            annotations: BTreeMap::new(),
        };
        let desired = build_secret(model, &secret, &content);
        state
            .applier
            .apply_over(&desired, existing.live.as_ref())
            .await?;
        Ok(Flow::Continue)
    })
}
