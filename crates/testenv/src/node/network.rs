//! The node's network: a bridge on an address range routed nowhere else, and a guard that keeps
//! every packet of the pod, Service and simulated-pod ranges on this machine.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// The pods' bridge; its address is the node's, the API server's and cluster DNS's.
pub const BRIDGE: &str = "brokerage0";
pub const BRIDGE_ADDRESS: &str = "10.89.0.1";
pub const POD_SUBNET: &str = "10.89.0.0/24";
/// The API server's `--service-cluster-ip-range`.
pub const SERVICE_RANGE: &str = "10.96.0.0/16";
/// The addresses kwok gives its simulated pods: nothing answers there, and nothing may try.
pub const SIMULATED_POD_RANGE: &str = "10.244.0.0/16";
/// The guard's chains, in the filter table, each jumped to from the built-in chain it is named
/// after.
pub const GUARD_CHAINS: [&str; 3] = ["BROKERAGE-INPUT", "BROKERAGE-FORWARD", "BROKERAGE-OUTPUT"];

/// Creates the bridge (so the API server can bind its address before any pod exists) and the
/// guard rules.
pub fn set_up() -> Result<()> {
    run("ip", &["link", "add", BRIDGE, "type", "bridge"])?;
    run(
        "ip",
        &[
            "addr",
            "add",
            &format!("{BRIDGE_ADDRESS}/24"),
            "dev",
            BRIDGE,
        ],
    )?;
    run("ip", &["link", "set", BRIDGE, "up"])?;
    // Forward what arrives on the bridge only (pod to Service to pod); the machine's other
    // interfaces keep their own setting, so nothing arriving from outside is routed to pods.
    std::fs::write(format!("/proc/sys/net/ipv4/conf/{BRIDGE}/forwarding"), "1")
        .context("enabling forwarding on the pod bridge")?;
    guard()
}

/// The guard, one chain per hook:
/// - input: the node's addresses answer only on loopback and the bridge;
/// - forward: what comes from a pod goes back to the bridge or nowhere (a Service whose
///   endpoints are kwok's pods is translated to an address that routes to the uplink);
/// - output: no packet for a pod, Service or simulated-pod address leaves by another interface.
fn guard() -> Result<()> {
    let pods_elsewhere = ["-d", POD_SUBNET, "!", "-o", BRIDGE, "-j", "REJECT"];
    let chains: [(&str, Vec<Vec<&str>>); 3] = [
        (
            "INPUT",
            vec![
                vec!["-i", "lo", "-j", "RETURN"],
                vec!["-i", BRIDGE, "-j", "RETURN"],
                vec!["-d", POD_SUBNET, "-j", "DROP"],
            ],
        ),
        (
            "FORWARD",
            vec![vec!["-i", BRIDGE, "!", "-o", BRIDGE, "-j", "DROP"]],
        ),
        (
            "OUTPUT",
            vec![
                vec!["-o", "lo", "-j", "RETURN"],
                vec!["-d", SIMULATED_POD_RANGE, "-j", "REJECT"],
                vec!["-d", SERVICE_RANGE, "-j", "REJECT"],
                pods_elsewhere.to_vec(),
            ],
        ),
    ];
    for ((hook, rules), chain) in chains.iter().zip(GUARD_CHAINS) {
        run("iptables", &["-N", chain])?;
        for rule in rules {
            let mut args = vec!["-A", chain];
            args.extend(rule);
            run("iptables", &args)?;
        }
        run("iptables", &["-I", hook, "1", "-j", chain])?;
    }
    Ok(())
}

/// Whether the guard is in place: each chain is jumped to from its hook.
pub fn guard_in_place() -> bool {
    ["INPUT", "FORWARD", "OUTPUT"]
        .iter()
        .zip(GUARD_CHAINS)
        .all(|(hook, chain)| {
            Command::new("iptables")
                .args(["-C", hook, "-j", chain])
                .output()
                .is_ok_and(|output| output.status.success())
        })
}

fn run(program: &str, args: &[&str]) -> Result<()> {
    let output = Command::new(program).args(args).output().with_context(|| {
        format!("running {program} (the real node needs iproute2 and iptables, and root)")
    })?;
    if !output.status.success() {
        bail!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
