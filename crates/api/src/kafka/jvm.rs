use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// JVM options of a Kafka, ZooKeeper or operator container. The JSON names are the JVM flags themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JvmOptions {
    #[serde(rename = "-Xmx", skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+[mMgG]?$"))]
    pub xmx: Option<String>,
    #[serde(rename = "-Xms", skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+[mMgG]?$"))]
    pub xms: Option<String>,
    /// `-XX:<key>=<value>` options.
    #[serde(rename = "-XX", skip_serializing_if = "Option::is_none")]
    pub xx: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gc_logging_enabled: Option<bool>,
    /// `-D<name>=<value>` options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub java_system_properties: Option<Vec<SystemProperty>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SystemProperty {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}
