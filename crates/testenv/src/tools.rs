//! The control-plane and node binaries and the Kafka and RocketMQ jars: pinned versions, built
//! once (from the Go module proxy, Maven Central and Debian's packages) and cached outside the
//! checkout, keyed by version, so later runs on the same machine build nothing.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Must match the `replace` lines in `hyperkube/go.mod`.
pub const KUBERNETES_VERSION: &str = "v1.34.4";
/// Pinned by `hyperkube/go.mod`.
pub const ETCD_VERSION: &str = "v3.6.4";
pub const KWOK_VERSION: &str = "v0.8.0";
/// Helm 3, for the tests of the chart in `install/helm/brokerage` (`helm lint`, `helm template`).
pub const HELM_VERSION: &str = "v3.21.4";
/// Cluster DNS for a real node. Must match `coredns/go.mod`.
pub const COREDNS_VERSION: &str = "v1.13.1";
/// The pause release that Kubernetes' `build/pause/Makefile` (`TAG`) names at
/// `KUBERNETES_VERSION`, which kubelet expects as its sandbox image's tag.
pub const PAUSE_VERSION: &str = "3.10.1";
/// What a real node needs from Debian: the container runtime and CNI plugins, iptables and
/// conntrack for kube-proxy, mmdebstrap for image root filesystems, and gcc with a static libc
/// for the pause binary.
pub const DEBIAN_PACKAGES: &[&str] = &[
    "containerd",
    "runc",
    "containernetworking-plugins",
    "iptables",
    "conntrack",
    "mmdebstrap",
    "gcc",
    "libc6-dev",
];
/// Kafka for the tests that need a real broker, from Maven Central (`kafka/pom.xml`): the newest
/// release the operator runs, its default.
pub const KAFKA_VERSION: &str = "4.4.0";
/// The oldest release the operator runs, for the tests of oldest and newest (a ZooKeeper-era
/// Kafka runs on it).
pub const KAFKA_OLDEST_VERSION: &str = "3.9.0";
/// Every Kafka release the tools fetch and the node has an image of.
pub const KAFKA_VERSIONS: [&str; 2] = [KAFKA_OLDEST_VERSION, KAFKA_VERSION];
/// RocketMQ for the tests that need a real name server and broker, from Maven Central
/// (`rocketmq/pom.xml`).
pub const ROCKETMQ_VERSION: &str = "5.5.0";
/// RocketMQ 5's gRPC client for Java, which the tests' RocketMQ 5 application runs on
/// (`rocketmq-clients/pom.xml`).
pub const ROCKETMQ_GRPC_CLIENT_VERSION: &str = "5.0.7";
/// Kafka 4 brokers and its storage tool need Java 17 or newer.
const JAVA_MIN_VERSION: u32 = 17;

/// Where the built binaries live.
pub struct Tools {
    /// Multi-call binary: `hyperkube etcd|kube-apiserver|kube-controller-manager|kube-scheduler|
    /// kubelet|kube-proxy|kubectl`.
    pub hyperkube: PathBuf,
    pub kwok: PathBuf,
    /// CoreDNS with the bind, ready, health, errors, log, cache, template, hosts and kubernetes
    /// plugins only (no forward).
    pub coredns: PathBuf,
    /// Kubernetes' pause program, static, for the sandbox image.
    pub pause: PathBuf,
    /// Helm, to lint and render the operator's chart.
    pub helm: PathBuf,
    /// Every jar a RocketMQ name server, controller, broker or proxy needs (`java -cp '<rocketmq_libs>/*'
    /// org.apache.rocketmq.namesrv.NamesrvStartup ...`), logging included.
    pub rocketmq_libs: PathBuf,
    /// The jars of RocketMQ 5's gRPC client for Java.
    pub rocketmq_grpc_client_libs: PathBuf,
}

impl Tools {
    /// The cached Kubernetes binaries, or an error that says how to build them.
    pub fn locate() -> Result<Tools> {
        let tools = Tools::paths();
        for binary in [&tools.hyperkube, &tools.kwok, &tools.coredns, &tools.pause] {
            if !binary.exists() {
                bail!(
                    "{} is missing: run `make tools` (or `cargo run -p brokerage-testenv -- tools`) to build the local cluster's binaries",
                    binary.display()
                );
            }
        }
        Ok(tools)
    }

    /// The cached helm, for the tests of the chart.
    pub fn locate_helm() -> Result<PathBuf> {
        let helm = Tools::paths().helm;
        if !helm.exists() {
            bail!(
                "{} is missing: run `make tools` (or `cargo run -p brokerage-testenv -- tools`) to build helm {HELM_VERSION} from the Go module proxy",
                helm.display()
            );
        }
        Ok(helm)
    }

