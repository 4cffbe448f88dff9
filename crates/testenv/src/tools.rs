//! The control-plane binaries: pinned versions, built once from the Go module proxy and cached
//! outside the checkout, keyed by version, so later runs on the same machine build nothing.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Must match the `replace` lines in `hyperkube/go.mod`.
pub const KUBERNETES_VERSION: &str = "v1.34.4";
/// Pinned by `hyperkube/go.mod`.
pub const ETCD_VERSION: &str = "v3.6.4";
pub const KWOK_VERSION: &str = "v0.8.0";

/// Where the built binaries live.
pub struct Tools {
    /// Multi-call binary: `hyperkube etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kubectl`.
    pub hyperkube: PathBuf,
    pub kwok: PathBuf,
}

impl Tools {
    /// The cached binaries, or an error that says how to build them.
    pub fn locate() -> Result<Tools> {
        let tools = Tools::paths();
        for binary in [&tools.hyperkube, &tools.kwok] {
            if !binary.exists() {
                bail!(
                    "{} is missing: run `make tools` (or `cargo run -p brokerage-testenv -- tools`) to build the local control plane",
                    binary.display()
                );
            }
        }
        Ok(tools)
    }

    /// Builds whatever is missing. A lock keeps concurrent callers from building twice.
    pub fn ensure() -> Result<Tools> {
        let tools = Tools::paths();
        std::fs::create_dir_all(cache_dir())?;
        let lock = File::create(cache_dir().join(".build.lock"))?;
        lock.lock().context("locking the tool cache")?;
        if !tools.hyperkube.exists() {
            build_hyperkube(&tools.hyperkube)?;
        }
        if !tools.kwok.exists() {
            build_kwok(&tools.kwok)?;
        }
        Ok(tools)
    }

    fn paths() -> Tools {
        let cache = cache_dir();
        let k8s = format!("kubernetes-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}");
        Tools {
            hyperkube: cache.join(k8s).join("hyperkube"),
            kwok: cache.join(format!("kwok-{KWOK_VERSION}")).join("kwok"),
        }
    }
}

/// `$BROKERAGE_CACHE`, else `$XDG_CACHE_HOME/brokerage`, else `~/.cache/brokerage`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BROKERAGE_CACHE") {
        return dir.into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("brokerage")
}

fn build_hyperkube(output: &Path) -> Result<()> {
    let module = Path::new(env!("CARGO_MANIFEST_DIR")).join("hyperkube");
    let minor = KUBERNETES_VERSION.split('.').nth(1).unwrap_or_default();
    // Stamp the version so the apiserver's /version reports the real release.
    let ldflags = format!(
        "-s -w -X k8s.io/component-base/version.gitVersion={KUBERNETES_VERSION} \
         -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor={minor} \
         -X k8s.io/component-base/version.gitTreeState=clean"
    );
    eprintln!(
        "testenv: building Kubernetes {KUBERNETES_VERSION} and etcd {ETCD_VERSION} from the Go module proxy (first run only)"
    );
    let staging = output.with_extension("partial");
    go(&module)
        .args([
            "build",
            "-mod=readonly",
            "-trimpath",
            "-ldflags",
            &ldflags,
            "-o",
        ])
        .arg(&staging)
        .arg(".")
        .status_ok()?;
    std::fs::rename(&staging, output)?;
    Ok(())
}

fn build_kwok(output: &Path) -> Result<()> {
    eprintln!("testenv: building kwok {KWOK_VERSION} from the Go module proxy (first run only)");
    let bin_dir = output.parent().context("kwok path has a parent")?;
    go(bin_dir)
        .env("GOBIN", bin_dir)
        .args([
            "install",
            &format!("sigs.k8s.io/kwok/cmd/kwok@{KWOK_VERSION}"),
        ])
        .status_ok()
}

fn go(dir: &Path) -> Command {
    let _ = std::fs::create_dir_all(dir);
    let mut command = Command::new("go");
    command
        .current_dir(dir)
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-buildvcs=false");
    command
}

trait StatusOk {
    fn status_ok(&mut self) -> Result<()>;
}

impl StatusOk for Command {
    fn status_ok(&mut self) -> Result<()> {
        let status = self
            .status()
            .with_context(|| format!("running {self:?} (is Go installed?)"))?;
        if !status.success() {
            bail!("{self:?} failed: {status}");
        }
        Ok(())
    }
}
