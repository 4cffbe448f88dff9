//! What reading either product's resources from a manifest (for `brokerage render` and the
//! tests, which build without a cluster) shares.

/// The uid a rendered resource's owner references carry, since no apiserver assigned one.
pub const PLACEHOLDER_UID: &str = "00000000-0000-0000-0000-000000000001";
