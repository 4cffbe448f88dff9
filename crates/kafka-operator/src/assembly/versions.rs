//! The Kafka releases the operator runs and the KRaft metadata versions each of them can run:
//! what `spec.kafka.version` and `spec.kafka.metadataVersion` are checked against. Pure data,
//! read from each release's own `MetadataVersion` (its newest production version and the
//! feature level of each).

/// One Kafka release the operator runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Release {
    pub version: &'static str,
    /// The newest production metadata version the release knows: what a new cluster formats
    /// its storage with, and the highest it may be moved to.
    pub metadata_version: &'static str,
}

/// Oldest first; the last is the default.
pub const RELEASES: &[Release] = &[
    release("3.9.0", "3.9-IV0"),
    release("3.9.1", "3.9-IV0"),
    release("3.9.2", "3.9-IV0"),
    release("4.0.0", "4.0-IV3"),
    release("4.0.1", "4.0-IV3"),
    release("4.0.2", "4.0-IV3"),
    release("4.1.0", "4.1-IV1"),
    release("4.1.1", "4.1-IV1"),
    release("4.1.2", "4.1-IV1"),
    release("4.2.0", "4.2-IV1"),
    release("4.2.1", "4.2-IV1"),
    release("4.2.2", "4.2-IV1"),
    release("4.3.0", "4.3-IV0"),
    release("4.3.1", "4.3-IV0"),
    release("4.3.2", "4.3-IV0"),
    release("4.4.0", "4.4-IV2"),
];

const fn release(version: &'static str, metadata_version: &'static str) -> Release {
    Release {
        version,
        metadata_version,
    }
}

/// Every KRaft metadata version a supported release can run, with its feature level (what
/// Kafka's UpdateFeatures and ApiVersions carry as `metadata.version`), oldest first.
const METADATA_LEVELS: &[(&str, i16)] = &[
    ("3.3-IV0", 4),
    ("3.3-IV1", 5),
    ("3.3-IV2", 6),
    ("3.3-IV3", 7),
    ("3.4-IV0", 8),
    ("3.5-IV0", 9),
    ("3.5-IV1", 10),
    ("3.5-IV2", 11),
    ("3.6-IV0", 12),
    ("3.6-IV1", 13),
    ("3.6-IV2", 14),
    ("3.7-IV0", 15),
    ("3.7-IV1", 16),
    ("3.7-IV2", 17),
    ("3.7-IV3", 18),
    ("3.7-IV4", 19),
    ("3.8-IV0", 20),
    ("3.9-IV0", 21),
    ("4.0-IV0", 22),
    ("4.0-IV1", 23),
    ("4.0-IV2", 24),
    ("4.0-IV3", 25),
    ("4.1-IV0", 26),
    ("4.1-IV1", 27),
    ("4.2-IV0", 28),
    ("4.2-IV1", 29),
    ("4.3-IV0", 30),
    ("4.4-IV0", 31),
    ("4.4-IV1", 32),
    ("4.4-IV2", 33),
];

pub fn newest() -> Release {
    RELEASES[RELEASES.len() - 1]
}

pub fn oldest() -> Release {
    RELEASES[0]
}

pub fn find(version: &str) -> Option<Release> {
    RELEASES
        .iter()
        .find(|release| release.version == version)
        .copied()
}

/// The official image of a Kafka version.
pub fn default_image(version: &str) -> String {
    format!("apache/kafka:{version}")
}

/// `(major, minor, patch)` of a version such as `3.4.0`.
pub fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split('.').map(|part| part.parse().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

impl Release {
    /// Kafka 3 logs through Log4j 1 (reload4j) and reads `log4j.properties`; Kafka 4 reads
    /// Log4j 2's files.
    pub fn logs_with_log4j1(&self) -> bool {
        self.version.starts_with("3.")
    }

    /// The oldest metadata version the release runs: Kafka 4 dropped those before 3.3-IV3.
    pub fn oldest_metadata_version(&self) -> &'static str {
        if self.logs_with_log4j1() {
            "3.3-IV0"
        } else {
            "3.3-IV3"
        }
    }

    /// The feature level of a metadata version as a spec writes it: `4.1-IV1`, or `4.1` for
    /// the newest of 4.1 this release knows. `None` for text that is not a metadata version
    /// or that the release does not know.
    pub fn metadata_level(&self, text: &str) -> Option<i16> {
        let newest = exact_level(self.metadata_version)?;
        let known = || METADATA_LEVELS.iter().filter(|(_, level)| *level <= newest);
        if text.contains("-IV") {
            return known().find(|(name, _)| *name == text).map(|(_, l)| *l);
        }
        let prefix = format!("{text}-IV");
        known()
            .filter(|(name, _)| name.strip_prefix(&prefix).is_some())
            .map(|(_, level)| *level)
            .max()
    }
}

/// The feature level of a metadata version any supported release knows (`4.1-IV1`, or `4.1`
/// for the newest of 4.1).
pub fn level(text: &str) -> Option<i16> {
    newest().metadata_level(text)
}

