//! A real Kubernetes control plane on this machine: etcd, kube-apiserver, kube-controller-manager,
//! kube-scheduler, kwok playing the kubelet for a few simulated nodes, and one real node.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::{Node, ServiceAccount};
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::api_server::ApiServer;
use crate::kubeconfig::admin_kubeconfig;
use crate::node::{BRIDGE_ADDRESS, NODE_NAME, RealNode};
use crate::nodes::{NODE_COUNT, build_node, is_ready};
use crate::pki::Pki;
use crate::process::Process;
use crate::tools::Tools;

/// How long each component may take to come up on a loaded two-core machine.
/// How many times kwok may be started before the cluster gives up.
const KWOK_ATTEMPTS: u32 = 3;
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// A running local cluster. Dropping it stops every process and removes its files.
pub struct Cluster {
    dir: PathBuf,
    kubeconfig: PathBuf,
    /// In start order; stopped in reverse.
    processes: Vec<Process>,
    /// Tells the storage provisioner's thread to stop.
    stop_provisioner: Arc<AtomicBool>,
    node: RealNode,
    startup: Duration,
    pki: Pki,
    etcd_port: u16,
}

impl Cluster {
    /// Starts a new cluster in a fresh directory under the system temp dir.
    pub async fn start() -> Result<Cluster> {
        let began = Instant::now();
        let tools = Tools::locate()?;
        let images = crate::node::images(&tools)?;
        let node = RealNode::prepare()?;
        let dir = crate::rundir::create()?;
        let pki = Pki::create(&dir.join("pki"))?;
        let kubeconfig = dir.join("kubeconfig");
        let logs = dir.join("logs");
        std::fs::create_dir_all(&logs)?;

        let etcd_port = crate::ports::free_port()?;
        let apiserver_port = crate::ports::free_port()?;
        std::fs::write(
            &kubeconfig,
            serde_yaml::to_string(&admin_kubeconfig(&pki, apiserver_port))?,
        )?;

        let mut cluster = Cluster {
            dir,
            kubeconfig,
            processes: Vec::new(),
            stop_provisioner: Arc::default(),
            node,
            startup: Duration::ZERO,
            pki,
            etcd_port,
        };
        let hyperkube = |component: &str, args: Vec<String>| {
            let mut command = Command::new(&tools.hyperkube);
            command.arg(component).args(args);
            command
        };
        let etcd_peer_port = crate::ports::free_port()?;
        cluster.spawn(
            "etcd",
            hyperkube("etcd", etcd_args(&cluster.dir, etcd_port, etcd_peer_port)),
        )?;
        cluster.spawn(
            "kube-apiserver",
            hyperkube(
                "kube-apiserver",
                apiserver_args(&cluster.dir, &cluster.pki, etcd_port, apiserver_port),
            ),
        )?;
        let client = cluster.client().await?;
        cluster
            .wait_until("kube-apiserver is ready", || apiserver_ready(&client))
            .await?;

        let kubeconfig = cluster.kubeconfig.display().to_string();
        cluster.spawn(
            "kube-controller-manager",
            hyperkube(
                "kube-controller-manager",
                controller_manager_args(&kubeconfig, &cluster.pki, crate::ports::free_port()?),
            ),
        )?;
        cluster.spawn(
            "kube-scheduler",
            hyperkube(
                "kube-scheduler",
                scheduler_args(&kubeconfig, crate::ports::free_port()?),
            ),
        )?;
        let nodes: Api<Node> = Api::all(client.clone());
        for index in 0..NODE_COUNT {
            nodes
                .create(&PostParams::default(), &build_node(index))
                .await?;
        }
        // kwok 0.8 can die of a data race while it first compiles its stages' CEL expressions
        // (in `easycel.(*Registry).registerTraits`). It keeps no state, so a new one may take over.
        for attempt in 1..=KWOK_ATTEMPTS {
            let mut kwok = Command::new(&tools.kwok);
            kwok.args(kwok_args(&kubeconfig, crate::ports::free_port()?));
            cluster.spawn("kwok", kwok)?;
            let ready = cluster
                .wait_until("the kwok nodes are Ready", || async {
                    let list = nodes.list(&ListParams::default()).await?;
                    Ok(list.items.iter().filter(|node| is_ready(node)).count() == NODE_COUNT)
                })
                .await;
            match ready {
                Err(_) if attempt < KWOK_ATTEMPTS && cluster.forget_exited("kwok") => {}
                ready => {
                    ready?;
                    break;
                }
            }
        }
        // The service-account controller's first work: proof the controller manager runs.
        let service_accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
        cluster
            .wait_until("kube-controller-manager is working", || async {
                Ok(service_accounts.get_opt("default").await?.is_some())
            })
            .await?;
        cluster.node.start(
            &tools,
            &cluster.kubeconfig,
            &cluster.pki.ca_cert,
            &cluster.log_dir(),
            &images,
        )?;
        crate::storage::start(
            &client,
            &cluster.kubeconfig,
            cluster.stop_provisioner.clone(),
        )
        .await?;
        cluster.startup = began.elapsed();
        Ok(cluster)
    }

