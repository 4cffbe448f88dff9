//! The hash that marks what a pod was started with (its configuration, its certificate), so a
//! change to either is seen and the pod restarted.

use sha2::{Digest, Sha256};

/// The SHA-256 of `text`, in lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
