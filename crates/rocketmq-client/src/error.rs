//! The client's errors: what went wrong talking to RocketMQ, and the response codes it answers
//! with.

use std::fmt;
use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a call failed. Response codes the operators act on have their own variants; each keeps
/// the raw [`RemotingError`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot connect to RocketMQ at {address}: {source}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    /// The TLS configuration is unusable, or the handshake failed (a certificate that does not
    /// chain to the CA or is not for the address, a server without TLS).
    #[error("TLS: {0}")]
    Tls(String),
    /// The connection broke (reset, closed, unreadable frame) before the response came.
    #[error("connection to {address} closed: {reason}")]
    ConnectionClosed { address: String, reason: String },
    #[error("{request} request to {address} timed out after {timeout:?}")]
    Timeout {
        request: &'static str,
        address: String,
        timeout: Duration,
    },
    /// A frame or body that is not what the protocol says.
    #[error("RocketMQ protocol error: {0}")]
    Protocol(String),
    /// No name server is configured, or none answered; the message says what was tried.
    #[error("no name server answered: {0}")]
    NoNameServer(String),
    /// Refused before reaching the server: what was asked cannot be sent as RocketMQ needs it.
    #[error("invalid request: {0}")]
    InvalidArgument(String),
    /// NO_PERMISSION (16). ACL 2.0 answers it for authentication failures (no credentials,
    /// unknown or disabled user, wrong signature) and authorization failures alike; ACL 1.0's
    /// `AclException`, which arrives as SYSTEM_ERROR, lands here too.
    #[error("{0}")]
    NoPermission(RemotingError),
    /// TOPIC_NOT_EXIST (17).
    #[error("{0}")]
    TopicNotExist(RemotingError),
    /// REQUEST_CODE_NOT_SUPPORTED (3): the server is older than the request.
    #[error("{0}")]
    RequestCodeNotSupported(RemotingError),
    /// SYSTEM_BUSY (2): the server sheds load; try again later.
    #[error("{0}")]
    SystemBusy(RemotingError),
    /// SYSTEM_ERROR (1): a catch-all for failures inside the server, the remark says which.
    #[error("{0}")]
    SystemError(RemotingError),
    /// Any other response code.
    #[error("{0}")]
    Remoting(RemotingError),
}

impl Error {
    /// Whether trying again later (or elsewhere) may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Connect { .. }
            | Error::ConnectionClosed { .. }
            | Error::Timeout { .. }
            | Error::NoNameServer(_)
            | Error::SystemBusy(_) => true,
            Error::Remoting(error) => error.is_retriable(),
            Error::Tls(_)
            | Error::Protocol(_)
            | Error::InvalidArgument(_)
            | Error::NoPermission(_)
            | Error::TopicNotExist(_)
            | Error::RequestCodeNotSupported(_)
            | Error::SystemError(_) => false,
        }
    }

    /// The response code and remark, when the server answered with an error.
    pub fn remoting(&self) -> Option<&RemotingError> {
        match self {
            Error::NoPermission(error)
            | Error::TopicNotExist(error)
            | Error::RequestCodeNotSupported(error)
            | Error::SystemBusy(error)
            | Error::SystemError(error)
            | Error::Remoting(error) => Some(error),
            _ => None,
        }
    }

    /// Whether the connection the error came from is unusable and must be reopened.
    pub(crate) fn is_connection_failure(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. } | Error::ConnectionClosed { .. } | Error::Timeout { .. }
        )
    }
}

/// A response with a code other than SUCCESS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemotingError {
    /// The server that answered.
    pub address: String,
    /// The request it answered, by RocketMQ's name: `UPDATE_AND_CREATE_TOPIC`.
    pub request: &'static str,
    pub code: i32,
    /// The server's explanation; empty when it sent none.
    pub remark: String,
}

