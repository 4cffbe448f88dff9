//! What the Kafka and RocketMQ user operators share: the password a user's Secret holds or
//! references ([`password`]), how that Secret is written and when it is someone else's
//! ([`secrets`]), and why a user's work failed ([`UserError`]).

mod error;
pub mod password;
pub mod secrets;

pub use error::UserError;
