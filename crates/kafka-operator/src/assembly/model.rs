//! Validation: a Kafka and its KafkaNodePools become a fully defaulted model, or an error a person
//! can act on. Fields that are accepted but not implemented yet become warnings naming them.

use std::collections::{BTreeMap, BTreeSet};

use api::kafka::{
    JvmOptions, Kafka, KafkaAuthorizationType, KafkaListener, KafkaNodePool,
    ListenerAuthenticationType, ListenerConfiguration, ListenerType, Probe, ProcessRole,
    QuorumMode, Storage, StorageType, VolumeSettings, VolumeType, annotations::CLUSTER_LABEL,
};
use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use runtime::labels::{self, Labels};

use super::auto_rebalance;
use super::certificates;
use super::config::{self, UserConfig};
use super::config_map_key::ConfigMapKey;
use super::kafka_exporter::{self, KafkaExporter};
use super::listeners::{Authentication, ExternalAddresses, Listener};
use super::logging::{self, Logging};
use super::metrics::{self, METRICS_PORT, Metrics};
use super::names;
use super::node_ids::{self, IdRequest, NEXT_NODE_IDS_ANNOTATION, REMOVE_NODE_IDS_ANNOTATION};
use super::quorum::{self, ControllerQuorum};
use super::rack::{self, Rack};
use super::template::{self, PodTemplate, ServiceTemplates};
use super::versions::{self, Release};
use super::{entity_operator, legacy};
use operator_common::object_names;
use operator_common::pod_security::PodPolicy;
use operator_common::validation::{InvalidSpec, Warning};

/// What validation needs besides the resources themselves.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// The cluster ID to use when the Kafka's status has none yet (a new cluster); the caller
    /// generates it, so that validation stays free of randomness.
    pub new_cluster_id: String,
    /// The quorum mode kept volumes were formatted for, when the Kafka is re-created over them.
    pub kept_quorum: Option<QuorumMode>,
    pub external_addresses: ExternalAddresses,
    /// What the operator lets the pods be given.
    pub pods: PodPolicy,
}

/// A Kafka cluster, validated and defaulted: everything the builders need.
#[derive(Clone, Debug, PartialEq)]
pub struct KafkaModel {
    pub cluster: String,
    pub namespace: String,
    pub uid: String,
    pub cluster_id: String,
    pub release: Release,
    pub metadata_version: String,
    pub quorum: ControllerQuorum,
    pub image: String,
    pub listeners: Vec<Listener>,
    /// Sorted by name.
    pub pools: Vec<Pool>,
    pub authorization: Option<Authorization>,
    /// The user's `spec.kafka.config` without the keys the operator owns.
    pub config: UserConfig,
    /// How `spec.kafka.logging` asks the nodes to log.
    pub logging: Logging,
    /// The Prometheus exporter `spec.kafka.metricsConfig` asks for.
    pub metrics: Option<Metrics>,
    /// The exporter `spec.kafkaExporter` asks for.
    pub kafka_exporter: Option<KafkaExporter>,
    /// `spec.cruiseControl.autoRebalance` with `add-brokers`: added brokers get partitions.
    pub rebalance_on_scale_up: bool,
    /// Where each broker's rack comes from (`spec.kafka.rack`).
    pub rack: Option<Rack>,
    /// What `spec.kafka.template` adds to the Services.
    pub service_templates: ServiceTemplates,
    pub liveness_probe: Option<Probe>,
    pub readiness_probe: Option<Probe>,
    pub external_addresses: ExternalAddresses,
    pub warnings: Vec<Warning>,
}

/// Kafka's `simple` authorization: ACLs, plus principals that may do anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    /// As the user wrote them (`CN=admin`, `admin`), without the `User:` prefix.
    pub super_users: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pool {
    pub name: String,
    pub roles: Roles,
    /// Sorted and contiguous: the StatefulSet's ordinals.
    pub node_ids: Vec<i32>,
    pub volumes: Vec<DataVolume>,
    pub resources: Option<ResourceRequirements>,
    pub jvm_options: Option<JvmOptions>,
    /// The pool's `template`, field by field over the Kafka's.
    pub template: PodTemplate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles {
    pub broker: bool,
    pub controller: bool,
}

/// One Kafka node: a pod of a pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub pool: String,
    pub id: i32,
    pub roles: Roles,
}

/// One data volume of each node of a pool.
#[derive(Clone, Debug, PartialEq)]
pub struct DataVolume {
    /// The JBOD volume ID; `None` for single-volume storage.
    pub id: Option<i32>,
    pub kind: VolumeKind,
    /// Whether the KRaft metadata log lives here.
    pub kraft_metadata: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum VolumeKind {
    Ephemeral {
        size_limit: Option<String>,
    },
    PersistentClaim {
        size: String,
        class: Option<String>,
        /// The claim's VolumeAttributesClass.
        attributes_class: Option<String>,
        selector: Option<BTreeMap<String, String>>,
        /// Whether the claim goes when its node or the cluster does.
        delete_claim: bool,
    },
}

impl DataVolume {
    /// The pod volume and claim template name: `data`, or `data-<id>` for JBOD, so that claims
    /// are named `data-<pod>` and `data-<id>-<pod>` as Strimzi names them.
    pub fn name(&self) -> String {
        match self.id {
            Some(id) => format!("data-{id}"),
            None => "data".into(),
        }
    }

    pub fn mount_path(&self) -> String {
        format!("/var/lib/kafka/{}", self.name())
    }

    pub fn log_dir(&self, node_id: i32) -> String {
        format!("{}/kafka-log{node_id}", self.mount_path())
    }
}

impl Roles {
    /// Kafka's `process.roles`.
    pub fn process_roles(&self) -> &'static str {
        match (self.broker, self.controller) {
            (true, true) => "broker,controller",
            (false, true) => "controller",
            _ => "broker",
        }
    }
}

