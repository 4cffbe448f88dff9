//! The `java` command lines of a pool's nodes. The pods run `java` themselves, not Kafka's launch
//! scripts, so the operator picks every option those scripts would: the heap as Strimzi sizes it
//! (the pool's `jvmOptions`, else half the container's memory up to 5 GiB), the collector Kafka
//! runs with, and the Log4j files (`logging.rs`) it renders into the pool's ConfigMap.

use std::collections::BTreeMap;

use api::kafka::JvmOptions;
use k8s_openapi::api::core::v1::ResourceRequirements;

use super::logging::{
    EXTERNAL_LOGGING_DIR, LOG4J1_PROPERTIES, LOG4J2_PROPERTIES, ROOT_LEVEL_PROPERTY, external_file,
};
use super::model::Pool;
use super::versions::Release;
use operator_common::jvm::{MIB, mebibytes, memory};

/// Every jar of the official image, and of images laid out like it.
pub const CLASSPATH: &str = "/opt/kafka/libs/*";
/// Strimzi gives Kafka half of the container's memory (the rest is page cache, which Kafka
/// reads and writes through), and no more than 5 GiB.
const HEAP_PERCENT: u64 = 50;
const MAX_DEFAULT_HEAP_MIB: u64 = 5 * 1024;
/// With no memory limit or request, Kafka's scripts would take 1 GiB whatever the machine;
/// 512 MiB serves a test cluster's few partitions and lets three nodes share a 4 GiB machine
/// with room for the page cache. The heap starts at Strimzi's 128 MiB and grows as needed.
const UNSIZED_MAX_HEAP_MIB: u64 = 512;
const UNSIZED_INITIAL_HEAP_MIB: u64 = 128;

/// What Kafka's launch scripts run a broker with, unless the pool's `-XX` says otherwise.
const PERFORMANCE_OPTIONS: &[(&str, &str)] = &[
    ("UseG1GC", "true"),
    ("MaxGCPauseMillis", "20"),
    ("InitiatingHeapOccupancyPercent", "35"),
    ("ExplicitGCInvokesConcurrent", "true"),
];
/// `-XX` keys that size the heap, given with `-Xms` and `-Xmx` rather than with the others.
const HEAP_KEYS: [&str; 2] = ["InitialRAMPercentage", "MaxRAMPercentage"];
/// Flags that must come before the options they unlock.
const UNLOCK_KEYS: [&str; 2] = ["UnlockDiagnosticVMOptions", "UnlockExperimentalVMOptions"];

/// The storage tool only writes a few files before Kafka starts: a small heap, a collector
/// without background threads, and warnings only (at INFO it logs the whole broker
/// configuration at every start; what it did, it prints).
const STORAGE_TOOL_OPTIONS: &[&str] = &["-Xmx256m", "-XX:+UseSerialGC"];

/// The options of a node's `java kafka.Kafka`, in order: heap, collector, GC logging, the
/// operator's system properties, then the pool's `javaSystemProperties`, which so win over
/// the operator's.
pub fn kafka_options(pool: &Pool, logging: &[String]) -> Vec<String> {
    let jvm = pool.jvm_options.clone().unwrap_or_default();
    let mut options = heap_options(&jvm, pool.resources.as_ref());
    options.extend(performance_options(&jvm));
    if jvm.gc_logging_enabled == Some(true) {
        options.push("-Xlog:gc*:stdout:time,level,tags".into());
    }
    options.push("-Djava.awt.headless=true".into());
    options.extend(logging.iter().cloned());
    options.extend(
        jvm.java_system_properties
            .iter()
            .flatten()
            .filter_map(|property| {
                let name = property.name.as_ref()?;
                let value = property.value.as_deref().unwrap_or_default();
                Some(format!("-D{name}={value}"))
            }),
    );
    options
}

/// The storage tool's options: small, with the same logging as the node.
pub fn storage_tool_options(logging: &[String]) -> Vec<String> {
    let mut options: Vec<String> = STORAGE_TOOL_OPTIONS.iter().map(|o| o.to_string()).collect();
    options.extend(logging.iter().cloned());
    options.push(format!("-D{ROOT_LEVEL_PROPERTY}=WARN"));
    options
}

/// The system properties that point logging at the files in `config_dir`: Log4j 2's, and for
/// Kafka 3 also Log4j 1's, which its official image logs through (an image that brings Log4j 2
/// instead reads the other). With `external`, the user's file replaces the one of the system
/// the release logs through.
pub fn logging_options(release: Release, config_dir: &str, external: bool) -> Vec<String> {
    let dir = |file: &str| match external && file == external_file(release) {
        true => format!("{EXTERNAL_LOGGING_DIR}/{file}"),
        false => format!("{config_dir}/{file}"),
    };
    let mut options = vec![format!(
        "-Dlog4j2.configurationFile={}",
        dir(LOG4J2_PROPERTIES)
    )];
    if release.logs_with_log4j1() {
        options.push(format!(
            "-Dlog4j.configuration=file:{}",
            dir(LOG4J1_PROPERTIES)
        ));
    }
    options
}

