//! The PodDisruptionBudget: voluntary disruptions (node drains) take one Kafka pod at a time,
//! like the operator's own rolling restarts.

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::model::KafkaModel;
use super::names;

pub fn build_pod_disruption_budget(model: &KafkaModel) -> PodDisruptionBudget {
    let name = names::pod_disruption_budget(&model.cluster);
    PodDisruptionBudget {
        metadata: model.metadata(&name, model.labels(&name)),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(model.node_selector()),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: None,
    }
}
