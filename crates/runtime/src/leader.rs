//! Leader election on a `coordination.k8s.io` Lease, so that of several operator replicas only
//! one acts at a time. Written here because the lease crates lag behind kube's releases and do
//! not give the two guarantees below; it is client-go's algorithm:
//!
//! - **Expiry is judged on this replica's own monotonic clock**, from when it last saw the Lease
//!   change, never by comparing another machine's `renewTime` with the local wall clock: a
//!   replica whose clock runs ahead would otherwise take a Lease that is still held.
//! - **A renewal has a deadline** shorter than the lease duration. A leader that cannot renew
//!   within it (the API server unreachable, a request that hangs) gives up leadership while the
//!   Lease is still valid for everyone else, so it has stopped before another replica may take
//!   over.

use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};
use tokio::time::Instant;

/// How long a Lease is valid after its last renewal, how long a leader keeps trying to renew
/// before it gives up, and how often it tries. client-go's defaults; the renew deadline is
/// below the lease duration so a leader stops before its Lease may be taken.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

pub struct LeaderElection {
    leases: Api<Lease>,
    name: String,
    identity: String,
    timing: Timing,
    observed: Mutex<Option<Observed>>,
}

/// The Lease as this replica last saw it change, and when (on the local monotonic clock).
#[derive(Clone, Debug, PartialEq)]
struct Observed {
    spec: LeaseSpec,
    at: Instant,
}

/// Why a leader stopped leading.
#[derive(Debug, thiserror::Error)]
pub enum LostLeadership {
    #[error("the lease was taken by another replica")]
    Taken,
    #[error("the lease could not be renewed within {0:?}")]
    RenewDeadline(Duration),
}

impl LeaderElection {
    pub fn new(client: Client, namespace: &str, name: &str, identity: &str) -> LeaderElection {
        LeaderElection::with_timing(client, namespace, name, identity, Timing::default())
    }

    pub fn with_timing(
        client: Client,
        namespace: &str,
        name: &str,
        identity: &str,
        timing: Timing,
    ) -> LeaderElection {
        LeaderElection {
            leases: Api::namespaced(client, namespace),
            name: name.into(),
            identity: identity.into(),
            timing,
            observed: Mutex::new(None),
        }
    }

    /// Waits until this replica holds the Lease.
    pub async fn acquire(&self) -> Result<(), kube::Error> {
        loop {
            match self.attempt().await {
                Some(Ok(true)) => {
                    tracing::info!(lease = %self.name, identity = %self.identity, "became leader");
                    return Ok(());
                }
                Some(Err(error)) => tracing::warn!(lease = %self.name, %error, "lease not taken"),
                Some(Ok(false)) | None => {}
            }
            tokio::time::sleep(self.timing.retry_period).await;
        }
    }

