//! The real `brokerage` binary as a separate process, as it runs in production: its metrics
//! are scraped over HTTP and its memory read from /proc, and it can be killed as a node failure
//! or the kernel's OOM killer would.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The longest any one wait of a benchmark may take.
const POLL_TIMEOUT: Duration = Duration::from_secs(600);

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};

/// A running operator; dropping it kills the process.
pub struct Operator {
    /// Behind a lock so that checking it needs no `&mut`, and polls can share the operator.
    process: Mutex<Child>,
    pid: u32,
    http_address: SocketAddr,
    log: PathBuf,
}

impl Operator {
    /// Starts `target/release/brokerage run` (the build users run; `make test` and `make bench`
    /// build it) against the cluster in `kubeconfig` with
    /// `extra_args` (every namespace is watched unless they say otherwise), and waits until it
    /// serves `/readyz`. Its log, warnings and errors, is appended to `log`.
    pub async fn start(kubeconfig: &Path, log: &Path, extra_args: &[&str]) -> Result<Operator> {
        Operator::start_logging("warn", kubeconfig, log, extra_args).await
    }

    /// [`Operator::start`], logging what `filter` (a `RUST_LOG` value) selects.
    pub async fn start_logging(
        filter: &str,
        kubeconfig: &Path,
        log: &Path,
        extra_args: &[&str],
    ) -> Result<Operator> {
        let binary = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target")
            .join("release/brokerage");
        if !binary.exists() {
            bail!(
                "{} is missing: build it first with `cargo build --release -p brokerage`",
                binary.display()
            );
        }
        let http_address = SocketAddr::from(([127, 0, 0, 1], crate::ports::free_port()?));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let process = Command::new(&binary)
            .args(["run", "--http-address"])
            .arg(http_address.to_string())
            .arg("--cluster-dns")
            .arg(crate::node::cluster_dns().to_string())
            .args(extra_args)
            .env("KUBECONFIG", kubeconfig)
            .env("RUST_LOG", filter)
            // The log is a file: no terminal colour codes in it.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let operator = Operator {
            pid: process.id().context("the operator exited at once")?,
            process: Mutex::new(process),
            http_address,
            log: log.to_path_buf(),
        };
        for _ in 0..600 {
            operator.check_running()?;
            if let Ok(response) = operator.get("/readyz").await
                && response.split_whitespace().nth(1) == Some("200")
            {
                return Ok(operator);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "the operator did not serve /readyz on {http_address} within 60 s (log: {})",
            log.display()
        )
    }

    /// Polls `check` every `every` until it holds, failing early if the operator died.
    pub async fn poll<F, Fut>(&self, what: &str, every: Duration, mut check: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<bool>>,
    {
        let deadline = Instant::now() + POLL_TIMEOUT;
        while !check().await? {
            self.check_running()?;
            if Instant::now() > deadline {
                bail!("timed out after {POLL_TIMEOUT:?} waiting until {what}");
            }
            tokio::time::sleep(every).await;
        }
        Ok(())
    }

    /// Fails if the process has exited, pointing at its log.
    pub fn check_running(&self) -> Result<()> {
        let exited = self
            .process
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .try_wait()?;
        if let Some(status) = exited {
            bail!(
                "the operator exited ({status}); its log is {}",
                self.log.display()
            );
        }
        Ok(())
    }

    /// The value of one series in `/metrics`, e.g. `brokerage_api_writes_total{kind="Kafka"}`;
    /// zero when the series has not been recorded yet.
    pub async fn counter(&self, series: &str) -> Result<f64> {
        let response = self.get("/metrics").await?;
        Ok(response
            .lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0.0))
    }

    /// Every series on `/metrics` whose name (with its labels) starts with `prefix`, and its
    /// value.
    pub async fn series(&self, prefix: &str) -> Result<Vec<(String, f64)>> {
        let response = self.get("/metrics").await?;
        Ok(response
            .lines()
            .filter(|line| line.starts_with(prefix))
            .filter_map(|line| {
                let (series, value) = line.rsplit_once(' ')?;
                Some((series.to_string(), value.parse().ok()?))
            })
            .collect())
    }

    /// Resident memory, from /proc/<pid>/status.
    pub fn resident_mib(&self) -> Result<f64> {
        resident_mib(self.pid)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Ends the process with SIGKILL, as the OOM killer or a lost node would: no shutdown
    /// code runs. Waits until it is gone.
    pub async fn kill(self) -> Result<()> {
        kill(self.pid);
        let mut process = self
            .process
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        process.wait().await?;
        Ok(())
    }

    /// Whether `/healthz` answers 200.
    pub async fn healthy(&self) -> bool {
        let response = self.get("/healthz").await.unwrap_or_default();
        response.split_whitespace().nth(1) == Some("200")
    }

    /// Asks the process to stop with SIGTERM, as Kubernetes does when it deletes a pod, and
    /// waits until it has exited.
    pub async fn terminate(self) -> Result<()> {
        // SAFETY: kill(2) takes any pid and signal and touches no memory of ours.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        let mut process = self
            .process
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        tokio::time::timeout(Duration::from_secs(30), process.wait())
            .await
            .context("the operator did not stop within 30 s of SIGTERM")??;
        Ok(())
    }

    /// The whole HTTP response to `GET path`. HTTP/1.0 makes the server close the connection
    /// after responding, so reading to the end needs no HTTP client.
    async fn get(&self, path: &str) -> Result<String> {
        let address = self.http_address;
        let request = format!("GET {path} HTTP/1.0\r\n\r\n");
        tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(address)?;
            stream.set_read_timeout(Some(Duration::from_secs(5)))?;
            stream.write_all(request.as_bytes())?;
            let mut response = String::new();
            stream.read_to_string(&mut response)?;
            Ok(response)
        })
        .await?
    }
}

/// SIGKILL to `pid`; a process already gone is not an error.
pub fn kill(pid: u32) {
    // SAFETY: kill(2) takes any pid and signal and touches no memory of ours.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

/// The resident memory of process `pid`, from `/proc/<pid>/status`.
pub fn resident_mib(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/<pid>/status")?;
    Ok(kib / 1024.0)
}
