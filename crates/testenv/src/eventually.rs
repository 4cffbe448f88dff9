//! Waiting in tests for something the cluster does asynchronously.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

/// Polls `check` every 100 ms until it returns `true`, failing after `timeout` with `what` in
/// the message. An error from `check` ends the wait at once.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("timed out after {timeout:?} waiting until {what}")
}