/// The user's heap options, and Strimzi's defaults for what they leave out: without `-Xmx` (or
/// `MaxRAMPercentage`) a maximum from the container's memory, and without `-Xms` (or
/// `InitialRAMPercentage`) an initial heap the same size, as Strimzi sets both.
fn heap_options(jvm: &JvmOptions, resources: Option<&ResourceRequirements>) -> Vec<String> {
    let xx = jvm.xx.clone().unwrap_or_default();
    let mut options = Vec::new();
    options.extend(jvm.xms.as_ref().map(|size| format!("-Xms{size}")));
    options.extend(jvm.xmx.as_ref().map(|size| format!("-Xmx{size}")));
    for key in HEAP_KEYS {
        options.extend(xx.get(key).map(|value| format!("-XX:{key}={value}")));
    }
    if jvm.xmx.is_some() || xx.contains_key("MaxRAMPercentage") {
        return options;
    }
    let sized = memory(resources)
        .map(|bytes| (bytes / MIB * HEAP_PERCENT / 100).min(MAX_DEFAULT_HEAP_MIB))
        .filter(|max| *max > 0);
    let (initial, max) = match sized {
        Some(max) => (max, max),
        None => (UNSIZED_INITIAL_HEAP_MIB, UNSIZED_MAX_HEAP_MIB),
    };
    // The JVM refuses to start with an initial heap above the maximum.
    let max = max.max(jvm.xms.as_deref().and_then(mebibytes).unwrap_or(0));
    if jvm.xms.is_none() && !xx.contains_key("InitialRAMPercentage") {
        options.push(format!("-Xms{initial}m"));
    }
    options.push(format!("-Xmx{max}m"));
    options
}

