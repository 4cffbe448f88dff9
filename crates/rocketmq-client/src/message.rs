//! Producing one message, for tests and for proving that a broker still holds data; and
//! committing a consumer group's offset, as its consumers do, for tests of what waits for them.

use std::time::{SystemTime, UNIX_EPOCH};

use tracing::debug;

use crate::client::AdminClient;
use crate::error::{RemotingError, Result};
use crate::pool;
use crate::request::{Request, SEND_MESSAGE_V2, UPDATE_CONSUMER_OFFSET};

/// Named in the request; brokers only use it for transactional messages and statistics.
const PRODUCER_GROUP: &str = "brokerage-admin";

impl AdminClient {
    /// UPDATE_CONSUMER_OFFSET: `group` has consumed `topic`'s queue `queue` on the broker up to
    /// `offset`.
    pub async fn commit_offset(
        &self,
        broker: &str,
        group: &str,
        topic: &str,
        queue: i32,
        offset: i64,
    ) -> Result<()> {
        let request = Request::new(UPDATE_CONSUMER_OFFSET)
            .field("consumerGroup", group)
            .field("topic", topic)
            .field("queueId", queue)
            .field("commitOffset", offset);
        self.call(broker, &request).await?;
        Ok(())
    }

    /// SEND_MESSAGE_V2: one message with `body` to queue 0 of `topic` on the broker. Needs
    /// the `Pub` action on the topic where ACLs are on. A broker that stored the message but
    /// could not flush or replicate it in time answers FLUSH_DISK_TIMEOUT, FLUSH_SLAVE_TIMEOUT
    /// or SLAVE_NOT_AVAILABLE, which Java producers report as a send status, not an error:
    /// so does this.
    pub async fn send_message(&self, broker: &str, topic: &str, body: &[u8]) -> Result<()> {
        let born = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis());
        // SendMessageRequestHeaderV2 names its fields by letter.
        let request = Request::new(SEND_MESSAGE_V2)
            .field("a", PRODUCER_GROUP)
            .field("b", topic)
            .field("c", "TBW102") // the topic to derive an auto-created one from
            .field("d", 4) // queues of an auto-created topic
            .field("e", 0) // queue id
            .field("f", 0) // system flag: no compression, not transactional
            .field("g", born)
            .field("h", 0) // flag, for the application
            .field("j", 0) // times reconsumed
            .field("k", false) // unit mode
            .field("m", false) // batch
            .body(body.to_vec());
        let response = self.pool().send(broker, &request).await?;
        match response.code {
            RemotingError::FLUSH_DISK_TIMEOUT
            | RemotingError::FLUSH_SLAVE_TIMEOUT
            | RemotingError::SLAVE_NOT_AVAILABLE => {
                debug!(
                    "{broker} stored the message to {topic}, answering {}",
                    response.code
                );
                Ok(())
            }
            _ => pool::success(broker, &request, response).map(drop),
        }
    }
}
