//! An image as an OCI archive: the OCI image layout (`oci-layout`, `index.json`, and manifest,
//! config and uncompressed layers under `blobs/sha256/`) packed in one tar, which
//! `ctr images import` loads.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result};
use oci_spec::image::{
    ANNOTATION_REF_NAME, Arch, ConfigBuilder, Descriptor, ImageConfigurationBuilder,
    ImageIndexBuilder, ImageManifestBuilder, MediaType, OciLayoutBuilder, Os, PlatformBuilder,
    RootFsBuilder, Sha256Digest,
};
use ring::digest::{self, SHA256};
use tar::{Builder, EntryType, Header};

use super::layer::{self, Content, Entry};

/// The name containerd's importer reads first (its own exports write it). ctr 1.6 also takes a
/// full reference in `org.opencontainers.image.ref.name` alone, but names a bare tag there
/// `import-<date>:<tag>`.
const CONTAINERD_IMAGE_NAME: &str = "io.containerd.image.name";

/// Part of every fingerprint: raised when a change here changes the archives written, so that
/// cached ones are written anew.
const WRITER_REVISION: u32 = 1;

/// An image for this machine's platform.
#[derive(Debug)]
pub struct Image {
    /// The full reference, `docker.io/apache/kafka:4.1.0`.
    pub name: String,
    /// `uid:gid`, numeric, so kubelet can check `runAsNonRoot` against it.
    pub user: String,
    pub env: Vec<String>,
    pub working_dir: String,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// Bottom first.
    pub layers: Vec<Vec<Entry>>,
}

/// A blob in the archive, under `blobs/sha256/`.
struct Blob {
    hex: String,
    size: u64,
}

impl Blob {
    fn descriptor(&self, media_type: MediaType) -> Result<Descriptor> {
        Ok(Descriptor::new(
            media_type,
            self.size,
            Sha256Digest::from_str(&self.hex)?,
        ))
    }

    fn digest(&self) -> String {
        format!("sha256:{}", self.hex)
    }

    fn path(&self) -> String {
        format!("blobs/sha256/{}", self.hex)
    }
}

impl Image {
    /// Changes whenever the archive would: with this description, and with the size or time of
    /// any file it copies. A root filesystem is known by its path, which names its version.
    pub fn fingerprint(&self) -> Result<String> {
        let mut hash = digest::Context::new(&SHA256);
        hash.update(format!("{WRITER_REVISION} {self:?}").as_bytes());
        for entry in self.layers.iter().flatten() {
            if let Entry::File {
                content: Content::Copy(source),
                ..
            } = entry
            {
                let metadata = std::fs::metadata(source)
                    .with_context(|| format!("reading {}", source.display()))?;
                let stamp = format!(
                    "{} {}.{}",
                    metadata.len(),
                    metadata.mtime(),
                    metadata.mtime_nsec()
                );
                hash.update(stamp.as_bytes());
            }
        }
        Ok(hex(hash.finish().as_ref())[..16].to_string())
    }