    /// A new client for this cluster. Make one per tokio runtime: a client's connections
    /// belong to the runtime that created it.
    pub async fn client(&self) -> Result<Client> {
        client_for(&self.kubeconfig).await
    }

    /// A client that authenticates with a bearer `token` instead of the admin certificate: to
    /// act as a ServiceAccount and prove what its RBAC allows.
    pub async fn client_with_token(&self, token: &str) -> Result<Client> {
        let mut kubeconfig = Kubeconfig::read_from(&self.kubeconfig)?;
        for user in &mut kubeconfig.auth_infos {
            user.auth_info = Some(kube::config::AuthInfo {
                token: Some(token.to_string().into()),
                ..kube::config::AuthInfo::default()
            });
        }
        let config =
            Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
        Ok(Client::try_from(config)?)
    }

    /// Another kube-apiserver on this cluster's etcd, for a test that restarts it. It leaves
    /// the `kubernetes` Service's endpoints to the cluster's own API server.
    pub async fn another_api_server(&self) -> Result<ApiServer> {
        let port = crate::ports::free_port()?;
        let kubeconfig = self.dir.join(format!("kubeconfig-{port}"));
        std::fs::write(
            &kubeconfig,
            serde_yaml::to_string(&admin_kubeconfig(&self.pki, port))?,
        )?;
        let mut args = apiserver_args(&self.dir, &self.pki, self.etcd_port, port);
        args.push("--endpoint-reconciler-type=none".into());
        let log = self.log_dir().join(format!("kube-apiserver-{port}.log"));
        ApiServer::start(Tools::locate()?.hyperkube, args, kubeconfig, log).await
    }

    /// An admin kubeconfig for `kubectl` and other tools.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The component logs, one file per process.
    pub fn log_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// The real node's processes (containerd, kubelet, kube-proxy, coredns) and their IDs.
    pub fn real_node_processes(&self) -> Vec<(String, u32)> {
        self.node.processes()
    }

    /// Loads an image archive (from [`crate::images`]) into the real node's containerd.
    pub fn import_image(&self, archive: &Path) -> Result<()> {
        self.node.import_image(archive)
    }

    /// Waits until the real node is Ready: its kubelet registered and its pod network works.
    pub async fn wait_real_node(&self) -> Result<()> {
        let nodes: Api<Node> = Api::all(self.client().await?);
        crate::eventually("the real node is Ready", STARTUP_TIMEOUT, || async {
            Ok(nodes
                .get_opt(NODE_NAME)
                .await?
                .is_some_and(|node| is_ready(&node)))
        })
        .await
    }

    /// Wall time from `start` until every component worked.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// Drops the process `name` if it exited, so that another may be started; whether it had.
    fn forget_exited(&mut self, name: &str) -> bool {
        let before = self.processes.len();
        self.processes
            .retain_mut(|process| process.name != name || process.exited().is_none());
        self.processes.len() != before
    }

    fn spawn(&mut self, name: &str, command: Command) -> Result<()> {
        let log = self.log_dir().join(format!("{name}.log"));
        self.processes.push(Process::spawn(name, command, &log)?);
        Ok(())
    }

