use std::time::Duration;

/// What can go wrong in a reconcile, independent of the kind being reconciled. The variant name
/// is the `error` label of the failure metric.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("object {0} has no namespace")]
    MissingNamespace(String),
    /// A step failed in a way worth retrying later, such as a broker that is not reachable yet.
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
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
        }
    }
}
