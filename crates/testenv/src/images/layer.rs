//! What goes into one image layer, and writing it as an uncompressed tar.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tar::{Builder, EntryType, Header};

/// Who owns an entry in the image.
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub uid: u64,
    pub gid: u64,
}

pub const ROOT: Owner = Owner { uid: 0, gid: 0 };

/// One item of a layer. Paths in the image are absolute (`/opt/kafka`).
#[derive(Debug)]
pub enum Entry {
    /// Everything under a directory, at the image's root, with the owners, modes and times it
    /// has on disk. Symlinks stay symlinks and hard links stay hard links; device nodes, FIFOs
    /// and sockets are left out, since the runtime mounts `/dev`.
    Rootfs(PathBuf),
    Dir {
        path: String,
        owner: Owner,
        mode: u32,
    },
    File {
        path: String,
        content: Content,
        owner: Owner,
        mode: u32,
    },
}

#[derive(Debug)]
pub enum Content {
    /// A file on disk, read when the layer is written (symlinks followed).
    Copy(PathBuf),
    Bytes(Vec<u8>),
}

impl Entry {
    pub fn dir(path: &str, owner: Owner, mode: u32) -> Entry {
        Entry::Dir {
            path: path.to_string(),
            owner,
            mode,
        }
    }

    pub fn copy(path: &str, source: &Path, owner: Owner, mode: u32) -> Entry {
        Entry::File {
            path: path.to_string(),
            content: Content::Copy(source.to_path_buf()),
            owner,
            mode,
        }
    }

    pub fn bytes(path: &str, bytes: impl Into<Vec<u8>>, owner: Owner, mode: u32) -> Entry {
        Entry::File {
            path: path.to_string(),
            content: Content::Bytes(bytes.into()),
            owner,
            mode,
        }
    }

    /// Directory `path` holding a copy of every regular file directly in `source` (a directory
    /// of jars), all owned by `owner`.
    pub fn dir_of_files(path: &str, source: &Path, owner: Owner) -> Result<Vec<Entry>> {
        let mut files = Vec::new();
        for entry in
            std::fs::read_dir(source).with_context(|| format!("reading {}", source.display()))?
        {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                files.push(entry.path());
            }
        }
        files.sort();
        let mut entries = vec![Entry::dir(path, owner, 0o755)];
        for file in files {
            let name = file.file_name().context("a file has a name")?;
            let target = format!("{path}/{}", name.to_string_lossy());
            entries.push(Entry::copy(&target, &file, owner, 0o644));
        }
        Ok(entries)
    }
}

/// Writes `entries` as one layer tar into `output`.
pub fn write<W: Write>(entries: &[Entry], output: W) -> Result<W> {
    let mut tar = Builder::new(output);
    for entry in entries {
        match entry {
            Entry::Rootfs(root) => append_tree(&mut tar, root, Path::new(""), &mut HashMap::new())
                .with_context(|| format!("adding {} to a layer", root.display()))?,
            Entry::Dir { path, owner, mode } => {
                let mut header = header(EntryType::Directory, *owner, *mode, 0);
                tar.append_data(&mut header, relative(path), std::io::empty())?;
            }
            Entry::File {
                path,
                content,
                owner,
                mode,
            } => match content {
                Content::Copy(source) => {
                    let file = File::open(source)
                        .with_context(|| format!("opening {}", source.display()))?;
                    let metadata = file.metadata()?;
                    let mut header = header(EntryType::Regular, *owner, *mode, metadata.mtime());
                    header.set_size(metadata.len());
                    tar.append_data(&mut header, relative(path), file)?;
                }
                Content::Bytes(bytes) => {
                    let mut header = header(EntryType::Regular, *owner, *mode, 0);
                    header.set_size(bytes.len() as u64);
                    tar.append_data(&mut header, relative(path), bytes.as_slice())?;
                }
            },
        }
    }
    Ok(tar.into_inner()?)
}

/// The entries under `dir` (at `prefix` in the image), in name order so the same tree always
/// gives the same layer. `links` maps a multiply-linked file's (device, inode) to the path it was
/// first written at.
fn append_tree<W: Write>(
    tar: &mut Builder<W>,
    dir: &Path,
    prefix: &Path,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<()> {
    let mut children = std::fs::read_dir(dir)?.collect::<std::io::Result<Vec<_>>>()?;
    children.sort_by_key(|child| child.file_name());
    for child in children {
        let path = child.path();
        let name = prefix.join(child.file_name());
        let metadata = std::fs::symlink_metadata(&path)?;
        let owner = Owner {
            uid: metadata.uid().into(),
            gid: metadata.gid().into(),
        };
        let mode = metadata.mode() & 0o7777;
        let file_type = metadata.file_type();
        if file_type.is_dir() {
            let mut header = header(EntryType::Directory, owner, mode, metadata.mtime());
            tar.append_data(&mut header, &name, std::io::empty())?;
            append_tree(tar, &path, &name, links)?;
        } else if file_type.is_symlink() {
            let mut header = header(EntryType::Symlink, owner, mode, metadata.mtime());
            tar.append_link(&mut header, &name, std::fs::read_link(&path)?)?;
        } else if file_type.is_file() {
            if metadata.nlink() > 1 {
                let inode = (metadata.dev(), metadata.ino());
                if let Some(first) = links.get(&inode) {
                    let mut header = header(EntryType::Link, owner, mode, metadata.mtime());
                    tar.append_link(&mut header, &name, first)?;
                    continue;
                }
                links.insert(inode, name.clone());
            }
            let mut header = header(EntryType::Regular, owner, mode, metadata.mtime());
            header.set_size(metadata.len());
            tar.append_data(&mut header, &name, File::open(&path)?)?;
        }
    }
    Ok(())
}

fn header(kind: EntryType, owner: Owner, mode: u32, mtime: i64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_uid(owner.uid);
    header.set_gid(owner.gid);
    header.set_mode(mode);
    header.set_mtime(mtime.max(0) as u64);
    header.set_size(0);
    header
}

/// Layer paths are relative to the image's root.
fn relative(path: &str) -> &str {
    path.trim_start_matches('/')
}
