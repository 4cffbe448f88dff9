//! The ServiceAccount the Kafka pods run as.

use k8s_openapi::api::core::v1::ServiceAccount;

use super::model::KafkaModel;
use super::names;

pub fn build_service_account(model: &KafkaModel) -> ServiceAccount {
    let name = names::service_account(&model.cluster);
    ServiceAccount {
        metadata: model.metadata(&name, model.labels(&name)),
        ..ServiceAccount::default()
    }
}
