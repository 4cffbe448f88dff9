//! What the Kafka and the RocketMQ operators share, so neither imports the other: validation
//! and spec warnings, the cluster a resource names, CA Secrets, content hashes, pod security,
//! probes, JVM options, claims and their growth, object names, the admin connection cache, and
//! the parts of the topic and user operators that are the same for both products (`topics`,
//! `users`).
//!
//! Pure but for `admin_cache` and `users::secrets`: no clock, no randomness.

pub mod admin_cache;
pub mod ca_key;
pub mod ca_secrets;
pub mod claim_templates;
pub mod cluster_ref;
pub mod content_hash;
pub mod jvm;
pub mod manifest;
pub mod object_names;
pub mod pod_security;
pub mod probes;
pub mod properties;
pub mod quantity;
pub mod secret_content;
pub mod topics;
pub mod users;
pub mod validation;
pub mod volume_resize;
