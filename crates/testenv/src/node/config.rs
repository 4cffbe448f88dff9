//! The real node's configuration files, rendered from its paths and addresses: pure text, no I/O.

use std::path::Path;

use super::network::{BRIDGE, BRIDGE_ADDRESS, POD_SUBNET, SERVICE_RANGE};
use super::{NODE_LABEL, NODE_NAME, NODE_TAINT, NODE_ZONE, ZONE_LABEL};

use crate::images::PAUSE_IMAGE;

/// The registries an image name may point at. Each is mirrored to a closed loopback port, so a
/// missing image fails at once, here, instead of being looked up on the internet.
const REGISTRIES: &[&str] = &[
    "docker.io",
    "registry.k8s.io",
    "ghcr.io",
    "quay.io",
    "gcr.io",
    "registry-1.docker.io",
];
const CLOSED_REGISTRY: &str = "http://127.0.0.1:1";

/// containerd's configuration. Its content store (`root`) outlives runs so images are imported
/// once; its state (sockets, mounts, network namespaces) lives in the node's run directory.
pub fn containerd_toml(root: &Path, state: &Path, socket: &Path, cni_conf_dir: &Path) -> String {
    let (root, state, socket, cni) = (
        root.display(),
        state.display(),
        socket.display(),
        cni_conf_dir.display(),
    );
    let certs = format!("{state}/certs.d");
    format!(
        r#"version = 2
root = "{root}"
state = "{state}"
# Snapshotters and exporters this node does not use; some probe the kernel at start.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{socket}"

[ttrpc]
  address = "{socket}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{state}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # Without CAP_SYS_RESOURCE nothing may lower oom_score_adj; runc fails every sandbox otherwise.
  restrict_oom_score_adj = true
  # Network namespaces under the state directory, so teardown finds every one.
  netns_mounts_under_state_dir = true
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{cni}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{certs}"
"#
    )
}

/// `hosts.toml` files, by registry directory name: every registry points at a closed port.
pub fn registry_mirrors() -> Vec<(&'static str, String)> {
    REGISTRIES
        .iter()
        .map(|registry| {
            (
                *registry,
                format!(
                    "server = \"{CLOSED_REGISTRY}\"\n\n[host.\"{CLOSED_REGISTRY}\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
                ),
            )
        })
        .collect()
}

/// The pod network: a bridge whose gateway is the node, host-local addresses, and routes to the
/// node's subnet and the Service range only. No default route: a pod can reach nothing beyond
/// this machine's bridge.
pub fn cni_conflist(ipam_dir: &Path) -> String {
    let gateway = BRIDGE_ADDRESS;
    serde_json::json!({
        "cniVersion": "0.4.0",
        "name": "brokerage",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": true,
                "isDefaultGateway": false,
                "ipMasq": false,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "dataDir": ipam_dir,
                    "ranges": [[{ "subnet": POD_SUBNET, "rangeStart": "10.89.0.10", "gateway": gateway }]],
                    "routes": [{ "dst": SERVICE_RANGE }]
                }
            }
        ]
    })
    .to_string()
}

/// The kubelet's configuration: cgroupfs on cgroup v1, no swap check, no OOM-score changes it
/// may not make, cluster DNS on the bridge, and pods under a cgroup of their own so teardown
/// finds every process.
pub fn kubelet_yaml(client_ca: &Path, resolv_conf: &Path, pod_logs: &Path) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": BRIDGE_ADDRESS,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "authentication": {
            "anonymous": { "enabled": false },
            "webhook": { "enabled": true },
            "x509": { "clientCAFile": client_ca }
        },
        "authorization": { "mode": "Webhook" },
        "failCgroupV1": false,
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": "/brokerage",
        "oomScoreAdj": 0,
        "failSwapOn": false,
        "clusterDomain": "cluster.local",
        "clusterDNS": [BRIDGE_ADDRESS],
        "resolvConf": resolv_conf,
        "podLogsDir": pod_logs,
        "registerWithTaints": [{ "key": NODE_TAINT, "value": "true", "effect": "NoSchedule" }],
        "serializeImagePulls": false,
        // Images are built here and cannot be pulled again: never collect them, never evict
        // for a disk that is merely fuller than a production node's would be.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%" },
        "nodeStatusReportFrequency": "10s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "10s",
        "shutdownGracePeriod": "0s",
        "protectKernelDefaults": false,
        "makeIPTablesUtilChains": true,
    }))
    .expect("static JSON")
}

