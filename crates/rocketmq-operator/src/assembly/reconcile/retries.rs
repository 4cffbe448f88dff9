//! Backoff for work on the running brokers that failed (a name-server list not pushed, a new
//! group's metadata not copied): retried after 1 s doubling to 5 min, per Broker and kind of
//! work, without failing the reconcile.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use runtime::controller::backoff_delay;

#[derive(Default)]
pub struct Retries(Mutex<HashMap<String, u32>>);

impl Retries {
    /// Records a failure of `key`; the delay before trying it again.
    pub fn failed(&self, key: &str) -> Duration {
        let mut failures = self.0.lock().expect("retries lock");
        let count = failures.entry(key.to_string()).or_default();
        *count = count.saturating_add(1);
        backoff_delay(*count)
    }

    pub fn succeeded(&self, key: &str) {
        self.0.lock().expect("retries lock").remove(key);
    }
}
