use std::fmt;
use std::time::Duration;

/// What can go wrong in a reconcile, independent of the kind being reconciled. The variant name
/// is the `error` label of the failure metric.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", KubeMessage(.0))]
    Kube(#[from] kube::Error),
    #[error("object {0} has no namespace")]
    MissingNamespace(String),
    /// A step failed in a way worth retrying later, such as a broker that is not reachable yet.
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// What went wrong in a named step of a chain: the status, the Event and the failure metric
    /// all say which.
    #[error("the {step} step failed: {source}")]
    Step {
        step: &'static str,
        source: Box<Error>,
    },
}

impl Error {
    pub fn transient(message: impl Into<String>) -> Error {
        Error::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    /// A short stable name for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Kube(_) => "kube",
            Error::MissingNamespace(_) => "missing_namespace",
            Error::Transient { .. } => "transient",
            Error::Step { source, .. } => source.metric_label(),
        }
    }

    /// The step that failed, when the error came from one.
    pub fn step(&self) -> Option<&'static str> {
        match self {
            Error::Step { step, .. } => Some(step),
            _ => None,
        }
    }

    /// How soon to try again, when the error itself knows (a broker that asked for time).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Transient { retry_after, .. } => *retry_after,
            Error::Step { source, .. } => source.retry_after(),
            _ => None,
        }
    }
}

/// A Kubernetes API error for a person: when the API server refused a request, its own words
/// (they name the object, the field and the rule), not the client's dump of the whole response.
struct KubeMessage<'a>(&'a kube::Error);

impl fmt::Display for KubeMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            kube::Error::Api(status) => {
                write!(f, "Kubernetes refused the request: {}", status.message)
            }
            other => write!(f, "Kubernetes API: {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use kube::core::Status;

    use super::*;

    #[test]
    fn a_refused_write_is_told_in_the_api_servers_words_with_the_step() {
        let refused = Status::failure(
            "StatefulSet.apps \"c-p\" is invalid: spec.replicas: Invalid value: -1",
            "Invalid",
        )
        .with_code(422);
        let error = Error::Step {
            step: "node-pools",
            source: Box::new(Error::Kube(kube::Error::Api(refused.boxed()))),
        };
        assert_eq!(
            error.to_string(),
            "the node-pools step failed: Kubernetes refused the request: StatefulSet.apps \"c-p\" \
             is invalid: spec.replicas: Invalid value: -1"
        );
        assert!(!error.to_string().contains("Status {"), "no debug dump");
        assert_eq!(error.step(), Some("node-pools"));
        assert_eq!(error.metric_label(), "kube");
    }

    #[test]
    fn a_step_keeps_the_delay_its_error_asked_for() {
        let error = Error::Step {
            step: "metadata",
            source: Box::new(Error::Transient {
                message: "busy".into(),
                retry_after: Some(Duration::from_secs(3)),
            }),
        };
        assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(error.to_string(), "the metadata step failed: busy");
    }
}