    /// Writes the archive to `output`, through a sibling staging file.
    pub fn write_archive(&self, output: &Path) -> Result<()> {
        let partial = output.with_extension("partial");
        let mut file = BufWriter::new(File::create(&partial)?);

        // Each layer goes straight into the archive, hashed on the way; its tar header, which
        // names it by that hash, is written over a placeholder afterwards. A tar is whole
        // blocks, so the layer needs no padding to end its entry.
        let mut layers = Vec::new();
        for entries in &self.layers {
            let start = file.stream_position()?;
            file.write_all(&[0; BLOCK])?;
            let layer = layer::write(entries, Digester::new(&mut file))?.finish()?;
            file.seek(SeekFrom::Start(start))?;
            file.write_all(blob_header(&layer)?.as_bytes())?;
            file.seek(SeekFrom::End(0))?;
            layers.push(layer);
        }
        let mut tar = Builder::new(file);

        let config = ImageConfigurationBuilder::default()
            .architecture(Arch::default())
            .os(Os::default())
            .config(
                ConfigBuilder::default()
                    .user(self.user.clone())
                    .env(self.env.clone())
                    .working_dir(self.working_dir.clone())
                    .entrypoint(self.entrypoint.clone())
                    .cmd(self.cmd.clone())
                    .build()?,
            )
            .rootfs(
                RootFsBuilder::default()
                    .typ("layers")
                    // Uncompressed layers: each diff ID is the layer's own digest.
                    .diff_ids(layers.iter().map(Blob::digest).collect::<Vec<_>>())
                    .build()?,
            )
            .build()?;
        let config = append_blob(&mut tar, config.to_string()?.as_bytes())?;

        let manifest = ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageManifest)
            .config(config.descriptor(MediaType::ImageConfig)?)
            .layers(
                layers
                    .iter()
                    .map(|layer| layer.descriptor(MediaType::ImageLayer))
                    .collect::<Result<Vec<_>>>()?,
            )
            .build()?;
        let manifest = append_blob(&mut tar, manifest.to_string()?.as_bytes())?;

        let mut descriptor = manifest.descriptor(MediaType::ImageManifest)?;
        descriptor.set_platform(Some(
            PlatformBuilder::default()
                .architecture(Arch::default())
                .os(Os::default())
                .build()?,
        ));
        descriptor.set_annotations(Some(HashMap::from([
            (ANNOTATION_REF_NAME.to_string(), self.name.clone()),
            (CONTAINERD_IMAGE_NAME.to_string(), self.name.clone()),
        ])));
        let index = ImageIndexBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageIndex)
            .manifests(vec![descriptor])
            .build()?;
        append_file(&mut tar, "index.json", index.to_string()?.as_bytes())?;
        let mut layout = Vec::new();
        OciLayoutBuilder::default()
            .image_layout_version("1.0.0")
            .build()?
            .to_writer(&mut layout)?;
        append_file(&mut tar, "oci-layout", &layout)?;

        tar.into_inner()?.into_inner()?.sync_all()?;
        std::fs::rename(&partial, output)?;
        Ok(())
    }
}

const BLOCK: usize = 512;

fn blob_header(blob: &Blob) -> Result<Header> {
    let mut header = archive_header(blob.size);
    header.set_path(blob.path())?;
    header.set_cksum();
    Ok(header)
}

fn append_blob<W: Write>(tar: &mut Builder<W>, bytes: &[u8]) -> Result<Blob> {
    let blob = Blob {
        hex: sha256_hex(bytes),
        size: bytes.len() as u64,
    };
    append_file(tar, &blob.path(), bytes)?;
    Ok(blob)
}

fn append_file<W: Write>(tar: &mut Builder<W>, path: &str, bytes: &[u8]) -> Result<()> {
    let mut header = archive_header(bytes.len() as u64);
    tar.append_data(&mut header, path, bytes)?;
    Ok(())
}

fn archive_header(size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(EntryType::Regular);
    header.set_mode(0o644);
    header.set_size(size);
    header
}

/// With ring, whose SHA-256 is assembly and so fast in unoptimized test builds too.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(digest::digest(&SHA256, bytes).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Hashes and counts a layer on its way into the archive.
struct Digester<W: Write> {
    inner: W,
    hash: digest::Context,
    size: u64,
}

impl<W: Write> Digester<W> {
    fn new(inner: W) -> Digester<W> {
        Digester {
            inner,
            hash: digest::Context::new(&SHA256),
            size: 0,
        }
    }

    fn finish(mut self) -> Result<Blob> {
        self.inner.flush()?;
        Ok(Blob {
            hex: hex(self.hash.finish().as_ref()),
            size: self.size,
        })
    }
}

