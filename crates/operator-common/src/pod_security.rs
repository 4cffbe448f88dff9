//! The security settings of the pods the operator creates. Brokers and name servers need no
//! privilege: they run as their image's non-root user, with no capabilities, no privilege
//! escalation, the runtime's default seccomp profile, a read-only root filesystem (what they
//! write goes to volumes) and no service-account token, so they run in a namespace that enforces
//! the `restricted` Pod Security Standard.
//!
//! A user's own settings are honoured over these defaults, field by field; settings that reach
//! beyond the pod (privileged containers, added capabilities, root, the node's network or files,
//! another ServiceAccount) only when the operator runs with `--allow-privileged-pods`, since the pods run
//! with rights the operator gives them.

use k8s_openapi::api::core::v1::{
    Capabilities, PodSecurityContext, SeccompProfile, SecurityContext,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::validation::InvalidSpec;

/// The operator's flag that lets resources ask for privileged pods.
pub const ALLOW_PRIVILEGED_PODS_FLAG: &str = "--allow-privileged-pods";

/// What the operator lets pods it creates do, from its command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodPolicy {
    /// Whether resources may ask for privileged containers, added capabilities, the node's
    /// network or directories, or a ServiceAccount of their choice.
    pub allow_privileged_pods: bool,
}

impl PodPolicy {
    /// Refuses `requested` (a field and what it asks for) unless privileged pods are allowed.
    pub fn check(&self, field: &str, requested: &str) -> Result<(), InvalidSpec> {
        if self.allow_privileged_pods {
            return Ok(());
        }
        Err(InvalidSpec::new(
            field,
            format!(
                "{requested} gives the pod rights beyond its own; remove it, or run the operator \
                 with {ALLOW_PRIVILEGED_PODS_FLAG} (BROKERAGE_ALLOW_PRIVILEGED_PODS=true)"
            ),
        ))
    }

    /// Refuses running as root in a pod's security context.
    pub fn check_pod(
        &self,
        field: &str,
        context: Option<&PodSecurityContext>,
    ) -> Result<(), InvalidSpec> {
        match context {
            Some(context) => self.check_user(field, context.run_as_user, context.run_as_non_root),
            None => Ok(()),
        }
    }

    fn check_user(
        &self,
        field: &str,
        user: Option<i64>,
        non_root: Option<bool>,
    ) -> Result<(), InvalidSpec> {
        if user == Some(0) {
            self.check(&format!("{field}.runAsUser"), "running as root")?;
        }
        if non_root == Some(false) {
            self.check(&format!("{field}.runAsNonRoot"), "running as root")?;
        }
        Ok(())
    }

    /// Refuses a privileged container, privilege escalation, added capabilities or running as
    /// root in `context`.
    pub fn check_container(
        &self,
        field: &str,
        context: Option<&SecurityContext>,
    ) -> Result<(), InvalidSpec> {
        let Some(context) = context else {
            return Ok(());
        };
        if context.privileged == Some(true) {
            self.check(&format!("{field}.privileged"), "a privileged container")?;
        }
        if context.allow_privilege_escalation == Some(true) {
            self.check(
                &format!("{field}.allowPrivilegeEscalation"),
                "privilege escalation",
            )?;
        }
        let added = context
            .capabilities
            .as_ref()
            .and_then(|capabilities| capabilities.add.as_ref())
            .filter(|added| !added.is_empty());
        if let Some(added) = added {
            self.check(
                &format!("{field}.capabilities.add"),
                &format!("adding capabilities ({})", added.join(", ")),
            )?;
        }
        self.check_user(field, context.run_as_user, context.run_as_non_root)
    }
}

/// The pod's defaults: the image's user and group, volumes made writable for that group.
pub fn pod_security_context(user: i64, group: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(user),
        run_as_group: Some(group),
        fs_group: Some(group),
        seccomp_profile: Some(runtime_default_seccomp()),
        ..PodSecurityContext::default()
    }
}

/// The container's defaults.
pub fn container_security_context() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        seccomp_profile: Some(runtime_default_seccomp()),
        ..SecurityContext::default()
    }
}