    /// Polls `check` until it holds, failing early with the log of a component that died.
    async fn wait_until<F, Fut>(&mut self, what: &str, mut check: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<bool>>,
    {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let mut last_error = None;
        loop {
            match check().await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(error) => last_error = Some(error),
            }
            for process in &mut self.processes {
                if let Some(status) = process.exited() {
                    let log = self.dir.join("logs").join(format!("{}.log", process.name));
                    bail!(
                        "{} exited ({status}) while waiting until {what}; its log ends:\n{}",
                        process.name,
                        log_tail(&log)
                    );
                }
            }
            if Instant::now() > deadline {
                let cause = last_error.map(|e| format!(": {e:#}")).unwrap_or_default();
                bail!(
                    "timed out after {STARTUP_TIMEOUT:?} waiting until {what}{cause} (logs in {})",
                    self.log_dir().display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_provisioner.store(true, Ordering::Relaxed);
        // The node's processes first: the kubelet would otherwise report a lost API server.
        self.node.stop();
        while let Some(process) = self.processes.pop() {
            drop(process);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) async fn client_for(kubeconfig: &Path) -> Result<Client> {
    let kubeconfig = Kubeconfig::read_from(kubeconfig)?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    Ok(Client::try_from(config)?)
}

pub(crate) async fn apiserver_ready(client: &Client) -> Result<bool> {
    let request = http::Request::get("/readyz").body(Vec::new())?;
    Ok(client.request_text(request).await? == "ok")
}

fn etcd_args(dir: &Path, client_port: u16, peer_port: u16) -> Vec<String> {
    let client_url = format!("http://127.0.0.1:{client_port}");
    let peer_url = format!("http://127.0.0.1:{peer_port}");
    vec![
        "--name=default".into(),
        format!("--data-dir={}", dir.join("etcd").display()),
        format!("--listen-client-urls={client_url}"),
        format!("--advertise-client-urls={client_url}"),
        format!("--listen-peer-urls={peer_url}"),
        format!("--initial-advertise-peer-urls={peer_url}"),
        format!("--initial-cluster=default={peer_url}"),
        // A throwaway cluster needs no durability; fsync dominates write latency.
        "--unsafe-no-fsync=true".into(),
        "--log-level=warn".into(),
    ]
}

fn apiserver_args(dir: &Path, pki: &Pki, etcd_port: u16, port: u16) -> Vec<String> {
    vec![
        format!("--etcd-servers=http://127.0.0.1:{etcd_port}"),
        // The bridge's address: reachable from this machine and from pods, and from nowhere else.
        format!("--bind-address={BRIDGE_ADDRESS}"),
        format!("--advertise-address={BRIDGE_ADDRESS}"),
        format!("--secure-port={port}"),
        format!("--cert-dir={}", dir.join("pki").display()),
        format!("--tls-cert-file={}", pki.serving_cert.display()),
        format!("--tls-private-key-file={}", pki.serving_key.display()),
        format!("--client-ca-file={}", pki.ca_cert.display()),
        "--authorization-mode=Node,RBAC".into(),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
        format!(
            "--service-account-key-file={}",
            pki.service_account_public_key.display()
        ),
        format!(
            "--service-account-signing-key-file={}",
            pki.service_account_key.display()
        ),
        "--service-cluster-ip-range=10.96.0.0/16".into(),
        "--allow-privileged=true".into(),
        // A namespace's annotations may steer its pods to the real node (see `fresh_namespace_on_real_node`).
        "--enable-admission-plugins=PodNodeSelector,PodTolerationRestriction".into(),
        // Pods carry their node's zone and region labels, which rack-aware brokers read (on by
        // default from Kubernetes 1.35).
        "--feature-gates=PodTopologyLabelsAdmission=true".into(),
        // Dial kubelets by address, never by a name the machine's resolver would be asked for.
        "--kubelet-preferred-address-types=InternalIP".into(),
        format!("--kubelet-client-certificate={}", pki.admin_cert.display()),
        format!("--kubelet-client-key={}", pki.admin_key.display()),
        // One tenant: fairness queuing only adds latency.
        "--enable-priority-and-fairness=false".into(),
        "--profiling=false".into(),
    ]
}

fn controller_manager_args(kubeconfig: &str, pki: &Pki, port: u16) -> Vec<String> {
    vec![
        format!("--kubeconfig={kubeconfig}"),
        format!("--authentication-kubeconfig={kubeconfig}"),
        format!("--authorization-kubeconfig={kubeconfig}"),
        "--bind-address=127.0.0.1".into(),
        format!("--secure-port={port}"),
        "--leader-elect=false".into(),
        format!(
            "--service-account-private-key-file={}",
            pki.service_account_key.display()
        ),
        format!("--root-ca-file={}", pki.ca_cert.display()),
        "--kube-api-qps=200".into(),
        "--kube-api-burst=400".into(),
        "--profiling=false".into(),
    ]
}

fn scheduler_args(kubeconfig: &str, port: u16) -> Vec<String> {
    vec![
        format!("--kubeconfig={kubeconfig}"),
        format!("--authentication-kubeconfig={kubeconfig}"),
        format!("--authorization-kubeconfig={kubeconfig}"),
        "--bind-address=127.0.0.1".into(),
        format!("--secure-port={port}"),
        "--leader-elect=false".into(),
        "--profiling=false".into(),
    ]
}

fn kwok_args(kubeconfig: &str, port: u16) -> Vec<String> {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("kwok.yaml");
    vec![
        format!("--kubeconfig={kubeconfig}"),
        format!("--config={}", config.display()),
        format!("--server-address=127.0.0.1:{port}"),
        "--node-ip=10.244.0.1".into(),
        "--cidr=10.244.0.0/16".into(),
    ]
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
