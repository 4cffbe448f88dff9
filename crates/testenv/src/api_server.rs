//! A kube-apiserver of a test's own on the shared cluster's etcd, which the test may restart:
//! what an operator meets when its API server restarts mid-work (a new watch cache, built again
//! from etcd, and every connection cut).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use kube::Client;

use crate::process::Process;

const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// A running kube-apiserver; killed when dropped.
pub struct ApiServer {
    program: PathBuf,
    args: Vec<String>,
    kubeconfig: PathBuf,
    log: PathBuf,
    process: Option<Process>,
}

impl ApiServer {
    /// Starts `program` with `args` and waits until it is ready, as `kubeconfig` reaches it.
    pub(crate) async fn start(
        program: PathBuf,
        args: Vec<String>,
        kubeconfig: PathBuf,
        log: PathBuf,
    ) -> Result<ApiServer> {
        let mut server = ApiServer {
            program,
            args,
            kubeconfig,
            log,
            process: None,
        };
        server.spawn().await?;
        Ok(server)
    }

    /// A new client for this API server. Make one per tokio runtime.
    pub async fn client(&self) -> Result<Client> {
        crate::cluster::client_for(&self.kubeconfig).await
    }

    /// An admin kubeconfig for this API server.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// Kills the API server (SIGKILL, as a crash would) and starts it again on the same port
    /// and etcd; waits until it is ready.
    pub async fn restart(&mut self) -> Result<()> {
        drop(self.process.take());
        self.spawn().await
    }

    async fn spawn(&mut self) -> Result<()> {
        let mut command = Command::new(&self.program);
        command.arg("kube-apiserver").args(&self.args);
        let mut process = Process::spawn("kube-apiserver", command, &self.log)?;
        let client = self.client().await?;
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while !crate::cluster::apiserver_ready(&client)
            .await
            .unwrap_or(false)
        {
            if let Some(status) = process.exited() {
                bail!(
                    "kube-apiserver exited ({status}); its log is {}",
                    self.log.display()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "kube-apiserver not ready after {STARTUP_TIMEOUT:?}; its log is {}",
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.process = Some(process);
        Ok(())
    }
}