    /// The cached jars of Kafka `version` (one of [`KAFKA_VERSIONS`]), for tests that run Kafka
    /// without Kubernetes.
    pub fn locate_kafka(version: &str) -> Result<PathBuf> {
        let libs = Tools::kafka_libs(version);
        if !libs.exists() {
            bail!(
                "{} is missing: run `make tools` (or `cargo run -p brokerage-testenv -- tools`) to fetch Kafka {version} from Maven Central",
                libs.display()
            );
        }
        Ok(libs)
    }

    /// Every jar a KRaft node of Kafka `version` needs (`java -cp '<libs>/*' kafka.Kafka ...`),
    /// with a logging backend, the client tools, the Prometheus JMX exporter's agent and
    /// Strimzi's metrics reporter. (The
    /// directory's name changes with what `kafka/pom.xml` brings, so a cache from before is
    /// not taken for it.)
    pub fn kafka_libs(version: &str) -> PathBuf {
        cache_dir()
            .join(format!("kafka-{version}"))
            .join("libs-with-tools-and-metrics")
    }

    /// The cached RocketMQ jars, for tests that run a name server and brokers.
    pub fn locate_rocketmq() -> Result<PathBuf> {
        let libs = Tools::paths().rocketmq_libs;
        if !libs.exists() {
            bail!(
                "{} is missing: run `make tools` (or `cargo run -p brokerage-testenv -- tools`) to fetch RocketMQ {ROCKETMQ_VERSION} from Maven Central",
                libs.display()
            );
        }
        Ok(libs)
    }

    /// Installs the missing Debian packages and builds whatever else is missing. A lock keeps
    /// concurrent callers from building twice.
    pub fn ensure() -> Result<Tools> {
        let tools = Tools::paths();
        std::fs::create_dir_all(cache_dir())?;
        let lock = File::create(cache_dir().join(".build.lock"))?;
        lock.lock().context("locking the tool cache")?;
        install_debian_packages()?;
        if !tools.hyperkube.exists() {
            build_hyperkube(&tools.hyperkube)?;
        }
        if !tools.kwok.exists() {
            build_kwok(&tools.kwok)?;
        }
        if !tools.coredns.exists() {
            build_coredns(&tools.coredns)?;
        }
        if !tools.pause.exists() {
            build_pause(&tools.pause)?;
        }
        if !tools.helm.exists() {
            build_helm(&tools.helm)?;
        }
        for version in KAFKA_VERSIONS {
            let libs = Tools::kafka_libs(version);
            if !libs.exists() {
                fetch_jars("Kafka", "kafka", version, &libs)?;
            }
        }
        if !tools.rocketmq_libs.exists() {
            fetch_jars(
                "RocketMQ",
                "rocketmq",
                ROCKETMQ_VERSION,
                &tools.rocketmq_libs,
            )?;
        }
        if !tools.rocketmq_grpc_client_libs.exists() {
            fetch_jars(
                "RocketMQ's gRPC client",
                "rocketmq-clients",
                ROCKETMQ_GRPC_CLIENT_VERSION,
                &tools.rocketmq_grpc_client_libs,
            )?;
        }
        Ok(tools)
    }