/// The kubelet's command line.
pub fn kubelet_args(config: &Path, kubeconfig: &Path, root: &Path, socket: &Path) -> Vec<String> {
    vec![
        format!("--config={}", config.display()),
        format!("--kubeconfig={}", kubeconfig.display()),
        format!("--root-dir={}", root.display()),
        format!("--cert-dir={}", root.join("pki").display()),
        format!("--container-runtime-endpoint=unix://{}", socket.display()),
        format!("--hostname-override={NODE_NAME}"),
        format!("--node-ip={BRIDGE_ADDRESS}"),
        format!("--node-labels={NODE_LABEL}=real,{ZONE_LABEL}={NODE_ZONE}"),
        "--v=1".into(),
    ]
}

/// kube-proxy in iptables mode. NodePorts open on the bridge address only, and its conntrack
/// settings are zero so it leaves the machine's kernel settings alone.
pub fn kube_proxy_args(kubeconfig: &Path, healthz_port: u16, metrics_port: u16) -> Vec<String> {
    vec![
        format!("--kubeconfig={}", kubeconfig.display()),
        format!("--hostname-override={NODE_NAME}"),
        "--proxy-mode=iptables".into(),
        format!("--cluster-cidr={POD_SUBNET}"),
        format!("--nodeport-addresses={BRIDGE_ADDRESS}/32"),
        "--conntrack-max-per-core=0".into(),
        "--conntrack-tcp-timeout-established=0".into(),
        "--conntrack-tcp-timeout-close-wait=0".into(),
        format!("--healthz-bind-address=127.0.0.1:{healthz_port}"),
        format!("--metrics-bind-address=127.0.0.1:{metrics_port}"),
    ]
}

/// Cluster DNS: the cluster zone from the API server, every other name answered here with
/// NXDOMAIN. There is no forwarder: a pod's lookup never leaves this machine.
pub fn corefile(kubeconfig: &Path, ready_port: u16) -> String {
    format!(
        r#"cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {{
    bind {BRIDGE_ADDRESS}
    errors
    ready 127.0.0.1:{ready_port}
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig}
        pods insecure
        ttl 5
    }}
    cache 5
}}
.:53 {{
    bind {BRIDGE_ADDRESS}
    errors
    template ANY ANY {{
        rcode NXDOMAIN
    }}
}}
"#,
        kubeconfig = kubeconfig.display()
    )
}

/// The only resolver a pod with `dnsPolicy: Default` (and the kubelet's own base) may see.
pub fn resolv_conf() -> String {
    format!("nameserver {BRIDGE_ADDRESS}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_get_no_default_route() {
        let conflist: serde_json::Value =
            serde_json::from_str(&cni_conflist(Path::new("/x/ipam"))).unwrap();
        let bridge = &conflist["plugins"][0];
        assert_eq!(bridge["isDefaultGateway"], false);
        assert_eq!(bridge["ipMasq"], false);
        let routes = bridge["ipam"]["routes"].as_array().unwrap();
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0]["dst"], SERVICE_RANGE);
    }

    #[test]
    fn cluster_dns_has_no_forwarder() {
        let corefile = corefile(Path::new("/x/kubeconfig"), 1234);
        assert!(!corefile.contains("forward"));
        assert!(corefile.contains("rcode NXDOMAIN"));
        assert_eq!(
            corefile.matches(&format!("bind {BRIDGE_ADDRESS}")).count(),
            2
        );
    }

    #[test]
    fn every_registry_points_at_a_closed_loopback_port() {
        for (_, hosts) in registry_mirrors() {
            assert!(hosts.contains("127.0.0.1:1"));
        }
        let toml = containerd_toml(
            Path::new("/r"),
            Path::new("/s"),
            Path::new("/s/c.sock"),
            Path::new("/s/cni"),
        );
        assert!(toml.contains("config_path = \"/s/certs.d\""));
        assert!(toml.contains("restrict_oom_score_adj = true"));
        // The sandbox image is the pause program `make tools` built.
        assert!(PAUSE_IMAGE.ends_with(crate::tools::PAUSE_VERSION));
    }
}