impl<W: Write> Write for Digester<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hash.update(&buf[..written]);
        self.size += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest};

    use super::*;
    use crate::images::layer::Owner;

    /// Every file of an archive, by path.
    fn read_tar(bytes: &[u8]) -> HashMap<String, (Header, Vec<u8>)> {
        let mut archive = tar::Archive::new(bytes);
        let mut files = HashMap::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            files.insert(path, (entry.header().clone(), data));
        }
        files
    }

    #[test]
    fn an_archive_names_every_blob_by_its_digest_and_keeps_links() {
        let dir = tempfile::tempdir().unwrap();
        let rootfs = dir.path().join("rootfs");
        std::fs::create_dir_all(rootfs.join("usr/bin")).unwrap();
        std::fs::write(rootfs.join("usr/bin/tool"), "binary").unwrap();
        std::fs::hard_link(rootfs.join("usr/bin/tool"), rootfs.join("usr/bin/alias")).unwrap();
        std::os::unix::fs::symlink("usr/bin", rootfs.join("bin")).unwrap();
        let user = Owner {
            uid: 1000,
            gid: 1000,
        };
        let image = Image {
            name: "docker.io/example/app:1.0".into(),
            user: "1000:1000".into(),
            env: vec!["PATH=/usr/bin".into()],
            working_dir: "/app".into(),
            entrypoint: vec![],
            cmd: vec!["tool".into()],
            layers: vec![
                vec![Entry::Rootfs(rootfs)],
                vec![
                    Entry::dir("/app", user, 0o755),
                    Entry::bytes("/app/config", "x=1", user, 0o600),
                ],
            ],
        };
        let output = dir.path().join("app.tar");
        image.write_archive(&output).unwrap();

        let files = read_tar(&std::fs::read(&output).unwrap());
        let blob = |digest: &str| {
            let hex = digest.strip_prefix("sha256:").unwrap();
            let data = &files[&format!("blobs/sha256/{hex}")].1;
            assert_eq!(sha256_hex(data), hex, "blob {hex}");
            data.clone()
        };
        let index = ImageIndex::from_reader(files["index.json"].1.as_slice()).unwrap();
        let descriptor = &index.manifests()[0];
        let annotations = descriptor.annotations().as_ref().unwrap();
        assert_eq!(
            annotations[CONTAINERD_IMAGE_NAME],
            "docker.io/example/app:1.0"
        );
        assert_eq!(
            annotations[ANNOTATION_REF_NAME],
            "docker.io/example/app:1.0"
        );
        let manifest_bytes = blob(descriptor.digest().as_ref());
        assert_eq!(descriptor.size(), manifest_bytes.len() as u64);
        let manifest = ImageManifest::from_reader(manifest_bytes.as_slice()).unwrap();
        let config =
            ImageConfiguration::from_reader(blob(manifest.config().digest().as_ref()).as_slice())
                .unwrap();
        let layer_digests: Vec<String> = manifest
            .layers()
            .iter()
            .map(|layer| layer.digest().to_string())
            .collect();
        assert_eq!(config.rootfs().diff_ids(), &layer_digests);
        assert_eq!(
            config.config().as_ref().unwrap().user().as_deref(),
            Some("1000:1000")
        );

        let base = read_tar(&blob(&layer_digests[0]));
        assert_eq!(base["bin"].0.entry_type(), EntryType::Symlink);
        assert_eq!(
            base["bin"].0.link_name().unwrap().unwrap().to_str(),
            Some("usr/bin")
        );
        let (first, second) = (&base["usr/bin/alias"].0, &base["usr/bin/tool"].0);
        assert_eq!(first.entry_type(), EntryType::Regular);
        assert_eq!(second.entry_type(), EntryType::Link);
        assert_eq!(
            second.link_name().unwrap().unwrap().to_str(),
            Some("usr/bin/alias")
        );
        let app = read_tar(&blob(&layer_digests[1]));
        let (header, data) = &app["app/config"];
        assert_eq!(
            (header.uid().unwrap(), header.mode().unwrap()),
            (1000, 0o600)
        );
        assert_eq!(data, b"x=1");
    }
}
