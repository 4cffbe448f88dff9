//! What RocketMQ's controllers know: which controller leads their quorum
//! (CONTROLLER_GET_METADATA_INFO), each broker group's master and in-sync replicas
//! (CONTROLLER_GET_SYNC_STATE_DATA), and the election of a chosen replica as a group's master
//! (CONTROLLER_ELECT_MASTER). Only the leading controller answers the last two.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::client::AdminClient;
use crate::error::Result;
use crate::fastjson;
use crate::pool;
use crate::request::{
    CONTROLLER_ELECT_MASTER, CONTROLLER_GET_METADATA_INFO, CONTROLLER_GET_SYNC_STATE_DATA, Request,
};

/// RocketMQ's `GetMetaDataResponseHeader`, the fields of the controller's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerMetadata {
    /// The Raft group's name (`controllerDLegerGroup`).
    pub group: String,
    /// The leader's peer ID (`n0`…), none while the quorum elects.
    pub leader_id: Option<String>,
    pub leader_address: Option<String>,
    /// Whether the controller asked leads.
    pub is_leader: bool,
    /// Every peer, `id-host:port` joined by `;`.
    pub peers: String,
}

/// One broker group as the controllers see it (RocketMQ's `BrokerReplicasInfo.ReplicasInfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSet {
    /// None while the group has no master.
    pub master_broker_id: Option<i64>,
    pub master_address: Option<String>,
    pub master_epoch: Option<i32>,
    #[serde(default)]
    pub in_sync_replicas: Vec<Replica>,
    #[serde(default)]
    pub not_in_sync_replicas: Vec<Replica>,
}

/// A broker of a group, by the ID the controllers gave it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replica {
    pub broker_id: i64,
    pub broker_address: String,
    #[serde(default)]
    pub alive: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BrokerReplicasInfo {
    #[serde(default)]
    replicas_info_table: BTreeMap<String, ReplicaSet>,
}

impl AdminClient {
    /// CONTROLLER_GET_SYNC_STATE_DATA from the leading controller at `controller`: each of
    /// `broker_names`' master and in-sync replicas, by broker name (a group the controllers do
    /// not know is missing).
    pub async fn sync_states(
        &self,
        controller: &str,
        broker_names: &[String],
    ) -> Result<BTreeMap<String, ReplicaSet>> {
        let request = Request::new(CONTROLLER_GET_SYNC_STATE_DATA).json_body(&broker_names);
        let response = self.pool().send(controller, &request).await?;
        if response.code != 0 {
            return Err(pool::remoting_error(controller, &request, response).into_error());
        }
        let info: BrokerReplicasInfo = fastjson::parse(&response.body, "sync state data")?;
        Ok(info.replicas_info_table)
    }

    /// CONTROLLER_ELECT_MASTER at the leading controller `controller`: makes the broker
    /// `broker_id` (which must be in the group's in-sync set) the master of `broker_name`.
    pub async fn elect_master(
        &self,
        controller: &str,
        cluster: &str,
        broker_name: &str,
        broker_id: i64,
    ) -> Result<()> {
        let invoked = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let request = Request::new(CONTROLLER_ELECT_MASTER)
            .field("clusterName", cluster)
            .field("brokerName", broker_name)
            .field("brokerId", broker_id)
            .field("designateElect", true)
            .field("invokeTime", invoked);
        let response = self.pool().send(controller, &request).await?;
        if response.code != 0 {
            return Err(pool::remoting_error(controller, &request, response).into_error());
        }
        Ok(())
    }

