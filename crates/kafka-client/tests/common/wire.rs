//! Just enough of Kafka's protocol to give the offset tests something to read, which the admin
//! client itself never writes: records (Produce), a group's committed offsets (OffsetCommit, as
//! a consumer that assigns partitions itself commits them), deleted records (DeleteRecords), and
//! a group's coordinator (FindCoordinator), each in one request on a connection of its own.
//! Broker errors come back as their codes, for the tests to retry until the broker is ready.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, DeleteRecordsRequest, DeleteRecordsResponse, FindCoordinatorRequest,
    FindCoordinatorResponse, GroupId, OffsetCommitRequest, OffsetCommitResponse, ProduceRequest,
    ProduceResponse, RequestHeader, ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_protocol::records::{
    Compression, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE, Record,
    RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Versions every Kafka 4 broker serves, with topics by name.
const PRODUCE_VERSION: i16 = 9;
const OFFSET_COMMIT_VERSION: i16 = 8;
const DELETE_RECORDS_VERSION: i16 = 2;
/// The last version that asks for one key and answers at the top level.
const FIND_COORDINATOR_VERSION: i16 = 3;

fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

fn check(code: i16) -> Result<(), i16> {
    match code {
        0 => Ok(()),
        code => Err(code),
    }
}

/// Sends `request` to the broker at `address` and waits for its response.
async fn round_trip<Q: Encodable, A: Decodable>(
    address: &str,
    key: ApiKey,
    version: i16,
    request: &Q,
) -> A {
    let header = RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(version)
        .with_correlation_id(1)
        .with_client_id(Some(StrBytes::from_static_str("kafka-client-tests")));
    let mut frame = BytesMut::new();
    header
        .encode(&mut frame, key.request_header_version(version))
        .unwrap();
    request.encode(&mut frame, version).unwrap();
    let mut stream = TcpStream::connect(address).await.unwrap();
    let size = i32::try_from(frame.len()).unwrap();
    stream.write_all(&size.to_be_bytes()).await.unwrap();
    stream.write_all(&frame).await.unwrap();
    let size = usize::try_from(stream.read_i32().await.unwrap()).unwrap();
    let mut response = vec![0; size];
    stream.read_exact(&mut response).await.unwrap();
    let mut response = Bytes::from(response);
    ResponseHeader::decode(&mut response, key.response_header_version(version)).unwrap();
    A::decode(&mut response, version).unwrap()
}

/// Appends `count` records to `topic`'s `partition` (whose leader is at `address`) in one
/// batch; the offset of the first.
pub async fn produce(address: &str, topic: &str, partition: i32, count: i64) -> Result<i64, i16> {
    // Now: brokers refuse timestamps too far in the past or future.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let now = i64::try_from(now.as_millis()).unwrap();
    let records: Vec<Record> = (0..count)
        .map(|offset| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            timestamp_type: TimestampType::Creation,
            offset,
            // One batch (Produce takes no more) holds records whose offset minus sequence is
            // the same; the batch's base sequence is then the first record's: none.
            sequence: NO_SEQUENCE + i32::try_from(offset).unwrap(),
            timestamp: now,
            key: None,
            value: Some(Bytes::from(format!("record {offset}"))),
            headers: Default::default(),
        })
        .collect();
    let mut batch = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    RecordBatchEncoder::encode(&mut batch, &records, &options).unwrap();
    let request = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(topic_name(topic))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(partition)
                        .with_records(Some(batch.freeze())),
                ]),
        ]);
    let response: ProduceResponse =
        round_trip(address, ApiKey::Produce, PRODUCE_VERSION, &request).await;
    let answer = (response.responses.iter())
        .flat_map(|topic| &topic.partition_responses)
        .find(|answer| answer.index == partition)
        .expect("Produce answers for the partition");
    check(answer.error_code).map(|()| answer.base_offset)
}

/// Commits `offsets` (topic, partition, offset) for `group` at its coordinator (at `address`),
/// outside any generation, as a consumer that assigns partitions itself does.
pub async fn commit_offsets(
    address: &str,
    group: &str,
    offsets: &[(&str, i32, i64)],
) -> Result<(), i16> {
    let topics = offsets
        .iter()
        .map(|(topic, partition, offset)| {
            OffsetCommitRequestTopic::default()
                .with_name(topic_name(topic))
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(*partition)
                        .with_committed_offset(*offset),
                ])
        })
        .collect();
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(topics);
    let response: OffsetCommitResponse = round_trip(
        address,
        ApiKey::OffsetCommit,
        OFFSET_COMMIT_VERSION,
        &request,
    )
    .await;
    (response.topics.iter())
        .flat_map(|topic| &topic.partitions)
        .try_for_each(|partition| check(partition.error_code))
}

/// Deletes the records of `topic`'s `partition` (whose leader is at `address`) before
/// `offset`; the partition's new earliest offset.
pub async fn delete_records(
    address: &str,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<i64, i16> {
    let request = DeleteRecordsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![
            DeleteRecordsTopic::default()
                .with_name(topic_name(topic))
                .with_partitions(vec![
                    DeleteRecordsPartition::default()
                        .with_partition_index(partition)
                        .with_offset(offset),
                ]),
        ]);
    let response: DeleteRecordsResponse = round_trip(
        address,
        ApiKey::DeleteRecords,
        DELETE_RECORDS_VERSION,
        &request,
    )
    .await;
    let answer = (response.topics.iter())
        .flat_map(|topic| &topic.partitions)
        .find(|answer| answer.partition_index == partition)
        .expect("DeleteRecords answers for the partition");
    check(answer.error_code).map(|()| answer.low_watermark)
}

/// The node ID and `host:port` of `group`'s coordinator, asked of the broker at `address`.
pub async fn find_coordinator(address: &str, group: &str) -> Result<(i32, String), i16> {
    let request = FindCoordinatorRequest::default()
        .with_key(StrBytes::from_string(group.to_string()))
        .with_key_type(0);
    let response: FindCoordinatorResponse = round_trip(
        address,
        ApiKey::FindCoordinator,
        FIND_COORDINATOR_VERSION,
        &request,
    )
    .await;
    check(response.error_code).map(|()| {
        (
            response.node_id.0,
            format!("{}:{}", response.host, response.port),
        )
    })
}
