//! `spec.kafka.metricsConfig`: each node serves Prometheus metrics on port 9404, one of two ways.
//! - `jmxPrometheusExporter`: the Prometheus JMX exporter as a Java agent, with the rules of the
//!   user's ConfigMap (mounted into the pod, so the operator reads nothing of it).
//! - `strimziMetricsReporter`: Strimzi's metrics reporter inside Kafka (`metric.reporters` and,
//!   for the broker's Yammer metrics, `kafka.metrics.reporters`), serving the metrics whose
//!   names match `values.allowList`.
//!
//! Either comes with the image, in `/opt/kafka/libs` as Strimzi's images carry it; an image
//! without it stops at start with a message saying so.

use api::FreeFormObject;
use serde_json::Value;

use super::config_map_key::ConfigMapKey;
use super::jvm::CLASSPATH;
use operator_common::jvm::shell_word;
use operator_common::validation::{InvalidSpec, Warning};

/// Where Prometheus scrapes each node, as Strimzi exposes it.
pub const METRICS_PORT: i32 = 9404;
/// Where the user's rules are mounted in the pod.
pub const METRICS_DIR: &str = "/opt/kafka/metrics";
/// The rules' file name in [`METRICS_DIR`].
pub const METRICS_FILE: &str = "metrics-config.yml";
/// The agent's jar, as a shell glob: its name carries its version.
const AGENT_GLOB: &str = "/opt/kafka/libs/jmx_prometheus_javaagent*.jar";
/// Where the image keeps Kafka's jars, and the reporter's (named `metrics-reporter-<version>.jar`
/// by Maven, `io.strimzi.metrics-reporter-<version>.jar` in Strimzi's images).
const LIBS: &str = "/opt/kafka/libs";

/// The reporter's classes, by the broker setting that loads each.
pub const REPORTERS: [(&str, &str); 2] = [
    (
        "metric.reporters",
        "io.strimzi.kafka.metrics.KafkaPrometheusMetricsReporter",
    ),
    (
        "kafka.metrics.reporters",
        "io.strimzi.kafka.metrics.YammerPrometheusMetricsReporter",
    ),
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Metrics {
    /// The JMX exporter's agent, with the ConfigMap key holding its rules.
    JmxExporter(ConfigMapKey),
    /// Strimzi's reporter, with the patterns of the metric names it serves.
    Reporter { allow_list: Vec<String> },
}

impl Metrics {
    /// The broker settings that turn the reporter on, each reporter class after those of the
    /// user's `config` (`user`).
    pub fn reporter_settings(
        &self,
        user: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<(String, String)> {
        let Metrics::Reporter { allow_list } = self else {
            return Vec::new();
        };
        let mut settings: Vec<(String, String)> = REPORTERS
            .iter()
            .map(|(key, class)| {
                let value = match user(key).filter(|given| !given.trim().is_empty()) {
                    Some(given) => format!("{given},{class}"),
                    None => class.to_string(),
                };
                (key.to_string(), value)
            })
            .collect();
        settings.extend([
            (
                "prometheus.metrics.reporter.listener.enable".into(),
                "true".into(),
            ),
            (
                "prometheus.metrics.reporter.listener".into(),
                format!("http://:{METRICS_PORT}"),
            ),
            (
                "prometheus.metrics.reporter.allowlist".into(),
                allow_list.join(","),
            ),
        ]);
        settings
    }

    /// Shell lines that check the image carries what serves the metrics, or stop with a message
    /// a person can act on; for the agent, they set `$agent` to the `-javaagent` option.
    pub fn start_lines(&self) -> String {
        match self {
            Metrics::JmxExporter(_) => format!(
                r#"agent_jar=$(ls {AGENT_GLOB} 2>/dev/null | head -n 1)
[ -n "$agent_jar" ] || {{ echo "spec.kafka.metricsConfig needs the Prometheus JMX exporter agent in the image ({AGENT_GLOB}), as Strimzi's Kafka images carry it" >&2; exit 1; }}
agent="-javaagent:$agent_jar={METRICS_PORT}:{METRICS_DIR}/{METRICS_FILE}"
"#
            ),
            // The agent's jar carries an older copy of the Prometheus client the reporter is
            // built on, which would shadow the reporter's: the class path leaves it out.
            Metrics::Reporter { .. } => format!(
                r#"classpath=
for jar in {LIBS}/*.jar; do
  case "$jar" in */jmx_prometheus_javaagent*) ;; *) classpath="$classpath${{classpath:+:}}$jar" ;; esac
done
case "$classpath" in *metrics-reporter-*) ;; *) echo "spec.kafka.metricsConfig needs Strimzi's metrics reporter in the image ({LIBS}/*metrics-reporter-*.jar), as Strimzi's Kafka images carry it" >&2; exit 1 ;; esac
"#
            ),
        }
    }

    /// The user's ConfigMap key the pods mount, if any.
    pub fn rules(&self) -> Option<&ConfigMapKey> {
        match self {
            Metrics::JmxExporter(rules) => Some(rules),
            Metrics::Reporter { .. } => None,
        }
    }
}

