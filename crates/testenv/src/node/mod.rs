//! One real node beside kwok's simulated ones: containerd, the kubelet, kube-proxy and cluster DNS
//! as processes of this machine, pods on a bridge of their own, images built here.
//!
//! Only one real node can run on a machine at a time (kube-proxy's rules and the bridge are the
//! machine's), so a lock file guards it. Whatever a node leaves behind (a killed test binary, a
//! crash) is removed by `teardown.sh`: before every start, when a node is dropped, and by a
//! reaper process that waits for the test binary to end, since a shared cluster is never dropped.
//!
//! Pods land here only when they tolerate [`NODE_TAINT`]; [`crate::fresh_namespace_on_real_node`]
//! makes namespaces whose pods are steered here and nowhere else.

mod config;
pub mod network;

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::process::Process;
use crate::tools::Tools;

pub use network::BRIDGE_ADDRESS;

/// The node's name, label and taint.
pub const NODE_NAME: &str = "brokerage-node";
/// Labels the real node `brokerage.io/node=real` (kwok's nodes are `type=kwok`).
pub const NODE_LABEL: &str = "brokerage.io/node";
/// The real node's zone, which rack-aware brokers on it report.
pub const NODE_ZONE: &str = "zone-real";
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
/// Only pods that tolerate this reach the real node: kwok stays the default for everything else.
pub const NODE_TAINT: &str = "brokerage.io/real-node";

const TEARDOWN: &str = include_str!("teardown.sh");

/// The real node's processes, killed and cleaned up after when dropped.
pub struct RealNode {
    dir: PathBuf,
    /// In start order; stopped in reverse.
    processes: Vec<Process>,
    socket: PathBuf,
    stopped: bool,
    /// Held while the node exists: one node per machine.
    _lock: File,
}

impl RealNode {
    /// The first half of a start, before the control plane (whose API server binds the bridge's
    /// address): takes the machine's node lock, removes a previous node's leftovers, leaves a
    /// reaper behind, and makes the bridge and the guard.
    pub fn prepare() -> Result<RealNode> {
        let lock_path = std::env::temp_dir().join("brokerage-node.lock");
        let lock = File::create(&lock_path)?;
        if lock.try_lock().is_err() {
            eprintln!("testenv: another real node runs on this machine; waiting for it to stop");
            lock.lock().context("waiting for the real node lock")?;
        }
        let dir = node_dir();
        teardown(&dir)?;
        std::fs::create_dir_all(&dir)?;
        spawn_reaper(&dir, &lock_path)?;
        network::set_up()?;
        Ok(RealNode {
            socket: dir.join("containerd").join("containerd.sock"),
            dir,
            processes: Vec::new(),
            stopped: false,
            _lock: lock,
        })
    }

