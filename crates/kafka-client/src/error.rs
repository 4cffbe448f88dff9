//! The client's errors: what went wrong talking to Kafka, and the error codes Kafka answers with.

use std::fmt;

use kafka_protocol::error::ResponseError;

/// Why a call failed as a whole. Per-item failures (one topic of many) are [`KafkaError`]s in the
/// call's result instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot connect to Kafka at {address}: {source}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    /// No bootstrap server or broker could be reached; the message lists what was tried and why.
    #[error("no Kafka broker reachable: {0}")]
    NoBroker(String),
    #[error("{api} request to {address} timed out")]
    Timeout { api: &'static str, address: String },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("authentication failed: {0}")]
    Authentication(String),
    #[error("Kafka protocol error: {0}")]
    Protocol(String),
    #[error("the broker at {address} supports no version of {api} that this client implements")]
    UnsupportedVersion { api: &'static str, address: String },
    /// A top-level error code of a response.
    #[error("{0}")]
    Kafka(KafkaError),
    #[error("connection closed: {0}")]
    ConnectionClosed(String),
}

impl Error {
    /// Whether trying again (after a metadata refresh, maybe on another broker) may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Connect { .. }
            | Error::NoBroker(_)
            | Error::Timeout { .. }
            | Error::ConnectionClosed(_) => true,
            Error::Kafka(error) => error.is_retriable(),
            Error::Tls(_)
            | Error::Authentication(_)
            | Error::Protocol(_)
            | Error::UnsupportedVersion { .. } => false,
        }
    }

    /// Whether the connection the error came from is unusable, so the broker is dropped from the
    /// pool and another one is tried.
    pub(crate) fn is_connection_failure(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. } | Error::Timeout { .. } | Error::ConnectionClosed(_)
        )
    }
}

impl From<KafkaError> for Error {
    fn from(error: KafkaError) -> Error {
        Error::Kafka(error)
    }
}

/// An error code from a Kafka response, with the broker's message when it sent one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaError {
    pub code: i16,
    pub message: Option<String>,
}

impl KafkaError {
    pub const UNKNOWN_SERVER_ERROR: i16 = -1;
    pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
    pub const LEADER_NOT_AVAILABLE: i16 = 5;
    pub const NOT_LEADER_OR_FOLLOWER: i16 = 6;
    pub const REQUEST_TIMED_OUT: i16 = 7;
    pub const NETWORK_EXCEPTION: i16 = 13;
    pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
    pub const NOT_COORDINATOR: i16 = 16;
    pub const INVALID_TOPIC_EXCEPTION: i16 = 17;
    pub const TOPIC_AUTHORIZATION_FAILED: i16 = 29;
    pub const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;
    pub const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
    pub const UNSUPPORTED_VERSION: i16 = 35;
    pub const TOPIC_ALREADY_EXISTS: i16 = 36;
    pub const INVALID_PARTITIONS: i16 = 37;
    pub const INVALID_REPLICATION_FACTOR: i16 = 38;
    pub const INVALID_REPLICA_ASSIGNMENT: i16 = 39;
    pub const INVALID_CONFIG: i16 = 40;
    pub const NOT_CONTROLLER: i16 = 41;
    pub const INVALID_REQUEST: i16 = 42;
    pub const POLICY_VIOLATION: i16 = 44;
    pub const SECURITY_DISABLED: i16 = 54;
    pub const SASL_AUTHENTICATION_FAILED: i16 = 58;
    pub const INVALID_PRINCIPAL_TYPE: i16 = 67;
    pub const TOPIC_DELETION_DISABLED: i16 = 73;
    pub const OFFSET_NOT_AVAILABLE: i16 = 78;
    pub const PREFERRED_LEADER_NOT_AVAILABLE: i16 = 80;
    /// Not an error for [`AdminClient::elect_leaders`](crate::AdminClient::elect_leaders): the
    /// preferred replica already leads.
    pub const ELECTION_NOT_NEEDED: i16 = 84;
    /// Cancelling a reassignment of a partition that is not moving.
    pub const NO_REASSIGNMENT_IN_PROGRESS: i16 = 85;
    pub const THROTTLING_QUOTA_EXCEEDED: i16 = 89;
    pub const RESOURCE_NOT_FOUND: i16 = 91;
    pub const DUPLICATE_RESOURCE: i16 = 92;
    pub const UNACCEPTABLE_CREDENTIAL: i16 = 93;
    /// Adding a voter the quorum already has.
    pub const DUPLICATE_VOTER: i16 = 126;

