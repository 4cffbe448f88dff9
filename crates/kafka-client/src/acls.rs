//! ACLs for Kafka's StandardAuthorizer: describe, create, delete.

use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::{CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest};
use kafka_protocol::protocol::StrBytes;

use crate::client::AdminClient;
use crate::cluster::Target;
use crate::error::{Error, KafkaError};

/// Maps a fieldless enum to Kafka's codes and back (0 is Kafka's UNKNOWN, which no variant has).
macro_rules! codes {
    ($name:ident { $($variant:ident = $code:literal,)* }) => {
        impl $name {
            fn code(self) -> i8 {
                match self { $($name::$variant => $code,)* }
            }

            fn from_code(code: i8) -> Result<$name, Error> {
                match code {
                    $($code => Ok($name::$variant),)*
                    _ => Err(Error::Protocol(format!(
                        "unknown {} code {code} in an ACL", stringify!($name)
                    ))),
                }
            }
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceType {
    /// Only in filters.
    Any,
    Topic,
    Group,
    Cluster,
    TransactionalId,
    DelegationToken,
    User,
}

codes!(ResourceType {
    Any = 1,
    Topic = 2,
    Group = 3,
    Cluster = 4,
    TransactionalId = 5,
    DelegationToken = 6,
    User = 7,
});

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PatternType {
    /// Only in filters: literal and prefixed bindings alike.
    Any,
    /// Only in filters: every binding that applies to the resource name.
    Match,
    Literal,
    Prefixed,
}

codes!(PatternType {
    Any = 1,
    Match = 2,
    Literal = 3,
    Prefixed = 4,
});

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AclOperation {
    /// Only in filters.
    Any,
    All,
    Read,
    Write,
    Create,
    Delete,
    Alter,
    Describe,
    ClusterAction,
    DescribeConfigs,
    AlterConfigs,
    IdempotentWrite,
    CreateTokens,
    DescribeTokens,
}

codes!(AclOperation {
    Any = 1,
    All = 2,
    Read = 3,
    Write = 4,
    Create = 5,
    Delete = 6,
    Alter = 7,
    Describe = 8,
    ClusterAction = 9,
    DescribeConfigs = 10,
    AlterConfigs = 11,
    IdempotentWrite = 12,
    CreateTokens = 13,
    DescribeTokens = 14,
});

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AclPermission {
    /// Only in filters.
    Any,
    Allow,
    Deny,
}

codes!(AclPermission {
    Any = 1,
    Deny = 2,
    Allow = 3,
});

/// One ACL: `principal` (`User:alice`) from `host` (`*` for any) may (or may not) do
/// `operation` on the resources the pattern matches.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclBinding {
    pub resource_type: ResourceType,
    pub resource_name: String,
    pub pattern_type: PatternType,
    pub principal: String,
    pub host: String,
    pub operation: AclOperation,
    pub permission: AclPermission,
}

impl AclBinding {
    #[allow(clippy::too_many_arguments)]
    fn from_codes(
        resource_type: i8,
        resource_name: &str,
        pattern_type: i8,
        principal: &str,
        host: &str,
        operation: i8,
        permission: i8,
    ) -> Result<AclBinding, Error> {
        Ok(AclBinding {
            resource_type: ResourceType::from_code(resource_type)?,
            resource_name: resource_name.to_string(),
            pattern_type: PatternType::from_code(pattern_type)?,
            principal: principal.to_string(),
            host: host.to_string(),
            operation: AclOperation::from_code(operation)?,
            permission: AclPermission::from_code(permission)?,
        })
    }
}

/// Which bindings to describe or delete: `None` and the `Any` variants match everything.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclBindingFilter {
    pub resource_type: ResourceType,
    pub resource_name: Option<String>,
    pub pattern_type: PatternType,
    pub principal: Option<String>,
    pub host: Option<String>,
    pub operation: AclOperation,
    pub permission: AclPermission,
}

impl AclBindingFilter {
    /// Every binding.
    pub fn any() -> Self {
        AclBindingFilter {
            resource_type: ResourceType::Any,
            resource_name: None,
            pattern_type: PatternType::Any,
            principal: None,
            host: None,
            operation: AclOperation::Any,
            permission: AclPermission::Any,
        }
    }

    /// Every binding of one principal (`User:alice`).
    pub fn principal(principal: &str) -> Self {
        AclBindingFilter {
            principal: Some(principal.to_string()),
            ..AclBindingFilter::any()
        }
    }
}

/// Exactly one binding.
impl From<&AclBinding> for AclBindingFilter {
    fn from(binding: &AclBinding) -> Self {
        AclBindingFilter {
            resource_type: binding.resource_type,
            resource_name: Some(binding.resource_name.clone()),
            pattern_type: binding.pattern_type,
            principal: Some(binding.principal.clone()),
            host: Some(binding.host.clone()),
            operation: binding.operation,
            permission: binding.permission,
        }
    }
}

fn optional(value: &Option<String>) -> Option<StrBytes> {
    value
        .as_ref()
        .map(|value| StrBytes::from_string(value.clone()))
}

fn string(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_string())
}

