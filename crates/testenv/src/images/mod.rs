//! Container images for a real node, built on this machine since no registry is reachable: OCI
//! archives that [`import`] loads into containerd under the names the operator renders.
//!
//! - [`kafka_image`]: laid out like `apache/kafka` (`/opt/kafka/libs`, `/opt/kafka/config`, user
//!   1000), with no `bin/` scripts: pods run `java` on the jars.
//! - [`rocketmq_image`]: laid out like `apache/rocketmq` (`$ROCKETMQ_HOME/lib`, user 3000).
//! - [`pause_image`]: the sandbox image containerd is configured with.
//! - [`operator_image`]: the `brokerage` binary with exactly the shared libraries it loads.
//!
//! The Java images share one base layer, [`java_base`]. Archives are cached under `images/` in
//! [`tools::cache_dir`], named after the image and a fingerprint of what went into it, so a
//! second call builds nothing and a changed recipe, version or binary builds anew (replacing the
//! archive it supersedes).

mod base;
mod layer;
mod libraries;
mod oci;

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

pub use base::java_base;
use layer::{Entry, Owner, ROOT};
use oci::Image;

use crate::tools::{self, ROCKETMQ_VERSION, Tools};

/// The sandbox image containerd runs every pod's pause container from.
pub const PAUSE_IMAGE: &str = "registry.k8s.io/pause:3.10.1";
/// The operator's image as `install/040-deployment.yaml` names it.
pub const OPERATOR_IMAGE: &str = "ghcr.io/brokerage/brokerage:0.1.0";

/// The Kafka image's name, as the operator renders it for Kafka `version`.
pub fn kafka_image_name(version: &str) -> String {
    format!("docker.io/apache/kafka:{version}")
}

/// The RocketMQ image's name, as the operator renders it for RocketMQ `ROCKETMQ_VERSION`.
pub fn rocketmq_image_name() -> String {
    format!("docker.io/apache/rocketmq:{ROCKETMQ_VERSION}")
}

const PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Kafka `version` on [`java_base`]: the jars (`Tools::kafka_libs`, with the client tools
/// and Log4j 2) in `/opt/kafka/libs`, a Log4j 2 configuration that logs to standard output in
/// `/opt/kafka/config/log4j2.yaml`, a writable `/opt/kafka/logs`, all owned by `appuser`
/// (1000:1000), who runs it, in `/opt/kafka`.
pub fn kafka_image(version: &str) -> Result<PathBuf> {
    let base = java_base()?;
    let appuser = Owner {
        uid: 1000,
        gid: 1000,
    };
    let mut app = with_user(&base, "appuser", appuser, "/home/appuser")?;
    app.push(Entry::dir("/opt/kafka", appuser, 0o755));
    app.extend(Entry::dir_of_files(
        "/opt/kafka/libs",
        &Tools::kafka_libs(version),
        appuser,
    )?);
    app.push(Entry::dir("/opt/kafka/config", appuser, 0o755));
    app.push(Entry::bytes(
        "/opt/kafka/config/log4j2.yaml",
        KAFKA_LOG4J2,
        appuser,
        0o644,
    ));
    app.push(Entry::dir("/opt/kafka/logs", appuser, 0o755));
    cached_archive(&Image {
        name: kafka_image_name(version),
        user: "1000:1000".into(),
        env: vec![PATH.into()],
        working_dir: "/opt/kafka".into(),
        entrypoint: vec![],
        cmd: vec!["bash".into()],
        layers: vec![vec![Entry::Rootfs(base)], app],
    })
}

/// Log4j 2 reads this with the Jackson YAML module Kafka's jars bring.
const KAFKA_LOG4J2: &str = "\
# Everything at INFO and above on standard output, where kubectl logs finds it.
Configuration:
  Appenders:
    Console:
      name: STDOUT
      target: SYSTEM_OUT
      PatternLayout:
        pattern: \"[%d] %p %m (%c)%n\"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
";

/// Where the RocketMQ image holds the tests' RocketMQ applications: `GrpcClient.java` with its
/// jars in `grpc-lib/`, and `RemotingClient.java`, which runs on RocketMQ's own jars.
pub const CLIENTS_HOME: &str = "/home/rocketmq/clients";

const CLIENT_SOURCES: [(&str, &str); 2] = [
    (
        "GrpcClient.java",
        include_str!("../../rocketmq-clients/GrpcClient.java"),
    ),
    (
        "RemotingClient.java",
        include_str!("../../rocketmq-clients/RemotingClient.java"),
    ),
];

/// RocketMQ `ROCKETMQ_VERSION` on [`java_base`]: `ROCKETMQ_HOME=/home/rocketmq/rocketmq-<version>`
/// with the jars (`tools.rocketmq_libs`) in `lib/` and an empty `bin/` to work in,
/// `/home/rocketmq/{logs,store}`, and the tests' RocketMQ applications in [`CLIENTS_HOME`], all owned
/// by `rocketmq` (3000:3000), who runs it.
pub fn rocketmq_image(tools: &Tools) -> Result<PathBuf> {
    let base = java_base()?;
    let rocketmq = Owner {
        uid: 3000,
        gid: 3000,
    };
    let home = format!("/home/rocketmq/rocketmq-{ROCKETMQ_VERSION}");
    let mut app = with_user(&base, "rocketmq", rocketmq, "/home/rocketmq")?;
    app.push(Entry::dir(&home, rocketmq, 0o755));
    app.extend(Entry::dir_of_files(
        &format!("{home}/lib"),
        &tools.rocketmq_libs,
        rocketmq,
    )?);
    app.push(Entry::dir(&format!("{home}/bin"), rocketmq, 0o755));
    // Not in apache/rocketmq: the tests' RocketMQ applications, run from their sources.
    app.push(Entry::dir(CLIENTS_HOME, rocketmq, 0o755));
    app.extend(Entry::dir_of_files(
        &format!("{CLIENTS_HOME}/grpc-lib"),
        &tools.rocketmq_grpc_client_libs,
        rocketmq,
    )?);
    for (name, source) in CLIENT_SOURCES {
        let path = format!("{CLIENTS_HOME}/{name}");
        app.push(Entry::bytes(&path, source, rocketmq, 0o644));
    }
    // Where RocketMQ writes by default (`user.home`), for pods that mount nothing there.
    app.push(Entry::dir("/home/rocketmq/logs", rocketmq, 0o755));
    app.push(Entry::dir("/home/rocketmq/store", rocketmq, 0o755));
    cached_archive(&Image {
        name: rocketmq_image_name(),
        user: "3000:3000".into(),
        env: vec![PATH.into(), format!("ROCKETMQ_HOME={home}")],
        working_dir: format!("{home}/bin"),
        entrypoint: vec![],
        cmd: vec!["bash".into()],
        layers: vec![vec![Entry::Rootfs(base)], app],
    })
}

/// [`PAUSE_IMAGE`]: the static `pause_binary` at `/pause`, run as 65535.
pub fn pause_image(pause_binary: &Path) -> Result<PathBuf> {
    cached_archive(&Image {
        name: PAUSE_IMAGE.into(),
        user: "65535:65535".into(),
        env: vec![PATH.into()],
        working_dir: "/".into(),
        entrypoint: vec!["/pause".into()],
        cmd: vec![],
        layers: vec![vec![Entry::copy("/pause", pause_binary, ROOT, 0o755)]],
    })
}

/// The operator `binary` at `/brokerage` as image `tag` ([`OPERATOR_IMAGE`] for the install
/// manifests), like a distroless image: the shared libraries `ldd` finds for it (none for a
/// static binary), `/etc/passwd` and `/etc/group` with `nonroot` (65532), who runs it, and
/// `/tmp`. Rebuilt whenever the binary changes; a few seconds.
pub fn operator_image(binary: &Path, tag: &str) -> Result<PathBuf> {
    let nonroot = Owner {
        uid: 65532,
        gid: 65532,
    };
    let libraries = libraries::shared_libraries(binary)?;
    let directories: BTreeSet<&Path> = libraries
        .iter()
        .flat_map(|library| library.ancestors().skip(1))
        .filter(|dir| *dir != Path::new("/"))
        .collect();
    let mut files: Vec<Entry> = directories
        .into_iter()
        .map(|dir| Entry::dir(&dir.to_string_lossy(), ROOT, 0o755))
        .collect();
    for library in &libraries {
        files.push(Entry::copy(
            &library.to_string_lossy(),
            library,
            ROOT,
            0o755,
        ));
    }
    files.extend([
        Entry::copy("/brokerage", binary, ROOT, 0o755),
        Entry::dir("/etc", ROOT, 0o755),
        Entry::bytes(
            "/etc/passwd",
            "root:x:0:0:root:/root:/sbin/nologin\n\
             nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
            ROOT,
            0o644,
        ),
        Entry::bytes("/etc/group", "root:x:0:\nnonroot:x:65532:\n", ROOT, 0o644),
        Entry::dir("/home", ROOT, 0o755),
        Entry::dir("/home/nonroot", nonroot, 0o700),
        Entry::dir("/tmp", ROOT, 0o1777),
    ]);
    cached_archive(&Image {
        name: tag.into(),
        user: "65532:65532".into(),
        env: vec![PATH.into()],
        working_dir: "/".into(),
        entrypoint: vec!["/brokerage".into()],
        cmd: vec![],
        layers: vec![files],
    })
}

/// Loads `archive` into the `k8s.io` namespace (the one kubelet's CRI uses) of the containerd
/// at `containerd_socket`, and unpacks it for the default snapshotter.
pub fn import(containerd_socket: &Path, archive: &Path) -> Result<()> {
    let mut command = Command::new("ctr");
    command
        .arg("--address")
        .arg(containerd_socket)
        .args(["--namespace", "k8s.io", "images", "import"])
        .arg(archive);
    let output = command
        .output()
        .context("running ctr (apt-get install containerd)")?;
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// `base`'s `/etc/passwd` and `/etc/group` with user and group `name` added, and its home.
fn with_user(base: &Path, name: &str, owner: Owner, home: &str) -> Result<Vec<Entry>> {
    let read = |file: &str| {
        let path = base.join(file);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let Owner { uid, gid } = owner;
    let passwd = read("etc/passwd")? + &format!("{name}:x:{uid}:{gid}::{home}:/bin/bash\n");
    let group = read("etc/group")? + &format!("{name}:x:{gid}:\n");
    Ok(vec![
        Entry::bytes("/etc/passwd", passwd, ROOT, 0o644),
        Entry::bytes("/etc/group", group, ROOT, 0o644),
        Entry::dir(home, owner, 0o755),
    ])
}

/// The archive of `image`, written unless one with the same fingerprint is there.
fn cached_archive(image: &Image) -> Result<PathBuf> {
    let stem: String = image
        .name
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' => c,
            _ => '_',
        })
        .collect();
    let fingerprint = image.fingerprint()?;
    let path = images_dir().join(format!("{stem}-{fingerprint}.tar"));
    if path.exists() {
        return Ok(path);
    }
    let _lock = lock()?;
    if path.exists() {
        return Ok(path);
    }
    // What an older recipe, version or binary left under this name (archives, or the staging
    // files of a killed build) is not wanted again.
    for entry in std::fs::read_dir(images_dir())? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let superseded = name
            .strip_prefix(&format!("{stem}-"))
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(other, _)| {
                other != fingerprint
                    && other.len() == fingerprint.len()
                    && other.bytes().all(|b| b.is_ascii_hexdigit())
            });
        if superseded {
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
    }
    let started = Instant::now();
    image
        .write_archive(&path)
        .with_context(|| format!("building image {}", image.name))?;
    let megabytes = std::fs::metadata(&path)?.len() / 1_000_000;
    eprintln!(
        "testenv: built image {} ({megabytes} MB) in {:.1?}",
        image.name,
        started.elapsed()
    );
    Ok(path)
}

fn images_dir() -> PathBuf {
    tools::cache_dir().join("images")
}

/// Held while an image or the base is built, so concurrent test binaries build each once.
fn lock() -> Result<File> {
    std::fs::create_dir_all(images_dir())?;
    let lock = File::create(images_dir().join(".lock"))?;
    lock.lock().context("locking the image cache")?;
    Ok(lock)
}
