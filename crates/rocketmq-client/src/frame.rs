//! RocketMQ's remoting frame: a 4-byte big-endian length of everything after it, a 4-byte word
//! whose top byte is the header's serialization (0 JSON, 1 RocketMQ's binary) and whose low
//! three bytes are the header's length, the header, then the body.
//!
//! Requests always go out with a JSON header. Responses come back in the server's configured
//! serialization (`rocketmq.serialize.type`, JSON unless changed), so both are read.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Largest frame accepted or sent, so a server (or whatever answers on its port) cannot make the
/// operator allocate more than this per connection. It is the limit RocketMQ servers put on
/// the frames they read (`com.rocketmq.remoting.frameMaxLength`). The largest admin responses
/// stay below: all topic configurations of a broker with 10,000 topics are about 3 MiB of JSON,
/// 10,000 subscription groups (each with its retry policy) about 6 MiB.
pub(crate) const MAX_FRAME: usize = 16 * 1024 * 1024;

/// Flag bit 0: the command is a response.
const RESPONSE: i32 = 1;

/// Announced in every request: RocketMQ's `MQVersion.Version.V5_3_1.ordinal()`. Name servers
/// answer topic routes in standard JSON from V4_9_4 on, and brokers sign all custom header
/// fields (including `UNIQUE_MSG_QUERY_FLAG`) after V4_9_3.
const VERSION: i32 = 475;

const JSON: u8 = 0;
const ROCKETMQ: u8 = 1;

/// A request or response as it travels.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Command {
    pub(crate) code: i32,
    pub(crate) opaque: i32,
    pub(crate) flag: i32,
    pub(crate) remark: Option<String>,
    pub(crate) ext_fields: BTreeMap<String, String>,
    pub(crate) body: Vec<u8>,
}

// By hand: bodies carry users' passwords (AUTH_CREATE_USER, AUTH_GET_USER).
impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("code", &self.code)
            .field("opaque", &self.opaque)
            .field("flag", &self.flag)
            .field("remark", &self.remark)
            .field("ext_fields", &self.ext_fields)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

impl Command {
    pub(crate) fn is_response(&self) -> bool {
        self.flag & RESPONSE != 0
    }

