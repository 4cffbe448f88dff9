//! The credentials step: the admin credentials Secret, generated at the first reconcile and
//! kept from then on (written back unchanged, so it makes no write).

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use runtime::{Error, Flow, Readiness};

use super::state::BrokerReconcile;
use crate::assembly::credentials::{AdminCredentials, build_secret, read_secret};
use crate::assembly::names;

pub fn apply(state: &mut BrokerReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let model = &state.model;
        let secrets: Api<Secret> =
            Api::namespaced(state.applier.client().clone(), &model.namespace);
        let existing = secrets
            .get_opt(&names::admin_credentials_secret(&model.cluster))
            .await?;
        let stored = match existing.as_ref().map(read_secret).transpose() {
            Ok(stored) => stored.flatten(),
            Err(problem) => {
                state.progress.readiness = Readiness::InvalidSpec(problem);
                return Ok(Flow::Stop);
            }
        };
        let credentials = stored.unwrap_or_else(generate);
        state
            .applier
            .apply_over(&build_secret(model, &credentials), existing.as_ref())
            .await?;
        Ok(Flow::Continue)
    })
}

/// New random credentials, of characters that are safe in `broker.conf` and RocketMQ user names.
fn generate() -> AdminCredentials {
    let random = || uuid::Uuid::new_v4().simple().to_string();
    AdminCredentials {
        access_key: format!("brokerage{}", &random()[..12]),
        secret_key: random(),
    }
}