    /// The second half: containerd with the local images, the kubelet, kube-proxy and cluster
    /// DNS, against the API server of `kubeconfig` (whose CA is `client_ca`). Does not wait for
    /// the node to be Ready; see [`crate::Cluster::wait_real_node`].
    pub fn start(
        &mut self,
        tools: &Tools,
        kubeconfig: &Path,
        client_ca: &Path,
        logs: &Path,
        images: &[PathBuf],
    ) -> Result<()> {
        let dir = self.dir.clone();
        let state = dir.join("containerd");
        let cni = dir.join("cni");
        std::fs::create_dir_all(&cni)?;
        std::fs::write(
            cni.join("10-brokerage.conflist"),
            config::cni_conflist(&dir.join("ipam")),
        )?;
        for (registry, hosts) in config::registry_mirrors() {
            let registry_dir = state.join("certs.d").join(registry);
            std::fs::create_dir_all(&registry_dir)?;
            std::fs::write(registry_dir.join("hosts.toml"), hosts)?;
        }
        let containerd_root = containerd_root();
        let containerd_toml = dir.join("containerd.toml");
        std::fs::write(
            &containerd_toml,
            config::containerd_toml(&containerd_root, &state, &self.socket, &cni),
        )?;
        let mut containerd = Command::new("containerd");
        containerd.arg("--config").arg(&containerd_toml);
        self.spawn("containerd", containerd, logs)?;
        self.wait_for_socket(logs)?;
        for image in images {
            import_once(&self.socket, &containerd_root, image)?;
        }

        let resolv_conf = dir.join("resolv.conf");
        std::fs::write(&resolv_conf, config::resolv_conf())?;
        create_cgroup_root()?;
        let kubelet_config = dir.join("kubelet.yaml");
        std::fs::write(
            &kubelet_config,
            config::kubelet_yaml(client_ca, &resolv_conf, &dir.join("pod-logs")),
        )?;
        // The components read the cluster's kubeconfig from a copy of their own, so that
        // teardown's search for this node's processes finds them by their command lines.
        let node_kubeconfig = dir.join("kubeconfig");
        std::fs::copy(kubeconfig, &node_kubeconfig)?;
        let mut kubelet = Command::new(&tools.hyperkube);
        kubelet.arg("kubelet").args(config::kubelet_args(
            &kubelet_config,
            &node_kubeconfig,
            &dir.join("kubelet"),
            &self.socket,
        ));
        self.spawn("kubelet", kubelet, logs)?;

        let mut kube_proxy = Command::new(&tools.hyperkube);
        kube_proxy.arg("kube-proxy").args(config::kube_proxy_args(
            &node_kubeconfig,
            crate::ports::free_port()?,
            crate::ports::free_port()?,
        ));
        self.spawn("kube-proxy", kube_proxy, logs)?;

        let corefile = dir.join("Corefile");
        std::fs::write(
            &corefile,
            config::corefile(&node_kubeconfig, crate::ports::free_port()?),
        )?;
        let mut coredns = Command::new(&tools.coredns);
        coredns.arg("-conf").arg(&corefile);
        self.spawn("coredns", coredns, logs)?;
        Ok(())
    }

    /// Loads an image archive into the node's containerd (again if it changed).
    pub fn import_image(&self, archive: &Path) -> Result<()> {
        import_once(&self.socket, &containerd_root(), archive)
    }

    /// The node's processes by name, with their IDs.
    pub fn processes(&self) -> Vec<(String, u32)> {
        self.processes
            .iter()
            .map(|process| (process.name.clone(), process.id()))
            .collect()
    }

    /// The node's processes that exited, with their statuses, to tell a start that failed.
    pub fn exited(&mut self) -> Option<(String, std::process::ExitStatus)> {
        self.processes
            .iter_mut()
            .find_map(|process| Some((process.name.clone(), process.exited()?)))
    }

    fn spawn(&mut self, name: &str, command: Command, logs: &Path) -> Result<()> {
        let log = logs.join(format!("{name}.log"));
        self.processes.push(Process::spawn(name, command, &log)?);
        Ok(())
    }