    fn paths() -> Tools {
        let cache = cache_dir();
        // "-node": the binary gained kubelet and kube-proxy, so one built before them is not
        // taken for one that has them.
        let k8s = format!("kubernetes-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}-node");
        Tools {
            hyperkube: cache.join(k8s).join("hyperkube"),
            kwok: cache.join(format!("kwok-{KWOK_VERSION}")).join("kwok"),
            coredns: cache
                .join(format!("coredns-{COREDNS_VERSION}"))
                .join("coredns"),
            pause: cache
                .join(format!(
                    "pause-{PAUSE_VERSION}-kubernetes-{KUBERNETES_VERSION}"
                ))
                .join("pause"),
            helm: cache.join(format!("helm-{HELM_VERSION}")).join("helm"),
            // "-with-proxy": a cache from before the proxy's jars is not taken for one with them.
            rocketmq_libs: cache
                .join(format!("rocketmq-{ROCKETMQ_VERSION}"))
                .join("libs-with-proxy"),
            rocketmq_grpc_client_libs: cache
                .join(format!(
                    "rocketmq-client-java-{ROCKETMQ_GRPC_CLIENT_VERSION}"
                ))
                .join("libs"),
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
        "testenv: building Kubernetes {KUBERNETES_VERSION} (control plane, kubelet, kube-proxy) and etcd {ETCD_VERSION} from the Go module proxy (first run only)"
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

/// Installs whichever of `DEBIAN_PACKAGES` are missing, with apt-get, which needs root.
fn install_debian_packages() -> Result<()> {
    let missing = missing_debian_packages()?;
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        bail!(
            "a real node needs these Debian packages, which are not installed: {list}. \
             Install them as root (apt-get install {list}), or run `make tools` as root"
        );
    }
    eprintln!("testenv: installing {list} from Debian (first run only)");
    let apt = |args: &[&str]| {
        let mut command = Command::new("apt-get");
        command.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        command
    };
    // The package lists may be missing or stale on a fresh machine.
    apt(&["update", "-q"]).status_ok()?;
    apt(&["install", "-y", "-q"]).args(&missing).status_ok()
}

/// The packages in `DEBIAN_PACKAGES` that dpkg does not list as installed.
fn missing_debian_packages() -> Result<Vec<&'static str>> {
    let output = Command::new("dpkg-query")
        .args(["--show", "--showformat=${Package} ${db:Status-Abbrev}\n"])
        .args(DEBIAN_PACKAGES)
        .output()
        .map_err(|error| {
            anyhow::anyhow!(
                "running dpkg-query: {error}. A real node needs Debian's packages: {}",
                DEBIAN_PACKAGES.join(" ")
            )
        })?;
    // dpkg-query fails when a package is unknown to it, yet still lists the others: read the
    // list whatever its status.
    let listed = String::from_utf8_lossy(&output.stdout);
    Ok(missing_from_status(&listed))
}

/// The packages in `DEBIAN_PACKAGES` that `listed` (`<package> <status>` lines) does not show
/// as installed (`ii`).
fn missing_from_status(listed: &str) -> Vec<&'static str> {
    let installed: Vec<&str> = listed
        .lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(_, status)| status.trim() == "ii")
        .map(|(package, _)| package)
        .collect();
    DEBIAN_PACKAGES
        .iter()
        .copied()
        .filter(|package| !installed.contains(package))
        .collect()
}

fn build_coredns(output: &Path) -> Result<()> {
    eprintln!(
        "testenv: building CoreDNS {COREDNS_VERSION} from the Go module proxy (first run only)"
    );
    let module = Path::new(env!("CARGO_MANIFEST_DIR")).join("coredns");
    std::fs::create_dir_all(output.parent().context("coredns path has a parent")?)?;
    let staging = output.with_extension("partial");
    go(&module)
        .args([
            "build",
            "-mod=readonly",
            "-trimpath",
            "-ldflags",
            "-s -w",
            "-o",
        ])
        .arg(&staging)
        .arg(".")
        .status_ok()?;
    std::fs::rename(&staging, output)?;
    Ok(())
}

