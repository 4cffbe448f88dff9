//! Validation: a Broker becomes a fully defaulted model with every derived name, or an error a
//! person can act on. Settings the operator owns that the user set anyway become warnings.

use std::collections::BTreeMap;

use api::rocketmq::{Broker, ClusterMode, Controller, NameService, PodSettings, ReplicationMode};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::ResourceExt;
use runtime::labels::{self, Labels};

use super::BrokerDesired;
use super::broker_conf::split_owned;
use super::credentials::{self, AdminCredentials};
use super::names;
use super::pod::check_pod_settings;
use super::storage::{Storage, storage};
use super::user_config::{CommonConfig, common_config};
use operator_common::cluster_ref::ClusterRef;
use operator_common::object_names;
use operator_common::pod_security::PodPolicy;
use operator_common::properties::Properties;
use operator_common::validation::{InvalidSpec, Warning};

/// The official image of the RocketMQ version the operator runs by default.
pub const DEFAULT_IMAGE: &str = "apache/rocketmq:5.5.0";

/// Upstream's pod labels, which users' own Services select on.
pub const UPSTREAM_APP_LABEL: &str = "app";
pub const UPSTREAM_BROKER_LABEL: &str = "broker_cr";

/// What validation needs besides the Broker itself; the caller reads it from the cluster.
#[derive(Clone, Debug, Default)]
pub struct BrokerInputs {
    /// The NameServices of the Broker's namespace: an empty `nameServers` means theirs.
    pub name_services: Vec<NameService>,
    /// The Controllers of the Broker's namespace: a Broker in controller mode registers with
    /// theirs.
    pub controllers: Vec<Controller>,
    /// The ConfigMaps that `spec.volumes` reference and that exist, by name.
    pub config_maps: BTreeMap<String, ConfigMap>,
    /// What the operator lets the pods be given.
    pub pods: PodPolicy,
    /// Groups beyond `spec.size` whose scale-in is held, with why (see [`super::scaling`]):
    /// they keep running.
    pub held_groups: BTreeMap<i32, String>,
}

/// One broker: replica 0 of a group is its master (`brokerId` 0), the others its replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    pub group: i32,
    pub replica: i32,
}

impl Node {
    pub fn master(group: i32) -> Node {
        Node { group, replica: 0 }
    }

    pub fn is_master(&self) -> bool {
        self.replica == 0
    }
}

/// A Broker, validated and defaulted: everything the builders need.
#[derive(Clone, Debug, PartialEq)]
pub struct BrokerModel {
    pub cluster: String,
    pub namespace: String,
    pub uid: String,
    pub image: String,
    /// `spec.size`: groups `0..size` are wanted.
    pub size: i32,
    /// The groups that run: `0..size`, then any beyond that a held scale-in keeps.
    pub groups: Vec<i32>,
    pub replicas_per_group: i32,
    pub replication: ReplicationMode,
    /// `;`-separated `host:port`, as RocketMQ's `namesrvAddr`.
    pub name_servers: String,
    /// In controller mode, the controllers as RocketMQ's `controllerAddr` (`;`-separated
    /// `host:port`): they elect each group's master, so `brokerId` and `brokerRole` are theirs.
    pub controllers: Option<String>,
    pub allow_restart: bool,
    /// The master pod whose topics and subscription groups new groups copy.
    pub scale_source: String,
    pub storage: Storage,
    pub pod: PodSettings,
    /// The user's `broker-common.conf` without the keys the operator owns.
    pub user_config: Properties,
    /// `(ConfigMap, key)` the user's settings came from.
    pub user_config_source: Option<(String, String)>,
    pub warnings: Vec<Warning>,
}

