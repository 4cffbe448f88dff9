//! The brokers the name servers know, by cluster and broker name.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::client::AdminClient;
use crate::error::Result;
use crate::fastjson;
use crate::request::{GET_BROKER_CLUSTER_INFO, Request};

/// RocketMQ's `ClusterInfo` (and it (de)serializes as its JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// By broker name.
    #[serde(rename = "brokerAddrTable", default)]
    pub brokers: BTreeMap<String, BrokerData>,
    /// Cluster name to broker names.
    #[serde(rename = "clusterAddrTable", default)]
    pub clusters: BTreeMap<String, BTreeSet<String>>,
}

/// One broker group: a master (id 0) and its replicas, as registered with the name servers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerData {
    #[serde(default)]
    pub cluster: String,
    #[serde(default)]
    pub broker_name: String,
    /// Broker id to `host:port`.
    #[serde(rename = "brokerAddrs", default)]
    pub addresses: BTreeMap<i64, String>,
}

/// The id of a group's master.
const MASTER: i64 = 0;

impl ClusterInfo {
    /// (broker name, master address) of every group of `cluster` that has a master (id 0).
    pub fn masters(&self, cluster: &str) -> Vec<(String, String)> {
        self.groups(cluster)
            .filter_map(|broker| {
                let master = broker.addresses.get(&MASTER)?;
                Some((broker.broker_name.clone(), master.clone()))
            })
            .collect()
    }

    /// Every address (masters and replicas) of `cluster`.
    pub fn addresses(&self, cluster: &str) -> Vec<String> {
        self.groups(cluster)
            .flat_map(|broker| broker.addresses.values().cloned())
            .collect()
    }

    fn groups(&self, cluster: &str) -> impl Iterator<Item = &BrokerData> {
        self.clusters
            .get(cluster)
            .into_iter()
            .flatten()
            .filter_map(|name| self.brokers.get(name))
    }
}

impl AdminClient {
    /// GET_BROKER_CLUSTER_INFO from the first name server that answers.
    pub async fn cluster_info(&self) -> Result<ClusterInfo> {
        let body = self
            .call_name_server(&Request::new(GET_BROKER_CLUSTER_INFO))
            .await?;
        fastjson::parse(&body, "cluster info")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As a 5.3 name server writes it: fastjson's bare integer keys.
    const BODY: &str = r#"{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false},"broker-b":{"brokerAddrs":{1:"127.0.0.1:10931"},"brokerName":"broker-b","cluster":"DefaultCluster","enableActingMaster":false},"other":{"brokerAddrs":{0:"127.0.0.1:10941"},"brokerName":"other","cluster":"Other","enableActingMaster":false}},"clusterAddrTable":{"DefaultCluster":["broker-a","broker-b"],"Other":["other"]}}"#;

    #[test]
    fn parses_cluster_info_and_finds_masters() {
        let info: ClusterInfo = fastjson::parse(BODY.as_bytes(), "cluster info").unwrap();
        assert_eq!(info.brokers.len(), 3);
        assert_eq!(info.brokers["broker-a"].cluster, "DefaultCluster");
        assert_eq!(info.brokers["broker-a"].addresses[&1], "127.0.0.1:10921");
        assert_eq!(
            info.masters("DefaultCluster"),
            [("broker-a".to_string(), "127.0.0.1:10911".to_string())],
            "broker-b has no master"
        );
        assert_eq!(
            info.addresses("DefaultCluster"),
            ["127.0.0.1:10911", "127.0.0.1:10921", "127.0.0.1:10931"]
        );
        assert!(info.masters("Nope").is_empty());
        assert_eq!(
            fastjson::parse::<ClusterInfo>(b"{}", "cluster info").unwrap(),
            ClusterInfo::default()
        );
    }
}
