//! Golden snapshots: rendered text compared with files under a crate's `tests/snapshots/`.
//! `UPDATE_SNAPSHOTS=1` rewrites them after an intended change, for the diff to be reviewed.

use std::path::Path;

/// Compares each `(file name, rendered text)` with `<dir>/<file name>`, or rewrites the files
/// when `UPDATE_SNAPSHOTS=1`. Panics naming every file that differs.
pub fn assert_snapshots(dir: &Path, rendered: &[(String, String)]) {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|value| value == "1");
    let mut stale = Vec::new();
    for (file, text) in rendered {
        let path = dir.join(file);
        if update {
            std::fs::write(&path, text).expect("the snapshot is writable");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "rendered objects differ from {stale:?}; if the change is intended, run with UPDATE_SNAPSHOTS=1 and review the diff"
    );
}
