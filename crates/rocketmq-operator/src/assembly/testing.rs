//! Fixtures shared by the unit tests: the issue's NameService and Broker, as the operator sees
//! them.

use std::collections::BTreeMap;

use api::rocketmq::{
    Broker, BrokerSpec, ClusterMode, Controller, ControllerSpec, NameService, NameServiceSpec,
};
use k8s_openapi::api::core::v1::{ConfigMap, ConfigMapVolumeSource, KeyToPath, Volume};
use kube::api::ObjectMeta;

use super::manifest::read;
use super::model::{BrokerInputs, BrokerModel, validate};
use super::user_config::COMMON_CONFIG;

pub const NAMESPACE: &str = "rocketmq";

/// The NameService and Broker of the issue, which must work unchanged.
pub const ISSUE_EXAMPLE: &str = include_str!("../../../../tests/fixtures/rocketmq-cluster.yaml");

pub fn example_name_service() -> NameService {
    read(ISSUE_EXAMPLE, NAMESPACE)
        .expect("the example reads")
        .name_services[0]
        .clone()
}

pub fn example_broker() -> Broker {
    read(ISSUE_EXAMPLE, NAMESPACE)
        .expect("the example reads")
        .brokers[0]
        .clone()
}

/// What the example Broker finds in its namespace: the example NameService.
pub fn inputs() -> BrokerInputs {
    BrokerInputs {
        name_services: vec![example_name_service()],
        ..BrokerInputs::default()
    }
}

pub fn example_model() -> BrokerModel {
    validate(&example_broker(), &inputs()).expect("the example is valid")
}

pub fn name_service(name: &str, size: i32) -> NameService {
    NameService {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        spec: NameServiceSpec {
            size,
            ..NameServiceSpec::default()
        },
        status: None,
    }
}

pub fn controller(name: &str, size: i32) -> Controller {
    Controller {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        spec: ControllerSpec {
            size,
            ..ControllerSpec::default()
        },
        status: None,
    }
}

/// The example Broker in controller mode, and the inputs with a Controller of three.
pub fn controller_mode() -> (Broker, BrokerInputs) {
    let broker = broker_with(|spec| spec.cluster_mode = Some(ClusterMode::Controller));
    let inputs = BrokerInputs {
        controllers: vec![controller("controller", 3)],
        ..inputs()
    };
    (broker, inputs)
}

/// The example Broker, changed by `edit`.
pub fn broker_with(edit: impl FnOnce(&mut BrokerSpec)) -> Broker {
    let mut broker = example_broker();
    edit(&mut broker.spec);
    broker
}

/// The example Broker mounting `text` as `broker-common.conf` the upstream way, and the inputs
/// with that ConfigMap.
pub fn with_common_config(text: &str) -> (Broker, BrokerInputs) {
    let broker = broker_with(|spec| {
        spec.pod.volumes = Some(vec![Volume {
            name: "broker-config".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: "broker-config".into(),
                items: Some(vec![KeyToPath {
                    key: COMMON_CONFIG.into(),
                    path: COMMON_CONFIG.into(),
                    ..KeyToPath::default()
                }]),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        }]);
    });
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            name: Some("broker-config".into()),
            namespace: Some(NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(
            COMMON_CONFIG.to_string(),
            text.to_string(),
        )])),
        ..ConfigMap::default()
    };
    let mut inputs = inputs();
    inputs
        .config_maps
        .insert("broker-config".into(), config_map);
    (broker, inputs)
}
