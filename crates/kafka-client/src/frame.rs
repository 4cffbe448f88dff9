//! Kafka's framing: a 4-byte big-endian size, then a request or response header and the body,
//! each encoded at the version negotiated for its API.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    AddRaftVoterRequest, AddRaftVoterResponse, AlterClientQuotasRequest, AlterClientQuotasResponse,
    AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse,
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse, ApiKey,
    ApiVersionsRequest, ApiVersionsResponse, CreateAclsRequest, CreateAclsResponse,
    CreatePartitionsRequest, CreatePartitionsResponse, CreateTopicsRequest, CreateTopicsResponse,
    DeleteAclsRequest, DeleteAclsResponse, DeleteTopicsRequest, DeleteTopicsResponse,
    DescribeAclsRequest, DescribeAclsResponse, DescribeClientQuotasRequest,
    DescribeClientQuotasResponse, DescribeConfigsRequest, DescribeConfigsResponse,
    DescribeLogDirsRequest, DescribeLogDirsResponse, DescribeQuorumRequest, DescribeQuorumResponse,
    DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse, ElectLeadersRequest,
    ElectLeadersResponse, FindCoordinatorRequest, FindCoordinatorResponse,
    IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, ListGroupsRequest,
    ListGroupsResponse, ListOffsetsRequest, ListOffsetsResponse, ListPartitionReassignmentsRequest,
    ListPartitionReassignmentsResponse, MetadataRequest, MetadataResponse, OffsetFetchRequest,
    OffsetFetchResponse, RemoveRaftVoterRequest, RemoveRaftVoterResponse, RequestHeader,
    ResponseHeader, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse, UpdateFeaturesRequest, UpdateFeaturesResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, Message, StrBytes, VersionRange};

use crate::error::Error;

/// Largest response accepted, so a broker (or whatever answers on its port) cannot make the
/// operator allocate more than this per connection. Admin responses stay far below: Metadata of
/// 10,000 topics with 12 partitions each is about 6 MiB, DescribeAcls of 50,000 bindings about
/// 4 MiB, DescribeConfigs of 1,000 topics (the operators' batch) about 3 MiB.
pub(crate) const MAX_FRAME: usize = 16 * 1024 * 1024;

/// A request this client sends, with its response type. (kafka-protocol's own `Request` trait
/// exists only when both its client and broker features are on.)
pub(crate) trait AdminRequest: Encodable {
    const KEY: ApiKey;
    const NAME: &'static str;
    /// The versions this client can send: kafka-protocol's, or fewer where older ones lack
    /// something the client relies on.
    const VERSIONS: VersionRange;
    type Response: Decodable;
}

macro_rules! admin_requests {
    ($($request:ident => $response:ident, $key:ident, $min:expr;)*) => {
        $(
            impl AdminRequest for $request {
                const KEY: ApiKey = ApiKey::$key;
                const NAME: &'static str = stringify!($key);
                const VERSIONS: VersionRange = VersionRange {
                    min: if $min > <$request as Message>::VERSIONS.min {
                        $min
                    } else {
                        <$request as Message>::VERSIONS.min
                    },
                    max: <$request as Message>::VERSIONS.max,
                };
                type Response = $response;
            }
        )*
    };
}

