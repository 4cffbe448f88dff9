//! The nodes' Log4j configuration, rendered into each pool's ConfigMap: Kafka's log on stdout,
//! where Kubernetes keeps a container's output, at the levels `spec.kafka.logging` (`type:
//! inline`) asks for. Users write levels either as Log4j 2 does (`rootLogger.level`,
//! `logger.<id>.level` with an optional `logger.<id>.name`) or as Log4j 1 did
//! (`log4j.rootLogger`, `log4j.logger.<name>`); both become the same levels, rendered for
//! Log4j 2 and, for Kafka 3, for Log4j 1 too. Only levels are taken: appenders and lookups
//! could make a broker write or read what it should not. A change applies without a restart on
//! Kafka 4 (Log4j 2 watches its file); Kafka 3's Log4j 1 reads its file at start only.
//!
//! `type: external` names a ConfigMap key of the user's own configuration, which replaces the
//! file of the logging system the release logs through (Log4j 2 for Kafka 4, Log4j 1 for
//! Kafka 3): mounted into the pods, so the operator reads nothing of it.

use std::collections::BTreeMap;

use api::FreeFormObject;
use serde_json::Value;

use super::config_map_key::ConfigMapKey;
use super::versions::Release;
use operator_common::validation::{InvalidSpec, Warning};

/// The Log4j 2 configuration's key in the pool's ConfigMap.
pub const LOG4J2_PROPERTIES: &str = "log4j2.properties";
/// The Log4j 1 configuration's key, for Kafka 3 (which logs through reload4j).
pub const LOG4J1_PROPERTIES: &str = "log4j.properties";
/// The system property that sets one JVM's root level when `logging` sets none (the storage
/// tool logs warnings only; a pool's `javaSystemProperties` can set it too).
pub const ROOT_LEVEL_PROPERTY: &str = "kafka.root.logger.level";

/// Loggers Kafka's own configuration sends to separate files, which would flood stdout: the
/// per-partition state changes and a line per request.
const QUIET_LOGGERS: &[(&str, &str)] = &[
    ("kafka.request.logger", "WARN"),
    ("state.change.logger", "WARN"),
];

const LEVELS: &[&str] = &[
    "OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL",
];

/// Where the user's own configuration (`type: external`) is mounted.
pub const EXTERNAL_LOGGING_DIR: &str = "/opt/kafka/custom-logging";

/// How the nodes log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Logging {
    /// The operator's files, at these levels.
    Levels(Loggers),
    /// The user's own file.
    External(ConfigMapKey),
}

impl Logging {
    /// The levels of the operator's files (defaults when the user's file replaces them).
    pub fn levels(&self) -> Loggers {
        match self {
            Logging::Levels(loggers) => loggers.clone(),
            Logging::External(_) => Loggers::default(),
        }
    }
}

/// The file the user's own configuration replaces: that of the logging system `release` logs
/// through.
pub fn external_file(release: Release) -> &'static str {
    if release.logs_with_log4j1() {
        LOG4J1_PROPERTIES
    } else {
        LOG4J2_PROPERTIES
    }
}

/// How `spec.kafka.logging` asks the nodes to log.
pub fn logging(
    logging: Option<&FreeFormObject>,
    warnings: &mut Vec<Warning>,
) -> Result<Logging, InvalidSpec> {
    let field = "spec.kafka.logging";
    match logging.map(|l| l.get("type").and_then(Value::as_str)) {
        Some(Some("external")) => {
            let logging = logging.expect("matched Some");
            let file = ConfigMapKey::read(logging, field, "an external logging")?;
            Ok(Logging::External(file))
        }
        _ => Ok(Logging::Levels(loggers(logging, warnings))),
    }
}

/// The levels the nodes log at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loggers {
    pub root: Option<String>,
    /// By logger name (`kafka.server`).
    pub named: BTreeMap<String, String>,
}

/// The levels of an inline `spec.kafka.logging`; what is not a level of a logger is a warning.
fn loggers(logging: Option<&FreeFormObject>, warnings: &mut Vec<Warning>) -> Loggers {
    let mut found = Loggers::default();
    let Some(logging) = logging else {
        return found;
    };
    let field = "spec.kafka.logging";
    if logging.get("type").and_then(Value::as_str) != Some("inline") {
        warnings.push(Warning {
            reason: "IgnoredField",
            message: format!("{field} is ignored: its type is neither inline nor external"),
        });
        return found;
    }
    let given = logging.get("loggers").and_then(Value::as_object);
    let settings: BTreeMap<&str, &str> = (given.into_iter().flatten())
        .filter_map(|(key, value)| Some((key.as_str(), value.as_str()?)))
        .collect();
    let mut ignore = |key: &str, why: &str| {
        warnings.push(Warning {
            reason: "IgnoredField",
            message: format!("{field}.loggers.{key} is ignored: {why}"),
        })
    };
    for (key, value) in &settings {
        let level = value
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .to_uppercase();
        let name = match *key {
            "rootLogger.level" | "log4j.rootLogger" => None,
            _ => match logger_name(key, &settings) {
                Some(Some(name)) => Some(name),
                Some(None) => continue, // a `logger.<id>.name` line
                None => {
                    ignore(key, "only logger levels are taken");
                    continue;
                }
            },
        };
        if !LEVELS.contains(&level.as_str()) {
            ignore(key, &format!("{value:?} is not a Log4j level"));
            continue;
        }
        match name {
            None => found.root = Some(level),
            Some(name) => {
                found.named.insert(name, level);
            }
        }
    }
    found
}