    /// CONTROLLER_GET_METADATA_INFO from the controller at `controller`.
    pub async fn controller_metadata(&self, controller: &str) -> Result<ControllerMetadata> {
        let request = Request::new(CONTROLLER_GET_METADATA_INFO);
        let response = self.pool().send(controller, &request).await?;
        if response.code != 0 {
            return Err(pool::remoting_error(controller, &request, response).into_error());
        }
        let field =
            |name: &str| (response.ext_fields.get(name).cloned()).filter(|value| !value.is_empty());
        Ok(ControllerMetadata {
            group: field("group").unwrap_or_default(),
            leader_id: field("controllerLeaderId"),
            leader_address: field("controllerLeaderAddress"),
            is_leader: field("isLeader").as_deref() == Some("true"),
            peers: field("peers").unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpListener;

    use super::*;
    use crate::ClientConfig;
    use crate::connection::tests::{read_command, write_command};
    use crate::frame::Command;

    /// A controller that answers one request with `answer`, having checked it.
    async fn fake_controller(answer: fn(&Command) -> Command) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let request = read_command(&mut stream).await.unwrap();
            write_command(&mut stream, &answer(&request)).await;
        });
        address
    }

    #[tokio::test]
    async fn a_controller_names_its_quorums_leader() {
        // As a following controller of a quorum led by `n1`.
        let controller = fake_controller(|request| {
            assert_eq!(request.code, 1005);
            let mut response = Command::response(request.opaque, 0, b"");
            response.ext_fields = BTreeMap::from(
                [
                    ("group", "ctrl"),
                    ("controllerLeaderId", "n1"),
                    ("controllerLeaderAddress", "ctrl-1.ctrl-svc-headless:9877"),
                    ("isLeader", "false"),
                    ("peers", "n0-a:9877;n1-b:9877"),
                ]
                .map(|(key, value)| (key.to_string(), value.to_string())),
            );
            response
        })
        .await;
        let client = AdminClient::new(ClientConfig::new(""));
        let metadata = client.controller_metadata(&controller).await.unwrap();
        assert_eq!(
            metadata,
            ControllerMetadata {
                group: "ctrl".into(),
                leader_id: Some("n1".into()),
                leader_address: Some("ctrl-1.ctrl-svc-headless:9877".into()),
                is_leader: false,
                peers: "n0-a:9877;n1-b:9877".into(),
            }
        );
    }

    #[tokio::test]
    async fn the_leading_controller_tells_each_groups_master_and_in_sync_replicas() {
        let controller = fake_controller(|request| {
            assert_eq!(request.code, 1006);
            assert_eq!(request.body, br#"["broker-0"]"#);
            // As RocketMQ 5.5 writes it.
            let body = br#"{"replicasInfoTable":{"broker-0":{"inSyncReplicas":[{"alive":true,"brokerAddress":"10.0.0.5:10911","brokerId":2,"brokerName":"broker-0"},{"alive":true,"brokerAddress":"10.0.0.4:10911","brokerId":1,"brokerName":"broker-0"}],"masterAddress":"10.0.0.5:10911","masterBrokerId":2,"masterEpoch":3,"notInSyncReplicas":[{"alive":false,"brokerAddress":"10.0.0.6:10911","brokerId":3,"brokerName":"broker-0"}],"syncStateSetEpoch":5}}}"#;
            Command::response(request.opaque, 0, body)
        })
        .await;
        let client = AdminClient::new(ClientConfig::new(""));
        let states = client
            .sync_states(&controller, &["broker-0".to_string()])
            .await
            .unwrap();
        let group = &states["broker-0"];
        assert_eq!(group.master_broker_id, Some(2));
        assert_eq!(group.master_address.as_deref(), Some("10.0.0.5:10911"));
        let in_sync: Vec<i64> = group.in_sync_replicas.iter().map(|r| r.broker_id).collect();
        assert_eq!(in_sync, [2, 1]);
        assert!(!group.not_in_sync_replicas[0].alive);
    }

    #[tokio::test]
    async fn an_election_names_the_chosen_broker() {
        let controller = fake_controller(|request| {
            assert_eq!(request.code, 1002);
            let field = |key: &str| request.ext_fields[key].clone();
            assert_eq!(field("brokerName"), "broker-0");
            assert_eq!(field("brokerId"), "2");
            assert_eq!(field("designateElect"), "true");
            Command::response(request.opaque, 0, b"")
        })
        .await;
        let client = AdminClient::new(ClientConfig::new(""));
        client
            .elect_master(&controller, "broker", "broker-0", 2)
            .await
            .unwrap();
    }
}
