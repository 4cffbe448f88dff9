//! Strimzi's `template` on a Kafka (`spec.kafka.template`) and a KafkaNodePool (`spec.template`):
//! what the pods get beyond the operator's own choices. The pod's and the Kafka container's
//! security contexts go over the operator's restricted defaults; scheduling (affinity,
//! tolerations, topology spread, node selector, priority class), the termination grace period,
//! image pull secrets and extra pod labels and annotations are applied as given, and so are the
//! labels and annotations of the Kafka's Services (`bootstrapService`, `brokersService`,
//! `externalBootstrapService`, `perPodService`). Anything else is named in a warning. A pool's
//! field wins over the Kafka's, as in Strimzi.

use std::collections::BTreeMap;

use api::FreeFormObject;
use k8s_openapi::api::core::v1::{
    Affinity, EnvVar, LocalObjectReference, PodSecurityContext, SecurityContext, Toleration,
    TopologySpreadConstraint,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use operator_common::pod_security::PodPolicy;
use operator_common::validation::{InvalidSpec, Warning};

/// What a template gives the pods of a pool.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodTemplate {
    pub pod_security: Option<PodSecurityContext>,
    pub container_security: Option<SecurityContext>,
    /// Added to the Kafka container's environment after the operator's variables, which a
    /// template cannot replace.
    pub container_env: Option<Vec<EnvVar>>,
    /// Added to the pods' own labels and annotations, which win where keys meet.
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub affinity: Option<Affinity>,
    pub tolerations: Option<Vec<Toleration>>,
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
    pub node_selector: Option<BTreeMap<String, String>>,
    pub priority_class_name: Option<String>,
    pub termination_grace_period_seconds: Option<i64>,
    pub image_pull_secrets: Option<Vec<LocalObjectReference>>,
}

impl PodTemplate {
    /// `self`'s fields where set, else `fallback`'s.
    pub fn or(self, fallback: PodTemplate) -> PodTemplate {
        PodTemplate {
            pod_security: self.pod_security.or(fallback.pod_security),
            container_security: self.container_security.or(fallback.container_security),
            container_env: self.container_env.or(fallback.container_env),
            labels: self.labels.or(fallback.labels),
            annotations: self.annotations.or(fallback.annotations),
            affinity: self.affinity.or(fallback.affinity),
            tolerations: self.tolerations.or(fallback.tolerations),
            topology_spread_constraints: self
                .topology_spread_constraints
                .or(fallback.topology_spread_constraints),
            node_selector: self.node_selector.or(fallback.node_selector),
            priority_class_name: self.priority_class_name.or(fallback.priority_class_name),
            termination_grace_period_seconds: self
                .termination_grace_period_seconds
                .or(fallback.termination_grace_period_seconds),
            image_pull_secrets: self.image_pull_secrets.or(fallback.image_pull_secrets),
        }
    }
}

/// Labels and annotations a template adds to the Kafka's Services of each kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceTemplates {
    pub bootstrap: Metadata,
    pub brokers: Metadata,
    pub external_bootstrap: Metadata,
    pub per_pod: Metadata,
}

/// Strimzi's `MetadataTemplate`: added to an object's own labels and annotations, which win
/// where keys meet.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
}

/// What a template gives.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Template {
    pub pod: PodTemplate,
    pub services: ServiceTemplates,
}