/// Kafka's collector settings with the user's `-XX` options over them; choosing another
/// collector drops G1, since the JVM refuses to run with two.
fn performance_options(jvm: &JvmOptions) -> Vec<String> {
    let user: BTreeMap<String, String> = jvm
        .xx
        .iter()
        .flatten()
        .filter(|(key, _)| !HEAP_KEYS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let other_collector = user.iter().any(|(key, value)| {
        key.starts_with("Use")
            && key.ends_with("GC")
            && key != "UseG1GC"
            && value.eq_ignore_ascii_case("true")
    });
    let mut flags: BTreeMap<String, String> = PERFORMANCE_OPTIONS
        .iter()
        .filter(|(key, _)| !(other_collector && *key == "UseG1GC"))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    flags.extend(user);
    let (unlock, rest): (Vec<_>, Vec<_>) = flags
        .into_iter()
        .partition(|(key, _)| UNLOCK_KEYS.contains(&key.as_str()));
    unlock
        .into_iter()
        .chain(rest)
        .map(|(key, value)| {
            if value.eq_ignore_ascii_case("true") {
                format!("-XX:+{key}")
            } else if value.eq_ignore_ascii_case("false") {
                format!("-XX:-{key}")
            } else {
                format!("-XX:{key}={value}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_model;
    use api::kafka::SystemProperty;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn logging() -> Vec<String> {
        logging_options(
            crate::assembly::versions::newest(),
            "/opt/kafka/custom-config",
            false,
        )
    }

    fn limited(memory: &str) -> ResourceRequirements {
        ResourceRequirements {
            limits: Some(BTreeMap::from([(
                "memory".to_string(),
                Quantity(memory.into()),
            )])),
            ..ResourceRequirements::default()
        }
    }

    fn xx(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
        )
    }

    #[test]
    fn the_storage_tool_is_small_and_logs_warnings_only() {
        assert_eq!(
            storage_tool_options(&logging()),
            [
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-Dlog4j2.configurationFile=/opt/kafka/custom-config/log4j2.properties",
                "-Dkafka.root.logger.level=WARN"
            ]
        );
    }

    #[test]
    fn kafka_3_also_reads_log4j_1_properties() {
        let kafka_3 = crate::assembly::versions::find("3.9.2").unwrap();
        assert_eq!(
            logging_options(kafka_3, "/config", false),
            [
                "-Dlog4j2.configurationFile=/config/log4j2.properties",
                "-Dlog4j.configuration=file:/config/log4j.properties"
            ]
        );
        assert_eq!(
            logging_options(kafka_3, "/config", true),
            [
                "-Dlog4j2.configurationFile=/config/log4j2.properties",
                "-Dlog4j.configuration=file:/opt/kafka/custom-logging/log4j.properties"
            ]
        );
        assert_eq!(
            logging_options(crate::assembly::versions::newest(), "/config", true),
            ["-Dlog4j2.configurationFile=/opt/kafka/custom-logging/log4j2.properties"]
        );
        assert_eq!(
            logging(),
            ["-Dlog4j2.configurationFile=/opt/kafka/custom-config/log4j2.properties"]
        );
    }

    #[test]
    fn the_heap_is_half_the_memory_up_to_5_gib_as_strimzi_sizes_it() {
        let none = JvmOptions::default();
        assert_eq!(
            heap_options(&none, Some(&limited("1Gi"))),
            ["-Xms512m", "-Xmx512m"]
        );
        assert_eq!(
            heap_options(&none, Some(&limited("32Gi"))),
            ["-Xms5120m", "-Xmx5120m"]
        );
        // Without any memory figure, or one too small to size from: small, for test machines.
        assert_eq!(heap_options(&none, None), ["-Xms128m", "-Xmx512m"]);
        assert_eq!(
            heap_options(&none, Some(&limited("1Mi"))),
            ["-Xms128m", "-Xmx512m"]
        );
    }

    #[test]
    fn the_users_heap_options_win() {
        let limit = limited("4Gi");
        let both = JvmOptions {
            xms: Some("1g".into()),
            xmx: Some("3g".into()),
            ..JvmOptions::default()
        };
        assert_eq!(heap_options(&both, Some(&limit)), ["-Xms1g", "-Xmx3g"]);
        // A maximum alone leaves the initial heap to the JVM, as Strimzi does.
        let max = JvmOptions {
            xmx: Some("3g".into()),
            ..JvmOptions::default()
        };
        assert_eq!(heap_options(&max, Some(&limit)), ["-Xmx3g"]);
        let percentage = JvmOptions {
            xx: xx(&[("MaxRAMPercentage", "70")]),
            ..JvmOptions::default()
        };
        assert_eq!(
            heap_options(&percentage, Some(&limit)),
            ["-XX:MaxRAMPercentage=70"]
        );
        // An initial heap alone gets the default maximum, raised to it if it is larger.
        let initial = JvmOptions {
            xms: Some("1g".into()),
            ..JvmOptions::default()
        };
        assert_eq!(
            heap_options(&initial, Some(&limit)),
            ["-Xms1g", "-Xmx2048m"]
        );
        assert_eq!(heap_options(&initial, None), ["-Xms1g", "-Xmx1024m"]);
        let initial_percentage = JvmOptions {
            xx: xx(&[("InitialRAMPercentage", "10")]),
            ..JvmOptions::default()
        };
        assert_eq!(
            heap_options(&initial_percentage, Some(&limit)),
            ["-XX:InitialRAMPercentage=10", "-Xmx2048m"]
        );
    }

    #[test]
    fn kafkas_collector_settings_unless_the_user_chooses_others() {
        assert_eq!(
            performance_options(&JvmOptions::default()),
            [
                "-XX:+ExplicitGCInvokesConcurrent",
                "-XX:InitiatingHeapOccupancyPercent=35",
                "-XX:MaxGCPauseMillis=20",
                "-XX:+UseG1GC"
            ]
        );
        let parallel = JvmOptions {
            xx: xx(&[
                ("UseParallelGC", "true"),
                ("MaxGCPauseMillis", "200"),
                ("PrintNMTStatistics", "TRUE"),
                ("UnlockDiagnosticVMOptions", "true"),
                ("UseStringDeduplication", "false"),
                ("MaxRAMPercentage", "70"),
            ]),
            ..JvmOptions::default()
        };
        assert_eq!(
            performance_options(&parallel),
            [
                "-XX:+UnlockDiagnosticVMOptions",
                "-XX:+ExplicitGCInvokesConcurrent",
                "-XX:InitiatingHeapOccupancyPercent=35",
                "-XX:MaxGCPauseMillis=200",
                "-XX:+PrintNMTStatistics",
                "-XX:+UseParallelGC",
                "-XX:-UseStringDeduplication"
            ]
        );
    }

    #[test]
    fn a_nodes_options_end_with_the_logging_and_the_users_properties() {
        let model = example_model("persistent-dual-pool");
        let mut pool = model.pool("broker").unwrap().clone();
        assert_eq!(
            kafka_options(&pool, &logging()),
            [
                "-Xms2g",
                "-Xmx2g",
                "-XX:+ExplicitGCInvokesConcurrent",
                "-XX:InitiatingHeapOccupancyPercent=35",
                "-XX:MaxGCPauseMillis=20",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                "-Dlog4j2.configurationFile=/opt/kafka/custom-config/log4j2.properties"
            ]
        );
        let jvm = pool.jvm_options.get_or_insert_default();
        jvm.gc_logging_enabled = Some(true);
        jvm.java_system_properties = Some(vec![
            SystemProperty {
                name: Some("javax.net.debug".into()),
                value: Some("ssl handshake".into()),
            },
            SystemProperty {
                name: None,
                value: Some("ignored".into()),
            },
        ]);
        let options = kafka_options(&pool, &logging());
        assert_eq!(
            options[options.len() - 4..],
            [
                "-Xlog:gc*:stdout:time,level,tags",
                "-Djava.awt.headless=true",
                "-Dlog4j2.configurationFile=/opt/kafka/custom-config/log4j2.properties",
                "-Djavax.net.debug=ssl handshake"
            ]
        );
    }
}
