//! The brokers' JVM memory. Left to itself the official image sizes the heap from the host, so
//! upstream's brokers are often OOM-killed; the operator sizes it from the container's memory
//! limit instead: heap half the limit, young generation half the heap, direct memory (the page
//! cache of the commit log is off-heap) a quarter. The user's own flags win: upstream's
//! `BROKER_MEM` variable, or heap flags in `JAVA_OPT_EXT`, which the image's `runbroker.sh`
//! appends last to the `java` command line (so the last `-Xmx` given wins).

use k8s_openapi::api::core::v1::{EnvVar, ResourceRequirements};

use crate::quantity;

/// JVM flags the official image's `runbroker.sh` appends after its own.
pub const JAVA_OPT_EXT: &str = "JAVA_OPT_EXT";
/// Upstream's heap flags variable (e.g. `-Xms2g -Xmx2g -Xmn1g`).
pub const BROKER_MEM: &str = "BROKER_MEM";

const MIB: u64 = 1024 * 1024;

/// The user's `env` with `JAVA_OPT_EXT` last, carrying the heap flags and then the user's own
/// `JAVA_OPT_EXT` text. A `JAVA_OPT_EXT` from a ConfigMap or Secret cannot be read here, so it
/// is left exactly as given.
pub fn with_heap(user_env: &[EnvVar], resources: Option<&ResourceRequirements>) -> Vec<EnvVar> {
    let user_options = user_env.iter().rfind(|env| env.name == JAVA_OPT_EXT);
    if user_options.is_some_and(|env| env.value_from.is_some()) {
        return user_env.to_vec();
    }
    let user_text = user_options
        .and_then(|env| env.value.clone())
        .unwrap_or_default();
    let heap = if has_heap_flags(&user_text) {
        None
    } else if user_env.iter().any(|env| env.name == BROKER_MEM) {
        // Kubernetes expands `$(VAR)` from variables defined earlier in the list, which works
        // for a BROKER_MEM read from a ConfigMap (as upstream's example does) too.
        Some(format!("$({BROKER_MEM})"))
    } else {
        memory_limit(resources).and_then(heap_flags)
    };
    let options: Vec<String> = heap
        .into_iter()
        .chain([user_text.trim().to_string()])
        .filter(|part| !part.is_empty())
        .collect();
    let mut env: Vec<EnvVar> = user_env
        .iter()
        .filter(|env| env.name != JAVA_OPT_EXT)
        .cloned()
        .collect();
    if !options.is_empty() {
        env.push(EnvVar {
            name: JAVA_OPT_EXT.into(),
            value: Some(options.join(" ")),
            ..EnvVar::default()
        });
    }
    env
}

/// `-Xms -Xmx -Xmn -XX:MaxDirectMemorySize` for a container limited to `limit` bytes.
fn heap_flags(limit: u64) -> Option<String> {
    let limit_mib = limit / MIB;
    let heap = limit_mib / 2;
    if heap == 0 {
        return None;
    }
    let young = heap / 2;
    let direct = limit_mib / 4;
    Some(format!(
        "-Xms{heap}m -Xmx{heap}m -Xmn{young}m -XX:MaxDirectMemorySize={direct}m"
    ))
}

fn has_heap_flags(options: &str) -> bool {
    options
        .split_whitespace()
        .any(|flag| ["-Xmx", "-Xms", "-Xmn"].iter().any(|h| flag.starts_with(h)))
}

fn memory_limit(resources: Option<&ResourceRequirements>) -> Option<u64> {
    let limits = resources?.limits.as_ref()?;
    quantity::bytes(limits.get("memory")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use std::collections::BTreeMap;

    fn limited(memory: &str) -> ResourceRequirements {
        ResourceRequirements {
            limits: Some(BTreeMap::from([(
                "memory".to_string(),
                Quantity(memory.into()),
            )])),
            ..ResourceRequirements::default()
        }
    }

    fn var(name: &str, value: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: Some(value.into()),
            ..EnvVar::default()
        }
    }

    fn options(env: &[EnvVar]) -> Option<String> {
        env.iter()
            .find(|env| env.name == JAVA_OPT_EXT)
            .and_then(|env| env.value.clone())
    }

    #[test]
    fn the_heap_is_half_the_limit_young_gen_half_the_heap_direct_memory_a_quarter() {
        let env = with_heap(&[], Some(&limited("12288Mi")));
        assert_eq!(
            options(&env).as_deref(),
            Some("-Xms6144m -Xmx6144m -Xmn3072m -XX:MaxDirectMemorySize=3072m")
        );
        // No limit: the image's own sizing.
        assert!(with_heap(&[], None).is_empty());
    }

    #[test]
    fn the_users_flags_win() {
        let limit = limited("4Gi");
        // Upstream's BROKER_MEM, by reference so one read from a ConfigMap works too.
        let env = with_heap(&[var(BROKER_MEM, "-Xms2g -Xmx2g -Xmn1g")], Some(&limit));
        assert_eq!(env[0].name, BROKER_MEM);
        assert_eq!(options(&env).as_deref(), Some("$(BROKER_MEM)"));

        // Heap flags in JAVA_OPT_EXT: taken as they are.
        let env = with_heap(&[var(JAVA_OPT_EXT, "-Xmx1g -Dx=y")], Some(&limit));
        assert_eq!(options(&env).as_deref(), Some("-Xmx1g -Dx=y"));
        assert_eq!(env.len(), 1);

        // Other flags in JAVA_OPT_EXT: kept after the computed heap.
        let env = with_heap(
            &[var(JAVA_OPT_EXT, "-Dfoo=bar"), var("TZ", "UTC")],
            Some(&limit),
        );
        assert_eq!(env[0].name, "TZ");
        assert_eq!(
            options(&env).as_deref(),
            Some("-Xms2048m -Xmx2048m -Xmn1024m -XX:MaxDirectMemorySize=1024m -Dfoo=bar")
        );

        // JAVA_OPT_EXT from a Secret cannot be read: left alone.
        let from_secret = EnvVar {
            name: JAVA_OPT_EXT.into(),
            value_from: Some(Default::default()),
            ..EnvVar::default()
        };
        assert_eq!(
            with_heap(std::slice::from_ref(&from_secret), Some(&limit)),
            [from_secret]
        );
    }
}
