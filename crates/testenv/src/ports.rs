//! Ports for the servers the test environment starts (etcd, the API server, Kafka, RocketMQ,
//! the operator's HTTP server, the node's services).
//!
//! A port found free by binding port 0 is an ephemeral port: until its server binds it, any
//! outgoing connection on the machine may be given it as its local port, and the server then
//! fails with "Address already in use" (CI saw exactly that with a Kafka node). So ports are
//! drawn from below the kernel's ephemeral range and below the NodePort range, where the kernel
//! never hands one out by itself, starting at a random place so that concurrent test processes
//! rarely try the same one, and never twice in one process.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::ops::Range;
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

use anyhow::{Result, bail};

/// Below this, ports belong to well-known services.
const LOWEST: u16 = 10_000;
/// Kubernetes' NodePort range starts here; kube-proxy on the real node may claim those.
const NODE_PORTS: u16 = 30_000;

/// `count` distinct ports, each free on every address when chosen.
pub fn free_ports(count: usize) -> Result<Vec<u16>> {
    let mut picker = picker();
    (0..count).map(|_| picker.pick(&[0])).collect()
}

/// One port free on every address.
pub fn free_port() -> Result<u16> {
    picker().pick(&[0])
}

/// A RocketMQ broker's `listenPort` P, with the other ports it binds by default free too: its
/// fast remoting port P - 2 and its HA port P + 1. (A broker whose HA port was not reserved
/// once took the port the picker handed next to another test's broker.)
pub fn free_broker_port() -> Result<u16> {
    picker().pick(&[-2, 0, 1])
}

struct Picker {
    range: Range<u16>,
    next: u16,
    handed_out: BTreeSet<u16>,
}

fn picker() -> MutexGuard<'static, Picker> {
    static PICKER: LazyLock<Mutex<Picker>> = LazyLock::new(|| Mutex::new(Picker::new()));
    PICKER.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Picker {
    fn new() -> Picker {
        let range = LOWEST..ephemeral_start().min(NODE_PORTS);
        let span = u128::from(range.end - range.start).max(1);
        let offset = uuid::Uuid::new_v4().as_u128() % span;
        let next = range.start + u16::try_from(offset).expect("an offset within the range");
        Picker {
            range,
            next,
            handed_out: BTreeSet::new(),
        }
    }

    /// The next port P such that P + d is free and not handed out, for every d in `offsets`.
    fn pick(&mut self, offsets: &[i32]) -> Result<u16> {
        for _ in self.range.clone() {
            let port = self.next;
            self.next = if port + 1 >= self.range.end {
                self.range.start
            } else {
                port + 1
            };
            let wanted: Vec<u16> = offsets
                .iter()
                .filter_map(|d| u16::try_from(i32::from(port) + d).ok())
                .filter(|p| self.range.contains(p) && !self.handed_out.contains(p))
                .collect();
            let usable = wanted.len() == offsets.len()
                && wanted
                    .iter()
                    .all(|p| TcpListener::bind(("0.0.0.0", *p)).is_ok());
            if usable {
                self.handed_out.extend(wanted);
                return Ok(port);
            }
        }
        bail!("no free port left in {:?}", self.range)
    }
}

/// The first port of the kernel's ephemeral range (`ip_local_port_range`), 32768 if unknown.
fn ephemeral_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_and_outside_the_ephemeral_range() {
        let mut ports = free_ports(50).unwrap();
        ports.push(free_port().unwrap());
        let broker = free_broker_port().unwrap();
        ports.extend([broker - 2, broker, broker + 1]);
        assert!(
            ports
                .iter()
                .all(|p| (LOWEST..ephemeral_start()).contains(p))
        );
        let distinct: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
    }
}