fn exact_level(name: &str) -> Option<i16> {
    METADATA_LEVELS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, level)| *level)
}

/// The level to move a cluster that runs metadata version `running` to, when the model's
/// `desired` is newer; `None` when it runs that or newer (or either is unknown).
pub fn upgrade_to(running: &str, desired: &str) -> Option<i16> {
    let (running, desired) = (level(running)?, level(desired)?);
    (running < desired).then_some(desired)
}

/// `((major, minor), IV)` of a metadata version as written: `4.1-IV1` or `4.1` (no IV). Orders
/// versions, known or not, for messages.
pub fn parse_metadata_version(text: &str) -> Option<((u32, u32), Option<u32>)> {
    let number = |part: &str| {
        (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    let (release, iv) = match text.split_once("-IV") {
        Some((release, iv)) => (release, Some(number(iv)?)),
        None => (text, None),
    };
    let (major, minor) = release.split_once('.')?;
    Some(((number(major)?, number(minor)?), iv))
}

/// The full name of a feature level, such as `4.1-IV1` for 27.
pub fn name_of_level(level: i16) -> Option<&'static str> {
    METADATA_LEVELS
        .iter()
        .find(|(_, known)| *known == level)
        .map(|(name, _)| *name)
}

/// The oldest release that runs a metadata version: where a refused downgrade may go.
pub fn oldest_release_running(level: i16) -> Option<Release> {
    RELEASES
        .iter()
        .find(|release| exact_level(release.metadata_version).is_some_and(|max| max >= level))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_release_knows_its_metadata_version_and_they_only_grow() {
        let levels: Vec<i16> = RELEASES
            .iter()
            .map(|release| level(release.metadata_version).expect(release.version))
            .collect();
        assert!(levels.windows(2).all(|pair| pair[0] <= pair[1]));
        let versions: Vec<(u32, u32, u32)> = RELEASES
            .iter()
            .map(|release| parse_version(release.version).unwrap())
            .collect();
        assert!(versions.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!((oldest().version, newest().version), ("3.9.0", "4.4.0"));
    }

    #[test]
    fn metadata_versions_resolve_to_feature_levels_the_release_knows() {
        let kafka_4_1 = find("4.1.0").unwrap();
        assert_eq!(kafka_4_1.metadata_level("4.1-IV1"), Some(27));
        assert_eq!(kafka_4_1.metadata_level("4.1"), Some(27));
        assert_eq!(kafka_4_1.metadata_level("3.9"), Some(21));
        assert_eq!(kafka_4_1.metadata_level("4.2-IV0"), None);
        assert_eq!(kafka_4_1.metadata_level("4.2"), None);
        assert_eq!(kafka_4_1.metadata_level("4.1-IV7"), None);
        assert_eq!(find("4.4.0").unwrap().metadata_level("4.4"), Some(33));
        assert_eq!(name_of_level(33), Some("4.4-IV2"));
        assert_eq!(
            (level("4.0"), level("3.3-IV0"), level("5.0")),
            (Some(25), Some(4), None)
        );
        assert_eq!(
            oldest_release_running(27).map(|release| release.version),
            Some("4.1.0")
        );
        assert_eq!(oldest_release_running(40), None);
    }

    #[test]
    fn only_a_newer_metadata_version_is_an_upgrade() {
        assert_eq!(upgrade_to("3.9-IV0", "4.4-IV2"), Some(33));
        assert_eq!(upgrade_to("3.9-IV0", "4.4"), Some(33));
        assert_eq!(upgrade_to("4.4-IV2", "4.4"), None);
        assert_eq!(upgrade_to("4.4-IV2", "4.1-IV1"), None);
        assert_eq!(upgrade_to("garbage", "4.4-IV2"), None);
    }

    #[test]
    fn only_kafka_3_logs_with_log4j_1_and_runs_the_oldest_metadata() {
        let kafka_3 = find("3.9.2").unwrap();
        assert!(kafka_3.logs_with_log4j1());
        assert_eq!(kafka_3.oldest_metadata_version(), "3.3-IV0");
        assert!(!newest().logs_with_log4j1());
        assert_eq!(newest().oldest_metadata_version(), "3.3-IV3");
    }

    #[test]
    fn metadata_versions_parse_and_order() {
        assert_eq!(parse_metadata_version("4.1-IV1"), Some(((4, 1), Some(1))));
        assert_eq!(parse_metadata_version("9.9"), Some(((9, 9), None)));
        assert!(parse_metadata_version("9.9-IV9") > parse_metadata_version("4.4-IV2"));
        for garbage in ["garbage", "4.0-IV", "4.-IV1", "4.0-iv3", "4.0.1"] {
            assert_eq!(parse_metadata_version(garbage), None, "{garbage}");
        }
    }

    #[test]
    fn versions_parse_as_three_numbers() {
        assert_eq!(parse_version("3.4.0"), Some((3, 4, 0)));
        for garbage in ["3.4", "3.4.0.1", "latest", "3.x.0", ""] {
            assert_eq!(parse_version(garbage), None, "{garbage}");
        }
    }
}