/// Compiles `build/pause/linux/pause.c` from the k8s.io/kubernetes module, as Kubernetes'
/// Makefile there does, but with the machine's gcc instead of a cross-compiling image.
fn build_pause(output: &Path) -> Result<()> {
    eprintln!(
        "testenv: compiling pause {PAUSE_VERSION} from Kubernetes {KUBERNETES_VERSION} with gcc (first run only)"
    );
    let module = Path::new(env!("CARGO_MANIFEST_DIR")).join("hyperkube");
    let download = go(&module)
        .args([
            "mod",
            "download",
            "-json",
            &format!("k8s.io/kubernetes@{KUBERNETES_VERSION}"),
        ])
        .output()
        .context("running go mod download (is Go installed?)")?;
    if !download.status.success() {
        bail!(
            "go mod download k8s.io/kubernetes@{KUBERNETES_VERSION} failed: {}\n{}{}",
            download.status,
            String::from_utf8_lossy(&download.stdout),
            String::from_utf8_lossy(&download.stderr)
        );
    }
    let module_info: serde_json::Value = serde_json::from_slice(&download.stdout)?;
    let source = Path::new(
        module_info["Dir"]
            .as_str()
            .context("go mod download -json printed no Dir")?,
    )
    .join("build/pause/linux/pause.c");
    let dir = output.parent().context("pause path has a parent")?;
    std::fs::create_dir_all(dir)?;
    let staging = output.with_extension("partial");
    // The Makefile's flags; its VERSION is `v<TAG>-<git describe>`, and the release stands in
    // for the git revision.
    Command::new("gcc")
        .args(["-Os", "-Wall", "-Werror", "-static"])
        .arg(format!("-DVERSION=v{PAUSE_VERSION}-{KUBERNETES_VERSION}"))
        .arg("-o")
        .arg(&staging)
        .arg(&source)
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

fn build_helm(output: &Path) -> Result<()> {
    eprintln!("testenv: building helm {HELM_VERSION} from the Go module proxy (first run only)");
    let bin_dir = output.parent().context("helm path has a parent")?;
    go(bin_dir)
        .env("GOBIN", bin_dir)
        .args([
            "install",
            &format!("helm.sh/helm/v3/cmd/helm@{HELM_VERSION}"),
        ])
        .status_ok()
}

/// Copies `name` (Kafka, RocketMQ or its gRPC client) and its runtime dependencies from Maven Central into
/// `output`, through Maven and `<project>/pom.xml`, whose `<project>.version` property picks the
/// version. Maven keeps its own download cache (`~/.m2`), so a new version fetches only what
/// changed.
fn fetch_jars(name: &str, project: &str, version: &str, output: &Path) -> Result<()> {
    check_java(name)?;
    eprintln!("testenv: fetching {name} {version} from Maven Central (first run only)");
    let project_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(project);
    let staging = output.with_extension("partial");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let mut mvn = Command::new("mvn");
    mvn.current_dir(&project_dir)
        .args(["--batch-mode", "--quiet", "dependency:copy-dependencies"])
        .arg(format!("-D{project}.version={version}"))
        .arg("-DincludeScope=runtime")
        .arg(format!("-DoutputDirectory={}", staging.display()));
    // Quiet Maven prints only errors, and those on stdout: show them only when it fails.
    let result = mvn.output().map_err(|error| {
        anyhow::anyhow!(
            "running mvn: {error}. Maven 3 is needed to fetch {name} from Maven Central \
             (apt-get install maven, or maven.apache.org)"
        )
    })?;
    if !result.status.success() {
        bail!(
            "{mvn:?} failed: {}\n{}{}",
            result.status,
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
    }
    std::fs::rename(&staging, output)?;
    Ok(())
}

/// Java 17 or newer must be on the `PATH`: Kafka 4 runs on nothing older (and RocketMQ 5 runs on
/// it too).
fn check_java(name: &str) -> Result<()> {
    let install = "apt-get install openjdk-17-jre-headless, or adoptium.net";
    let output = Command::new("java")
        .arg("-version")
        .output()
        .map_err(|error| {
            anyhow::anyhow!(
                "running java: {error}. Java {JAVA_MIN_VERSION}+ is needed to run {name} ({install})"
            )
        })?;
    // `openjdk version "17.0.15" 2025-04-15`, or `"1.8.0_392"` for Java 8.
    let text = String::from_utf8_lossy(&output.stderr);
    let major = java_major_version(&text);
    match major {
        Some(major) if major >= JAVA_MIN_VERSION => Ok(()),
        _ => bail!(
            "Java {JAVA_MIN_VERSION}+ is needed to run {name}, found {} ({install})",
            text.lines().next().unwrap_or("no version")
        ),
    }
}

/// The major version in `java -version` output.
fn java_major_version(text: &str) -> Option<u32> {
    let version = text.split('"').nth(1)?;
    let mut parts = version.split(['.', '_', '-', '+']);
    match parts.next()?.parse().ok()? {
        1 => parts.next()?.parse().ok(),
        major => Some(major),
    }
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
            .with_context(|| format!("running {self:?} (is it installed?)"))?;
        if !status.success() {
            bail!("{self:?} failed: {status}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_versions_are_read_from_java_version_output() {
        let java = |line: &str| java_major_version(line);
        assert_eq!(
            java("openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment"),
            Some(17)
        );
        assert_eq!(java("java version \"1.8.0_392\""), Some(8));
        assert_eq!(java("openjdk version \"21\" 2023-09-19"), Some(21));
        assert_eq!(java("openjdk version \"25-ea\" 2025-09-16"), Some(25));
        assert_eq!(java("nothing"), None);
    }

    #[test]
    fn debian_packages_count_as_installed_only_with_status_ii() {
        let listed = "containerd ii \nrunc ii \niptables rc \nconntrack un \nmmdebstrap ii \n\
                      gcc ii \nlibc6-dev ii \n";
        assert_eq!(
            missing_from_status(listed),
            ["containernetworking-plugins", "iptables", "conntrack"]
        );
        let all: String = DEBIAN_PACKAGES
            .iter()
            .map(|package| format!("{package} ii \n"))
            .collect();
        assert!(missing_from_status(&all).is_empty());
    }
}
