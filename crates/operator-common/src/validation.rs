//! What validating a resource of either product reports: a spec the operator cannot run, and
//! something asked for that it accepted but does not do.

/// A spec the operator cannot run; `field` says where, `message` what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidSpec {
    pub field: String,
    pub message: String,
}

impl InvalidSpec {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> InvalidSpec {
        InvalidSpec {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Something the user asked for that the operator did not do, for a `Warning` condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// A CamelCase reason for the condition.
    pub reason: &'static str,
    pub message: String,
}

impl Warning {
    pub fn not_implemented(field: &str) -> Warning {
        Warning {
            reason: "UnsupportedField",
            message: format!("{field} is not implemented yet and is ignored"),
        }
    }
}