impl BrokerModel {
    /// Every broker, group by group, master first.
    pub fn nodes(&self) -> impl Iterator<Item = Node> + '_ {
        self.groups.iter().flat_map(|group| {
            (0..=self.replicas_per_group).map(|replica| Node {
                group: *group,
                replica,
            })
        })
    }

    pub fn statefulset_name(&self, node: &Node) -> String {
        names::broker_statefulset(&self.cluster, node.group, node.replica)
    }

    pub fn pod_name(&self, node: &Node) -> String {
        names::broker_pod(&self.cluster, node.group, node.replica)
    }

    /// Which broker runs in `pod`, if it is one of this model's.
    pub fn node_of_pod(&self, pod: &str) -> Option<Node> {
        self.nodes().find(|node| self.pod_name(node) == pod)
    }

    pub fn cluster_ref(&self) -> ClusterRef {
        ClusterRef {
            namespace: self.namespace.clone(),
            name: self.cluster.clone(),
        }
    }

    /// Labels of an object named `name`.
    pub fn labels(&self, name: &str) -> Labels {
        Labels::new("Broker", &self.cluster, name).with(labels::NAME, "rocketmq-broker")
    }

    /// Labels of one broker's StatefulSet, pod and ConfigMap, with upstream's pod labels.
    pub fn node_labels(&self, node: &Node) -> Labels {
        self.labels(&self.statefulset_name(node))
            .with(UPSTREAM_APP_LABEL, "broker")
            .with(UPSTREAM_BROKER_LABEL, &self.cluster)
    }

    /// Selects every broker pod of this Broker.
    pub fn pod_selector(&self) -> BTreeMap<String, String> {
        pod_selector(&self.cluster)
    }

    /// The metadata of every object built for the Broker: namespaced, labelled, owned by it.
    pub fn metadata(&self, name: &str, labels: Labels) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some(self.namespace.clone()),
            labels: Some(labels.into_map()),
            owner_references: Some(vec![owner_reference("Broker", &self.cluster, &self.uid)]),
            ..ObjectMeta::default()
        }
    }
}