/// The logger a key sets the level of: `Some(Some(name))` for a level, `Some(None)` for a
/// Log4j 2 `logger.<id>.name` line (read with its level), `None` for anything else.
fn logger_name(key: &str, settings: &BTreeMap<&str, &str>) -> Option<Option<String>> {
    if let Some(name) = key.strip_prefix("log4j.logger.") {
        return Some(Some(name.to_string()));
    }
    let id = key.strip_prefix("logger.")?;
    if let Some(id) = id.strip_suffix(".level") {
        let name = settings.get(format!("logger.{id}.name").as_str());
        return Some(Some(name.map_or(id, |name| name.trim()).to_string()));
    }
    id.strip_suffix(".name").map(|_| None)
}

impl Loggers {
    /// Every logger's level: Kafka's noisy ones quietened unless the user says otherwise.
    fn levels(&self) -> BTreeMap<&str, &str> {
        let mut levels: BTreeMap<&str, &str> = QUIET_LOGGERS.iter().copied().collect();
        levels.extend(self.named.iter().map(|(n, l)| (n.as_str(), l.as_str())));
        levels
    }

    /// `log4j2.properties`.
    pub fn log4j2(&self) -> String {
        let root = self
            .root
            .clone()
            .unwrap_or_else(|| format!("${{sys:{ROOT_LEVEL_PROPERTY}:-INFO}}"));
        // Log4j 2 reads the file again when the ConfigMap volume changes it, so a new level
        // applies within a minute or two without a restart.
        let mut file = format!(
            "status = warn
monitorInterval = 30
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {root}
rootLogger.appenderRef.stdout.ref = STDOUT
"
        );
        for (index, (name, level)) in self.levels().into_iter().enumerate() {
            file.push_str(&format!(
                "logger.l{index}.name = {name}\nlogger.l{index}.level = {level}\n"
            ));
        }
        file
    }

    /// `log4j.properties`, for Kafka 3.
    pub fn log4j1(&self) -> String {
        let root = self.root.as_deref().unwrap_or("INFO");
        let mut file = format!(
            "log4j.rootLogger={root}, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
"
        );
        for (name, level) in self.levels() {
            file.push_str(&format!("log4j.logger.{name}={level}\n"));
        }
        file
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(logging: Value) -> (Loggers, Vec<String>) {
        let logging: FreeFormObject = serde_json::from_value(logging).unwrap();
        let mut warnings = Vec::new();
        let loggers = loggers(Some(&logging), &mut warnings);
        (loggers, warnings.into_iter().map(|w| w.message).collect())
    }

    #[test]
    fn without_logging_kafka_logs_at_info_with_its_noisy_loggers_quiet() {
        let file = Loggers::default().log4j2();
        assert!(file.contains("rootLogger.level = ${sys:kafka.root.logger.level:-INFO}\n"));
        assert!(file.contains("logger.l1.name = state.change.logger\nlogger.l1.level = WARN\n"));
        assert!(
            Loggers::default()
                .log4j1()
                .starts_with("log4j.rootLogger=INFO, stdout\n")
        );
    }

    #[test]
    fn both_log4j_spellings_set_the_same_levels() {
        let (log4j2, warnings) = read(json!({"type": "inline", "loggers": {
            "rootLogger.level": "debug",
            "logger.kafka.level": "TRACE",
            "logger.cleaner.name": "kafka.log.LogCleaner",
            "logger.cleaner.level": "ERROR",
        }}));
        assert!(warnings.is_empty(), "{warnings:?}");
        let (log4j1, _) = read(json!({"type": "inline", "loggers": {
            "log4j.rootLogger": "DEBUG, CONSOLE",
            "log4j.logger.kafka": "TRACE",
            "log4j.logger.kafka.log.LogCleaner": "ERROR",
        }}));
        assert_eq!(log4j2, log4j1);
        assert_eq!(log4j2.root.as_deref(), Some("DEBUG"));
        let file = log4j2.log4j2();
        assert!(file.contains("rootLogger.level = DEBUG\n"));
        assert!(file.contains("logger.l0.name = kafka\nlogger.l0.level = TRACE\n"));
        let file = log4j2.log4j1();
        assert!(file.starts_with("log4j.rootLogger=DEBUG, stdout\n"));
        assert!(file.contains("log4j.logger.kafka.log.LogCleaner=ERROR\n"));
    }

    #[test]
    fn only_levels_are_taken() {
        let (loggers, warnings) = read(json!({"type": "inline", "loggers": {
            "appender.file.type": "File",
            "logger.kafka.level": "${env:SECRET}",
            "rootLogger.level": "INFO",
        }}));
        assert_eq!(loggers.root.as_deref(), Some("INFO"));
        assert!(loggers.named.is_empty());
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with("spec.kafka.logging.loggers.appender.file.type is ignored")
        );
        let (_, warnings) = read(json!({"type": "file"}));
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn an_external_file_replaces_the_one_the_release_logs_through() {
        let logging: FreeFormObject = serde_json::from_value(json!({"type": "external",
            "valueFrom": {"configMapKeyRef": {"name": "logs", "key": "log4j2.properties"}}}))
        .unwrap();
        let found = super::logging(Some(&logging), &mut Vec::new()).unwrap();
        let Logging::External(file) = found else {
            panic!("{found:?}")
        };
        assert_eq!(file.config_map, "logs");
        let kafka_3 = crate::assembly::versions::find("3.9.0").unwrap();
        assert_eq!(external_file(kafka_3), LOG4J1_PROPERTIES);
        assert_eq!(
            external_file(crate::assembly::versions::newest()),
            LOG4J2_PROPERTIES
        );
        let logging: FreeFormObject =
            serde_json::from_value(json!({"type": "external", "valueFrom": {}})).unwrap();
        let error = super::logging(Some(&logging), &mut Vec::new()).unwrap_err();
        assert_eq!(error.field, "spec.kafka.logging.valueFrom.configMapKeyRef");
    }
}