admin_requests! {
    ApiVersionsRequest => ApiVersionsResponse, ApiVersions, 0;
    // v1 wraps the SASL tokens in SaslAuthenticate requests; v0's raw tokens are not supported.
    SaslHandshakeRequest => SaslHandshakeResponse, SaslHandshake, 1;
    SaslAuthenticateRequest => SaslAuthenticateResponse, SaslAuthenticate, 0;
    // v1 is the first that can ask for no topics (an empty list rather than null).
    MetadataRequest => MetadataResponse, Metadata, 1;
    DescribeQuorumRequest => DescribeQuorumResponse, DescribeQuorum, 0;
    // v4 lets the broker pick default partitions and replication factor (-1).
    CreateTopicsRequest => CreateTopicsResponse, CreateTopics, 4;
    CreatePartitionsRequest => CreatePartitionsResponse, CreatePartitions, 0;
    DeleteTopicsRequest => DeleteTopicsResponse, DeleteTopics, 0;
    DescribeConfigsRequest => DescribeConfigsResponse, DescribeConfigs, 0;
    IncrementalAlterConfigsRequest => IncrementalAlterConfigsResponse, IncrementalAlterConfigs, 0;
    DescribeAclsRequest => DescribeAclsResponse, DescribeAcls, 0;
    CreateAclsRequest => CreateAclsResponse, CreateAcls, 0;
    DeleteAclsRequest => DeleteAclsResponse, DeleteAcls, 0;
    DescribeUserScramCredentialsRequest => DescribeUserScramCredentialsResponse, DescribeUserScramCredentials, 0;
    AlterUserScramCredentialsRequest => AlterUserScramCredentialsResponse, AlterUserScramCredentials, 0;
    DescribeClientQuotasRequest => DescribeClientQuotasResponse, DescribeClientQuotas, 0;
    AlterClientQuotasRequest => AlterClientQuotasResponse, AlterClientQuotas, 0;
    UpdateFeaturesRequest => UpdateFeaturesResponse, UpdateFeatures, 0;
    // v1 is the first with one offset per partition (v0 answers with a list of them).
    ListOffsetsRequest => ListOffsetsResponse, ListOffsets, 1;
    ListGroupsRequest => ListGroupsResponse, ListGroups, 0;
    FindCoordinatorRequest => FindCoordinatorResponse, FindCoordinator, 0;
    // v2 is the first that can ask for all of a group's partitions (null topics).
    OffsetFetchRequest => OffsetFetchResponse, OffsetFetch, 2;
    AlterPartitionReassignmentsRequest => AlterPartitionReassignmentsResponse, AlterPartitionReassignments, 0;
    ListPartitionReassignmentsRequest => ListPartitionReassignmentsResponse, ListPartitionReassignments, 0;
    ElectLeadersRequest => ElectLeadersResponse, ElectLeaders, 0;
    // kafka-protocol 0.18 starts at v1; v4 adds the volumes' total and usable bytes.
    DescribeLogDirsRequest => DescribeLogDirsResponse, DescribeLogDirs, 1;
    AddRaftVoterRequest => AddRaftVoterResponse, AddRaftVoter, 0;
    RemoveRaftVoterRequest => RemoveRaftVoterResponse, RemoveRaftVoter, 0;
}

/// The whole frame of a request: size, header, body.
pub(crate) fn encode_request<R: AdminRequest>(
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: &str,
) -> Result<Bytes, Error> {
    let header = RequestHeader::default()
        .with_request_api_key(R::KEY as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_string(client_id.to_string())));
    let mut buf = BytesMut::new();
    buf.put_i32(0); // the size, filled in below
    header
        .encode(&mut buf, R::KEY.request_header_version(version))
        .and_then(|()| request.encode(&mut buf, version))
        .map_err(|e| Error::Protocol(format!("cannot encode {} v{version}: {e}", R::NAME)))?;
    let size = i32::try_from(buf.len() - 4)
        .map_err(|_| Error::Protocol(format!("{} request too large", R::NAME)))?;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    Ok(buf.freeze())
}

/// The correlation ID at the start of every response (after the size, which the reader strips).
pub(crate) fn correlation_id(frame: &[u8]) -> Option<i32> {
    let bytes: [u8; 4] = frame.get(..4)?.try_into().ok()?;
    Some(i32::from_be_bytes(bytes))
}

