//! Two resources claiming one user in the brokers: the older resource owns it, as for topics, so
//! adding a second resource never takes a user's credentials or ACLs away from the first. Shared
//! by KafkaUser (keyed by principal) and RocketMQUser (keyed by user name).

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;
use kube::{Resource, ResourceExt};

/// The owning resource of every user name of one cluster.
pub struct Owners(HashMap<String, (Option<Timestamp>, String)>);

impl Owners {
    /// Indexes the user resources of one cluster by `key`, the user they stand for. A resource
    /// being deleted still owns its user until the operator has removed it from the brokers.
    pub fn index<'a, R: Resource + 'a>(
        resources: impl IntoIterator<Item = &'a R>,
        key: impl Fn(&R) -> String,
    ) -> Owners {
        let mut owners: HashMap<String, (Option<Timestamp>, String)> = HashMap::new();
        for resource in resources {
            // The name breaks ties: creation times have one-second precision.
            let age = (
                resource
                    .meta()
                    .creation_timestamp
                    .as_ref()
                    .map(|time| time.0),
                resource.name_any(),
            );
            owners
                .entry(key(resource))
                .and_modify(|owner| *owner = (*owner).clone().min(age.clone()))
                .or_insert(age);
        }
        Owners(owners)
    }

    /// The older resource that owns the user `key`, if it is not the resource `name`.
    pub fn conflicting_owner(&self, key: &str, name: &str) -> Option<&str> {
        let (_, owner) = self.0.get(key)?;
        (owner != name).then_some(owner.as_str())
    }
}

/// The names of the resources in `members` that claim the same user as `deleted`: when an older
/// resource that conflicted with them is gone, one of them owns the user now.
pub fn sharing_user<R: Resource>(
    deleted: &R,
    members: &[Arc<R>],
    key: impl Fn(&R) -> String,
) -> Vec<String> {
    let claimed = key(deleted);
    members
        .iter()
        .filter(|member| key(member) == claimed)
        .map(|member| member.name_any())
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kube::api::ObjectMeta;

    use super::*;

    /// A resource named `name` claiming `user`, created at `at`.
    fn claim(name: &str, user: &str, at: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some([("user".to_string(), user.to_string())].into()),
                creation_timestamp: Some(Time(at.parse().unwrap())),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    fn user(resource: &ConfigMap) -> String {
        resource.labels()["user"].clone()
    }

    #[test]
    fn the_older_resource_owns_the_user_and_the_name_breaks_a_tie() {
        let older = claim("b", "alice", "2026-01-01T00:00:00Z");
        let newer = claim("a", "alice", "2026-01-02T00:00:00Z");
        let other = claim("c", "bob", "2026-01-03T00:00:00Z");
        let owners = Owners::index([&newer, &older, &other], user);
        assert_eq!(owners.conflicting_owner("alice", "b"), None);
        assert_eq!(owners.conflicting_owner("alice", "a"), Some("b"));
        assert_eq!(owners.conflicting_owner("bob", "c"), None);

        let tied = claim("a", "alice", "2026-01-01T00:00:00Z");
        let owners = Owners::index([&older, &tied], user);
        assert_eq!(owners.conflicting_owner("alice", "b"), Some("a"));
    }

    #[test]
    fn the_resources_sharing_a_deleted_users_name_are_looked_at_again() {
        let deleted = claim("b", "alice", "2026-01-01T00:00:00Z");
        let members = [
            Arc::new(claim("a", "alice", "2026-01-02T00:00:00Z")),
            Arc::new(claim("c", "bob", "2026-01-02T00:00:00Z")),
        ];
        assert_eq!(sharing_user(&deleted, &members, user), ["a"]);
    }
}