    fn wait_for_socket(&mut self, logs: &Path) -> Result<()> {
        for _ in 0..300 {
            if self.socket.exists() {
                return Ok(());
            }
            if let Some((name, status)) = self.exited() {
                bail!(
                    "{name} exited ({status}); see {}",
                    logs.join(format!("{name}.log")).display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("containerd did not open {}", self.socket.display())
    }

    /// Stops the processes and removes everything the node made; the lock is released when the
    /// node is dropped.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        while let Some(process) = self.processes.pop() {
            drop(process);
        }
        if let Err(error) = teardown(&self.dir) {
            eprintln!("testenv: tearing down the real node: {error:#}");
        }
    }
}

impl Drop for RealNode {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The image archives every node loads: the sandbox's, Kafka's (each of `KAFKA_VERSIONS`) and
/// RocketMQ's (built by `make tools`; built here if missing).
pub fn images(tools: &Tools) -> Result<Vec<PathBuf>> {
    let mut images = vec![crate::images::pause_image(&tools.pause)?];
    for version in crate::tools::KAFKA_VERSIONS {
        images.push(crate::images::kafka_image(version)?);
    }
    images.push(crate::images::rocketmq_image(tools)?);
    Ok(images)
}

/// Cluster DNS: CoreDNS on the bridge, for a process of this machine that must resolve cluster
/// names (an operator run outside the cluster). Answers while a cluster runs.
pub fn cluster_dns() -> std::net::SocketAddr {
    std::net::SocketAddr::new(
        BRIDGE_ADDRESS
            .parse()
            .expect("BRIDGE_ADDRESS is an IP address"),
        53,
    )
}

/// The node's directory: one per machine, like the node.
fn node_dir() -> PathBuf {
    std::env::temp_dir().join("brokerage-node")
}

/// containerd's content store and snapshots: kept between runs, so images are imported once.
fn containerd_root() -> PathBuf {
    crate::tools::cache_dir().join("containerd")
}

/// Where the local storage class keeps its volumes' data.
pub fn volumes_dir() -> PathBuf {
    node_dir().join("volumes")
}

/// Runs `teardown.sh` for the node in `dir`.
fn teardown(dir: &Path) -> Result<()> {
    let status = Command::new("sh")
        .arg("-c")
        .arg(TEARDOWN)
        .env("BROKERAGE_NODE_DIR", dir)
        .stdin(Stdio::null())
        .status()
        .context("running the real node's teardown")?;
    if !status.success() {
        bail!("the real node's teardown failed: {status}");
    }
    Ok(())
}

/// A process in a session of its own (so neither the test binary's end nor a Ctrl-C to its
/// process group stops it) that waits for this process to end, then tears the node down.
fn spawn_reaper(dir: &Path, lock: &Path) -> Result<()> {
    let mut reaper = Command::new("sh");
    reaper
        .arg("-c")
        .arg(r#"while kill -0 "$0" 2>/dev/null; do sleep 1; done; exec flock "$1" sh -c "$BROKERAGE_NODE_TEARDOWN""#)
        .arg(std::process::id().to_string())
        .arg(lock)
        .env("BROKERAGE_NODE_DIR", dir)
        .env("BROKERAGE_NODE_TEARDOWN", TEARDOWN)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe, as pre_exec requires.
    unsafe {
        reaper.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    reaper.spawn().context("starting the real node's reaper")?;
    Ok(())
}

/// `/brokerage` in every cgroup v1 hierarchy, the kubelet's `cgroupRoot`: it must exist before
/// the kubelet starts, and cpuset's needs the CPUs and memory nodes its parent has.
fn create_cgroup_root() -> Result<()> {
    for entry in std::fs::read_dir("/sys/fs/cgroup")? {
        let hierarchy = entry?.path();
        if hierarchy.is_symlink() || !hierarchy.join("cgroup.procs").exists() {
            continue;
        }
        let root = hierarchy.join("brokerage");
        std::fs::create_dir_all(&root)
            .with_context(|| format!("creating the cgroup {}", root.display()))?;
        for inherited in ["cpuset.cpus", "cpuset.mems"] {
            if let Ok(value) = std::fs::read_to_string(hierarchy.join(inherited)) {
                std::fs::write(root.join(inherited), value.trim())?;
            }
        }
    }
    Ok(())
}

/// Imports an image archive into containerd unless this very archive (by size and modification
/// time) was imported into this content store before: the store outlives runs.
fn import_once(socket: &Path, root: &Path, archive: &Path) -> Result<()> {
    let metadata = std::fs::metadata(archive)
        .with_context(|| format!("{} is missing: run `make tools`", archive.display()))?;
    let stamp = format!(
        "{} {:?}",
        metadata.len(),
        metadata.modified()?.duration_since(std::time::UNIX_EPOCH)?
    );
    let marker = root
        .join("brokerage-imported")
        .join(archive.file_name().context("an archive file name")?);
    if std::fs::read_to_string(&marker).is_ok_and(|seen| seen == stamp) {
        return Ok(());
    }
    crate::images::import(socket, archive)?;
    std::fs::create_dir_all(marker.parent().context("a marker directory")?)?;
    std::fs::write(marker, stamp)?;
    Ok(())
}