/// The template at `field`; anything else it sets is a warning. A privileged container or root
/// needs `pods` to allow it.
pub fn template(
    template: Option<&FreeFormObject>,
    field: &str,
    pods: PodPolicy,
    warnings: &mut Vec<Warning>,
) -> Result<Template, InvalidSpec> {
    let mut found = Template::default();
    for (section, value) in template.into_iter().flatten() {
        let service = match section.as_str() {
            "bootstrapService" => Some(&mut found.services.bootstrap),
            "brokersService" => Some(&mut found.services.brokers),
            "externalBootstrapService" => Some(&mut found.services.external_bootstrap),
            "perPodService" => Some(&mut found.services.per_pod),
            _ => None,
        };
        if let Some(service) = service {
            for (key, value) in value.as_object().into_iter().flatten() {
                let path = format!("{field}.{section}.{key}");
                match key.as_str() {
                    "metadata" => *service = parse(value, &path)?,
                    _ => warnings.push(not_implemented(&path)),
                }
            }
            continue;
        }
        let (pod, container) = (section == "pod", section == "kafkaContainer");
        let Some(settings) = value.as_object().filter(|_| pod || container) else {
            warnings.push(not_implemented(&format!("{field}.{section}")));
            continue;
        };
        let found = &mut found.pod;
        for (key, value) in settings {
            let path = format!("{field}.{section}.{key}");
            match (key.as_str(), pod) {
                ("securityContext", true) => {
                    let context: PodSecurityContext = parse(value, &path)?;
                    pods.check_pod(&path, Some(&context))?;
                    found.pod_security = Some(context);
                }
                ("securityContext", false) => {
                    let context: SecurityContext = parse(value, &path)?;
                    pods.check_container(&path, Some(&context))?;
                    found.container_security = Some(context);
                }
                ("env", false) => found.container_env = Some(container_env(value, &path)?),
                ("metadata", true) => {
                    let metadata: Metadata = parse(value, &path)?;
                    found.labels = metadata.labels;
                    found.annotations = metadata.annotations;
                }
                ("affinity", true) => found.affinity = Some(parse(value, &path)?),
                ("tolerations", true) => found.tolerations = Some(parse(value, &path)?),
                ("topologySpreadConstraints", true) => {
                    found.topology_spread_constraints = Some(parse(value, &path)?)
                }
                ("nodeSelector", true) => found.node_selector = Some(parse(value, &path)?),
                ("priorityClassName", true) => {
                    found.priority_class_name = Some(parse(value, &path)?)
                }
                ("terminationGracePeriodSeconds", true) => {
                    found.termination_grace_period_seconds = Some(parse(value, &path)?)
                }
                ("imagePullSecrets", true) => found.image_pull_secrets = Some(parse(value, &path)?),
                _ => warnings.push(not_implemented(&path)),
            }
        }
    }
    Ok(found)
}

/// A container's `env`: values, and fields of the pod and its resources. Not Secrets or
/// ConfigMaps: a template could otherwise hand a broker any Secret of the namespace, which the
/// Kafka's author may not be allowed to read.
fn container_env(value: &Value, field: &str) -> Result<Vec<EnvVar>, InvalidSpec> {
    let env: Vec<EnvVar> = parse(value, field)?;
    for (index, variable) in env.iter().enumerate() {
        let from = variable.value_from.as_ref();
        if from
            .is_some_and(|from| from.secret_key_ref.is_some() || from.config_map_key_ref.is_some())
        {
            return Err(InvalidSpec::new(
                format!("{field}[{index}].valueFrom"),
                "a variable from a Secret or ConfigMap is not allowed here; give a value, or a \
                 field of the pod",
            ));
        }
    }
    Ok(env)
}

fn parse<T: DeserializeOwned>(value: &Value, field: &str) -> Result<T, InvalidSpec> {
    serde_json::from_value(value.clone())
        .map_err(|error| InvalidSpec::new(field, format!("not valid here: {error}")))
}