/// Results that come back in request order must come back whole.
fn check_count(api: &str, sent: usize, received: usize) -> Result<(), Error> {
    match sent == received {
        true => Ok(()),
        false => Err(Error::Protocol(format!(
            "{api} answered {received} results for {sent} items"
        ))),
    }
}

impl AdminClient {
    pub async fn describe_acls(&self, filter: &AclBindingFilter) -> Result<Vec<AclBinding>, Error> {
        let request = |_version| {
            DescribeAclsRequest::default()
                .with_resource_type_filter(filter.resource_type.code())
                .with_resource_name_filter(optional(&filter.resource_name))
                .with_pattern_type_filter(filter.pattern_type.code())
                .with_principal_filter(optional(&filter.principal))
                .with_host_filter(optional(&filter.host))
                .with_operation(filter.operation.code())
                .with_permission_type(filter.permission.code())
        };
        self.cluster
            .call(Target::Any, request, |response| {
                KafkaError::check(response.error_code, response.error_message.as_deref())?;
                let mut bindings = Vec::new();
                for resource in &response.resources {
                    for acl in &resource.acls {
                        bindings.push(AclBinding::from_codes(
                            resource.resource_type,
                            &resource.resource_name,
                            resource.pattern_type,
                            &acl.principal,
                            &acl.host,
                            acl.operation,
                            acl.permission_type,
                        )?);
                    }
                }
                Ok(bindings)
            })
            .await
    }

    /// One result per input, in the same order.
    pub async fn create_acls(
        &self,
        acls: &[AclBinding],
    ) -> Result<Vec<Result<(), KafkaError>>, Error> {
        let indices: Vec<usize> = (0..acls.len()).collect();
        let mut results = self
            .cluster
            .call_per_item(
                Target::Controller,
                indices,
                |pending, _version| {
                    CreateAclsRequest::default().with_creations(
                        pending
                            .iter()
                            .filter_map(|index| acls.get(*index))
                            .map(|acl| {
                                AclCreation::default()
                                    .with_resource_type(acl.resource_type.code())
                                    .with_resource_name(string(&acl.resource_name))
                                    .with_resource_pattern_type(acl.pattern_type.code())
                                    .with_principal(string(&acl.principal))
                                    .with_host(string(&acl.host))
                                    .with_operation(acl.operation.code())
                                    .with_permission_type(acl.permission.code())
                            })
                            .collect(),
                    )
                },
                |pending, response| {
                    check_count("CreateAcls", pending.len(), response.results.len())?;
                    Ok(pending
                        .iter()
                        .zip(&response.results)
                        .map(|(index, result)| {
                            let outcome = KafkaError::check(
                                result.error_code,
                                result.error_message.as_deref(),
                            );
                            (*index, outcome)
                        })
                        .collect())
                },
            )
            .await?;
        results.sort_by_key(|(index, _)| *index);
        Ok(results.into_iter().map(|(_, result)| result).collect())
    }

