/// Why certificate material could not be read, generated or packaged.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} is not a readable PEM certificate: {reason}")]
    InvalidCertificate { what: String, reason: String },

    #[error("{what} is not a readable PEM private key: {source}")]
    InvalidKey {
        what: String,
        #[source]
        source: rcgen::Error,
    },

    #[error("the Secret has no {0}")]
    Missing(String),

    #[error("{0} in the Secret is not UTF-8 text")]
    NotText(String),

    #[error("the CA certificate does not belong to the CA private key")]
    KeyMismatch,

    #[error("annotation {name} must be a non-negative integer, found {value:?}")]
    InvalidAnnotation { name: String, value: String },

    #[error("could not generate or sign a certificate: {0}")]
    Signing(#[from] rcgen::Error),

    #[error("could not write or read a PKCS#12 store: {0}")]
    Pkcs12(#[from] p12_keystore::error::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