impl RemotingError {
    pub const SYSTEM_ERROR: i32 = 1;
    pub const SYSTEM_BUSY: i32 = 2;
    pub const REQUEST_CODE_NOT_SUPPORTED: i32 = 3;
    pub const FLUSH_DISK_TIMEOUT: i32 = 10;
    pub const SLAVE_NOT_AVAILABLE: i32 = 11;
    pub const FLUSH_SLAVE_TIMEOUT: i32 = 12;
    pub const SERVICE_NOT_AVAILABLE: i32 = 14;
    pub const NO_PERMISSION: i32 = 16;
    pub const TOPIC_NOT_EXIST: i32 = 17;

    /// RocketMQ's name of the code (`ResponseCode`): `NO_PERMISSION`.
    pub fn name(&self) -> &'static str {
        code_name(self.code)
    }

    /// Transient conditions of the server or its replicas.
    pub fn is_retriable(&self) -> bool {
        matches!(
            self.code,
            Self::SYSTEM_BUSY
                | Self::FLUSH_DISK_TIMEOUT
                | Self::SLAVE_NOT_AVAILABLE
                | Self::FLUSH_SLAVE_TIMEOUT
                | Self::SERVICE_NOT_AVAILABLE
                | 1500 // GO_AWAY: the server is shutting down
        )
    }

    /// The typed error for the code.
    pub(crate) fn into_error(self) -> Error {
        match self.code {
            Self::NO_PERMISSION => Error::NoPermission(self),
            // ACL 1.0 validates in an RPC hook whose exception becomes a SYSTEM_ERROR.
            Self::SYSTEM_ERROR if self.remark.contains("AclException") => Error::NoPermission(self),
            Self::SYSTEM_ERROR => Error::SystemError(self),
            Self::SYSTEM_BUSY => Error::SystemBusy(self),
            Self::REQUEST_CODE_NOT_SUPPORTED => Error::RequestCodeNotSupported(self),
            Self::TOPIC_NOT_EXIST => Error::TopicNotExist(self),
            _ => Error::Remoting(self),
        }
    }
}

impl fmt::Display for RemotingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} answered {} with {} ({})",
            self.address,
            self.request,
            self.name(),
            self.code
        )?;
        match self.remark.is_empty() {
            true => Ok(()),
            false => write!(f, ": {}", self.remark),
        }
    }
}

impl std::error::Error for RemotingError {}

