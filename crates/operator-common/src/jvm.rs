//! What the Kafka and RocketMQ containers share now that they run `java` themselves rather than
//! the images' launch scripts: how much memory a container has to size a heap from, and the
//! quoting that puts options into their `sh -c` scripts.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::quantity;

pub const MIB: u64 = 1024 * 1024;

/// The container's memory in bytes: its limit, which the kernel enforces, or else its request,
/// which the scheduler set aside for it. `None` when it has neither.
pub fn memory(resources: Option<&ResourceRequirements>) -> Option<u64> {
    let resources = resources?;
    let of = |amounts: &Option<BTreeMap<String, Quantity>>| {
        amounts.as_ref()?.get("memory").and_then(quantity::bytes)
    };
    of(&resources.limits).or_else(|| of(&resources.requests))
}

/// A JVM size such as `2g`, `512m`, `512M` or `1073741824` (the forms `-Xms` and `-Xmx` take) in
/// MiB, rounded up; `None` when it is not one.
pub fn mebibytes(size: &str) -> Option<u64> {
    let split = size
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(size.len());
    let (number, unit) = size.split_at(split);
    let number: u64 = number.parse().ok()?;
    let bytes = match unit {
        "" => Some(number),
        "k" | "K" => number.checked_mul(1024),
        "m" | "M" => number.checked_mul(MIB),
        "g" | "G" => number.checked_mul(1024 * MIB),
        "t" | "T" => number.checked_mul(1024 * 1024 * MIB),
        _ => None,
    }?;
    Some(bytes.div_ceil(MIB))
}

/// `word` as one word of a POSIX shell command, single-quoted unless it needs no quoting, so
/// that the shell neither splits nor expands a user's option.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=+:,./@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `words` as shell words joined by spaces.
pub fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|word| shell_word(word))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(limit: Option<&str>, request: Option<&str>) -> ResourceRequirements {
        let memory = |value: Option<&str>| {
            value.map(|value| BTreeMap::from([("memory".to_string(), Quantity(value.into()))]))
        };
        ResourceRequirements {
            limits: memory(limit),
            requests: memory(request),
            ..ResourceRequirements::default()
        }
    }

    #[test]
    fn memory_is_the_limit_else_the_request() {
        let both = resources(Some("2Gi"), Some("1Gi"));
        assert_eq!(memory(Some(&both)), Some(2048 * MIB));
        let request = resources(None, Some("1Gi"));
        assert_eq!(memory(Some(&request)), Some(1024 * MIB));
        assert_eq!(memory(Some(&resources(None, None))), None);
        assert_eq!(memory(None), None);
        // A CPU-only limit says nothing about memory.
        let cpu = ResourceRequirements {
            limits: Some(BTreeMap::from([("cpu".to_string(), Quantity("1".into()))])),
            ..ResourceRequirements::default()
        };
        assert_eq!(memory(Some(&cpu)), None);
    }

    #[test]
    fn jvm_sizes_in_mebibytes() {
        assert_eq!(mebibytes("2g"), Some(2048));
        assert_eq!(mebibytes("2G"), Some(2048));
        assert_eq!(mebibytes("512m"), Some(512));
        assert_eq!(mebibytes("1073741824"), Some(1024));
        assert_eq!(mebibytes("1025k"), Some(2));
        assert_eq!(mebibytes("2Gi"), None);
        assert_eq!(mebibytes("lots"), None);
        assert_eq!(mebibytes("99999999999999999999g"), None);
        assert_eq!(mebibytes("99999999999g"), None);
    }

    #[test]
    fn words_are_quoted_only_when_the_shell_would_change_them() {
        assert_eq!(shell_word("-Xmx512m"), "-Xmx512m");
        assert_eq!(
            shell_word("-Dlog4j2.configurationFile=/opt/kafka/custom-config/log4j2.properties"),
            "-Dlog4j2.configurationFile=/opt/kafka/custom-config/log4j2.properties"
        );
        assert_eq!(shell_word("-Da=b c"), "'-Da=b c'");
        assert_eq!(shell_word("-Da=$HOME"), "'-Da=$HOME'");
        assert_eq!(shell_word("-Xlog:gc*"), "'-Xlog:gc*'");
        assert_eq!(shell_word("-Da=it's"), r"'-Da=it'\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(
            shell_words(&["-Xms1g".to_string(), "-Da=b c".to_string()]),
            "-Xms1g '-Da=b c'"
        );
    }
}
