//! Leader election on a `coordination.k8s.io` Lease, so that of several operator replicas only
//! one acts at a time. Written here because the crates that do it lag behind kube's releases;
//! it is the usual client-go algorithm: take the Lease when it is free or expired, renew it well
//! before it expires, and stop acting the moment a renewal fails.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};

const LEASE_DURATION: Duration = Duration::from_secs(15);
const RENEW_EVERY: Duration = Duration::from_secs(5);

pub struct LeaderElection {
    leases: Api<Lease>,
    name: String,
    identity: String,
}

impl LeaderElection {
    pub fn new(client: Client, namespace: &str, name: &str, identity: &str) -> LeaderElection {
        LeaderElection {
            leases: Api::namespaced(client, namespace),
            name: name.into(),
            identity: identity.into(),
        }
    }

    /// Waits until this replica holds the Lease.
    pub async fn acquire(&self) -> Result<(), kube::Error> {
        loop {
            if self.try_acquire_or_renew().await? {
                tracing::info!(lease = %self.name, identity = %self.identity, "became leader");
                return Ok(());
            }
            tokio::time::sleep(RENEW_EVERY).await;
        }
    }

    /// Renews the Lease until a renewal fails; returns when leadership is lost.
    pub async fn keep(&self) {
        loop {
            tokio::time::sleep(RENEW_EVERY).await;
            match self.try_acquire_or_renew().await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!(lease = %self.name, "leadership taken by another replica");
                    return;
                }
                Err(error) => {
                    tracing::error!(lease = %self.name, %error, "could not renew the lease");
                    return;
                }
            }
        }
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
        let ours = spec.holder_identity.as_deref() == Some(&self.identity);
        if !ours && !expired(&spec, now) {
            return Ok(false);
        }
        let acquired = if ours {
            spec.acquire_time.map(|t| t.0).unwrap_or(now)
        } else {
            now
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

    fn spec(&self, acquired: Timestamp, renewed: Timestamp, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(LEASE_DURATION.as_secs() as i32),
            acquire_time: Some(MicroTime(acquired)),
            renew_time: Some(MicroTime(renewed)),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }
}

fn expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    let Some(renewed) = spec.renew_time.as_ref() else {
        return true;
    };
    let duration = SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(15)));
    renewed.0 + duration < now
}
