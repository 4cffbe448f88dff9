//! Per-cluster working directories: `$TMPDIR/brokerage-testenv/<pid>-<n>`.
//!
//! A test binary that exits never drops its shared cluster, so its directory is removed by
//! the next start instead: any directory whose process is gone is stale.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};

pub fn create() -> Result<PathBuf> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let root = std::env::temp_dir().join("brokerage-testenv");
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    remove_stale(&root);
    let dir = root.join(format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn remove_stale(root: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let owner = name.to_str().and_then(|name| name.split('-').next());
        let alive = owner.is_some_and(|pid| std::path::Path::new("/proc").join(pid).exists());
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