    /// A response to `opaque`, as a server sends it (for tests' fake servers).
    #[cfg(test)]
    pub(crate) fn response(opaque: i32, code: i32, body: &[u8]) -> Command {
        Command {
            code,
            opaque,
            flag: RESPONSE,
            body: body.to_vec(),
            ..Command::default()
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutgoingHeader<'a> {
    code: i32,
    /// `RUST` exists only from 5.x on; JAVA is understood by every broker and changes nothing
    /// for admin requests.
    language: &'static str,
    version: i32,
    opaque: i32,
    flag: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    remark: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    ext_fields: &'a BTreeMap<String, String>,
    #[serde(rename = "serializeTypeCurrentRPC")]
    serialize_type: &'static str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IncomingHeader {
    code: i32,
    #[serde(default)]
    opaque: i32,
    #[serde(default)]
    flag: i32,
    #[serde(default)]
    remark: Option<String>,
    #[serde(default)]
    ext_fields: Option<BTreeMap<String, String>>,
}

/// The whole frame, length included.
pub(crate) fn encode(command: &Command) -> Result<Vec<u8>, Error> {
    let header = serde_json::to_vec(&OutgoingHeader {
        code: command.code,
        language: "JAVA",
        version: VERSION,
        opaque: command.opaque,
        flag: command.flag,
        remark: command.remark.as_deref(),
        ext_fields: &command.ext_fields,
        serialize_type: "JSON",
    })
    .map_err(|e| Error::InvalidArgument(format!("cannot encode the request header: {e}")))?;
    let length = 4 + header.len() + command.body.len();
    if header.len() > 0xFF_FFFF || length > MAX_FRAME {
        return Err(Error::InvalidArgument(format!(
            "a request of {length} bytes (header {}) is larger than RocketMQ accepts",
            header.len()
        )));
    }
    let mut frame = Vec::with_capacity(4 + length);
    // Both fit in 32 bits: length is at most MAX_FRAME and the header 24 bits (type 0, JSON).
    frame.extend_from_slice(&(length as u32).to_be_bytes());
    frame.extend_from_slice(&(header.len() as u32).to_be_bytes());
    frame.extend_from_slice(&header);
    frame.extend_from_slice(&command.body);
    Ok(frame)
}

/// A frame without its length prefix.
pub(crate) fn decode(frame: &[u8]) -> Result<Command, String> {
    let mut reader = Reader(frame);
    let word = reader.u32()?;
    let serialization = (word >> 24) as u8;
    let header_length = (word & 0xFF_FFFF) as usize;
    let header = reader.take(header_length)?;
    let mut command = match serialization {
        JSON => {
            let header: IncomingHeader = serde_json::from_slice(header)
                .map_err(|e| format!("unreadable JSON header: {e}"))?;
            Command {
                code: header.code,
                opaque: header.opaque,
                flag: header.flag,
                remark: header.remark,
                ext_fields: header.ext_fields.unwrap_or_default(),
                body: Vec::new(),
            }
        }
        ROCKETMQ => decode_binary_header(header)?,
        other => return Err(format!("unknown header serialization {other}")),
    };
    command.body = reader.0.to_vec();
    Ok(command)
}

/// `RocketMQSerializable`: code (2), language (1), version (2), opaque (4), flag (4), remark
/// (4-byte length + UTF-8), extFields (4-byte length, then 2-byte key and 4-byte value lengths).
fn decode_binary_header(header: &[u8]) -> Result<Command, String> {
    let mut reader = Reader(header);
    let code = i32::from(reader.u16()? as i16);
    reader.take(1 + 2)?; // language, version
    let opaque = reader.u32()? as i32;
    let flag = reader.u32()? as i32;
    let remark_length = reader.u32()? as usize;
    let remark = match remark_length {
        0 => None,
        length => Some(reader.string(length)?),
    };
    let fields_length = reader.u32()? as usize;
    let mut fields = Reader(reader.take(fields_length)?);
    let mut ext_fields = BTreeMap::new();
    while !fields.0.is_empty() {
        let key_length = usize::from(fields.u16()?);
        let key = fields.string(key_length)?;
        let value_length = fields.u32()? as usize;
        let value = fields.string(value_length)?;
        ext_fields.insert(key, value);
    }
    Ok(Command {
        code,
        opaque,
        flag,
        remark,
        ext_fields,
        body: Vec::new(),
    })
}

/// Reads big-endian fields, failing (never panicking) when the bytes run out.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize) -> Result<&'a [u8], String> {
        if length > self.0.len() {
            return Err(format!(
                "a field of {length} bytes where {} are left",
                self.0.len()
            ));
        }
        let (taken, rest) = self.0.split_at(length);
        self.0 = rest;
        Ok(taken)
    }

