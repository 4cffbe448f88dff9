//! Client quotas (byte rates, request percentages...) of users, client IDs and IPs.

use std::collections::BTreeMap;

use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
use kafka_protocol::messages::describe_client_quotas_request::ComponentData;
use kafka_protocol::messages::{AlterClientQuotasRequest, DescribeClientQuotasRequest};
use kafka_protocol::protocol::StrBytes;

use crate::client::AdminClient;
use crate::cluster::Target;
use crate::error::{Error, KafkaError};

/// Who a quota applies to: (entity type, name) pairs such as `("user", Some("alice"))`, or
/// `("user", None)` for the default user. Kept sorted by entity type, as the client returns them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QuotaEntity(pub Vec<(String, Option<String>)>);

impl QuotaEntity {
    /// The same entity with its components in a canonical order, for matching.
    fn normalized(&self) -> QuotaEntity {
        let mut components = self.0.clone();
        components.sort();
        QuotaEntity(components)
    }
}

/// Which quota entities to describe.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QuotaFilter {
    pub components: Vec<(String, QuotaMatch)>,
    /// Only entities with exactly these components (otherwise: at least these).
    pub strict: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QuotaMatch {
    Exact(String),
    /// The default entity of the type.
    Default,
    /// Any entity of the type, default or named.
    Any,
}

/// Changes to one entity's quotas: `(key, Some(value))` sets, `(key, None)` removes.
#[derive(Clone, Debug, PartialEq)]
pub struct QuotaAlteration {
    pub entity: QuotaEntity,
    pub ops: Vec<(String, Option<f64>)>,
}

fn string(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_string())
}

impl AdminClient {
    pub async fn describe_client_quotas(
        &self,
        filter: &QuotaFilter,
    ) -> Result<Vec<(QuotaEntity, BTreeMap<String, f64>)>, Error> {
        let request = |_version| {
            DescribeClientQuotasRequest::default()
                .with_components(
                    filter
                        .components
                        .iter()
                        .map(|(entity_type, matching)| {
                            let (match_type, name) = match matching {
                                QuotaMatch::Exact(name) => (0, Some(string(name))),
                                QuotaMatch::Default => (1, None),
                                QuotaMatch::Any => (2, None),
                            };
                            ComponentData::default()
                                .with_entity_type(string(entity_type))
                                .with_match_type(match_type)
                                .with_match(name)
                        })
                        .collect(),
                )
                .with_strict(filter.strict)
        };
        self.cluster
            .call(Target::Any, request, |response| {
                KafkaError::check(response.error_code, response.error_message.as_deref())?;
                let mut entries: Vec<(QuotaEntity, BTreeMap<String, f64>)> = response
                    .entries
                    .unwrap_or_default()
                    .into_iter()
                    .map(|entry| {
                        let entity = QuotaEntity(
                            entry
                                .entity
                                .iter()
                                .map(|e| {
                                    (
                                        e.entity_type.to_string(),
                                        e.entity_name.as_ref().map(|n| n.to_string()),
                                    )
                                })
                                .collect(),
                        )
                        .normalized();
                        let values = entry
                            .values
                            .iter()
                            .map(|value| (value.key.to_string(), value.value))
                            .collect();
                        (entity, values)
                    })
                    .collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(entries)
            })
            .await
    }

    /// One result per alteration, in the same order.
    pub async fn alter_client_quotas(
        &self,
        alterations: &[QuotaAlteration],
    ) -> Result<Vec<(QuotaEntity, Result<(), KafkaError>)>, Error> {
        let entities: Vec<QuotaEntity> =
            alterations.iter().map(|a| a.entity.normalized()).collect();
        let results = self
            .cluster
            .call_per_item(
                Target::Controller,
                entities.clone(),
                |pending, _version| {
                    AlterClientQuotasRequest::default().with_entries(
                        alterations
                            .iter()
                            .filter(|alteration| pending.contains(&alteration.entity.normalized()))
                            .map(|alteration| {
                                EntryData::default()
                                    .with_entity(
                                        alteration
                                            .entity
                                            .0
                                            .iter()
                                            .map(|(entity_type, name)| {
                                                EntityData::default()
                                                    .with_entity_type(string(entity_type))
                                                    .with_entity_name(name.as_deref().map(string))
                                            })
                                            .collect(),
                                    )
                                    .with_ops(
                                        alteration
                                            .ops
                                            .iter()
                                            .map(|(key, value)| {
                                                OpData::default()
                                                    .with_key(string(key))
                                                    .with_value(value.unwrap_or(0.0))
                                                    .with_remove(value.is_none())
                                            })
                                            .collect(),
                                    )
                            })
                            .collect(),
                    )
                },
                |_pending, response| {
                    Ok(response
                        .entries
                        .into_iter()
                        .map(|entry| {
                            let entity = QuotaEntity(
                                entry
                                    .entity
                                    .iter()
                                    .map(|e| {
                                        (
                                            e.entity_type.to_string(),
                                            e.entity_name.as_ref().map(|n| n.to_string()),
                                        )
                                    })
                                    .collect(),
                            )
                            .normalized();
                            let outcome =
                                KafkaError::check(entry.error_code, entry.error_message.as_deref());
                            (entity, outcome)
                        })
                        .collect())
                },
            )
            .await?;
        let results: BTreeMap<QuotaEntity, Result<(), KafkaError>> = results.into_iter().collect();
        Ok(entities
            .into_iter()
            .map(|entity| {
                let result = results.get(&entity).cloned().unwrap_or_else(|| {
                    Err(KafkaError::new(
                        KafkaError::UNKNOWN_SERVER_ERROR,
                        Some("the broker's response did not mention it".into()),
                    ))
                });
                (entity, result)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_match_whatever_the_component_order() {
        let a = QuotaEntity(vec![
            ("user".into(), Some("alice".into())),
            ("client-id".into(), None),
        ]);
        let b = QuotaEntity(vec![
            ("client-id".into(), None),
            ("user".into(), Some("alice".into())),
        ]);
        assert_ne!(a, b);
        assert_eq!(a.normalized(), b.normalized());
    }
}