fn not_implemented(field: &str) -> Warning {
    Warning {
        reason: "UnsupportedField",
        message: format!("{field} is not implemented yet and is ignored"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(value: Value) -> FreeFormObject {
        serde_json::from_value(value).unwrap()
    }

    fn read(value: Value, warnings: &mut Vec<Warning>) -> Template {
        super::template(
            Some(&template(value)),
            "spec.template",
            PodPolicy::default(),
            warnings,
        )
        .unwrap()
    }

    #[test]
    fn pod_fields_are_taken_and_the_rest_named() {
        let mut warnings = Vec::new();
        let found = read(
            json!({
                "pod": {
                    "securityContext": {"runAsUser": 2000},
                    "metadata": {"labels": {"team": "payments"}, "annotations": {"a": "b"}},
                    "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"x": "y"}}}
                    ]}},
                    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "kafka", "effect": "NoSchedule"}],
                    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}],
                    "nodeSelector": {"disk": "ssd"},
                    "priorityClassName": "kafka-high",
                    "terminationGracePeriodSeconds": 120,
                    "imagePullSecrets": [{"name": "registry"}],
                    "hostAliases": [],
                },
                "kafkaContainer": {
                    "securityContext": {"readOnlyRootFilesystem": false},
                    "env": [{"name": "ZONE", "value": "a"},
                            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                },
                "bootstrapService": {"metadata": {"annotations": {"lb": "internal"}}, "ipFamilies": []},
                "podDisruptionBudget": {},
            }),
            &mut warnings,
        );
        assert_eq!(
            found.services.bootstrap.annotations.unwrap()["lb"],
            "internal"
        );
        let found = found.pod;
        let env = found.container_env.as_ref().unwrap();
        assert_eq!((env[0].name.as_str(), env.len()), ("ZONE", 2));
        assert_eq!(found.pod_security.unwrap().run_as_user, Some(2000));
        assert_eq!(
            found.container_security.unwrap().read_only_root_filesystem,
            Some(false)
        );
        assert_eq!(found.labels.unwrap()["team"], "payments");
        assert_eq!(found.annotations.unwrap()["a"], "b");
        assert!(found.affinity.unwrap().pod_anti_affinity.is_some());
        assert_eq!(
            found.tolerations.unwrap()[0].key.as_deref(),
            Some("dedicated")
        );
        assert_eq!(found.topology_spread_constraints.unwrap()[0].max_skew, 1);
        assert_eq!(found.node_selector.unwrap()["disk"], "ssd");
        assert_eq!(found.priority_class_name.as_deref(), Some("kafka-high"));
        assert_eq!(found.termination_grace_period_seconds, Some(120));
        assert_eq!(found.image_pull_secrets.unwrap()[0].name, "registry");
        let messages: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "spec.template.bootstrapService.ipFamilies is not implemented yet and is ignored",
                "spec.template.pod.hostAliases is not implemented yet and is ignored",
                "spec.template.podDisruptionBudget is not implemented yet and is ignored",
            ]
        );
    }

    #[test]
    fn a_privileged_container_needs_the_flag_and_nonsense_is_refused() {
        let privileged =
            template(json!({"kafkaContainer": {"securityContext": {"privileged": true}}}));
        let error = super::template(
            Some(&privileged),
            "spec.kafka.template",
            PodPolicy::default(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(
            error.field,
            "spec.kafka.template.kafkaContainer.securityContext.privileged"
        );
        let allowed = PodPolicy {
            allow_privileged_pods: true,
        };
        assert!(super::template(Some(&privileged), "t", allowed, &mut Vec::new()).is_ok());
        for nonsense in [
            json!({"pod": {"securityContext": {"runAsUser": "root"}}}),
            json!({"pod": {"tolerations": {"key": "not a list"}}}),
            json!({"pod": {"metadata": {"labelz": {}}}}),
            json!({"kafkaContainer": {"env": [{"name": "S",
                "valueFrom": {"secretKeyRef": {"name": "other-users-secret", "key": "password"}}}]}}),
        ] {
            let expected = match nonsense.get("pod").and_then(Value::as_object) {
                Some(pod) => format!("t.pod.{}", pod.keys().next().unwrap()),
                None => "t.kafkaContainer.env[0].valueFrom".to_string(),
            };
            let error = super::template(Some(&template(nonsense)), "t", allowed, &mut Vec::new())
                .unwrap_err();
            assert_eq!(error.field, expected);
        }
    }

    #[test]
    fn a_pools_field_wins_over_the_kafkas() {
        let pool = PodTemplate {
            pod_security: Some(PodSecurityContext {
                run_as_user: Some(1),
                ..PodSecurityContext::default()
            }),
            priority_class_name: Some("pool".into()),
            ..PodTemplate::default()
        };
        let kafka = PodTemplate {
            pod_security: Some(PodSecurityContext::default()),
            container_security: Some(SecurityContext::default()),
            priority_class_name: Some("kafka".into()),
            node_selector: Some(BTreeMap::from([("disk".into(), "ssd".into())])),
            ..PodTemplate::default()
        };
        let merged = pool.or(kafka);
        assert_eq!(merged.pod_security.unwrap().run_as_user, Some(1));
        assert!(merged.container_security.is_some());
        assert_eq!(merged.priority_class_name.as_deref(), Some("pool"));
        assert!(merged.node_selector.is_some());
    }
}
