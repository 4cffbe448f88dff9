//! A RocketMQ controller's view of its own quorum (CONTROLLER_GET_METADATA_INFO): which
//! controller leads it. Controllers answer on their `listenPort` as brokers reach them.

use crate::client::AdminClient;
use crate::error::Result;
use crate::pool;
use crate::request::{CONTROLLER_GET_METADATA_INFO, Request};

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

impl AdminClient {
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
    use std::collections::BTreeMap;

    use tokio::net::TcpListener;

    use super::*;
    use crate::ClientConfig;
    use crate::connection::tests::{read_command, write_command};
    use crate::frame::Command;

    /// Answers as a following controller of a quorum led by `n1`.
    async fn fake_controller() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let request = read_command(&mut stream).await.unwrap();
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
            write_command(&mut stream, &response).await;
        });
        address
    }

    #[tokio::test]
    async fn a_controller_names_its_quorums_leader() {
        let controller = fake_controller().await;
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
}
