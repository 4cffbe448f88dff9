//! `spec.entityOperator`: Strimzi runs a topic and a user operator per Kafka in a pod of their
//! own; Brokerage runs both in its one binary, for every Kafka of the namespaces it watches. What
//! only that pod, or a per-cluster operator, could honour is named in a warning rather than
//! silently ignored.

use api::kafka::{EntityOperatorSpec, Kafka};
use operator_common::validation::Warning;

/// One warning per field of `spec.entityOperator` that has no effect here.
pub fn warnings(kafka: &Kafka) -> Vec<Warning> {
    let Some(spec) = &kafka.spec.entity_operator else {
        return Vec::new();
    };
    let namespace = kafka.metadata.namespace.as_deref().unwrap_or_default();
    let mut warnings = Vec::new();
    let mut ignore = |field: String, why: &str| {
        warnings.push(Warning {
            reason: "IgnoredField",
            message: format!("spec.entityOperator.{field} is ignored: {why}"),
        });
    };
    const NO_POD: &str = "no entity operator pod runs; the topic and user operators run inside \
                          the Brokerage operator";
    for (field, set) in pod_fields(spec) {
        if set {
            ignore(field.into(), NO_POD);
        }
    }
    for (operator, settings) in operator_settings(spec) {
        let Some(settings) = settings else { continue };
        if settings
            .watched_namespace
            .as_deref()
            .is_some_and(|watched| watched != namespace)
        {
            ignore(
                format!("{operator}.watchedNamespace"),
                "KafkaTopics and KafkaUsers are reconciled in their Kafka's own namespace",
            );
        }
        if settings.interval_set {
            ignore(
                format!("{operator}.reconciliationIntervalMs"),
                "the full reconciliation's period is the operator's, for every cluster (its \
                 --resync-seconds option)",
            );
        }
        for field in settings.pod_fields {
            ignore(format!("{operator}.{field}"), NO_POD);
        }
        if settings.secret_prefix {
            ignore(
                format!("{operator}.secretPrefix"),
                "a user's Secret is named after the KafkaUser",
            );
        }
    }
    warnings
}

fn pod_fields(spec: &EntityOperatorSpec) -> [(&'static str, bool); 2] {
    [
        ("template", spec.template.is_some()),
        ("tlsSidecar", spec.tls_sidecar.is_some()),
    ]
}

/// What one operator section sets, in the terms the warnings need.
struct OperatorSettings {
    watched_namespace: Option<String>,
    interval_set: bool,
    pod_fields: Vec<&'static str>,
    secret_prefix: bool,
}

fn operator_settings(spec: &EntityOperatorSpec) -> [(&'static str, Option<OperatorSettings>); 2] {
    let topic = spec.topic_operator.as_ref().map(|t| OperatorSettings {
        watched_namespace: t.watched_namespace.clone(),
        interval_set: t.reconciliation_interval_ms.is_some()
            || t.reconciliation_interval_seconds.is_some(),
        pod_fields: set_fields(&[
            ("image", t.image.is_some()),
            ("resources", t.resources.is_some()),
            ("jvmOptions", t.jvm_options.is_some()),
            ("logging", t.logging.is_some()),
            ("startupProbe", t.startup_probe.is_some()),
            ("livenessProbe", t.liveness_probe.is_some()),
            ("readinessProbe", t.readiness_probe.is_some()),
        ]),
        secret_prefix: false,
    });
    let user = spec.user_operator.as_ref().map(|u| OperatorSettings {
        watched_namespace: u.watched_namespace.clone(),
        interval_set: u.reconciliation_interval_ms.is_some()
            || u.reconciliation_interval_seconds.is_some(),
        pod_fields: set_fields(&[
            ("image", u.image.is_some()),
            ("resources", u.resources.is_some()),
            ("jvmOptions", u.jvm_options.is_some()),
            ("logging", u.logging.is_some()),
            ("livenessProbe", u.liveness_probe.is_some()),
            ("readinessProbe", u.readiness_probe.is_some()),
        ]),
        secret_prefix: u.secret_prefix.is_some(),
    });
    [("topicOperator", topic), ("userOperator", user)]
}

fn set_fields(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
    fields
        .iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| *name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::parse;

    fn messages(entity_operator: &str) -> Vec<String> {
        let (kafka, _) = parse(&format!(
            "apiVersion: kafka.strimzi.io/v1\nkind: Kafka\nmetadata: {{name: c, namespace: team}}\n\
             spec:\n  kafka: {{listeners: []}}\n  entityOperator: {entity_operator}\n"
        ));
        warnings(&kafka).into_iter().map(|w| w.message).collect()
    }

    #[test]
    fn the_usual_sections_switch_nothing_off_and_warn_of_nothing() {
        assert!(messages("{topicOperator: {}, userOperator: {}}").is_empty());
        assert!(messages("{topicOperator: {watchedNamespace: team}}").is_empty());
    }

    #[test]
    fn what_only_a_pod_of_its_own_could_honour_is_named() {
        let found = messages(
            "{topicOperator: {watchedNamespace: other, reconciliationIntervalMs: 60000, \
             resources: {}}, userOperator: {secretPrefix: kafka-, logging: {type: inline}}, \
             template: {}}",
        );
        let fields: Vec<&str> = found
            .iter()
            .map(|message| message.split(' ').next().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "spec.entityOperator.template",
                "spec.entityOperator.topicOperator.watchedNamespace",
                "spec.entityOperator.topicOperator.reconciliationIntervalMs",
                "spec.entityOperator.topicOperator.resources",
                "spec.entityOperator.userOperator.logging",
                "spec.entityOperator.userOperator.secretPrefix",
            ]
        );
    }
}
