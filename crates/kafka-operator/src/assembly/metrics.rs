//! `spec.kafka.metricsConfig` of type `jmxPrometheusExporter`: each node runs the Prometheus JMX
//! exporter as a Java agent, on port 9404, with the rules of the user's ConfigMap (mounted into
//! the pod, so the operator reads nothing of it). The agent comes with the image, in
//! `/opt/kafka/libs` as Strimzi's images carry it; an image without it stops at start with a
//! message saying so.

use api::FreeFormObject;
use serde_json::Value;

use super::config_map_key::ConfigMapKey;
use operator_common::validation::{InvalidSpec, Warning};

/// Where Prometheus scrapes each node, as Strimzi exposes it.
pub const METRICS_PORT: i32 = 9404;
/// Where the user's rules are mounted in the pod.
pub const METRICS_DIR: &str = "/opt/kafka/metrics";
/// The rules' file name in [`METRICS_DIR`].
pub const METRICS_FILE: &str = "metrics-config.yml";
/// The agent's jar, as a shell glob: its name carries its version.
pub const AGENT_GLOB: &str = "/opt/kafka/libs/jmx_prometheus_javaagent*.jar";

/// The ConfigMap key holding the exporter's rules.
pub type Metrics = ConfigMapKey;

/// The exporter `metricsConfig` asks for; another type is a warning.
pub fn metrics(
    metrics_config: Option<&FreeFormObject>,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Metrics>, InvalidSpec> {
    let Some(config) = metrics_config else {
        return Ok(None);
    };
    let field = "spec.kafka.metricsConfig";
    match config.get("type").and_then(Value::as_str) {
        Some("jmxPrometheusExporter") => {}
        other => {
            let name = other.unwrap_or("(none)");
            warnings.push(Warning::not_implemented(&format!("{field} of type {name}")));
            return Ok(None);
        }
    }
    ConfigMapKey::read(config, field, "a jmxPrometheusExporter").map(Some)
}

/// Shell lines that find the agent and set `$agent` to the `-javaagent` option, or stop with a
/// message a person can act on.
pub fn agent_lines() -> String {
    format!(
        r#"agent_jar=$(ls {AGENT_GLOB} 2>/dev/null | head -n 1)
[ -n "$agent_jar" ] || {{ echo "spec.kafka.metricsConfig needs the Prometheus JMX exporter agent in the image ({AGENT_GLOB}), as Strimzi's Kafka images carry it" >&2; exit 1; }}
agent="-javaagent:$agent_jar={METRICS_PORT}:{METRICS_DIR}/{METRICS_FILE}"
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(config: Value) -> (Result<Option<Metrics>, InvalidSpec>, Vec<Warning>) {
        let config: FreeFormObject = serde_json::from_value(config).unwrap();
        let mut warnings = Vec::new();
        (metrics(Some(&config), &mut warnings), warnings)
    }

    #[test]
    fn the_jmx_exporter_takes_its_rules_from_a_config_map_and_other_kinds_warn() {
        let (found, warnings) = read(json!({"type": "jmxPrometheusExporter",
            "valueFrom": {"configMapKeyRef": {"name": "kafka-metrics", "key": "kafka-metrics-config.yml"}}}));
        assert_eq!(
            found.unwrap(),
            Some(Metrics {
                config_map: "kafka-metrics".into(),
                key: "kafka-metrics-config.yml".into()
            })
        );
        assert!(warnings.is_empty());
        let (found, warnings) = read(json!({"type": "strimziMetricsReporter"}));
        assert_eq!(found.unwrap(), None);
        assert_eq!(warnings.len(), 1);
        let (found, _) = read(json!({"type": "jmxPrometheusExporter", "valueFrom": {}}));
        assert_eq!(
            found.unwrap_err().field,
            "spec.kafka.metricsConfig.valueFrom.configMapKeyRef"
        );
    }
}
