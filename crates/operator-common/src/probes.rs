//! What Kafka and RocketMQ pods share about probes.

use k8s_openapi::api::core::v1::{Probe, TCPSocketAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// How long a broker may take to open `port` before the kubelet gives up on it: ten minutes.
const STARTUP_CHECKS: i32 = 120;
const STARTUP_PERIOD_SECONDS: i32 = 5;

/// Holds the liveness and readiness probes back until `port` first accepts connections. A
/// broker's start (storage format, log recovery after a crash, a JVM warming up on a busy node)
/// can take minutes; a liveness probe that counts from the container's start would restart it
/// again and again before it ever served.
pub fn startup_probe(port: i32) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::Int(port),
            ..TCPSocketAction::default()
        }),
        period_seconds: Some(STARTUP_PERIOD_SECONDS),
        timeout_seconds: Some(5),
        failure_threshold: Some(STARTUP_CHECKS),
        ..Probe::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broker_gets_ten_minutes_to_start() {
        let probe = startup_probe(9091);
        let budget = probe.period_seconds.unwrap() * probe.failure_threshold.unwrap();
        assert_eq!(budget, 600);
        assert_eq!(probe.tcp_socket.unwrap().port, IntOrString::Int(9091));
    }
}