impl KafkaModel {
    pub fn nodes(&self) -> impl Iterator<Item = Node> + '_ {
        self.pools.iter().flat_map(|pool| {
            pool.node_ids.iter().map(|id| Node {
                pool: pool.name.clone(),
                id: *id,
                roles: pool.roles,
            })
        })
    }

    /// The controller quorum, by node ID.
    pub fn controllers(&self) -> Vec<Node> {
        let mut controllers: Vec<Node> =
            self.nodes().filter(|node| node.roles.controller).collect();
        controllers.sort_by_key(|node| node.id);
        controllers
    }

    pub fn pool(&self, name: &str) -> Option<&Pool> {
        self.pools.iter().find(|pool| pool.name == name)
    }

    /// The keys of the user's ConfigMaps the pods mount, with the field naming each.
    pub fn mounted_config_maps(&self) -> Vec<(&'static str, &ConfigMapKey)> {
        let mut mounted = Vec::new();
        if let Some(rules) = self.metrics.as_ref().and_then(Metrics::rules) {
            mounted.push(("spec.kafka.metricsConfig", rules));
        }
        if let Logging::External(file) = &self.logging {
            mounted.push(("spec.kafka.logging", file));
        }
        mounted
    }

    pub fn pod_name(&self, node: &Node) -> String {
        names::pod(&self.cluster, &node.pool, node.id)
    }

    /// Labels of a cluster-wide object named `name`.
    pub fn labels(&self, name: &str) -> Labels {
        Labels::new("Kafka", &self.cluster, name)
    }

    /// Labels of a pool's pods (and its StatefulSet and ConfigMap), as Strimzi labels them.
    pub fn pool_labels(&self, pool: &Pool) -> Labels {
        let flag = |on: bool| if on { "true" } else { "false" };
        self.labels(&names::kafka(&self.cluster))
            .with(labels::STRIMZI_POOL_NAME, &pool.name)
            .with(labels::STRIMZI_BROKER_ROLE, flag(pool.roles.broker))
            .with(labels::STRIMZI_CONTROLLER_ROLE, flag(pool.roles.controller))
    }

    /// The metadata of every object built for the cluster: namespaced, labelled, owned by the Kafka.
    pub fn metadata(&self, name: &str, labels: Labels) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some(self.namespace.clone()),
            labels: Some(labels.into_map()),
            owner_references: Some(vec![self.owner_reference()]),
            ..ObjectMeta::default()
        }
    }

    /// Selects the pods of every node of the cluster.
    pub fn node_selector(&self) -> BTreeMap<String, String> {
        self.labels(&names::kafka(&self.cluster)).selector()
    }

    /// Selects the pods of the broker nodes, which serve the client listeners.
    pub fn broker_selector(&self) -> BTreeMap<String, String> {
        let mut selector = self.node_selector();
        selector.insert(labels::STRIMZI_BROKER_ROLE.into(), "true".into());
        selector
    }

    /// Makes every object garbage-collected with the Kafka.
    pub fn owner_reference(&self) -> OwnerReference {
        OwnerReference {
            api_version: format!("{}/{}", api::kafka::GROUP, api::kafka::STORAGE_VERSION),
            kind: "Kafka".into(),
            name: self.cluster.clone(),
            uid: self.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

/// Turns a Kafka and the node pools of its namespace into a model. `pools` may hold pools of
/// other clusters; only those labelled `strimzi.io/cluster: <name>` are used. Node IDs already
/// assigned come from each pool's `status.nodeIds`, the cluster ID from the Kafka's status.
pub fn validate(
    kafka: &Kafka,
    pools: &[KafkaNodePool],
    inputs: &Inputs,
) -> Result<KafkaModel, InvalidSpec> {
    let cluster = kafka.metadata.name.clone().unwrap_or_default();
    let spec = &kafka.spec.kafka;
    let mut warnings = Vec::new();

    let mut pools: Vec<KafkaNodePool> = pools
        .iter()
        .filter(|pool| {
            let labels = pool.metadata.labels.as_ref();
            labels.and_then(|labels| labels.get(CLUSTER_LABEL)) == Some(&cluster)
        })
        .cloned()
        .collect();
    let implicit_pool = pools.is_empty();
    if implicit_pool {
        pools.push(legacy::implicit_pool(kafka, &cluster)?);
        warnings.extend(legacy::zookeeper_warning(kafka));
    }

    let release = resolve_version(spec.version.as_deref(), implicit_pool, &mut warnings)?;
    let metadata_version = resolve_metadata_version(kafka, release)?;
    let quorum = resolve_quorum(kafka, inputs, release, &metadata_version)?;
    check_certificate_authority(kafka.spec.cluster_ca.as_ref(), "spec.clusterCa")?;
    check_certificate_authority(kafka.spec.clients_ca.as_ref(), "spec.clientsCa")?;
    let listeners = validate_listeners(&spec.listeners, &mut warnings)?;
    let authorization = validate_authorization(kafka)?;
    let config = config::user_config(spec.config.as_ref(), &mut warnings)?;
    let logging = logging::logging(spec.logging.as_ref(), &mut warnings)?;
    let metrics = metrics::metrics(spec.metrics_config.as_ref(), &mut warnings)?;
    let rack = rack::rack(spec.rack.as_ref())?;
    let kafka_exporter =
        kafka_exporter::kafka_exporter(kafka.spec.kafka_exporter.as_ref(), &mut warnings)?;
    let rebalance_on_scale_up =
        auto_rebalance::on_scale_up(kafka.spec.cruise_control.as_ref(), &mut warnings)?;
    if let Some(index) =
        (metrics.as_ref()).and_then(|_| listeners.iter().position(|l| l.port == METRICS_PORT))
    {
        return Err(InvalidSpec::new(
            format!("spec.kafka.listeners[{index}].port"),
            format!(
                "port {METRICS_PORT} serves the metrics of spec.kafka.metricsConfig; pick another"
            ),
        ));
    }
    let kafka_template = template::template(
        spec.template.as_ref(),
        "spec.kafka.template",
        inputs.pods,
        &mut warnings,
    )?;
    let pools = validate_pools(
        kafka,
        &pools,
        &kafka_template.pod,
        inputs.pods,
        &mut warnings,
    )?;
    warn_unimplemented(kafka, &mut warnings);
    warnings.extend(entity_operator::warnings(kafka));
    if !implicit_pool {
        warn_ignored_by_node_pools(kafka, &mut warnings);
    }

    let model = KafkaModel {
        namespace: kafka.metadata.namespace.clone().unwrap_or_default(),
        uid: kafka.metadata.uid.clone().unwrap_or_default(),
        cluster_id: kafka
            .status
            .as_ref()
            .and_then(|status| status.cluster_id.clone())
            .unwrap_or_else(|| inputs.new_cluster_id.clone()),
        image: spec
            .image
            .clone()
            .unwrap_or_else(|| versions::default_image(release.version)),
        release,
        metadata_version,
        quorum,
        cluster,
        listeners,
        pools,
        authorization,
        config,
        logging,
        metrics,
        rack,
        kafka_exporter,
        rebalance_on_scale_up,
        service_templates: kafka_template.services,
        liveness_probe: spec.liveness_probe.clone(),
        readiness_probe: spec.readiness_probe.clone(),
        external_addresses: inputs.external_addresses.clone(),
        warnings,
    };
    check_object_names(&model)?;
    check_advertised_ports(&model)?;
    Ok(model)
}

/// The cluster's controller quorum; a dynamic one cannot be run by a release without it.
fn resolve_quorum(
    kafka: &Kafka,
    inputs: &Inputs,
    release: Release,
    metadata_version: &str,
) -> Result<ControllerQuorum, InvalidSpec> {
    let quorum = quorum::of(
        kafka.status.as_ref(),
        inputs.kept_quorum,
        release,
        metadata_version,
    );
    if quorum.mode() == QuorumMode::Dynamic && !quorum::supports_dynamic(release, metadata_version)
    {
        return Err(InvalidSpec::new(
            "spec.kafka.version",
            format!(
                "the controller quorum is dynamic (KIP-853), which Kafka {} on metadata version \
                 {metadata_version} cannot run; use Kafka 4.1 or later and metadata version \
                 3.9-IV0 or later",
                release.version
            ),
        ));
    }
    Ok(quorum)
}

/// Every broker's port from an `advertisedPortTemplate` is a port.
fn check_advertised_ports(model: &KafkaModel) -> Result<(), InvalidSpec> {
    for (index, listener) in model.listeners.iter().enumerate() {
        for node in model.nodes().filter(|node| node.roles.broker) {
            listener
                .templated_port(node.id, &model.pod_name(&node))
                .map_err(|problem| {
                    InvalidSpec::new(
                        format!(
                            "spec.kafka.listeners[{index}].configuration.advertisedPortTemplate"
                        ),
                        problem,
                    )
                })?;
        }
    }
    Ok(())
}

/// Every object the cluster gets, its pods and the Secrets of its certificates, named and
/// labelled as Kubernetes accepts: the names of the Kafka, its pools and its listeners make
/// theirs, and only together can they be too long.
fn check_object_names(model: &KafkaModel) -> Result<(), InvalidSpec> {
    let mut objects = super::Desired::build(model).to_json();
    let content = certs::SecretContent::default();
    objects.extend(certificates::certificate_secrets(model).iter().map(|name| {
        serde_json::to_value(certificates::build_secret(model, name, &content, true))
            .expect("a Secret serializes")
    }));
    object_names::check(&objects).map_err(|problem| {
        InvalidSpec::new(
            "metadata.name",
            format!(
                "{problem}; the names of the Kafka, its KafkaNodePools and its listeners make \
                 that name, so shorten or change them"
            ),
        )
    })
}

/// The metadata version to run: the one asked for, else the newest the release knows. It must
/// be one the release can format its storage with and run, and never older than what the
/// cluster already runs (`status.kafkaMetadataVersion`): KRaft metadata is not downgraded.
fn resolve_metadata_version(kafka: &Kafka, release: Release) -> Result<String, InvalidSpec> {
    let newest = release.metadata_version;
    let oldest = release.oldest_metadata_version();
    let running = kafka
        .status
        .as_ref()
        .and_then(|status| status.kafka_metadata_version.as_deref())
        .and_then(|running| versions::level(running).map(|level| (running, level)));
    if let Some((running, level)) = running
        && versions::level(newest).is_some_and(|newest| newest < level)
    {
        let fits = versions::oldest_release_running(level)
            .map(|fits| format!("; keep Kafka {} or newer", fits.version))
            .unwrap_or_default();
        return Err(InvalidSpec::new(
            "spec.kafka.version",
            format!(
                "Kafka {} cannot run metadata version {running}, which the cluster runs already, \
                 and a metadata version is never downgraded{fits}",
                release.version
            ),
        ));
    }
    let Some(requested) = &kafka.spec.kafka.metadata_version else {
        return Ok(newest.to_string());
    };
    let invalid = |problem: String| {
        InvalidSpec::new(
            "spec.kafka.metadataVersion",
            format!("{problem}; use one from {oldest} to {newest}, or leave it out for {newest}"),
        )
    };
    let Some(level) = release.metadata_level(requested) else {
        let parse = versions::parse_metadata_version;
        return Err(invalid(match parse(requested) {
            None => format!("{requested:?} is not a metadata version such as {newest}"),
            Some(parsed) if parse(newest).is_some_and(|newest| parsed > newest) => {
                format!("{requested} is newer than Kafka {} knows", release.version)
            }
            Some(parsed) if parse(oldest).is_some_and(|oldest| parsed < oldest) => format!(
                "{requested} is older than a KRaft cluster of Kafka {} may run",
                release.version
            ),
            Some(_) => format!(
                "Kafka {} knows no metadata version {requested}",
                release.version
            ),
        }));
    };
    if versions::level(oldest).is_some_and(|oldest| level < oldest) {
        return Err(invalid(format!(
            "{requested} is older than a KRaft cluster of Kafka {} may run",
            release.version
        )));
    }
    if let Some((running, running_level)) = running
        && level < running_level
    {
        return Err(invalid(format!(
            "{requested} is older than the {running} the cluster runs already, and a metadata \
             version is never downgraded"
        )));
    }
    Ok(requested.clone())
}

/// The schema refuses a renewal period as long as the validity, for resources written since it
/// does: such a CA (and every certificate it signs) would be renewed, and every node restarted,
/// at each reconciliation.
fn check_certificate_authority(
    spec: Option<&api::kafka::CertificateAuthority>,
    field: &str,
) -> Result<(), InvalidSpec> {
    let config = certificates::ca_config(spec);
    if config.renewal_days < config.validity_days {
        return Ok(());
    }
    Err(InvalidSpec::new(
        format!("{field}.renewalDays"),
        format!(
            "a renewal period of {} days is not shorter than the validity of {} days, so the \
             certificates would be renewed and every node restarted at each reconciliation; \
             make renewalDays less than validityDays",
            config.renewal_days, config.validity_days
        ),
    ))
}

/// The release to run: the one asked for, else the newest. A ZooKeeper-era resource (no node
/// pools) naming a release older than any the operator runs gets the oldest, with a warning:
/// its brokers never ran KRaft, so there is no metadata to be too new for.
fn resolve_version(
    requested: Option<&str>,
    zookeeper_era: bool,
    warnings: &mut Vec<Warning>,
) -> Result<Release, InvalidSpec> {
    let Some(requested) = requested else {
        return Ok(versions::newest());
    };
    if let Some(release) = versions::find(requested) {
        return Ok(release);
    }
    let oldest = versions::oldest();
    let older = versions::parse_version(requested)
        .zip(versions::parse_version(oldest.version))
        .is_some_and(|(requested, oldest)| requested < oldest);
    if zookeeper_era && older {
        warnings.push(Warning {
            reason: "KafkaVersion",
            message: format!(
                "spec.kafka.version: Kafka {requested} has no KRaft image; the cluster runs Kafka \
                 {}, the oldest supported release",
                oldest.version
            ),
        });
        return Ok(oldest);
    }
    let supported: Vec<&str> = versions::RELEASES.iter().map(|r| r.version).collect();
    Err(InvalidSpec::new(
        "spec.kafka.version",
        format!(
            "Kafka {requested} is not supported; use one of {}",
            supported.join(", ")
        ),
    ))
}

fn validate_listeners(
    listeners: &[KafkaListener],
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Listener>, InvalidSpec> {
    let mut names = BTreeSet::new();
    let mut ports = BTreeSet::new();
    let mut valid = Vec::new();
    for (index, listener) in listeners.iter().enumerate() {
        let field = format!("spec.kafka.listeners[{index}]");
        if !names.insert(&listener.name) {
            return Err(InvalidSpec::new(
                format!("{field}.name"),
                format!(
                    "listener name {} is used twice; names must be unique",
                    listener.name
                ),
            ));
        }
        if !ports.insert(listener.port) {
            return Err(InvalidSpec::new(
                format!("{field}.port"),
                format!("port {} is used twice; ports must be unique", listener.port),
            ));
        }
        match listener.type_ {
            ListenerType::Route => {
                return Err(InvalidSpec::new(
                    format!("{field}.type"),
                    "type route needs OpenShift Routes, which Brokerage does not create; use type \
                     nodeport or loadbalancer to reach Kafka from outside Kubernetes",
                ));
            }
            ListenerType::Ingress => {
                warnings.push(Warning {
                    reason: "UnsupportedField",
                    message: format!(
                        "{field}.type: ingress listeners are not implemented yet; listener {} is not exposed",
                        listener.name
                    ),
                });
                continue;
            }
            ListenerType::TlsRoute => {
                warnings.push(Warning {
                    reason: "NotSupported",
                    message: format!(
                        "{field}.type: tlsroute listeners need Gateway API TLSRoutes, which Brokerage \
                         does not create yet; listener {} is not exposed (use nodeport or \
                         loadbalancer to reach Kafka from outside Kubernetes)",
                        listener.name
                    ),
                });
                continue;
            }
            _ => {}
        }
        let authentication = match listener.authentication.as_ref().map(|auth| auth.type_) {
            None => None,
            Some(ListenerAuthenticationType::Tls) if !listener.tls => {
                return Err(InvalidSpec::new(
                    format!("{field}.authentication.type"),
                    "authentication type tls requires tls: true",
                ));
            }
            Some(ListenerAuthenticationType::Tls) => Some(Authentication::Tls),
            Some(ListenerAuthenticationType::ScramSha512) => Some(Authentication::ScramSha512),
            Some(other) => {
                // Exposing the listener without the authentication the user asked for would
                // open it to everyone, so it is left out instead.
                let name = if other == ListenerAuthenticationType::OAuth {
                    "oauth"
                } else {
                    "custom"
                };
                warnings.push(Warning {
                    reason: "UnsupportedField",
                    message: format!(
                        "{field}.authentication.type: {name} authentication is not implemented yet; \
                         listener {} is not exposed",
                        listener.name
                    ),
                });
                continue;
            }
        };
        let configuration = listener.configuration.clone().unwrap_or_default();
        warn_unimplemented_listener_configuration(&field, &configuration, warnings);
        valid.push(Listener {
            name: listener.name.clone(),
            port: listener.port,
            type_: listener.type_,
            tls: listener.tls,
            authentication,
            configuration,
            network_policy_peers: listener.network_policy_peers.clone().unwrap_or_default(),
        });
    }
    Ok(valid)
}

fn warn_unimplemented_listener_configuration(
    field: &str,
    configuration: &ListenerConfiguration,
    warnings: &mut Vec<Warning>,
) {
    let unimplemented = [
        (
            "brokerCertChainAndKey",
            configuration.broker_cert_chain_and_key.is_some(),
        ),
        (
            "preferredNodePortAddressType",
            configuration.preferred_node_port_address_type.is_some(),
        ),
        (
            "useServiceDnsDomain",
            configuration.use_service_dns_domain.is_some(),
        ),
        (
            "createBootstrapService",
            configuration.create_bootstrap_service == Some(false),
        ),
        ("hostTemplate", configuration.host_template.is_some()),
    ];
    for (name, _) in unimplemented.iter().filter(|(_, set)| *set) {
        warnings.push(Warning::not_implemented(&format!(
            "{field}.configuration.{name}"
        )));
    }
}

fn validate_authorization(kafka: &Kafka) -> Result<Option<Authorization>, InvalidSpec> {
    let Some(authorization) = &kafka.spec.kafka.authorization else {
        return Ok(None);
    };
    match authorization.type_ {
        KafkaAuthorizationType::Simple => Ok(Some(Authorization {
            super_users: authorization.super_users.clone().unwrap_or_default(),
        })),
        // Running without the authorizer the user asked for would allow everything.
        other => Err(InvalidSpec::new(
            "spec.kafka.authorization.type",
            format!(
                "{} authorization is not supported yet; use type simple",
                match other {
                    KafkaAuthorizationType::Opa => "opa",
                    KafkaAuthorizationType::Keycloak => "keycloak",
                    _ => "custom",
                }
            ),
        )),
    }
}

fn validate_pools(
    kafka: &Kafka,
    pools: &[KafkaNodePool],
    kafka_template: &PodTemplate,
    pod_policy: PodPolicy,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Pool>, InvalidSpec> {
    let mut requests = Vec::new();
    let mut validated = Vec::new();
    for pool in pools {
        let name = pool.metadata.name.clone().unwrap_or_default();
        let field = |path: &str| format!("KafkaNodePool {name}: {path}");
        if pool.spec.roles.is_empty() {
            return Err(InvalidSpec::new(
                field("spec.roles"),
                "give the pool the controller role, the broker role or both",
            ));
        }
        let roles = Roles {
            broker: pool.spec.has_role(ProcessRole::Broker),
            controller: pool.spec.has_role(ProcessRole::Controller),
        };
        let annotations = pool.metadata.annotations.clone().unwrap_or_default();
        if annotations.contains_key(REMOVE_NODE_IDS_ANNOTATION) {
            warnings.push(Warning {
                reason: "UnsupportedField",
                message: format!(
                    "{}: a pool scales down from its highest node ID and the annotation is ignored",
                    field(&format!(
                        "metadata.annotations[{REMOVE_NODE_IDS_ANNOTATION}]"
                    ))
                ),
            });
        }
        let pool_template = template::template(
            pool.spec.template.as_ref(),
            &field("spec.template"),
            pod_policy,
            warnings,
        )?;
        if pool_template.services != ServiceTemplates::default() {
            warnings.push(Warning {
                reason: "UnsupportedField",
                message: format!(
                    "{}: the Services' metadata is taken from the Kafka's spec.kafka.template \
                     only, and is ignored here",
                    field("spec.template")
                ),
            });
        }
        let template = pool_template.pod.or(kafka_template.clone());
        requests.push(IdRequest {
            pool: name.clone(),
            replicas: pool.spec.replicas,
            has_controller_role: roles.controller,
            existing: pool
                .status
                .as_ref()
                .and_then(|status| status.node_ids.clone())
                .unwrap_or_default(),
            next_node_ids: annotations.get(NEXT_NODE_IDS_ANNOTATION).cloned(),
        });
        validated.push(Pool {
            volumes: validate_storage(&pool.spec.storage, &field("spec.storage"), warnings)?,
            resources: pool
                .spec
                .resources
                .clone()
                .or_else(|| kafka.spec.kafka.resources.clone()),
            jvm_options: pool
                .spec
                .jvm_options
                .clone()
                .or_else(|| kafka.spec.kafka.jvm_options.clone()),
            name,
            roles,
            node_ids: Vec::new(),
            template,
        });
    }

    let mut assigned = node_ids::assign(&requests)?;
    for pool in &mut validated {
        pool.node_ids = assigned.remove(&pool.name).unwrap_or_default();
    }
    validated.sort_by(|a, b| a.name.cmp(&b.name));

    let running = |role: fn(&Roles) -> bool| {
        validated
            .iter()
            .any(|pool| role(&pool.roles) && !pool.node_ids.is_empty())
    };
    if !running(|roles| roles.controller) {
        return Err(InvalidSpec::new(
            "KafkaNodePool",
            "no node has the controller role; a KRaft cluster needs at least one controller",
        ));
    }
    if !running(|roles| roles.broker) {
        return Err(InvalidSpec::new(
            "KafkaNodePool",
            "no node has the broker role; a cluster needs at least one broker",
        ));
    }
    Ok(validated)
}

fn validate_storage(
    storage: &Storage,
    field: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<DataVolume>, InvalidSpec> {
    let volumes = match storage.type_ {
        StorageType::Ephemeral => vec![ephemeral(None, &storage.volume)],
        StorageType::PersistentClaim => vec![persistent_claim(None, &storage.volume, field)?],
        StorageType::Jbod => {
            let disks = storage.volumes.as_deref().unwrap_or_default();
            if disks.is_empty() {
                return Err(InvalidSpec::new(
                    format!("{field}.volumes"),
                    "jbod storage needs at least one volume",
                ));
            }
            let mut ids = BTreeSet::new();
            let mut volumes = Vec::new();
            for (index, disk) in disks.iter().enumerate() {
                let disk_field = format!("{field}.volumes[{index}]");
                let Some(id) = disk.volume.id else {
                    return Err(InvalidSpec::new(
                        format!("{disk_field}.id"),
                        "every jbod volume needs an id; it names the volume's claim",
                    ));
                };
                if !ids.insert(id) {
                    return Err(InvalidSpec::new(
                        format!("{disk_field}.id"),
                        format!("volume id {id} is used twice"),
                    ));
                }
                volumes.push(match disk.type_ {
                    VolumeType::Ephemeral => ephemeral(Some(id), &disk.volume),
                    VolumeType::PersistentClaim => {
                        persistent_claim(Some(id), &disk.volume, &disk_field)?
                    }
                });
                if disk.volume.overrides.is_some() {
                    warnings.push(Warning::not_implemented(&format!("{disk_field}.overrides")));
                }
            }
            volumes
        }
    };
    if storage.volume.overrides.is_some() {
        warnings.push(Warning::not_implemented(&format!("{field}.overrides")));
    }
    if volumes
        .iter()
        .filter(|volume| volume.kraft_metadata)
        .count()
        > 1
    {
        return Err(InvalidSpec::new(
            field,
            "kraftMetadata: shared may be set on one volume only",
        ));
    }
    Ok(volumes)
}

fn ephemeral(id: Option<i32>, settings: &VolumeSettings) -> DataVolume {
    DataVolume {
        id,
        kind: VolumeKind::Ephemeral {
            size_limit: settings.size_limit.clone(),
        },
        kraft_metadata: settings.kraft_metadata.is_some(),
    }
}

fn persistent_claim(
    id: Option<i32>,
    settings: &VolumeSettings,
    field: &str,
) -> Result<DataVolume, InvalidSpec> {
    let size = settings.size.clone().ok_or_else(|| {
        InvalidSpec::new(
            format!("{field}.size"),
            "persistent-claim storage needs a size, such as 100Gi",
        )
    })?;
    // Kubernetes refuses a claim of no bytes, and anything but a quantity.
    let quantity = k8s_openapi::apimachinery::pkg::api::resource::Quantity(size.clone());
    if operator_common::quantity::bytes(&quantity).is_none_or(|bytes| bytes == 0) {
        return Err(InvalidSpec::new(
            format!("{field}.size"),
            format!("{size:?} is not a size a volume can have, such as 100Gi"),
        ));
    }
    Ok(DataVolume {
        id,
        kind: VolumeKind::PersistentClaim {
            size,
            class: settings.class.clone(),
            attributes_class: settings.volume_attributes_class.clone(),
            selector: settings.selector.clone(),
            delete_claim: settings.delete_claim.unwrap_or(false),
        },
        kraft_metadata: settings.kraft_metadata.is_some(),
    })
}

/// Sections Brokerage accepts, so that Strimzi manifests apply, but does not act on yet.
fn warn_unimplemented(kafka: &Kafka, warnings: &mut Vec<Warning>) {
    let spec = &kafka.spec;
    let cluster = &spec.kafka;
    let unimplemented = [
        (
            "spec.kafka.brokerRackInitImage",
            cluster.broker_rack_init_image.is_some(),
        ),
        ("spec.kafka.jmxOptions", cluster.jmx_options.is_some()),
        ("spec.kafka.tieredStorage", cluster.tiered_storage.is_some()),
        ("spec.kafka.quotas", cluster.quotas.is_some()),
        ("spec.jmxTrans", spec.jmx_trans.is_some()),
        (
            "spec.maintenanceTimeWindows",
            spec.maintenance_time_windows.is_some(),
        ),
    ];
    for (field, _) in unimplemented.iter().filter(|(_, set)| *set) {
        warnings.push(Warning::not_implemented(field));
    }
}

/// With node pools, the ZooKeeper-era node fields have no effect.
fn warn_ignored_by_node_pools(kafka: &Kafka, warnings: &mut Vec<Warning>) {
    let spec = &kafka.spec;
    let ignored = [
        ("spec.kafka.replicas", spec.kafka.replicas.is_some()),
        ("spec.kafka.storage", spec.kafka.storage.is_some()),
        ("spec.zookeeper", spec.zookeeper.is_some()),
    ];
    for (field, _) in ignored.iter().filter(|(_, set)| *set) {
        warnings.push(Warning {
            reason: "IgnoredField",
            message: format!(
                "{field} is ignored: the cluster's nodes come from its KafkaNodePools"
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::{example, example_model, inputs, parse};

    const SINGLE_NODE: &str = r#"
apiVersion: kafka.strimzi.io/v1
kind: KafkaNodePool
metadata: {name: dual, labels: {strimzi.io/cluster: c}}
spec: {replicas: 1, roles: [controller, broker], storage: {type: ephemeral}}
---
apiVersion: kafka.strimzi.io/v1
kind: Kafka
metadata: {name: c}
spec:
  kafka:
    listeners:
      - {name: plain, port: 9092, type: internal, tls: false}
"#;

    fn validate_text(text: &str) -> Result<KafkaModel, InvalidSpec> {
        let (kafka, pools) = parse(text);
        validate(&kafka, &pools, &inputs())
    }

    fn invalid(text: &str) -> InvalidSpec {
        validate_text(text).expect_err("the spec is invalid")
    }

    #[test]
    fn examples_validate_with_defaults() {
        let model = example_model("ephemeral-single-node");
        assert_eq!(model.cluster, "my-cluster");
        assert_eq!(model.namespace, "kafka");
        assert_eq!(model.release.version, "4.4.0");
        assert_eq!(model.metadata_version, "4.4-IV2");
        assert_eq!(model.image, "apache/kafka:4.4.0");
        assert_eq!(model.cluster_id, "AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(model.pools[0].node_ids, [0]);
        assert!(model.warnings.is_empty(), "{:?}", model.warnings);

        let model = example_model("persistent-dual-pool");
        let ids: Vec<(&str, &[i32])> = model
            .pools
            .iter()
            .map(|pool| (pool.name.as_str(), pool.node_ids.as_slice()))
            .collect();
        assert_eq!(
            ids,
            [("broker", &[3, 4, 5][..]), ("controller", &[0, 1, 2][..])]
        );
        assert_eq!(model.pools[0].volumes[0].name(), "data-0");
        assert_eq!(model.pools[1].volumes[0].name(), "data");

        let model = example_model("tls-scram-listeners");
        assert_eq!(model.listeners.len(), 3);
        assert_eq!(
            model.authorization.unwrap().super_users,
            ["CN=admin", "admin"]
        );
    }

    #[test]
    fn the_cluster_id_and_node_ids_come_from_the_status() {
        let (mut kafka, mut pools) = example("persistent-dual-pool");
        kafka.status = Some(api::kafka::KafkaStatus {
            cluster_id: Some("existing".into()),
            ..Default::default()
        });
        for pool in &mut pools {
            let existing = if pool.metadata.name.as_deref() == Some("broker") {
                vec![10, 11, 12]
            } else {
                vec![20, 21, 22]
            };
            pool.status = Some(api::kafka::KafkaNodePoolStatus {
                node_ids: Some(existing),
                ..Default::default()
            });
        }
        let model = validate(&kafka, &pools, &inputs()).unwrap();
        assert_eq!(model.cluster_id, "existing");
        assert_eq!(model.pool("broker").unwrap().node_ids, [10, 11, 12]);
        assert_eq!(model.pool("controller").unwrap().node_ids, [20, 21, 22]);
    }

    #[test]
    fn a_dynamic_quorum_is_kept_and_never_run_by_a_release_without_it() {
        let (mut kafka, pools) = example("persistent-dual-pool");
        let model = validate(&kafka, &pools, &inputs()).unwrap();
        assert_eq!(model.quorum, ControllerQuorum::Dynamic { formed: false });
        kafka.status = Some(api::kafka::KafkaStatus {
            cluster_id: Some("existing".into()),
            controller_quorum: Some(api::kafka::ControllerQuorumStatus {
                mode: QuorumMode::Dynamic,
                voters: Some(vec![0, 1, 2]),
            }),
            ..Default::default()
        });
        kafka.spec.kafka.version = Some("4.0.0".into());
        let error = validate(&kafka, &pools, &inputs()).unwrap_err();
        assert_eq!(error.field, "spec.kafka.version");
        assert!(
            error.message.contains("Kafka 4.1 or later"),
            "{}",
            error.message
        );
    }

    #[test]
    fn pools_of_other_clusters_are_left_out() {
        let text = SINGLE_NODE.replace("metadata: {name: c}", "metadata: {name: other}");
        let error = invalid(&text);
        assert_eq!(error.field, "KafkaNodePool");
        assert!(
            error
                .message
                .contains("no KafkaNodePool labelled strimzi.io/cluster=other")
        );
    }

    #[test]
    fn unknown_versions_are_refused_listing_the_supported_ones() {
        let error = invalid(&SINGLE_NODE.replace("  kafka:\n", "  kafka:\n    version: 3.1.0\n"));
        assert_eq!(
            error.to_string(),
            "spec.kafka.version: Kafka 3.1.0 is not supported; use one of 3.9.0, 3.9.1, 3.9.2, \
             4.0.0, 4.0.1, 4.0.2, 4.1.0, 4.1.1, 4.1.2, 4.2.0, 4.2.1, 4.2.2, 4.3.0, 4.3.1, 4.3.2, \
             4.4.0"
        );
    }

    #[test]
    fn metadata_versions_are_those_kafka_can_format_with() {
        let with = |metadata: &str| {
            SINGLE_NODE.replace(
                "  kafka:\n",
                &format!("  kafka:\n    version: 4.0.0\n    metadataVersion: {metadata:?}\n"),
            )
        };
        for accepted in ["4.0-IV3", "4.0", "3.3-IV3", "3.9"] {
            assert_eq!(
                validate_text(&with(accepted)).unwrap().metadata_version,
                accepted
            );
        }
        let error = invalid(&with("4.1-IV1"));
        assert_eq!(
            error.to_string(),
            "spec.kafka.metadataVersion: 4.1-IV1 is newer than Kafka 4.0.0 knows; use one from \
             3.3-IV3 to 4.0-IV3, or leave it out for 4.0-IV3"
        );
        assert!(
            invalid(&with("3.3-IV2"))
                .message
                .starts_with("3.3-IV2 is older than")
        );
        for garbage in ["garbage", "4.0-IV", "4.-IV1", "4.0-iv3", "4.0.1"] {
            let error = invalid(&with(garbage));
            assert!(
                error
                    .message
                    .contains("is not a metadata version such as 4.0-IV3"),
                "{garbage}"
            );
        }
    }

    #[test]
    fn metadata_versions_never_move_back() {
        let running = |version: &str, metadata: Option<&str>, status: &str| {
            let mut text =
                SINGLE_NODE.replace("  kafka:\n", &format!("  kafka:\n    version: {version}\n"));
            if let Some(metadata) = metadata {
                text = text.replace(
                    "  kafka:\n",
                    &format!("  kafka:\n    metadataVersion: {metadata:?}\n"),
                );
            }
            let (mut kafka, pools) = parse(&text);
            kafka.status = Some(api::kafka::KafkaStatus {
                kafka_metadata_version: Some(status.into()),
                ..Default::default()
            });
            validate(&kafka, &pools, &inputs())
        };
        // An upgrade moves the metadata version to the new release's unless one is asked for.
        assert_eq!(
            running("4.4.0", None, "3.9-IV0").unwrap().metadata_version,
            "4.4-IV2"
        );
        assert_eq!(
            running("4.4.0", Some("4.1-IV1"), "3.9-IV0")
                .unwrap()
                .metadata_version,
            "4.1-IV1"
        );
        // A downgrade to a release that cannot run the cluster's metadata is refused.
        let error = running("4.0.2", None, "4.1-IV1").unwrap_err();
        assert_eq!(
            error.to_string(),
            "spec.kafka.version: Kafka 4.0.2 cannot run metadata version 4.1-IV1, which the \
             cluster runs already, and a metadata version is never downgraded; keep Kafka 4.1.0 \
             or newer"
        );
        // A downgrade that keeps the metadata version is a roll like any other.
        assert_eq!(
            running("4.1.0", Some("4.1-IV1"), "4.1-IV1")
                .unwrap()
                .release
                .version,
            "4.1.0"
        );
        let error = running("4.4.0", Some("4.0"), "4.1-IV1").unwrap_err();
        assert_eq!(error.field, "spec.kafka.metadataVersion");
        assert!(
            error
                .message
                .starts_with("4.0 is older than the 4.1-IV1 the cluster runs already")
        );
    }

    #[test]
    fn a_ca_renewed_as_often_as_it_is_valid_is_refused() {
        let with =
            |ca: &str| SINGLE_NODE.replace("spec:\n  kafka:", &format!("spec:\n  {ca}\n  kafka:"));
        assert!(validate_text(&with("clusterCa: {validityDays: 31}")).is_ok());
        let error = invalid(&with("clusterCa: {validityDays: 30}"));
        assert_eq!(error.field, "spec.clusterCa.renewalDays");
        assert!(error.message.starts_with(
            "a renewal period of 30 days is not shorter than the validity of 30 days"
        ));
        let error = invalid(&with("clientsCa: {renewalDays: 400}"));
        assert_eq!(error.field, "spec.clientsCa.renewalDays");
    }

    #[test]
    fn names_that_make_names_kubernetes_refuses_are_invalid() {
        let rename = |kafka: &str, pool: &str| {
            SINGLE_NODE
                .replace(
                    "metadata: {name: c}",
                    &format!("metadata: {{name: {kafka}}}"),
                )
                .replace(
                    "strimzi.io/cluster: c",
                    &format!("strimzi.io/cluster: {kafka}"),
                )
                .replace("name: dual,", &format!("name: {pool},"))
        };
        // The longest name the CRD lets through works with a short pool name.
        let forty = "k".repeat(40);
        assert!(validate_text(&rename(&forty, "p")).is_ok());
        let error = invalid(&rename(&forty, &"p".repeat(12)));
        assert_eq!(error.field, "metadata.name");
        assert!(
            error.message.starts_with(&format!(
                "StatefulSet {forty}-pppppppppppp: the name is 53 characters long, more than the 52"
            )),
            "{}",
            error.message
        );
        assert!(error.message.ends_with("so shorten or change them"));
        let error = invalid(&rename("1st", "p"));
        assert!(
            error.message.starts_with(
                "Service 1st-kafka-bootstrap: the name of a Service must start with a letter"
            ),
            "{}",
            error.message
        );
    }

    #[test]
    fn invalid_listeners_are_refused() {
        let with_listener = |listener: &str| {
            SINGLE_NODE.replace(
                "      - {name: plain, port: 9092, type: internal, tls: false}\n",
                &format!("      - {{name: plain, port: 9092, type: internal, tls: false}}\n      - {listener}\n"),
            )
        };
        let error = invalid(&with_listener(
            "{name: tls, port: 9093, type: internal, tls: false, authentication: {type: tls}}",
        ));
        assert_eq!(
            error.to_string(),
            "spec.kafka.listeners[1].authentication.type: authentication type tls requires tls: true"
        );
        let error = invalid(&with_listener(
            "{name: ext, port: 9094, type: route, tls: true}",
        ));
        assert_eq!(error.field, "spec.kafka.listeners[1].type");
        let error = invalid(&with_listener(
            "{name: plain, port: 9094, type: internal, tls: false}",
        ));
        assert_eq!(error.field, "spec.kafka.listeners[1].name");
        let error = invalid(&with_listener(
            "{name: other, port: 9092, type: internal, tls: false}",
        ));
        assert_eq!(error.field, "spec.kafka.listeners[1].port");
    }

    #[test]
    fn unimplemented_listeners_are_skipped_with_a_warning() {
        let text = SINGLE_NODE.replace(
            "      - {name: plain, port: 9092, type: internal, tls: false}\n",
            "      - {name: plain, port: 9092, type: internal, tls: false}\n      \
             - {name: ing, port: 9093, type: ingress, tls: true}\n      \
             - {name: oauth, port: 9094, type: internal, tls: false, authentication: {type: oauth}}\n",
        );
        let model = validate_text(&text).unwrap();
        assert_eq!(model.listeners.len(), 1);
        let messages: Vec<&str> = model.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "spec.kafka.listeners[1].type: ingress listeners are not implemented yet; listener ing is not exposed",
                "spec.kafka.listeners[2].authentication.type: oauth authentication is not implemented yet; listener oauth is not exposed",
            ]
        );
    }

    #[test]
    fn roles_must_cover_controllers_and_brokers() {
        let error = invalid(&SINGLE_NODE.replace("roles: [controller, broker]", "roles: [broker]"));
        assert!(error.message.contains("no node has the controller role"));
        let error =
            invalid(&SINGLE_NODE.replace("roles: [controller, broker]", "roles: [controller]"));
        assert!(error.message.contains("no node has the broker role"));
        let error = invalid(&SINGLE_NODE.replace("replicas: 1", "replicas: 0"));
        assert!(error.message.contains("no node has the controller role"));
        let error = invalid(&SINGLE_NODE.replace("roles: [controller, broker]", "roles: []"));
        assert_eq!(error.field, "KafkaNodePool dual: spec.roles");
    }

    #[test]
    fn storage_must_be_complete() {
        let error = invalid(&SINGLE_NODE.replace("{type: ephemeral}", "{type: persistent-claim}"));
        assert_eq!(error.field, "KafkaNodePool dual: spec.storage.size");
        let error = invalid(&SINGLE_NODE.replace(
            "{type: ephemeral}",
            "{type: jbod, volumes: [{type: persistent-claim, size: 1Gi}]}",
        ));
        assert_eq!(
            error.field,
            "KafkaNodePool dual: spec.storage.volumes[0].id"
        );
        let error = invalid(&SINGLE_NODE.replace("{type: ephemeral}", "{type: jbod, volumes: []}"));
        assert_eq!(error.field, "KafkaNodePool dual: spec.storage.volumes");
        for size in ["0", "0Gi", "lots"] {
            let claim = format!("{{type: persistent-claim, size: \"{size}\"}}");
            let error = invalid(&SINGLE_NODE.replace("{type: ephemeral}", &claim));
            assert_eq!(
                error.field, "KafkaNodePool dual: spec.storage.size",
                "{size}"
            );
        }
    }

    #[test]
    fn a_rack_sets_each_brokers_rack_from_its_variable() {
        let with = |rack: &str| {
            SINGLE_NODE.replace("  kafka:\n", &format!("  kafka:\n    rack: {rack}\n"))
        };
        let rack_of = |text: &str| {
            let model = validate_text(text).unwrap();
            let node = model.nodes().next().unwrap();
            super::super::broker_config::build_server_properties(&model, &node)
                .lines()
                .find_map(|line| line.strip_prefix("broker.rack=").map(String::from))
        };
        let env = with("{type: environment-variable, envVarName: ZONE}");
        assert_eq!(rack_of(&env).as_deref(), Some("${env:ZONE}"));
        let zone = with("{topologyKey: topology.kubernetes.io/zone}");
        assert_eq!(rack_of(&zone).as_deref(), Some("${env:BROKER_RACK}"));
        assert_eq!(rack_of(SINGLE_NODE), None);
        let error = invalid(&with("{type: environment-variable, envVarName: 'my zone'}"));
        assert_eq!(error.field, "spec.kafka.rack.envVarName");
    }

    #[test]
    fn the_metrics_reporter_comes_after_the_users_reporters_once() {
        let text = SINGLE_NODE.replace(
            "  kafka:\n",
            "  kafka:\n    metricsConfig: {type: strimziMetricsReporter}\n    config: {metric.reporters: com.example.Mine}\n",
        );
        let model = validate_text(&text).unwrap();
        let node = model.nodes().next().unwrap();
        let properties = super::super::broker_config::build_server_properties(&model, &node);
        let reporters: Vec<&str> = (properties.lines())
            .filter(|line| line.starts_with("metric.reporters="))
            .collect();
        assert_eq!(
            reporters,
            [
                "metric.reporters=com.example.Mine,io.strimzi.kafka.metrics.KafkaPrometheusMetricsReporter"
            ]
        );
        assert!(
            properties.contains("prometheus.metrics.reporter.listener=http://:9404\n"),
            "{properties}"
        );
    }

    #[test]
    fn a_tlsroute_listener_is_not_exposed_and_says_why() {
        let text = SINGLE_NODE.replace(
            "    listeners:\n",
            "    listeners:\n      - {name: gw, port: 9095, type: tlsroute, tls: true, configuration: {parentRefs: [{name: gateway}]}}\n",
        );
        let model = validate_text(&text).unwrap();
        assert!(model.listeners.iter().all(|l| l.name != "gw"));
        let warning = (model.warnings.iter())
            .find(|w| w.reason == "NotSupported")
            .unwrap();
        assert!(
            warning.message.contains("Gateway API TLSRoutes"),
            "{}",
            warning.message
        );
    }

    #[test]
    fn per_broker_templates_name_each_brokers_address_and_service() {
        let text = SINGLE_NODE.replace(
            "      - {name: plain, port: 9092, type: internal, tls: false}\n",
            "      - {name: ext, port: 9094, type: cluster-ip, tls: false, configuration: {\
             advertisedHostTemplate: 'kafka-{nodeId}.example.com', advertisedPortTemplate: '3{nodeId}094', \
             perBrokerLabelsTemplate: {pod: '{nodePodName}'}, perBrokerAnnotationsTemplate: {dns: 'kafka-{nodeId}.example.com'}}}\n",
        );
        let model = validate_text(&text).unwrap();
        assert!(model.warnings.is_empty(), "{:?}", model.warnings);
        let node = model.nodes().next().unwrap();
        let address = model.advertised_address(&model.listeners[0], &node);
        assert_eq!(
            (address.host.as_str(), address.port),
            ("kafka-0.example.com", 30094)
        );
        let services = super::super::services::build_external_services(&model);
        let broker = services
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some("c-dual-ext-0"))
            .unwrap();
        assert_eq!(broker.metadata.labels.as_ref().unwrap()["pod"], "c-dual-0");
        assert_eq!(
            broker.metadata.annotations.as_ref().unwrap()["dns"],
            "kafka-0.example.com"
        );
        let wrong = text.replace("'3{nodeId}094'", "'{nodePodName}'");
        let error = invalid(&wrong);
        assert_eq!(
            error.field,
            "spec.kafka.listeners[0].configuration.advertisedPortTemplate"
        );
    }

    #[test]
    fn only_simple_authorization_is_accepted() {
        let text = SINGLE_NODE.replace("  kafka:\n", "  kafka:\n    authorization: {type: opa}\n");
        assert_eq!(invalid(&text).field, "spec.kafka.authorization.type");
    }

    #[test]
    fn unimplemented_fields_are_reported_by_name() {
        let text = SINGLE_NODE
            .replace(
                "  kafka:\n",
                "  kafka:\n    template: {pod: {hostAliases: []}}\n    config: {node.id: 3}\n",
            )
            .replace("storage: {type: ephemeral}}", "storage: {type: ephemeral}, template: {perPodService: {metadata: {labels: {a: b}}}}}");
        let model = validate_text(&text).unwrap();
        let messages: Vec<&str> = model.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "spec.kafka.config.node.id is set by the operator; the value given is ignored",
                "spec.kafka.template.pod.hostAliases is not implemented yet and is ignored",
                "KafkaNodePool dual: spec.template: the Services' metadata is taken from the Kafka's \
                 spec.kafka.template only, and is ignored here",
            ]
        );
    }

    #[test]
    fn objects_are_owned_by_the_kafka() {
        let owner = example_model("ephemeral-single-node").owner_reference();
        assert_eq!(owner.api_version, "kafka.strimzi.io/v1");
        assert_eq!(owner.kind, "Kafka");
        assert_eq!(owner.name, "my-cluster");
        assert_eq!(owner.controller, Some(true));
        assert_eq!(owner.block_owner_deletion, Some(true));
    }
}