/// The names of RocketMQ's response codes (`RemotingSysResponseCode` and `ResponseCode`).
fn code_name(code: i32) -> &'static str {
    match code {
        0 => "SUCCESS",
        1 => "SYSTEM_ERROR",
        2 => "SYSTEM_BUSY",
        3 => "REQUEST_CODE_NOT_SUPPORTED",
        4 => "TRANSACTION_FAILED",
        10 => "FLUSH_DISK_TIMEOUT",
        11 => "SLAVE_NOT_AVAILABLE",
        12 => "FLUSH_SLAVE_TIMEOUT",
        13 => "MESSAGE_ILLEGAL",
        14 => "SERVICE_NOT_AVAILABLE",
        15 => "VERSION_NOT_SUPPORTED",
        16 => "NO_PERMISSION",
        17 => "TOPIC_NOT_EXIST",
        18 => "TOPIC_EXIST_ALREADY",
        19 => "PULL_NOT_FOUND",
        20 => "PULL_RETRY_IMMEDIATELY",
        21 => "PULL_OFFSET_MOVED",
        22 => "QUERY_NOT_FOUND",
        23 => "SUBSCRIPTION_PARSE_FAILED",
        24 => "SUBSCRIPTION_NOT_EXIST",
        25 => "SUBSCRIPTION_NOT_LATEST",
        26 => "SUBSCRIPTION_GROUP_NOT_EXIST",
        27 => "FILTER_DATA_NOT_EXIST",
        28 => "FILTER_DATA_NOT_LATEST",
        200 => "TRANSACTION_SHOULD_COMMIT",
        201 => "TRANSACTION_SHOULD_ROLLBACK",
        202 => "TRANSACTION_STATE_UNKNOW",
        203 => "TRANSACTION_STATE_GROUP_WRONG",
        204 => "NO_BUYER_ID",
        205 => "NOT_IN_CURRENT_UNIT",
        206 => "CONSUMER_NOT_ONLINE",
        207 => "CONSUME_MSG_TIMEOUT",
        208 => "NO_MESSAGE",
        // 209 to 211 mean one thing for ACL 1.0 requests and another for pop requests.
        209 => "UPDATE_AND_CREATE_ACL_CONFIG_FAILED or POLLING_FULL",
        210 => "DELETE_ACL_CONFIG_FAILED or POLLING_TIMEOUT",
        211 => "UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED or BROKER_NOT_EXIST",
        212 => "BROKER_DISPATCH_NOT_COMPLETE",
        213 => "BROADCAST_CONSUMPTION",
        215 => "FLOW_CONTROL",
        501 => "NOT_LEADER_FOR_QUEUE",
        604 => "ILLEGAL_OPERATION",
        1500 => "GO_AWAY",
        3001 => "USER_NOT_EXIST",
        3002 => "POLICY_NOT_EXIST",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(code: i32, remark: &str) -> RemotingError {
        RemotingError {
            address: "127.0.0.1:10911".into(),
            request: "UPDATE_AND_CREATE_TOPIC",
            code,
            remark: remark.into(),
        }
    }

    #[test]
    fn codes_map_to_typed_errors() {
        assert!(matches!(
            answer(16, "check signature failed.").into_error(),
            Error::NoPermission(e) if e.code == 16 && e.remark == "check signature failed."
        ));
        assert!(matches!(
            answer(1, "org.apache.rocketmq.acl.common.AclException: No acl config for bob")
                .into_error(),
            Error::NoPermission(e) if e.code == 1
        ));
        assert!(matches!(
            answer(1, "topic invalid").into_error(),
            Error::SystemError(_)
        ));
        assert!(matches!(answer(2, "").into_error(), Error::SystemBusy(_)));
        assert!(matches!(
            answer(3, "").into_error(),
            Error::RequestCodeNotSupported(_)
        ));
        assert!(matches!(
            answer(17, "").into_error(),
            Error::TopicNotExist(_)
        ));
        assert!(matches!(
            answer(215, "").into_error(),
            Error::Remoting(e) if e.name() == "FLOW_CONTROL"
        ));
    }

    #[test]
    fn messages_name_the_code_and_keep_the_remark() {
        assert_eq!(
            answer(16, "User:bob is not found.").to_string(),
            "127.0.0.1:10911 answered UPDATE_AND_CREATE_TOPIC with NO_PERMISSION (16): \
             User:bob is not found."
        );
        assert_eq!(
            answer(4242, "").to_string(),
            "127.0.0.1:10911 answered UPDATE_AND_CREATE_TOPIC with UNKNOWN (4242)"
        );
        let error = answer(17, "no route").into_error();
        assert_eq!(error.remoting().map(|e| e.code), Some(17));
        assert_eq!(Error::Protocol("bad".into()).remoting(), None);
    }

    #[test]
    fn retriability() {
        assert!(answer(2, "").into_error().is_retriable());
        assert!(answer(14, "").into_error().is_retriable());
        assert!(answer(1500, "").into_error().is_retriable());
        assert!(!answer(1, "").into_error().is_retriable());
        assert!(!answer(16, "").into_error().is_retriable());
        assert!(!answer(17, "").into_error().is_retriable());
        assert!(
            Error::Timeout {
                request: "GET_BROKER_CONFIG",
                address: "a:1".into(),
                timeout: Duration::from_secs(1),
            }
            .is_retriable()
        );
        assert!(Error::NoNameServer("none".into()).is_retriable());
        assert!(!Error::Protocol("bad frame".into()).is_retriable());
        assert!(!Error::InvalidArgument("bad name".into()).is_retriable());
    }
}
