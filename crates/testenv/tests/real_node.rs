//! The real node: pods run for real on a network that keeps every packet on this machine, cluster
//! DNS answers from its own data, the API server is reachable from pods, and stopping the node
//! leaves nothing behind. One test, on a cluster of its own: only one real node may run on a
//! machine at a time, and this test stops it.

use std::time::Duration;

use anyhow::{Result, ensure};
use testenv::Cluster;
use testenv::node::network;
use testenv::pods::{ClientPod, run_pod};

const WAIT: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_run_on_a_closed_network_and_the_node_leaves_nothing_behind() -> Result<()> {
    let cluster = Cluster::start().await?;
    ensure!(network::guard_in_place(), "the guard rules are missing");
    cluster.wait_real_node().await?;
    let client = cluster.client().await?;
    let namespace = testenv::fresh_namespace_on_real_node(&cluster, "real-node").await?;

    // The pod's routing table (`/proc/net/route`, hexadecimal): its subnet and the Service range
    // only, no default route (destination 00000000).
    let probe = ClientPod {
        name: "probe",
        image: &format!("apache/kafka:{}", testenv::tools::KAFKA_VERSION),
        script: r#"set -e
cat /proc/net/route
echo "kubernetes: $(getent hosts kubernetes.default.svc.cluster.local)"
if getent hosts example.com; then echo "outside name resolved"; else echo "outside name: not found"; fi
timeout 10 bash -c 'exec 3<>/dev/tcp/kubernetes.default.svc.cluster.local/443' && echo "api server: reachable"
"#
        .into(),
        secrets: &[],
    };
    let output = run_pod(&client, &namespace, &probe, WAIT).await?;
    let routes: Vec<&str> = output
        .lines()
        .skip(1)
        .take_while(|line| !line.starts_with("kubernetes:"))
        .filter_map(|line| line.split_whitespace().nth(1))
        .collect();
    ensure!(!routes.is_empty(), "no routes read:\n{output}");
    ensure!(!routes.contains(&"00000000"), "a default route:\n{output}");
    ensure!(output.contains("kubernetes: 10.96.0.1"), "{output}");
    ensure!(output.contains("outside name: not found"), "{output}");
    ensure!(output.contains("api server: reachable"), "{output}");

    drop(cluster);
    let left = leftovers()?;
    ensure!(left.is_empty(), "left behind: {left:?}");

    // A test binary killed with SIGKILL runs no destructor: its reaper cleans up after it.
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args(["--ignored", "--exact", "a_node_whose_process_is_killed"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    testenv::eventually("the killed process's node runs", WAIT, || async {
        Ok(network::guard_in_place()
            && std::env::temp_dir().join("brokerage-node/kubelet").exists())
    })
    .await?;
    child.kill()?;
    child.wait()?;
    testenv::eventually("the reaper removed the killed node", WAIT, || async {
        Ok(leftovers()?.is_empty())
    })
    .await?;
    Ok(())
}

/// Started, and killed, by the test above.
#[tokio::test]
#[ignore = "run by pods_run_on_a_closed_network_and_the_node_leaves_nothing_behind"]
async fn a_node_whose_process_is_killed() -> Result<()> {
    let _cluster = Cluster::start().await?;
    tokio::time::sleep(Duration::from_secs(600)).await;
    Ok(())
}

/// What a stopped node must not leave: its bridge, the guard's and kube-proxy's chains, mounts
/// and processes under its directory.
fn leftovers() -> Result<Vec<String>> {
    let mut found = Vec::new();
    let links = std::process::Command::new("ip")
        .args(["-o", "link"])
        .output()?;
    if String::from_utf8_lossy(&links.stdout).contains(network::BRIDGE) {
        found.push(format!("the bridge {}", network::BRIDGE));
    }
    for table in ["filter", "nat"] {
        let rules = std::process::Command::new("iptables")
            .args(["-t", table, "-S"])
            .output()?;
        for line in String::from_utf8_lossy(&rules.stdout).lines() {
            if line.contains("BROKERAGE-") || line.contains("KUBE-SERVICES") {
                found.push(format!("iptables -t {table}: {line}"));
            }
        }
    }
    let dir = std::env::temp_dir().join("brokerage-node");
    let mounts = std::fs::read_to_string("/proc/self/mounts")?;
    found.extend(
        mounts
            .lines()
            .filter(|line| line.contains(&format!(" {}/", dir.display())))
            .map(|line| format!("mount {line}")),
    );
    if dir.exists() {
        found.push(format!("{}", dir.display()));
    }
    Ok(found)
}
