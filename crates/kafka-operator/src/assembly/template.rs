//! Strimzi's `template` on a Kafka (`spec.kafka.template`) and a KafkaNodePool (`spec.template`):
//! the pod's and the Kafka container's security contexts are applied over the operator's
//! restricted defaults; the rest is not implemented yet and named in warnings. A pool's section
//! wins over the Kafka's, as in Strimzi.

use api::FreeFormObject;
use k8s_openapi::api::core::v1::{PodSecurityContext, SecurityContext};
use serde::de::DeserializeOwned;
use serde_json::Value;

use operator_common::pod_security::PodPolicy;
use operator_common::validation::{InvalidSpec, Warning};

/// The security contexts a template gives.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecurityTemplate {
    pub pod: Option<PodSecurityContext>,
    pub container: Option<SecurityContext>,
}

impl SecurityTemplate {
    /// `self`'s sections where set, else `fallback`'s.
    pub fn or(self, fallback: SecurityTemplate) -> SecurityTemplate {
        SecurityTemplate {
            pod: self.pod.or(fallback.pod),
            container: self.container.or(fallback.container),
        }
    }
}

/// The security contexts of the template at `field`; anything else it sets is a warning. A
/// privileged container or root needs `pods` to allow it.
pub fn security_template(
    template: Option<&FreeFormObject>,
    field: &str,
    pods: PodPolicy,
    warnings: &mut Vec<Warning>,
) -> Result<SecurityTemplate, InvalidSpec> {
    let mut found = SecurityTemplate::default();
    for (section, value) in template.into_iter().flatten() {
        let (pod, container) = (section == "pod", section == "kafkaContainer");
        let Some(settings) = value.as_object().filter(|_| pod || container) else {
            warnings.push(not_implemented(&format!("{field}.{section}")));
            continue;
        };
        for (key, value) in settings {
            let path = format!("{field}.{section}.{key}");
            match (key.as_str(), pod) {
                ("securityContext", true) => {
                    let context: PodSecurityContext = parse(value, &path)?;
                    pods.check_pod(&path, Some(&context))?;
                    found.pod = Some(context);
                }
                ("securityContext", false) => {
                    let context: SecurityContext = parse(value, &path)?;
                    pods.check_container(&path, Some(&context))?;
                    found.container = Some(context);
                }
                _ => warnings.push(not_implemented(&path)),
            }
        }
    }
    Ok(found)
}

fn parse<T: DeserializeOwned>(value: &Value, field: &str) -> Result<T, InvalidSpec> {
    serde_json::from_value(value.clone())
        .map_err(|error| InvalidSpec::new(field, format!("not a security context: {error}")))
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

    #[test]
    fn security_contexts_are_taken_and_the_rest_named() {
        let given = template(json!({
            "pod": {"securityContext": {"runAsUser": 2000}, "affinity": {}},
            "kafkaContainer": {"securityContext": {"readOnlyRootFilesystem": false}},
            "bootstrapService": {},
        }));
        let mut warnings = Vec::new();
        let found = security_template(
            Some(&given),
            "spec.template",
            PodPolicy::default(),
            &mut warnings,
        )
        .unwrap();
        assert_eq!(found.pod.unwrap().run_as_user, Some(2000));
        assert_eq!(
            found.container.unwrap().read_only_root_filesystem,
            Some(false)
        );
        let messages: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "spec.template.bootstrapService is not implemented yet and is ignored",
                "spec.template.pod.affinity is not implemented yet and is ignored",
            ]
        );
    }

    #[test]
    fn a_privileged_container_needs_the_flag_and_nonsense_is_refused() {
        let privileged =
            template(json!({"kafkaContainer": {"securityContext": {"privileged": true}}}));
        let error = security_template(
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
        assert!(security_template(Some(&privileged), "t", allowed, &mut Vec::new()).is_ok());
        let nonsense = template(json!({"pod": {"securityContext": {"runAsUser": "root"}}}));
        let error = security_template(Some(&nonsense), "t", allowed, &mut Vec::new()).unwrap_err();
        assert_eq!(error.field, "t.pod.securityContext");
    }

    #[test]
    fn a_pools_section_wins_over_the_kafkas() {
        let pool = SecurityTemplate {
            pod: Some(PodSecurityContext {
                run_as_user: Some(1),
                ..PodSecurityContext::default()
            }),
            container: None,
        };
        let kafka = SecurityTemplate {
            pod: Some(PodSecurityContext::default()),
            container: Some(SecurityContext::default()),
        };
        let merged = pool.or(kafka);
        assert_eq!(merged.pod.unwrap().run_as_user, Some(1));
        assert!(merged.container.is_some());
    }
}
