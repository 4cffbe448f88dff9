//! Where an assembly (a Kafka, a Broker, a NameService) stands, as its `Ready` or `NotReady`
//! condition tells the user, and what its steps report along the way.

use std::time::Duration;

use api::Condition;

use crate::conditions::{self, INVALID_SPEC, NOT_SUPPORTED, RECONCILIATION_FAILED};

/// The states a user can find an assembly in. Each is one condition: `Ready`, or `NotReady`
/// with a reason a person (or a script) can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// The first steps have not got as far as the pods: says what is being created.
    Creating(&'static str),
    /// Kubernetes has not yet assigned these external Services their node ports or addresses.
    WaitingForAddresses(Vec<String>),
    /// Not every pod is Ready: `ready` of `expected` pods of `what` ("Kafka", "broker").
    PodsNotReady {
        ready: usize,
        expected: usize,
        what: &'static str,
    },
    /// Pods restart one at a time to take a new configuration; says which, or what it waits for.
    Rolling(String),
    /// The spec itself is wrong; only an edit fixes it.
    InvalidSpec(String),
    /// A valid spec asks for a change the operator cannot make; the resource stays as it was.
    NotSupported(String),
    /// A change held until the user or the cluster does something first (a CA to provide,
    /// brokers to empty): a reason of its own.
    Held {
        reason: &'static str,
        message: String,
    },
    /// A step failed part-way (Kubernetes refused an object, a broker did not answer); it is
    /// retried with backoff.
    Failed(String),
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        *self == Readiness::Ready
    }

    /// The reason of the `NotReady` condition, `None` when Ready.
    pub fn reason(&self) -> Option<&'static str> {
        Some(match self {
            Readiness::Ready => return None,
            Readiness::Creating(_) => "Creating",
            Readiness::WaitingForAddresses(_) => "ExternalAddressesPending",
            Readiness::PodsNotReady { .. } => "PodsNotReady",
            Readiness::Rolling(_) => "RollingUpdate",
            Readiness::InvalidSpec(_) => INVALID_SPEC,
            Readiness::NotSupported(_) => NOT_SUPPORTED,
            Readiness::Held { reason, .. } => reason,
            Readiness::Failed(_) => RECONCILIATION_FAILED,
        })
    }

    pub fn message(&self) -> String {
        match self {
            Readiness::Ready => String::new(),
            Readiness::Creating(what) => format!("{what} being created"),
            Readiness::WaitingForAddresses(services) => format!(
                "waiting for Kubernetes to assign addresses to {}",
                services.join(", ")
            ),
            Readiness::PodsNotReady {
                ready,
                expected,
                what,
            } => format!("{ready} of {expected} {what} pods are ready"),
            Readiness::Rolling(message)
            | Readiness::InvalidSpec(message)
            | Readiness::NotSupported(message)
            | Readiness::Held { message, .. }
            | Readiness::Failed(message) => message.clone(),
        }
    }

    pub fn condition(&self) -> Condition {
        match self.reason() {
            None => conditions::ready(),
            Some(reason) => conditions::not_ready(reason, &self.message()),
        }
    }
}

/// What the steps of one reconcile report besides their flow: the readiness so far, Events to
/// publish, warnings for the status, and how soon something wants another try.
#[derive(Debug)]
pub struct Progress {
    pub readiness: Readiness,
    /// Notable things the steps did, published as Kubernetes Events: `(reason, note)`.
    pub events: Vec<(&'static str, String)>,
    /// What the steps report without failing (a held scale-in, a pending restart).
    pub warnings: Vec<Condition>,
    /// When a step wants to try something again before the next periodic reconciliation.
    pub retry_after: Option<Duration>,
}

impl Progress {
    /// The progress of a reconcile that has not reached the pods yet.
    pub fn creating(what: &'static str) -> Progress {
        Progress {
            readiness: Readiness::Creating(what),
            events: Vec::new(),
            warnings: Vec::new(),
            retry_after: None,
        }
    }

    pub fn event(&mut self, reason: &'static str, note: String) {
        self.events.push((reason, note));
    }

    pub fn warn(&mut self, reason: &str, message: String) {
        self.warnings.push(conditions::warning(reason, &message));
    }

    pub fn retry_in(&mut self, delay: Duration) {
        self.retry_after = Some(self.retry_after.map_or(delay, |sooner| sooner.min(delay)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_is_one_condition_with_the_reason_users_know() {
        let pods = Readiness::PodsNotReady {
            ready: 1,
            expected: 3,
            what: "Kafka",
        };
        let condition = pods.condition();
        assert_eq!(condition.type_, "NotReady");
        assert_eq!(condition.reason.as_deref(), Some("PodsNotReady"));
        assert_eq!(
            condition.message.as_deref(),
            Some("1 of 3 Kafka pods are ready")
        );
        let creating = Readiness::Creating("the cluster is").condition();
        assert_eq!(
            creating.message.as_deref(),
            Some("the cluster is being created")
        );
        let waiting = Readiness::WaitingForAddresses(vec!["a".into(), "b".into()]);
        assert_eq!(
            waiting.condition().reason.as_deref(),
            Some("ExternalAddressesPending")
        );
        assert_eq!(
            waiting.message(),
            "waiting for Kubernetes to assign addresses to a, b"
        );
        let ready = Readiness::Ready.condition();
        assert_eq!((ready.type_.as_str(), ready.reason), ("Ready", None));
    }

    #[test]
    fn the_soonest_retry_wins() {
        let mut progress = Progress::creating("x is");
        progress.retry_in(Duration::from_secs(30));
        progress.retry_in(Duration::from_secs(5));
        progress.retry_in(Duration::from_secs(60));
        assert_eq!(progress.retry_after, Some(Duration::from_secs(5)));
    }
}
