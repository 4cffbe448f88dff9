//! The admin clients kept between reconciles, one per cluster.
//!
//! A client holds open connections, so one that is no longer used must not be kept forever:
//! a cluster that was deleted, or one a user named once (a topic labelled with a cluster that
//! never existed, say), would otherwise hold its entry and its sockets for the operator's life.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cluster_ref::ClusterRef;

/// A client unused this long is dropped; the next reconcile that needs it connects again.
const FORGET_IDLE_AFTER: Duration = Duration::from_secs(600);

pub struct AdminCache<A> {
    entries: Mutex<HashMap<ClusterRef, (A, Instant)>>,
}

impl<A> Default for AdminCache<A> {
    fn default() -> Self {
        AdminCache {
            entries: Mutex::default(),
        }
    }
}

impl<A: Clone> AdminCache<A> {
    /// The kept client for `cluster`, if `fits` says it still reaches it the right way.
    pub fn get(&self, cluster: &ClusterRef, fits: impl Fn(&A) -> bool) -> Option<A> {
        let now = Instant::now();
        let mut entries = self.lock();
        forget_idle(&mut entries, now);
        let (admin, last_used) = entries.get_mut(cluster)?;
        if !fits(admin) {
            return None;
        }
        *last_used = now;
        Some(admin.clone())
    }

    pub fn insert(&self, cluster: &ClusterRef, admin: A) {
        self.lock().insert(cluster.clone(), (admin, Instant::now()));
    }

    /// Drops the client for a cluster that can no longer be reached the way it was.
    pub fn forget(&self, cluster: &ClusterRef) {
        self.lock().remove(cluster);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClusterRef, (A, Instant)>> {
        // A panic elsewhere while holding the lock leaves nothing half-written here.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn forget_idle<A>(entries: &mut HashMap<ClusterRef, (A, Instant)>, now: Instant) {
    entries.retain(|_, (_, last_used)| now.duration_since(*last_used) < FORGET_IDLE_AFTER);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(name: &str) -> ClusterRef {
        ClusterRef {
            namespace: "team-a".into(),
            name: name.into(),
        }
    }

    #[test]
    fn clients_unused_for_ten_minutes_are_forgotten_and_used_ones_kept() {
        let start = Instant::now();
        let mut entries = HashMap::from([
            (cluster("idle"), (1, start)),
            (cluster("used"), (2, start + Duration::from_secs(300))),
        ]);
        forget_idle(&mut entries, start + FORGET_IDLE_AFTER);
        assert_eq!(entries.keys().collect::<Vec<_>>(), [&cluster("used")]);
    }

    #[test]
    fn a_client_that_no_longer_fits_is_not_returned_and_a_forgotten_one_is_gone() {
        let cache = AdminCache::default();
        cache.insert(&cluster("a"), "config-1");
        assert_eq!(
            cache.get(&cluster("a"), |kept| *kept == "config-1"),
            Some("config-1")
        );
        assert_eq!(cache.get(&cluster("a"), |kept| *kept == "config-2"), None);
        cache.forget(&cluster("a"));
        assert_eq!(cache.get(&cluster("a"), |_| true), None);
    }
}