fn runtime_default_seccomp() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".into(),
        ..SeccompProfile::default()
    }
}

/// `defaults` with every field `user` sets taken from `user`, objects merged key by key.
pub fn overlay<T: Serialize + DeserializeOwned>(defaults: T, user: Option<&T>) -> T {
    let Some(user) = user else {
        return defaults;
    };
    let mut merged = serde_json::to_value(&defaults).expect("Kubernetes types serialize");
    merge(
        &mut merged,
        serde_json::to_value(user).expect("Kubernetes types serialize"),
    );
    serde_json::from_value(merged).expect("a merge of two valid objects is valid")
}

fn merge(base: &mut serde_json::Value, user: serde_json::Value) {
    match (base, user) {
        (serde_json::Value::Object(base), serde_json::Value::Object(user)) => {
            for (key, value) in user {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, user) => *base = user,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_meet_the_restricted_pod_security_standard() {
        let pod = pod_security_context(1000, 1000);
        assert_eq!(pod.run_as_non_root, Some(true));
        assert_eq!(pod.fs_group, Some(1000));
        assert_eq!(pod.seccomp_profile.unwrap().type_, "RuntimeDefault");
        let container = container_security_context();
        assert_eq!(container.allow_privilege_escalation, Some(false));
        assert_eq!(container.capabilities.unwrap().drop.unwrap(), ["ALL"]);
        assert_eq!(container.read_only_root_filesystem, Some(true));
    }

    #[test]
    fn the_users_fields_win_and_the_others_stay() {
        let user = PodSecurityContext {
            run_as_user: Some(4000),
            supplemental_groups: Some(vec![5]),
            ..PodSecurityContext::default()
        };
        let merged = overlay(pod_security_context(3000, 3000), Some(&user));
        assert_eq!(merged.run_as_user, Some(4000));
        assert_eq!(merged.supplemental_groups, Some(vec![5]));
        assert_eq!(merged.fs_group, Some(3000));
        assert_eq!(merged.run_as_non_root, Some(true));
        assert_eq!(
            overlay(pod_security_context(1, 1), None),
            pod_security_context(1, 1)
        );
    }

    #[test]
    fn privileged_settings_need_the_flag() {
        let privileged = SecurityContext {
            privileged: Some(true),
            ..SecurityContext::default()
        };
        let error = PodPolicy::default()
            .check_container("spec.containerSecurityContext", Some(&privileged))
            .unwrap_err();
        assert_eq!(error.field, "spec.containerSecurityContext.privileged");
        assert!(error.message.contains("--allow-privileged-pods"), "{error}");
        let capabilities = SecurityContext {
            capabilities: Some(Capabilities {
                add: Some(vec!["NET_ADMIN".into()]),
                ..Capabilities::default()
            }),
            ..SecurityContext::default()
        };
        let error = PodPolicy::default()
            .check_container("c", Some(&capabilities))
            .unwrap_err();
        assert!(error.message.contains("NET_ADMIN"), "{error}");
        let allowed = PodPolicy {
            allow_privileged_pods: true,
        };
        assert!(allowed.check_container("c", Some(&privileged)).is_ok());
        assert!(
            PodPolicy::default()
                .check_container("c", Some(&container_security_context()))
                .is_ok()
        );
        let root = PodSecurityContext {
            run_as_user: Some(0),
            ..PodSecurityContext::default()
        };
        let error = PodPolicy::default()
            .check_pod("spec.securityContext", Some(&root))
            .unwrap_err();
        assert_eq!(error.field, "spec.securityContext.runAsUser");
        assert!(allowed.check_pod("p", Some(&root)).is_ok());
        let error = PodPolicy::default()
            .check_container(
                "c",
                Some(&SecurityContext {
                    run_as_non_root: Some(false),
                    ..SecurityContext::default()
                }),
            )
            .unwrap_err();
        assert_eq!(error.field, "c.runAsNonRoot");
        assert!(
            PodPolicy::default()
                .check_pod("p", Some(&pod_security_context(3000, 3000)))
                .is_ok()
        );
    }
}