    /// The bindings each filter deleted, one result per filter in the same order.
    pub async fn delete_acls(
        &self,
        filters: &[AclBindingFilter],
    ) -> Result<Vec<Result<Vec<AclBinding>, KafkaError>>, Error> {
        let indices: Vec<usize> = (0..filters.len()).collect();
        let mut results =
            self.cluster
                .call_per_item(
                    Target::Controller,
                    indices,
                    |pending, _version| {
                        DeleteAclsRequest::default().with_filters(
                            pending
                                .iter()
                                .filter_map(|index| filters.get(*index))
                                .map(|filter| {
                                    DeleteAclsFilter::default()
                                        .with_resource_type_filter(filter.resource_type.code())
                                        .with_resource_name_filter(optional(&filter.resource_name))
                                        .with_pattern_type_filter(filter.pattern_type.code())
                                        .with_principal_filter(optional(&filter.principal))
                                        .with_host_filter(optional(&filter.host))
                                        .with_operation(filter.operation.code())
                                        .with_permission_type(filter.permission.code())
                                })
                                .collect(),
                        )
                    },
                    |pending, response| {
                        check_count("DeleteAcls", pending.len(), response.filter_results.len())?;
                        let mut results = Vec::with_capacity(pending.len());
                        for (index, result) in pending.iter().zip(&response.filter_results) {
                            // A binding that matched but could not be deleted fails the filter:
                            // the caller must learn that it is still there.
                            let outcome = KafkaError::check(
                                result.error_code,
                                result.error_message.as_deref(),
                            )
                            .and_then(|()| {
                                result.matching_acls.iter().try_for_each(|acl| {
                                    KafkaError::check(acl.error_code, acl.error_message.as_deref())
                                })
                            });
                            let outcome = match outcome {
                                Err(error) => Err(error),
                                Ok(()) => Ok(result
                                    .matching_acls
                                    .iter()
                                    .map(|acl| {
                                        AclBinding::from_codes(
                                            acl.resource_type,
                                            &acl.resource_name,
                                            acl.pattern_type,
                                            &acl.principal,
                                            &acl.host,
                                            acl.operation,
                                            acl.permission_type,
                                        )
                                    })
                                    .collect::<Result<Vec<_>, Error>>()?),
                            };
                            results.push((*index, outcome));
                        }
                        Ok(results)
                    },
                )
                .await?;
        results.sort_by_key(|(index, _)| *index);
        Ok(results.into_iter().map(|(_, result)| result).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for operation in [
            AclOperation::Any,
            AclOperation::Read,
            AclOperation::DescribeTokens,
        ] {
            assert_eq!(
                AclOperation::from_code(operation.code()).unwrap(),
                operation
            );
        }
        assert_eq!(AclPermission::Allow.code(), 3);
        assert_eq!(AclPermission::Deny.code(), 2);
        assert_eq!(PatternType::Literal.code(), 3);
        assert_eq!(ResourceType::Topic.code(), 2);
        assert!(matches!(
            ResourceType::from_code(0),
            Err(Error::Protocol(_))
        ));
    }

    #[test]
    fn a_filter_from_a_binding_matches_exactly_it() {
        let binding = AclBinding {
            resource_type: ResourceType::Topic,
            resource_name: "orders".into(),
            pattern_type: PatternType::Prefixed,
            principal: "User:alice".into(),
            host: "*".into(),
            operation: AclOperation::Read,
            permission: AclPermission::Allow,
        };
        let filter = AclBindingFilter::from(&binding);
        assert_eq!(filter.resource_name.as_deref(), Some("orders"));
        assert_eq!(filter.pattern_type, PatternType::Prefixed);
        assert_eq!(filter.host.as_deref(), Some("*"));
        let everything = AclBindingFilter::principal("User:alice");
        assert_eq!(everything.resource_type, ResourceType::Any);
        assert_eq!(everything.resource_name, None);
    }
}