/// Decodes a response frame (without its size) of a request sent at `version`.
pub(crate) fn decode_response<R: AdminRequest>(
    mut frame: Bytes,
    version: i16,
) -> Result<R::Response, Error> {
    let response = ResponseHeader::decode(&mut frame, R::KEY.response_header_version(version))
        .and_then(|_header| R::Response::decode(&mut frame, version))
        .map_err(|e| {
            Error::Protocol(format!(
                "cannot decode a {} v{version} response: {e}",
                R::NAME
            ))
        })?;
    if frame.has_remaining() {
        return Err(Error::Protocol(format!(
            "{} bytes left over after a {} v{version} response",
            frame.remaining(),
            R::NAME
        )));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ApiVersions v0 as Kafka's protocol guide lays it out (and as testenv sends it by hand).
    #[test]
    fn a_request_frame_is_size_header_body() {
        let frame = encode_request(&ApiVersionsRequest::default(), 0, 7, "brokerage").unwrap();
        let mut expected = Vec::new();
        expected.extend_from_slice(&19i32.to_be_bytes()); // 2 + 2 + 4 + 2 + 9
        expected.extend_from_slice(&18i16.to_be_bytes()); // API key
        expected.extend_from_slice(&0i16.to_be_bytes()); // version
        expected.extend_from_slice(&7i32.to_be_bytes()); // correlation ID
        expected.extend_from_slice(&9i16.to_be_bytes());
        expected.extend_from_slice(b"brokerage");
        assert_eq!(frame.as_ref(), expected.as_slice());
    }

    #[test]
    fn a_flexible_request_has_tagged_fields_in_its_header() {
        let request =
            SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN"));
        let frame = encode_request(&request, 1, 1, "c").unwrap();
        // SaslHandshake v1 is not flexible: header v1, then the mechanism as an int16 string.
        assert_eq!(&frame[4..6], &17i16.to_be_bytes());
        assert_eq!(&frame[frame.len() - 7..], b"\0\x05PLAIN");

        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("n"))
            .with_client_software_version(StrBytes::from_static_str("1"));
        let frame = encode_request(&request, 3, 1, "c").unwrap();
        // Header v2: client ID (int16 length), then an empty tag buffer; body: compact
        // strings (length + 1) and an empty tag buffer.
        assert_eq!(&frame[12..], b"\0\x01c\0\x02n\x021\0");
    }

    fn api_versions_v0_response(correlation_id: i32) -> Vec<u8> {
        let mut frame = Vec::new();
        frame.extend_from_slice(&correlation_id.to_be_bytes());
        frame.extend_from_slice(&0i16.to_be_bytes()); // error code
        frame.extend_from_slice(&2i32.to_be_bytes()); // two API keys
        for (key, min, max) in [(18i16, 0i16, 4i16), (3, 0, 13)] {
            frame.extend_from_slice(&key.to_be_bytes());
            frame.extend_from_slice(&min.to_be_bytes());
            frame.extend_from_slice(&max.to_be_bytes());
        }
        frame
    }

    #[test]
    fn a_response_frame_decodes() {
        let frame = Bytes::from(api_versions_v0_response(7));
        assert_eq!(correlation_id(&frame), Some(7));
        let response = decode_response::<ApiVersionsRequest>(frame, 0).unwrap();
        assert_eq!(response.error_code, 0);
        let keys: Vec<(i16, i16, i16)> = response
            .api_keys
            .iter()
            .map(|key| (key.api_key, key.min_version, key.max_version))
            .collect();
        assert_eq!(keys, [(18, 0, 4), (3, 0, 13)]);
    }

    #[test]
    fn bad_bytes_are_errors_not_panics() {
        let whole = api_versions_v0_response(7);
        for end in 0..whole.len() {
            let truncated = Bytes::copy_from_slice(&whole[..end]);
            assert!(
                matches!(
                    decode_response::<ApiVersionsRequest>(truncated, 0),
                    Err(Error::Protocol(_))
                ),
                "{end} bytes"
            );
        }
        // A negative array length, where the array may not be null.
        let mut negative = whole[..6].to_vec();
        negative.extend_from_slice(&(-2i32).to_be_bytes());
        assert!(decode_response::<ApiVersionsRequest>(Bytes::from(negative), 0).is_err());
        // Not tried: an array length far beyond the frame. kafka-protocol 0.18 reserves room
        // for that many elements before reading them, and a failed allocation aborts.
        assert_eq!(correlation_id(&[1, 2, 3]), None);
    }
}