/// Makes an object garbage-collected with its NameService or Broker.
pub fn owner_reference(kind: &str, name: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: format!("{}/{}", api::rocketmq::GROUP, api::rocketmq::VERSION),
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Turns a Broker into a model. `inputs` are the NameServices and ConfigMaps it may depend on.
pub fn validate(broker: &Broker, inputs: &BrokerInputs) -> Result<BrokerModel, InvalidSpec> {
    let cluster = broker.name_any();
    let spec = &broker.spec;
    let mut warnings = Vec::new();
    let size = spec.size.max(0);
    let replicas_per_group = spec.replica_per_group.unwrap_or(0).max(0);
    check_broker_count(size, replicas_per_group)?;
    check_pod_settings(&spec.pod, inputs.pods)?;
    let namespace = broker.namespace().unwrap_or_default();
    let name_servers = resolve_name_servers(
        spec.name_servers.as_deref(),
        &namespace,
        &inputs.name_services,
        &mut warnings,
    )?;
    let image = (spec.broker_image.clone()).unwrap_or_else(|| DEFAULT_IMAGE.to_string());
    let controllers = match spec.cluster_mode.unwrap_or_default() {
        ClusterMode::Static => None,
        ClusterMode::Controller => Some(resolve_controllers(
            &image,
            &namespace,
            &inputs.controllers,
            &mut warnings,
        )?),
    };
    let storage = storage(&spec.pod, "broker-storage")?;
    let common = common_config(&spec.pod, &inputs.config_maps)?;
    let default_source = names::broker_pod(&cluster, 0, 0);
    let scale_source = match spec.scale_pod_name.as_deref().map(str::trim) {
        None | Some("") => default_source,
        Some(pod) if (0..size).any(|group| names::broker_pod(&cluster, group, 0) == pod) => {
            pod.to_string()
        }
        Some(pod) => {
            warnings.push(Warning {
                reason: "InvalidScalePodName",
                message: format!(
                    "spec.scalePodName {pod} is not the master pod of a broker group of this \
                     Broker (<name>-<group>-master-0); new groups copy {default_source}'s topics"
                ),
            });
            default_source
        }
    };
    let (user_config_source, user_config) = match common {
        Some(CommonConfig {
            config_map,
            key,
            settings,
        }) => (Some((config_map, key)), settings),
        None => (None, Properties::new()),
    };
    let mut model = BrokerModel {
        namespace,
        uid: broker.uid().unwrap_or_default(),
        image,
        size,
        groups: (0..size)
            .chain(
                inputs
                    .held_groups
                    .keys()
                    .copied()
                    .filter(|group| *group >= size),
            )
            .collect(),
        replicas_per_group,
        replication: spec.replication_mode.unwrap_or_default(),
        name_servers,
        controllers,
        allow_restart: spec.allow_restart.unwrap_or(true),
        scale_source,
        storage,
        pod: spec.pod.clone(),
        user_config: Properties::new(),
        user_config_source,
        warnings,
        cluster,
    };
    let (kept, dropped) = split_owned(&model, user_config);
    model.user_config = kept;
    model.warnings.extend(dropped);
    check_acl_version(&model)?;
    let held = inputs
        .held_groups
        .iter()
        .filter(|(group, _)| **group >= size);
    model.warnings.extend(held.map(|(_, reason)| Warning {
        reason: "ScaleInHeld",
        message: reason.clone(),
    }));
    check_object_names(&model)?;
    Ok(model)
}

/// ACL 2.0 (`authenticationEnabled`, `authorizationEnabled`) came with RocketMQ 5.3: an older
/// broker ignores the settings and would run open to everyone. An image whose tag is not a
/// version (`latest`, a digest) is taken at its word.
fn check_acl_version(model: &BrokerModel) -> Result<(), InvalidSpec> {
    const ACL_2: (u32, u32) = (5, 3);
    let enabled = ["authenticationEnabled", "authorizationEnabled"]
        .into_iter()
        .find(|key| {
            model
                .user_config
                .get(*key)
                .is_some_and(|v| v.trim() == "true")
        });
    let version = image_version(&model.image);
    match (enabled, version) {
        (Some(key), Some(version)) if version < ACL_2 => Err(InvalidSpec::new(
            "spec.brokerImage",
            format!(
                "{key}=true is ACL 2.0, which RocketMQ {}.{} lacks (it came with 5.3); use an \
                 image of RocketMQ 5.3 or newer such as {DEFAULT_IMAGE}, or leave ACL off",
                version.0, version.1
            ),
        )),
        _ => Ok(()),
    }
}

/// Refuses an image whose tag is a RocketMQ version older than the one `feature` came with
/// (`(what, since)`); `otherwise` names the way out without it. A tag that is not a version is
/// taken at its word.
pub fn require_version(
    image: &str,
    field: &str,
    (feature, since): (&str, (u32, u32)),
    otherwise: &str,
) -> Result<(), InvalidSpec> {
    match image_version(image) {
        Some(version) if version < since => Err(InvalidSpec::new(
            field,
            format!(
                "{feature} came with RocketMQ {}.{}, and this image is RocketMQ {}.{}; use an \
                 image of {}.{} or newer such as {DEFAULT_IMAGE}{}",
                since.0,
                since.1,
                version.0,
                version.1,
                since.0,
                since.1,
                if otherwise.is_empty() {
                    String::new()
                } else {
                    format!(", {otherwise}")
                }
            ),
        )),
        _ => Ok(()),
    }
}

/// `(major, minor)` of an image's tag: `apache/rocketmq:5.1.4` → `(5, 1)`, `…:4.9.7-alpine` →
/// `(4, 9)`; `None` for a tag that is not a version.
pub fn image_version(image: &str) -> Option<(u32, u32)> {
    let tag = image.rsplit_once(':')?.1;
    if tag.contains('/') {
        return None; // a registry port, not a tag
    }
    let mut numbers = tag.split(['.', '-']).map(|part| part.parse::<u32>().ok());
    Some((numbers.next()??, numbers.next()??))
}

/// Every object of the Broker, its pods and its admin credentials Secret, named and labelled as
/// Kubernetes accepts: the Broker's name and its group and replica numbers make their names.
fn check_object_names(model: &BrokerModel) -> Result<(), InvalidSpec> {
    let mut objects = BrokerDesired::build(model).to_json();
    let unknown = AdminCredentials {
        access_key: String::new(),
        secret_key: String::new(),
    };
    let secret = credentials::build_secret(model, &unknown);
    objects.push(serde_json::to_value(secret).expect("a Secret serializes"));
    object_names::check(&objects).map_err(|problem| {
        InvalidSpec::new(
            "metadata.name",
            format!(
                "{problem}; the Broker's name and its group and replica numbers make that name, \
                 so shorten the name"
            ),
        )
    })
}

/// The schema caps `size` and `replicaPerGroup` one by one; this caps the pods they make
/// together, in wide arithmetic so that no product wraps.
fn check_broker_count(size: i32, replicas_per_group: i32) -> Result<(), InvalidSpec> {
    let pods = i64::from(size) * (i64::from(replicas_per_group) + 1);
    if pods <= i64::from(api::MAX_REPLICAS) {
        return Ok(());
    }
    Err(InvalidSpec::new(
        "spec.size",
        format!(
            "{size} groups of {} brokers make {pods} brokers, more than the {} a Broker may have; \
             lower size or replicaPerGroup, or use several Brokers",
            i64::from(replicas_per_group) + 1,
            api::MAX_REPLICAS
        ),
    ))
}

/// The name-server list: `nameServers` as given (normalized), else that of the NameService in
/// the namespace (the first by name when there are several, as the admin connections take it).
pub(crate) fn resolve_name_servers(
    listed: Option<&str>,
    namespace: &str,
    name_services: &[NameService],
    warnings: &mut Vec<Warning>,
) -> Result<String, InvalidSpec> {
    let listed: Vec<&str> = listed
        .unwrap_or("")
        .split(';')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    if !listed.is_empty() {
        for entry in &listed {
            let valid = entry
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !valid {
                return Err(InvalidSpec::new(
                    "spec.nameServers",
                    format!(
                        "{entry:?} is not a host:port name server; list them separated by ';', \
                         e.g. ns-0:9876;ns-1:9876"
                    ),
                ));
            }
        }
        return Ok(listed.join(";"));
    }
    let mut candidates: Vec<&NameService> = name_services.iter().collect();
    candidates.sort_by_key(|name_service| name_service.name_any());
    let Some(chosen) = candidates.first() else {
        return Err(InvalidSpec::new(
            "spec.nameServers",
            format!(
                "nameServers is empty and there is no NameService in the namespace {namespace}; \
                 create a NameService there or set nameServers"
            ),
        ));
    };
    if candidates.len() > 1 {
        warnings.push(Warning {
            reason: "SeveralNameServices",
            message: format!(
                "nameServers is empty and the namespace has several NameServices; using {} (the \
                 first by name); set nameServers to choose",
                chosen.name_any()
            ),
        });
    }
    let addresses = names::name_server_addresses(chosen);
    if addresses.is_empty() {
        return Err(InvalidSpec::new(
            "spec.nameServers",
            format!(
                "the NameService {} has size 0, so there are no name servers; scale it up or set \
                 nameServers",
                chosen.name_any()
            ),
        ));
    }
    Ok(addresses.join(";"))
}

/// Controller mode's `controllerAddr`: the controllers of the Controller in the namespace (the
/// first by name when there are several). Controller mode came with RocketMQ 5.0.
fn resolve_controllers(
    image: &str,
    namespace: &str,
    controllers: &[Controller],
    warnings: &mut Vec<Warning>,
) -> Result<String, InvalidSpec> {
    require_version(
        image,
        "spec.brokerImage",
        ("clusterMode CONTROLLER", (5, 0)),
        "or clusterMode STATIC",
    )?;
    let mut candidates: Vec<&Controller> = controllers.iter().collect();
    candidates.sort_by_key(|controller| controller.name_any());
    let Some(chosen) = candidates.first() else {
        return Err(InvalidSpec::new(
            "spec.clusterMode",
            format!(
                "clusterMode CONTROLLER needs the controllers that elect each group's master, and \
                 there is no Controller in the namespace {namespace}; create one there (kind: \
                 Controller) or use clusterMode STATIC"
            ),
        ));
    };
    if candidates.len() > 1 {
        warnings.push(Warning {
            reason: "SeveralControllers",
            message: format!(
                "the namespace has several Controllers; the brokers register with {} (the first \
                 by name)",
                chosen.name_any()
            ),
        });
    }
    let addresses = names::controller_addresses(chosen);
    if addresses.is_empty() {
        return Err(InvalidSpec::new(
            "spec.clusterMode",
            format!(
                "the Controller {} has size 0, so no controller can elect the masters; scale it up",
                chosen.name_any()
            ),
        ));
    }
    Ok(addresses.join(";"))
}

/// The labels that select every pod of the Broker named `broker`.
pub fn pod_selector(broker: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (labels::STRIMZI_KIND.to_string(), "Broker".to_string()),
        (labels::STRIMZI_CLUSTER.to_string(), broker.to_string()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::{
        broker_with, controller, controller_mode, example_broker, inputs, name_service,
        with_common_config,
    };

    #[test]
    fn a_group_whose_scale_in_is_held_keeps_running_with_a_warning() {
        let mut held = inputs();
        held.held_groups = BTreeMap::from([
            (1, "within the size".to_string()),
            (3, "broker-3 is kept: 5 messages".to_string()),
        ]);
        let model = validate(&example_broker(), &held).unwrap();
        assert_eq!(model.groups, [0, 1, 3]);
        let warnings: Vec<(&str, &str)> = model
            .warnings
            .iter()
            .map(|warning| (warning.reason, warning.message.as_str()))
            .collect();
        assert_eq!(warnings, [("ScaleInHeld", "broker-3 is kept: 5 messages")]);
    }

    #[test]
    fn the_issue_example_becomes_two_groups_of_master_and_replica() {
        let model = validate(&example_broker(), &inputs()).unwrap();
        assert_eq!(model.cluster, "broker");
        assert_eq!(model.groups, [0, 1]);
        let pods: Vec<String> = model.nodes().map(|node| model.pod_name(&node)).collect();
        assert_eq!(
            pods,
            [
                "broker-0-master-0",
                "broker-0-replica-1-0",
                "broker-1-master-0",
                "broker-1-replica-1-0"
            ]
        );
        assert_eq!(
            model.name_servers,
            "name-service-0.name-service.rocketmq.svc:9876"
        );
        assert_eq!(model.scale_source, "broker-0-master-0");
        assert_eq!(model.image, "apache/rocketmq:5.5.0");
        assert!(model.allow_restart);
        assert!(model.warnings.is_empty(), "{:?}", model.warnings);
        assert_eq!(
            model.node_of_pod("broker-1-replica-1-0"),
            Some(Node {
                group: 1,
                replica: 1
            })
        );
    }

    #[test]
    fn acl_2_on_an_image_older_than_5_3_is_refused() {
        let (mut broker, inputs) = with_common_config("authenticationEnabled=true\n");
        assert!(validate(&broker, &inputs).is_ok());
        broker.spec.broker_image = Some("apache/rocketmq:5.1.4".into());
        let error = validate(&broker, &inputs).unwrap_err();
        assert_eq!(error.field, "spec.brokerImage");
        assert!(
            error
                .message
                .starts_with("authenticationEnabled=true is ACL 2.0, which RocketMQ 5.1 lacks"),
            "{error}"
        );
        // Without ACL, older images run.
        let (mut plain, inputs) = with_common_config("flushDiskType=ASYNC_FLUSH\n");
        plain.spec.broker_image = Some("apache/rocketmq:4.9.7".into());
        assert!(validate(&plain, &inputs).is_ok());
    }

    #[test]
    fn image_tags_give_their_version() {
        assert_eq!(image_version("apache/rocketmq:5.1.4"), Some((5, 1)));
        assert_eq!(
            image_version("registry:5000/rocketmq:4.9.7-alpine"),
            Some((4, 9))
        );
        assert_eq!(image_version("registry:5000/rocketmq"), None);
        assert_eq!(image_version("apache/rocketmq:latest"), None);
    }

    #[test]
    fn more_brokers_than_the_cap_are_refused_without_building_them() {
        for (size, replicas) in [(1_000_000_000, 0), (1000, 1), (2, i32::MAX)] {
            let broker = broker_with(|spec| {
                spec.size = size;
                spec.replica_per_group = Some(replicas);
            });
            let error = validate(&broker, &inputs()).unwrap_err();
            assert_eq!(error.field, "spec.size");
            assert!(error.message.contains("more than the 1000"), "{error}");
        }
        let broker = broker_with(|spec| {
            spec.size = 500;
            spec.replica_per_group = Some(1);
        });
        assert_eq!(validate(&broker, &inputs()).unwrap().nodes().count(), 1000);
        // A neighbouring NameService's size cannot make the Broker list a billion name servers.
        let huge = BrokerInputs {
            name_services: vec![name_service("name-service", i32::MAX)],
            ..inputs()
        };
        let model = validate(&example_broker(), &huge).unwrap();
        assert_eq!(model.name_servers.split(';').count(), 1000);
    }

    #[test]
    fn listed_name_servers_are_normalized_and_checked() {
        let broker = broker_with(|spec| spec.name_servers = Some(" a:9876 ; b:9876;".into()));
        let model = validate(&broker, &BrokerInputs::default()).unwrap();
        assert_eq!(model.name_servers, "a:9876;b:9876");

        let broker = broker_with(|spec| spec.name_servers = Some("a:9876;b".into()));
        let error = validate(&broker, &BrokerInputs::default()).unwrap_err();
        assert_eq!(error.field, "spec.nameServers");
        assert!(error.message.contains("\"b\""));
    }

    #[test]
    fn an_empty_list_needs_a_name_service_in_the_namespace() {
        let error = validate(&example_broker(), &BrokerInputs::default()).unwrap_err();
        assert_eq!(error.field, "spec.nameServers");
        assert!(
            error.message.contains("create a NameService") && error.message.contains("rocketmq"),
            "{error}"
        );

        let only_empty = BrokerInputs {
            name_services: vec![name_service("name-service", 0)],
            ..BrokerInputs::default()
        };
        assert!(
            validate(&example_broker(), &only_empty)
                .unwrap_err()
                .message
                .contains("size 0")
        );

        let two = BrokerInputs {
            name_services: vec![name_service("zeta", 1), name_service("alpha", 2)],
            ..BrokerInputs::default()
        };
        let model = validate(&example_broker(), &two).unwrap();
        assert!(model.name_servers.starts_with("alpha-0.alpha."));
        assert_eq!(model.warnings[0].reason, "SeveralNameServices");
    }

    #[test]
    fn controller_mode_registers_with_the_namespaces_controller_on_rocketmq_5() {
        let (broker, with_controller) = controller_mode();
        let model = validate(&broker, &with_controller).unwrap();
        let controllers = model.controllers.unwrap();
        assert_eq!(
            controllers.split(';').collect::<Vec<_>>(),
            (0..3)
                .map(|i| format!("controller-{i}.controller-svc-headless.rocketmq.svc:9878"))
                .collect::<Vec<_>>()
        );
        assert!(model.warnings.is_empty(), "{:?}", model.warnings);

        let error = validate(&broker, &inputs()).unwrap_err();
        assert_eq!(error.field, "spec.clusterMode");
        assert!(
            error
                .message
                .contains("no Controller in the namespace rocketmq"),
            "{error}"
        );

        let mut two = with_controller.clone();
        two.controllers.push(controller("another", 1));
        let model = validate(&broker, &two).unwrap();
        assert!(
            model
                .controllers
                .unwrap()
                .starts_with("another-0.another-svc-headless.")
        );
        assert_eq!(model.warnings[0].reason, "SeveralControllers");

        let mut empty = with_controller.clone();
        empty.controllers = vec![controller("controller", 0)];
        let error = validate(&broker, &empty).unwrap_err();
        assert!(error.message.contains("size 0"), "{error}");

        let mut old = broker.clone();
        old.spec.broker_image = Some("apache/rocketmq:4.9.7".into());
        let error = validate(&old, &with_controller).unwrap_err();
        assert_eq!(error.field, "spec.brokerImage");
        assert!(error.message.contains("RocketMQ 4.9"), "{error}");
        let model = validate(&broker_with(|_| {}), &with_controller).unwrap();
        assert_eq!(model.controllers, None, "STATIC ignores the Controller");
    }

    #[test]
    fn a_foreign_scale_pod_is_a_warning() {
        let broker = broker_with(|spec| spec.scale_pod_name = Some("other-0-master-0".into()));
        let model = validate(&broker, &inputs()).unwrap();
        assert_eq!(model.scale_source, "broker-0-master-0");
        assert_eq!(model.warnings[0].reason, "InvalidScalePodName");

        let broker = broker_with(|spec| spec.scale_pod_name = Some("broker-1-master-0".into()));
        let model = validate(&broker, &inputs()).unwrap();
        assert_eq!(model.scale_source, "broker-1-master-0");
    }

    #[test]
    fn a_name_too_long_for_the_groups_it_makes_is_invalid() {
        // The longest name the CRD lets through fits the first groups, not group 10's replicas.
        let mut broker = broker_with(|spec| {
            spec.size = 10;
            spec.replica_per_group = Some(1);
        });
        broker.metadata.name = Some("b".repeat(40));
        assert!(validate(&broker, &inputs()).is_ok());
        broker.spec.size = 11;
        let error = validate(&broker, &inputs()).unwrap_err();
        assert_eq!(error.field, "metadata.name");
        let statefulset = format!("{}-10-replica-1", "b".repeat(40));
        assert!(
            error.message.starts_with(&format!(
                "StatefulSet {statefulset}: the name is 53 characters long, more than the 52"
            )),
            "{error}"
        );
        broker.metadata.name = Some("1broker".into());
        let error = validate(&broker, &inputs()).unwrap_err();
        assert!(
            error.message.starts_with(
                "Service 1broker-brokers: the name of a Service must start with a letter"
            ),
            "{error}"
        );
    }
}