    fn u16(&mut self) -> Result<u16, String> {
        let bytes = self.take(2)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn u32(&mut self) -> Result<u32, String> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn string(&mut self, length: usize) -> Result<String, String> {
        String::from_utf8(self.take(length)?.to_vec())
            .map_err(|_| "a string that is not UTF-8".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Command {
        Command {
            code: 17,
            opaque: 42,
            flag: 0,
            remark: None,
            ext_fields: BTreeMap::from([
                ("topic".to_string(), "orders".to_string()),
                ("perm".to_string(), "6".to_string()),
            ]),
            body: b"{\"a\":1}".to_vec(),
        }
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let frame = encode(&request()).unwrap();
        let length = u32::from_be_bytes(frame[0..4].try_into().unwrap()) as usize;
        assert_eq!(length, frame.len() - 4);
        assert_eq!(frame[4], JSON, "the top byte of the header word says JSON");
        assert_eq!(decode(&frame[4..]).unwrap(), request());
    }

    #[test]
    fn the_header_is_rocketmq_json() {
        let frame = encode(&request()).unwrap();
        let header_length = u32::from_be_bytes(frame[4..8].try_into().unwrap()) as usize;
        let header: serde_json::Value =
            serde_json::from_slice(&frame[8..8 + header_length]).unwrap();
        assert_eq!(
            header,
            serde_json::json!({
                "code": 17,
                "language": "JAVA",
                "version": 475,
                "opaque": 42,
                "flag": 0,
                "extFields": {"perm": "6", "topic": "orders"},
                "serializeTypeCurrentRPC": "JSON",
            })
        );
        assert_eq!(&frame[8 + header_length..], b"{\"a\":1}");
    }

    #[test]
    fn decodes_a_java_response() {
        // As a 5.3 broker writes it: null remark, extra fields.
        let header = br#"{"code":17,"extFields":{"x":"y"},"flag":1,"language":"JAVA","opaque":7,"remark":null,"serializeTypeCurrentRPC":"JSON","version":475}"#;
        let mut frame = (header.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(header);
        frame.extend_from_slice(b"body");
        let command = decode(&frame).unwrap();
        assert!(command.is_response());
        assert_eq!((command.code, command.opaque), (17, 7));
        assert_eq!(command.remark, None);
        assert_eq!(command.ext_fields["x"], "y");
        assert_eq!(command.body, b"body");
    }

    #[test]
    fn decodes_the_binary_header() {
        let mut header = Vec::new();
        header.extend_from_slice(&17u16.to_be_bytes());
        header.push(0); // JAVA
        header.extend_from_slice(&475u16.to_be_bytes());
        header.extend_from_slice(&9i32.to_be_bytes());
        header.extend_from_slice(&1i32.to_be_bytes());
        header.extend_from_slice(&7u32.to_be_bytes());
        header.extend_from_slice(b"no such");
        let mut fields = Vec::new();
        fields.extend_from_slice(&5u16.to_be_bytes());
        fields.extend_from_slice(b"topic");
        fields.extend_from_slice(&6u32.to_be_bytes());
        fields.extend_from_slice(b"orders");
        header.extend_from_slice(&(fields.len() as u32).to_be_bytes());
        header.extend_from_slice(&fields);
        let mut frame = (0x0100_0000 | header.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&header);
        let command = decode(&frame).unwrap();
        assert_eq!((command.code, command.opaque, command.flag), (17, 9, 1));
        assert_eq!(command.remark.as_deref(), Some("no such"));
        assert_eq!(command.ext_fields["topic"], "orders");
        assert!(command.body.is_empty());
    }

    #[test]
    fn truncated_or_lying_frames_are_errors() {
        let frame = encode(&request()).unwrap();
        let header_end = 8 + u32::from_be_bytes(frame[4..8].try_into().unwrap()) as usize;
        for end in 4..header_end {
            assert!(decode(&frame[4..end]).is_err(), "cut at {end}");
        }
        assert!(decode(&[0, 0]).is_err());
        assert!(decode(&[0, 0xFF, 0xFF, 0xFF, b'{']).is_err());
        assert!(decode(&[7, 0, 0, 0]).is_err());
        // A binary header whose remark length points far past the end.
        let mut header = vec![0u8; 13];
        header.extend_from_slice(&u32::MAX.to_be_bytes());
        let mut frame = (0x0100_0000 | header.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&header);
        assert!(decode(&frame).is_err());
    }

    #[test]
    fn debug_hides_the_body() {
        let mut command = request();
        command.body = br#"{"username":"alice","password":"hunter2"}"#.to_vec();
        let printed = format!("{command:?}");
        assert!(printed.contains("orders"), "{printed}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("104, 117"),
            "{printed}"
        );
    }

    #[test]
    fn oversized_requests_are_refused() {
        let mut command = request();
        command.body = vec![0; MAX_FRAME];
        assert!(matches!(encode(&command), Err(Error::InvalidArgument(_))));
    }
}
