//! The servers' JVM memory. RocketMQ's own scripts take fixed heaps (4 GiB for a name server,
//! 8 GiB for a broker) whatever the container has, so upstream's pods are often OOM-killed; the
//! operator sizes the heap from the container's memory instead (its limit, else its request):
//! heap half of it (a controller's and a proxy's as a name server's); for a broker, young generation half the heap and direct memory (the page
//! cache of the commit log is off-heap) a quarter. The user's own flags win: upstream's
//! `BROKER_MEM` variable, or heap flags in `JAVA_OPT_EXT`, which the start script puts last on
//! the `java` command line (so the last `-Xmx` given wins).

use k8s_openapi::api::core::v1::{EnvVar, ResourceRequirements};

use super::jvm::Server;
use operator_common::jvm::{MIB, memory};

/// JVM flags the start script puts after its own, as RocketMQ's scripts do.
pub const JAVA_OPT_EXT: &str = "JAVA_OPT_EXT";
/// Upstream's heap flags variable for brokers (e.g. `-Xms2g -Xmx2g -Xmn1g`).
pub const BROKER_MEM: &str = "BROKER_MEM";

/// Without a memory limit or request, the heap of a container this size: a test broker holds
/// little and a name server less, and several of them then fit a small machine.
fn unsized_memory(server: Server) -> u64 {
    match server {
        Server::NameServer | Server::Controller | Server::Proxy => 512 * MIB,
        Server::Broker => 1024 * MIB,
    }
}

/// The user's `env` with `JAVA_OPT_EXT` last, carrying the heap flags and then the user's own
/// `JAVA_OPT_EXT` text. A `JAVA_OPT_EXT` from a ConfigMap or Secret cannot be read here, so it
/// is left exactly as given.
pub fn with_heap(
    user_env: &[EnvVar],
    resources: Option<&ResourceRequirements>,
    server: Server,
) -> Vec<EnvVar> {
    let user_options = user_env.iter().rfind(|env| env.name == JAVA_OPT_EXT);
    if user_options.is_some_and(|env| env.value_from.is_some()) {
        return user_env.to_vec();
    }
    let user_text = user_options
        .and_then(|env| env.value.clone())
        .unwrap_or_default();
    let heap = if has_heap_flags(&user_text) {
        None
    } else if server == Server::Broker && user_env.iter().any(|env| env.name == BROKER_MEM) {
        // Kubernetes expands `$(VAR)` from variables defined earlier in the list, which works
        // for a BROKER_MEM read from a ConfigMap (as upstream's example does) too.
        Some(format!("$({BROKER_MEM})"))
    } else {
        heap_flags(server, memory(resources).unwrap_or(unsized_memory(server)))
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

/// The heap flags of `server` in a container of `memory` bytes.
fn heap_flags(server: Server, memory: u64) -> Option<String> {
    let memory_mib = memory / MIB;
    let heap = memory_mib / 2;
    if heap == 0 {
        return None;
    }
    let heap_flags = format!("-Xms{heap}m -Xmx{heap}m");
    Some(match server {
        Server::NameServer | Server::Controller | Server::Proxy => heap_flags,
        Server::Broker => {
            let young = heap / 2;
            let direct = memory_mib / 4;
            format!("{heap_flags} -Xmn{young}m -XX:MaxDirectMemorySize={direct}m")
        }
    })
}

fn has_heap_flags(options: &str) -> bool {
    options
        .split_whitespace()
        .any(|flag| ["-Xmx", "-Xms", "-Xmn"].iter().any(|h| flag.starts_with(h)))
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
        let env = with_heap(&[], Some(&limited("12288Mi")), Server::Broker);
        assert_eq!(
            options(&env).as_deref(),
            Some("-Xms6144m -Xmx6144m -Xmn3072m -XX:MaxDirectMemorySize=3072m")
        );
        // A name server needs only its heap.
        let env = with_heap(&[], Some(&limited("1Gi")), Server::NameServer);
        assert_eq!(options(&env).as_deref(), Some("-Xms512m -Xmx512m"));
    }

    #[test]
    fn without_a_limit_the_request_or_a_small_default() {
        let requested = ResourceRequirements {
            requests: limited("2Gi").limits,
            ..ResourceRequirements::default()
        };
        let env = with_heap(&[], Some(&requested), Server::Broker);
        assert_eq!(
            options(&env).as_deref(),
            Some("-Xms1024m -Xmx1024m -Xmn512m -XX:MaxDirectMemorySize=512m")
        );
        let env = with_heap(&[], None, Server::Broker);
        assert_eq!(
            options(&env).as_deref(),
            Some("-Xms512m -Xmx512m -Xmn256m -XX:MaxDirectMemorySize=256m")
        );
        let env = with_heap(&[], None, Server::NameServer);
        assert_eq!(options(&env).as_deref(), Some("-Xms256m -Xmx256m"));
        // A limit too small for any heap leaves the JVM's own sizing.
        assert!(with_heap(&[], Some(&limited("1Mi")), Server::NameServer).is_empty());
    }

    #[test]
    fn the_users_flags_win() {
        let limit = limited("4Gi");
        // Upstream's BROKER_MEM, by reference so one read from a ConfigMap works too.
        let broker_mem = [var(BROKER_MEM, "-Xms2g -Xmx2g -Xmn1g")];
        let env = with_heap(&broker_mem, Some(&limit), Server::Broker);
        assert_eq!(env[0].name, BROKER_MEM);
        assert_eq!(options(&env).as_deref(), Some("$(BROKER_MEM)"));
        // It is a broker's variable only.
        let env = with_heap(&broker_mem, Some(&limit), Server::NameServer);
        assert_eq!(options(&env).as_deref(), Some("-Xms2048m -Xmx2048m"));

        // Heap flags in JAVA_OPT_EXT: taken as they are.
        let env = with_heap(
            &[var(JAVA_OPT_EXT, "-Xmx1g -Dx=y")],
            Some(&limit),
            Server::Broker,
        );
        assert_eq!(options(&env).as_deref(), Some("-Xmx1g -Dx=y"));
        assert_eq!(env.len(), 1);

        // Other flags in JAVA_OPT_EXT: kept after the computed heap.
        let env = with_heap(
            &[var(JAVA_OPT_EXT, "-Dfoo=bar"), var("TZ", "UTC")],
            Some(&limit),
            Server::Broker,
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
            with_heap(
                std::slice::from_ref(&from_secret),
                Some(&limit),
                Server::Broker
            ),
            [from_secret]
        );
    }
}
