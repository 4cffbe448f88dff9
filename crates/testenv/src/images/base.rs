//! The root filesystem the Kafka and RocketMQ images share: minimal Debian with a headless Java,
//! made by mmdebstrap from the Debian mirror this machine's apt uses.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// Debian 12, whose OpenJDK 17 runs Kafka 4 and RocketMQ 5.
const SUITE: &str = "bookworm";

/// What the image holds beyond minbase (which has bash and coreutils).
const PACKAGES: &[&str] = &["openjdk-17-jre-headless"];

/// The rootfs directory (owned by root, as mmdebstrap made it), built on first use and cached
/// under `images/` in [`crate::tools::cache_dir`], keyed by what it was made with.
pub fn java_base() -> Result<PathBuf> {
    let options = mmdebstrap_options();
    let key = super::oci::sha256_hex(format!("{SUITE} {}", options.join(" ")).as_bytes());
    let dir = super::images_dir().join(format!("java-base-{SUITE}-{}", &key[..12]));
    if dir.exists() {
        return Ok(dir);
    }
    let _lock = super::lock()?;
    if dir.exists() {
        return Ok(dir);
    }
    let staging = dir.with_extension("partial");
    if staging.exists() {
        // Left by a build that was killed; its mounts died with its mount namespace.
        std::fs::remove_dir_all(&staging)?;
    }
    let sources = apt_sources()?;
    eprintln!(
        "testenv: building the Java base image (Debian {SUITE}, {}) with mmdebstrap (first run only, a minute or two)",
        PACKAGES.join(", ")
    );
    let started = Instant::now();
    // A mount namespace of its own: mmdebstrap mounts /proc, /sys and /dev files inside the
    // target, and a killed run must not leave them there for remove_dir_all to walk into.
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "mmdebstrap"])
        .args(&options)
        .arg(SUITE)
        .arg(&staging)
        .args(&sources);
    let output = command
        .output()
        .map_err(|error| anyhow::anyhow!("running unshare --mount mmdebstrap: {error}"))?;
    if !output.status.success() {
        let log = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        bail!(
            "{command:?} failed: {}\n{}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    std::fs::rename(&staging, &dir)?;
    eprintln!(
        "testenv: built the Java base image in {:.0?}",
        started.elapsed()
    );
    Ok(dir)
}

fn mmdebstrap_options() -> Vec<String> {
    let mut options: Vec<String> = [
        // Root mode, so files are owned on disk as in the image: the layer copies owners as
        // they are, where the unshare mode would leave them shifted to subordinate IDs.
        "--mode=root",
        "--variant=minbase",
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-include=/usr/share/doc/*/copyright",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        // openjdk's postinst registers its man pages with update-alternatives, which fails when
        // the excluded man directory is missing.
        "--setup-hook=mkdir -p \"$1/usr/share/man/man1\"",
    ]
    .map(String::from)
    .into();
    options.push(format!("--include={}", PACKAGES.join(",")));
    options
}

/// `deb URI SUITE COMPONENTS` lines for each of this machine's apt sources of `SUITE` (and
/// `SUITE-updates`, `SUITE-security`), as apt itself reads its configuration.
fn apt_sources() -> Result<Vec<String>> {
    let output = Command::new("apt-get")
        .args([
            "indextargets",
            "--format",
            "$(REPO_URI) $(RELEASE) $(COMPONENT)",
            "Created-By: Packages",
        ])
        .output()
        .context("running apt-get indextargets")?;
    if !output.status.success() {
        bail!(
            "apt-get indextargets failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let sources = sources_of_suite(&String::from_utf8_lossy(&output.stdout), SUITE);
    if sources.is_empty() {
        bail!(
            "this machine's apt has no source for Debian {SUITE} (see /etc/apt/sources.list.d), \
             which the Java base image is built from"
        );
    }
    Ok(sources)
}

fn sources_of_suite(index_targets: &str, suite: &str) -> Vec<String> {
    // Keyed by (URI, release), in the order apt lists them.
    let mut sources: Vec<((&str, &str), Vec<&str>)> = Vec::new();
    for line in index_targets.lines() {
        let mut fields = line.split_whitespace();
        let (Some(uri), Some(release), Some(component)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let ours = release == suite
            || release
                .strip_prefix(suite)
                .is_some_and(|rest| rest.starts_with('-'));
        if !ours {
            continue;
        }
        match sources.iter_mut().find(|(key, _)| *key == (uri, release)) {
            Some((_, components)) if !components.contains(&component) => components.push(component),
            Some(_) => {}
            None => sources.push(((uri, release), vec![component])),
        }
    }
    sources
        .into_iter()
        .map(|((uri, release), components)| format!("deb {uri} {release} {}", components.join(" ")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_this_machines_entries_for_the_suite() {
        let targets = "http://deb.debian.org/debian/ bookworm main amd64\n\
                       http://deb.debian.org/debian/ bookworm contrib\n\
                       http://deb.debian.org/debian/ bookworm main\n\
                       http://deb.debian.org/debian/ bookworm-updates main\n\
                       http://deb.debian.org/debian-security/ bookworm-security main\n\
                       https://packages.example/apt cloud-sdk-bookworm main\n\
                       https://deb.example/node nodistro main\n";
        assert_eq!(
            sources_of_suite(targets, "bookworm"),
            [
                "deb http://deb.debian.org/debian/ bookworm main contrib",
                "deb http://deb.debian.org/debian/ bookworm-updates main",
                "deb http://deb.debian.org/debian-security/ bookworm-security main",
            ]
        );
    }
}