    /// Renews the Lease every retry period; returns when leadership is lost: another replica
    /// holds the Lease, or no renewal succeeded within the renew deadline. The caller must stop
    /// all work at once.
    pub async fn keep(&self) -> LostLeadership {
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(self.timing.retry_period).await;
            let started = Instant::now();
            match self
                .attempt_until(renewed + self.timing.renew_deadline)
                .await
            {
                Some(Ok(true)) => renewed = started,
                Some(Ok(false)) => {
                    tracing::error!(lease = %self.name, "leadership taken by another replica");
                    return LostLeadership::Taken;
                }
                Some(Err(error)) => {
                    tracing::warn!(lease = %self.name, %error, "could not renew the lease")
                }
                None => {}
            }
            if Instant::now() >= renewed + self.timing.renew_deadline {
                tracing::error!(lease = %self.name, "could not renew the lease in time");
                return LostLeadership::RenewDeadline(self.timing.renew_deadline);
            }
        }
    }

    /// Gives the Lease up if this replica holds it, so that a standby takes over at its next
    /// try rather than a lease duration later: for an orderly stop (a rolling upgrade), called
    /// once this replica's work has stopped. Bounded by the renew deadline.
    pub async fn release(&self) -> Result<(), kube::Error> {
        let release = async {
            let Some(lease) = self.leases.get_opt(&self.name).await? else {
                return Ok(());
            };
            let spec = lease.spec.clone().unwrap_or_default();
            if spec.holder_identity.as_deref() != Some(&self.identity) {
                return Ok(());
            }
            let released = Lease {
                metadata: lease.metadata,
                spec: Some(LeaseSpec {
                    holder_identity: None,
                    ..spec
                }),
            };
            match self
                .leases
                .replace(&self.name, &PostParams::default(), &released)
                .await
            {
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
                replaced => replaced.map(drop),
            }
        };
        tokio::time::timeout(self.timing.renew_deadline, release)
            .await
            .unwrap_or(Ok(()))
    }

    /// One round bounded by the renew deadline; `None` when it did not finish in time.
    async fn attempt(&self) -> Option<Result<bool, kube::Error>> {
        self.attempt_until(Instant::now() + self.timing.renew_deadline)
            .await
    }

    async fn attempt_until(&self, deadline: Instant) -> Option<Result<bool, kube::Error>> {
        tokio::time::timeout_at(deadline, self.try_acquire_or_renew())
            .await
            .ok()
    }

    /// One round: take or renew the Lease if we may. `Ok(false)` when another holder's Lease is
    /// still valid. Conflicting writes fail on the resourceVersion, so two replicas never both win.
    async fn try_acquire_or_renew(&self) -> Result<bool, kube::Error> {
        let now = Timestamp::now();
        let Some(lease) = self.leases.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.spec(now, now, 0)),
            };
            return match self.leases.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
                Err(error) => Err(error),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let observed_at = self.observe(&spec);
        let ours = spec.holder_identity.as_deref() == Some(&self.identity);
        if !ours && !may_take(&spec, observed_at, Instant::now()) {
            return Ok(false);
        }
        let acquired = match (ours, &spec.acquire_time) {
            (true, Some(time)) => time.0,
            _ => now,
        };
        let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!ours);
        let renewed = Lease {
            metadata: lease.metadata.clone(),
            spec: Some(self.spec(acquired, now, transitions)),
        };
        match self
            .leases
            .replace(&self.name, &PostParams::default(), &renewed)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Records the Lease as read; returns when it was first seen as it is now.
    fn observe(&self, spec: &LeaseSpec) -> Instant {
        let mut observed = self.observed.lock().unwrap_or_else(|e| e.into_inner());
        match observed.as_ref() {
            Some(seen) if &seen.spec == spec => seen.at,
            _ => {
                let at = Instant::now();
                *observed = Some(Observed {
                    spec: spec.clone(),
                    at,
                });
                at
            }
        }
    }

    fn spec(&self, acquired: Timestamp, renewed: Timestamp, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(self.timing.lease_duration.as_secs().max(1) as i32),
            acquire_time: Some(MicroTime(acquired)),
            renew_time: Some(MicroTime(renewed)),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }
}

/// Whether another holder's Lease, unchanged since `observed_at`, may be taken at `now`: when
/// it has no holder, or a full lease duration has passed on this replica's clock since it last
/// changed. The holder's `renewTime` is never compared with the local wall clock.
fn may_take(spec: &LeaseSpec, observed_at: Instant, now: Instant) -> bool {
    if spec
        .holder_identity
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        return true;
    }
    let seconds = spec.lease_duration_seconds.unwrap_or(15).max(1);
    now >= observed_at + Duration::from_secs(seconds as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(holder: &str, renewed: &str) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(holder.into()),
            lease_duration_seconds: Some(15),
            renew_time: Some(MicroTime(renewed.parse().unwrap())),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn a_held_lease_is_taken_only_a_full_duration_after_it_was_seen_to_change() {
        let seen = Instant::now();
        // A renewTime far in the past (a clock behind ours) does not make the lease expired.
        let lease = held("a", "2000-01-01T00:00:00Z");
        assert!(!may_take(&lease, seen, seen));
        assert!(!may_take(&lease, seen, seen + Duration::from_secs(14)));
        assert!(may_take(&lease, seen, seen + Duration::from_secs(15)));
    }

    #[test]
    fn a_lease_without_holder_is_free() {
        let seen = Instant::now();
        let mut lease = held("", "2099-01-01T00:00:00Z");
        assert!(may_take(&lease, seen, seen));
        lease.holder_identity = None;
        assert!(may_take(&lease, seen, seen));
    }

    #[test]
    fn the_renew_deadline_ends_before_the_lease_expires() {
        let timing = Timing::default();
        assert!(timing.renew_deadline + timing.retry_period <= timing.lease_duration);
    }
}
