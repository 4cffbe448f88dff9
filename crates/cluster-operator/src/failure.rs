//! The message of a `ReconciliationFailed` condition.

use runtime::Error;

/// What went wrong, for a person: when the API server refused a write, its own words (they name
/// the object, the field and the rule), without the client's dump of the whole response.
pub fn message(error: &Error) -> String {
    match error {
        Error::Kube(kube::Error::Api(status)) => {
            format!("Kubernetes refused a change: {}", status.message)
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use kube::core::Status;

    use super::*;

    #[test]
    fn a_refused_write_is_told_in_the_api_servers_words_alone() {
        let refused = Status::failure(
            "StatefulSet.apps \"c-p\" is invalid: spec.replicas: Invalid value: -1",
            "Invalid",
        )
        .with_code(422);
        let error = Error::Kube(kube::Error::Api(refused.boxed()));
        assert_eq!(
            message(&error),
            "Kubernetes refused a change: StatefulSet.apps \"c-p\" is invalid: spec.replicas: \
             Invalid value: -1"
        );
        assert!(
            error.to_string().contains("Status {"),
            "the dump this leaves out"
        );
        assert_eq!(message(&Error::transient("no broker")), "no broker");
    }
}
