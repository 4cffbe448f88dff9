//! Consumer groups' configurations (RocketMQ's subscription groups), per broker.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::client::AdminClient;
use crate::error::Result;
use crate::fastjson;
use crate::request::{
    GET_ALL_SUBSCRIPTIONGROUP_CONFIG, Request, UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
};

/// A consumer group's configuration, kept as the broker's JSON so that copying one to another
/// broker loses no field.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionGroup {
    pub name: String,
    /// `SubscriptionGroupConfig` as JSON: `groupName`, `consumeEnable`, `retryMaxTimes`...
    pub config: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionGroupTable {
    #[serde(default)]
    subscription_group_table: BTreeMap<String, serde_json::Value>,
}

const GROUP_NAME: &str = "groupName";

impl AdminClient {
    /// GET_ALL_SUBSCRIPTIONGROUP_CONFIG: every group the broker knows (its built-in ones
    /// included), by name.
    pub async fn subscription_groups(&self, broker: &str) -> Result<Vec<SubscriptionGroup>> {
        let body = self
            .call(broker, &Request::new(GET_ALL_SUBSCRIPTIONGROUP_CONFIG))
            .await?;
        let table: SubscriptionGroupTable = fastjson::parse(&body, "subscription groups")?;
        Ok(table
            .subscription_group_table
            .into_iter()
            .map(|(name, config)| SubscriptionGroup { name, config })
            .collect())
    }

    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: creates or replaces the group's configuration on the
    /// broker; fields missing from `config` take the broker's defaults, `groupName` is `name`.
    pub async fn update_subscription_group(
        &self,
        broker: &str,
        group: &SubscriptionGroup,
    ) -> Result<()> {
        let request =
            Request::new(UPDATE_AND_CREATE_SUBSCRIPTIONGROUP).json_body(&group_body(group));
        self.call(broker, &request).await?;
        Ok(())
    }
}

fn group_body(group: &SubscriptionGroup) -> serde_json::Value {
    let mut body = match &group.config {
        serde_json::Value::Object(config) => config.clone(),
        _ => serde_json::Map::new(),
    };
    body.insert(GROUP_NAME.into(), group.name.clone().into());
    serde_json::Value::Object(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_the_group_table() {
        let body = br#"{"dataVersion":{"counter":1},"forbiddenTable":{},"subscriptionGroupTable":{"orders-app":{"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"groupName":"orders-app","retryMaxTimes":16,"attributes":{}}}}"#;
        let table: SubscriptionGroupTable = fastjson::parse(body, "groups").unwrap();
        let config = &table.subscription_group_table["orders-app"];
        assert_eq!(config["retryMaxTimes"], 16);
    }

    #[test]
    fn the_body_is_the_config_named_after_the_group() {
        let group = SubscriptionGroup {
            name: "copy".into(),
            config: json!({"groupName": "original", "retryMaxTimes": 3}),
        };
        assert_eq!(
            group_body(&group),
            json!({"groupName": "copy", "retryMaxTimes": 3})
        );
        let bare = SubscriptionGroup {
            name: "bare".into(),
            config: serde_json::Value::Null,
        };
        assert_eq!(group_body(&bare), json!({"groupName": "bare"}));
    }
}
