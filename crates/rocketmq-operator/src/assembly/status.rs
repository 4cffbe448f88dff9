//! The desired statuses of a NameService, a Controller and a Broker, from the model and what the steps
//! observed. Pure: the controllers write them only when they changed.

use api::rocketmq::{BrokerGroupStatus, BrokerStatus, ControllerStatus, NameServiceStatus};
use runtime::{Progress, Readiness, conditions};

use super::model::BrokerModel;

pub fn name_service_status(
    addresses: Vec<String>,
    readiness: &Readiness,
    generation: Option<i64>,
) -> NameServiceStatus {
    NameServiceStatus {
        conditions: Some(vec![readiness.condition()]),
        observed_generation: generation,
        name_servers: Some(addresses),
    }
}

pub fn controller_status(
    addresses: Vec<String>,
    readiness: &Readiness,
    generation: Option<i64>,
) -> ControllerStatus {
    ControllerStatus {
        conditions: Some(vec![readiness.condition()]),
        observed_generation: generation,
        size: Some(addresses.len() as i32),
        nodes: Some(addresses),
    }
}

/// `progress` has the readiness and what the steps warned of (a held scale-in, a name-server
/// list not pushed yet, a pending restart); `pods` are the broker pods that exist.
pub fn broker_status(
    model: &BrokerModel,
    progress: &Progress,
    pods: &[String],
    groups: Option<Vec<BrokerGroupStatus>>,
    generation: Option<i64>,
) -> BrokerStatus {
    let mut all = vec![progress.readiness.condition()];
    all.extend(
        model
            .warnings
            .iter()
            .map(|warning| conditions::warning(warning.reason, &warning.message)),
    );
    all.extend(progress.warnings.iter().cloned());
    let mut nodes = pods.to_vec();
    nodes.sort();
    BrokerStatus {
        conditions: Some(all),
        observed_generation: generation,
        nodes: Some(nodes),
        size: Some(model.groups.len() as i32),
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_model;

    #[test]
    fn the_broker_status_lists_pods_groups_and_every_warning() {
        let mut model = example_model();
        model.groups.push(2);
        let mut progress = Progress::creating("the brokers are");
        progress.readiness = Readiness::Ready;
        progress.warn("ScaleInHeld", "broker group broker-2 is kept".into());
        let pods = vec![
            "broker-1-master-0".to_string(),
            "broker-0-master-0".to_string(),
        ];
        let status = broker_status(&model, &progress, &pods, None, Some(3));
        assert_eq!(status.size, Some(3));
        assert_eq!(status.observed_generation, Some(3));
        assert_eq!(
            status.nodes.unwrap(),
            ["broker-0-master-0", "broker-1-master-0"]
        );
        let types: Vec<String> = status
            .conditions
            .unwrap()
            .into_iter()
            .map(|condition| condition.type_)
            .collect();
        assert_eq!(types, ["Ready", "Warning"]);

        let waiting = Readiness::PodsNotReady {
            ready: 1,
            expected: 4,
            what: "name server",
        };
        let status = name_service_status(vec!["a:9876".into()], &waiting, None);
        let condition = &status.conditions.unwrap()[0];
        assert_eq!(condition.type_, "NotReady");
        assert_eq!(condition.reason.as_deref(), Some("PodsNotReady"));
        assert_eq!(status.name_servers.unwrap(), ["a:9876"]);
    }
}