/// The `-cp` of the node's `java` commands, as a shell word: for the reporter, `$classpath`,
/// which its start lines set.
pub fn classpath(metrics: Option<&Metrics>) -> String {
    match metrics {
        Some(Metrics::Reporter { .. }) => r#""$classpath""#.into(),
        _ => shell_word(CLASSPATH),
    }
}

/// The metrics `metricsConfig` asks for.
pub fn metrics(
    metrics_config: Option<&FreeFormObject>,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Metrics>, InvalidSpec> {
    let Some(config) = metrics_config else {
        return Ok(None);
    };
    let field = "spec.kafka.metricsConfig";
    match config.get("type").and_then(Value::as_str) {
        Some("jmxPrometheusExporter") => {
            let rules = ConfigMapKey::read(config, field, "a jmxPrometheusExporter")?;
            Ok(Some(Metrics::JmxExporter(rules)))
        }
        Some("strimziMetricsReporter") => reporter(config, field).map(Some),
        other => {
            warnings.push(Warning {
                reason: "IgnoredField",
                message: format!(
                    "{field} of type {} is ignored: the types are jmxPrometheusExporter and strimziMetricsReporter",
                    other.unwrap_or("(none)")
                ),
            });
            Ok(None)
        }
    }
}

/// The reporter with the user's allow list; every metric when none is given.
fn reporter(config: &FreeFormObject, field: &str) -> Result<Metrics, InvalidSpec> {
    let field = format!("{field}.values.allowList");
    let given = config
        .get("values")
        .and_then(|values| values.get("allowList"));
    let Some(given) = given else {
        return Ok(Metrics::Reporter {
            allow_list: vec![".*".into()],
        });
    };
    let patterns = given.as_array().ok_or_else(|| {
        InvalidSpec::new(&field, "a list of regular expressions over metric names")
    })?;
    let mut allow_list = Vec::new();
    for (index, pattern) in patterns.iter().enumerate() {
        // Kafka splits the list at commas, so a pattern cannot hold one.
        match pattern.as_str() {
            Some(pattern) if !pattern.is_empty() && !pattern.contains(',') => {
                allow_list.push(pattern.to_string())
            }
            _ => {
                return Err(InvalidSpec::new(
                    format!("{field}[{index}]"),
                    format!("{pattern} is not a regular expression without commas"),
                ));
            }
        }
    }
    if allow_list.is_empty() {
        return Err(InvalidSpec::new(
            field,
            "an empty list would serve no metric",
        ));
    }
    Ok(Metrics::Reporter { allow_list })
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
    fn the_jmx_exporter_takes_its_rules_from_a_config_map() {
        let (found, warnings) = read(json!({"type": "jmxPrometheusExporter",
            "valueFrom": {"configMapKeyRef": {"name": "kafka-metrics", "key": "kafka-metrics-config.yml"}}}));
        let found = found.unwrap().unwrap();
        assert_eq!(found.rules().unwrap().config_map, "kafka-metrics");
        assert!(found.reporter_settings(&|_| None).is_empty());
        assert!(warnings.is_empty());
        let (found, _) = read(json!({"type": "jmxPrometheusExporter", "valueFrom": {}}));
        assert_eq!(
            found.unwrap_err().field,
            "spec.kafka.metricsConfig.valueFrom.configMapKeyRef"
        );
        let (found, warnings) = read(json!({"type": "statsd"}));
        assert_eq!(found.unwrap(), None);
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn the_reporter_serves_the_allowed_metrics_after_the_users_reporters() {
        let (found, _) = read(json!({"type": "strimziMetricsReporter",
            "values": {"allowList": ["kafka_server.*", "kafka_network.*"]}}));
        let found = found.unwrap().unwrap();
        assert_eq!(found.rules(), None);
        let user = |key: &str| (key == "metric.reporters").then(|| "com.example.Mine".to_string());
        let settings = found.reporter_settings(&user);
        let get = |key: &str| {
            settings
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            get("metric.reporters"),
            Some("com.example.Mine,io.strimzi.kafka.metrics.KafkaPrometheusMetricsReporter")
        );
        assert_eq!(
            get("kafka.metrics.reporters"),
            Some("io.strimzi.kafka.metrics.YammerPrometheusMetricsReporter")
        );
        assert_eq!(
            get("prometheus.metrics.reporter.listener"),
            Some("http://:9404")
        );
        assert_eq!(
            get("prometheus.metrics.reporter.allowlist"),
            Some("kafka_server.*,kafka_network.*")
        );
        let (all, _) = read(json!({"type": "strimziMetricsReporter"}));
        let all = all.unwrap().unwrap();
        assert_eq!(
            all,
            Metrics::Reporter {
                allow_list: vec![".*".into()]
            }
        );
    }

    #[test]
    fn an_allow_list_that_kafka_would_split_is_refused() {
        let (found, _) = read(json!({"type": "strimziMetricsReporter",
            "values": {"allowList": ["kafka_server.*", "a{1,2}"]}}));
        assert_eq!(
            found.unwrap_err().field,
            "spec.kafka.metricsConfig.values.allowList[1]"
        );
        let (found, _) =
            read(json!({"type": "strimziMetricsReporter", "values": {"allowList": []}}));
        assert!(found.is_err());
    }
}