    pub fn new(code: i16, message: Option<String>) -> KafkaError {
        KafkaError { code, message }
    }

    /// `Ok(())` for code 0, the error otherwise; an empty message counts as none.
    pub(crate) fn check(code: i16, message: Option<&str>) -> Result<(), KafkaError> {
        match code {
            0 => Ok(()),
            _ => Err(KafkaError {
                code,
                message: message.filter(|m| !m.is_empty()).map(str::to_string),
            }),
        }
    }

    /// Kafka's name of the code, as in its protocol guide: `TOPIC_ALREADY_EXISTS`.
    pub fn name(&self) -> &'static str {
        error_name(self.code)
    }

    /// Whether Kafka documents the error as retriable (transient).
    pub fn is_retriable(&self) -> bool {
        ResponseError::try_from_code(self.code).is_some_and(|error| error.is_retriable())
    }
}

impl fmt::Display for KafkaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => write!(f, "{}: {message}", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

impl std::error::Error for KafkaError {}

/// The names of Kafka's error codes. kafka-protocol's `ResponseError` knows them only as Rust
/// variant names, so this table spells them the way Kafka (and its users) do.
fn error_name(code: i16) -> &'static str {
    match code {
        0 => "NONE",
        -1 => "UNKNOWN_SERVER_ERROR",
        1 => "OFFSET_OUT_OF_RANGE",
        2 => "CORRUPT_MESSAGE",
        3 => "UNKNOWN_TOPIC_OR_PARTITION",
        4 => "INVALID_FETCH_SIZE",
        5 => "LEADER_NOT_AVAILABLE",
        6 => "NOT_LEADER_OR_FOLLOWER",
        7 => "REQUEST_TIMED_OUT",
        8 => "BROKER_NOT_AVAILABLE",
        9 => "REPLICA_NOT_AVAILABLE",
        10 => "MESSAGE_TOO_LARGE",
        11 => "STALE_CONTROLLER_EPOCH",
        12 => "OFFSET_METADATA_TOO_LARGE",
        13 => "NETWORK_EXCEPTION",
        14 => "COORDINATOR_LOAD_IN_PROGRESS",
        15 => "COORDINATOR_NOT_AVAILABLE",
        16 => "NOT_COORDINATOR",
        17 => "INVALID_TOPIC_EXCEPTION",
        18 => "RECORD_LIST_TOO_LARGE",
        19 => "NOT_ENOUGH_REPLICAS",
        20 => "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        21 => "INVALID_REQUIRED_ACKS",
        22 => "ILLEGAL_GENERATION",
        23 => "INCONSISTENT_GROUP_PROTOCOL",
        24 => "INVALID_GROUP_ID",
        25 => "UNKNOWN_MEMBER_ID",
        26 => "INVALID_SESSION_TIMEOUT",
        27 => "REBALANCE_IN_PROGRESS",
        28 => "INVALID_COMMIT_OFFSET_SIZE",
        29 => "TOPIC_AUTHORIZATION_FAILED",
        30 => "GROUP_AUTHORIZATION_FAILED",
        31 => "CLUSTER_AUTHORIZATION_FAILED",
        32 => "INVALID_TIMESTAMP",
        33 => "UNSUPPORTED_SASL_MECHANISM",
        34 => "ILLEGAL_SASL_STATE",
        35 => "UNSUPPORTED_VERSION",
        36 => "TOPIC_ALREADY_EXISTS",
        37 => "INVALID_PARTITIONS",
        38 => "INVALID_REPLICATION_FACTOR",
        39 => "INVALID_REPLICA_ASSIGNMENT",
        40 => "INVALID_CONFIG",
        41 => "NOT_CONTROLLER",
        42 => "INVALID_REQUEST",
        43 => "UNSUPPORTED_FOR_MESSAGE_FORMAT",
        44 => "POLICY_VIOLATION",
        45 => "OUT_OF_ORDER_SEQUENCE_NUMBER",
        46 => "DUPLICATE_SEQUENCE_NUMBER",
        47 => "INVALID_PRODUCER_EPOCH",
        48 => "INVALID_TXN_STATE",
        49 => "INVALID_PRODUCER_ID_MAPPING",
        50 => "INVALID_TRANSACTION_TIMEOUT",
        51 => "CONCURRENT_TRANSACTIONS",
        52 => "TRANSACTION_COORDINATOR_FENCED",
        53 => "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
        54 => "SECURITY_DISABLED",
        55 => "OPERATION_NOT_ATTEMPTED",
        56 => "KAFKA_STORAGE_ERROR",
        57 => "LOG_DIR_NOT_FOUND",
        58 => "SASL_AUTHENTICATION_FAILED",
        59 => "UNKNOWN_PRODUCER_ID",
        60 => "REASSIGNMENT_IN_PROGRESS",
        61 => "DELEGATION_TOKEN_AUTH_DISABLED",
        62 => "DELEGATION_TOKEN_NOT_FOUND",
        63 => "DELEGATION_TOKEN_OWNER_MISMATCH",
        64 => "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED",
        65 => "DELEGATION_TOKEN_AUTHORIZATION_FAILED",
        66 => "DELEGATION_TOKEN_EXPIRED",
        67 => "INVALID_PRINCIPAL_TYPE",
        68 => "NON_EMPTY_GROUP",
        69 => "GROUP_ID_NOT_FOUND",
        70 => "FETCH_SESSION_ID_NOT_FOUND",
        71 => "INVALID_FETCH_SESSION_EPOCH",
        72 => "LISTENER_NOT_FOUND",
        73 => "TOPIC_DELETION_DISABLED",
        74 => "FENCED_LEADER_EPOCH",
        75 => "UNKNOWN_LEADER_EPOCH",
        76 => "UNSUPPORTED_COMPRESSION_TYPE",
        77 => "STALE_BROKER_EPOCH",
        78 => "OFFSET_NOT_AVAILABLE",
        79 => "MEMBER_ID_REQUIRED",
        80 => "PREFERRED_LEADER_NOT_AVAILABLE",
        81 => "GROUP_MAX_SIZE_REACHED",
        82 => "FENCED_INSTANCE_ID",
        83 => "ELIGIBLE_LEADERS_NOT_AVAILABLE",
        84 => "ELECTION_NOT_NEEDED",
        85 => "NO_REASSIGNMENT_IN_PROGRESS",
        86 => "GROUP_SUBSCRIBED_TO_TOPIC",
        87 => "INVALID_RECORD",
        88 => "UNSTABLE_OFFSET_COMMIT",
        89 => "THROTTLING_QUOTA_EXCEEDED",
        90 => "PRODUCER_FENCED",
        91 => "RESOURCE_NOT_FOUND",
        92 => "DUPLICATE_RESOURCE",
        93 => "UNACCEPTABLE_CREDENTIAL",
        94 => "INCONSISTENT_VOTER_SET",
        95 => "INVALID_UPDATE_VERSION",
        96 => "FEATURE_UPDATE_FAILED",
        97 => "PRINCIPAL_DESERIALIZATION_FAILURE",
        98 => "SNAPSHOT_NOT_FOUND",
        99 => "POSITION_OUT_OF_RANGE",
        100 => "UNKNOWN_TOPIC_ID",
        101 => "DUPLICATE_BROKER_REGISTRATION",
        102 => "BROKER_ID_NOT_REGISTERED",
        103 => "INCONSISTENT_TOPIC_ID",
        104 => "INCONSISTENT_CLUSTER_ID",
        105 => "TRANSACTIONAL_ID_NOT_FOUND",
        106 => "FETCH_SESSION_TOPIC_ID_ERROR",
        107 => "INELIGIBLE_REPLICA",
        108 => "NEW_LEADER_ELECTED",
        109 => "OFFSET_MOVED_TO_TIERED_STORAGE",
        110 => "FENCED_MEMBER_EPOCH",
        111 => "UNRELEASED_INSTANCE_ID",
        112 => "UNSUPPORTED_ASSIGNOR",
        113 => "STALE_MEMBER_EPOCH",
        114 => "MISMATCHED_ENDPOINT_TYPE",
        115 => "UNSUPPORTED_ENDPOINT_TYPE",
        116 => "UNKNOWN_CONTROLLER_ID",
        117 => "UNKNOWN_SUBSCRIPTION_ID",
        118 => "TELEMETRY_TOO_LARGE",
        119 => "INVALID_REGISTRATION",
        120 => "TRANSACTION_ABORTABLE",
        121 => "INVALID_RECORD_STATE",
        122 => "SHARE_SESSION_NOT_FOUND",
        123 => "INVALID_SHARE_SESSION_EPOCH",
        124 => "FENCED_STATE_EPOCH",
        125 => "INVALID_VOTER_KEY",
        126 => "DUPLICATE_VOTER",
        127 => "VOTER_NOT_FOUND",
        128 => "INVALID_REGULAR_EXPRESSION",
        129 => "REBOOTSTRAP_REQUIRED",
        130 => "STREAMS_INVALID_TOPOLOGY",
        131 => "STREAMS_INVALID_TOPOLOGY_EPOCH",
        132 => "STREAMS_TOPOLOGY_FENCED",
        133 => "SHARE_SESSION_LIMIT_REACHED",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kafka_names() {
        let error = KafkaError::new(KafkaError::TOPIC_ALREADY_EXISTS, Some("exists".into()));
        assert_eq!(error.name(), "TOPIC_ALREADY_EXISTS");
        assert_eq!(error.to_string(), "TOPIC_ALREADY_EXISTS: exists");
        assert_eq!(
            KafkaError::new(KafkaError::NOT_CONTROLLER, None).to_string(),
            "NOT_CONTROLLER"
        );
        assert_eq!(
            KafkaError::new(3, None).name(),
            "UNKNOWN_TOPIC_OR_PARTITION"
        );
        assert_eq!(KafkaError::new(91, None).name(), "RESOURCE_NOT_FOUND");
        assert_eq!(KafkaError::new(-1, None).name(), "UNKNOWN_SERVER_ERROR");
        assert_eq!(KafkaError::new(17, None).name(), "INVALID_TOPIC_EXCEPTION");
        assert_eq!(KafkaError::new(30_000, None).name(), "UNKNOWN");
    }

    #[test]
    fn retriability_follows_kafka() {
        assert!(KafkaError::new(KafkaError::NOT_CONTROLLER, None).is_retriable());
        assert!(KafkaError::new(KafkaError::REQUEST_TIMED_OUT, None).is_retriable());
        assert!(KafkaError::new(KafkaError::LEADER_NOT_AVAILABLE, None).is_retriable());
        assert!(!KafkaError::new(KafkaError::TOPIC_ALREADY_EXISTS, None).is_retriable());
        assert!(!KafkaError::new(KafkaError::POLICY_VIOLATION, None).is_retriable());
        assert!(!KafkaError::new(30_000, None).is_retriable());

        assert!(Error::Kafka(KafkaError::new(KafkaError::NOT_CONTROLLER, None)).is_retriable());
        assert!(!Error::Kafka(KafkaError::new(KafkaError::INVALID_CONFIG, None)).is_retriable());
        assert!(Error::ConnectionClosed("reset".into()).is_retriable());
        assert!(
            Error::Timeout {
                api: "Metadata",
                address: "a:1".into()
            }
            .is_retriable()
        );
        assert!(!Error::Authentication("bad password".into()).is_retriable());
        assert!(!Error::Tls("unknown issuer".into()).is_retriable());
    }

    #[test]
    fn empty_messages_count_as_none() {
        assert_eq!(KafkaError::check(0, Some("ignored")), Ok(()));
        assert_eq!(
            KafkaError::check(36, Some("")),
            Err(KafkaError::new(36, None))
        );
        assert_eq!(
            KafkaError::check(36, Some("it exists")),
            Err(KafkaError::new(36, Some("it exists".into())))
        );
    }
}
