//! A request before it is framed: its code, its custom header fields (RocketMQ's `extFields`,
//! all strings) and its body.

use std::collections::BTreeMap;

/// A request code with RocketMQ's name for it (`RequestCode`), for errors and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RequestCode {
    pub(crate) code: i32,
    pub(crate) name: &'static str,
}

macro_rules! request_codes {
    ($($name:ident = $code:expr;)*) => {
        $(pub(crate) const $name: RequestCode = RequestCode { code: $code, name: stringify!($name) };)*
    };
}

request_codes! {
    SEND_MESSAGE_V2 = 310;
    UPDATE_CONSUMER_OFFSET = 15;
    UPDATE_AND_CREATE_TOPIC = 17;
    UPDATE_AND_CREATE_TOPIC_LIST = 18;
    GET_ALL_TOPIC_CONFIG = 21;
    UPDATE_BROKER_CONFIG = 25;
    GET_BROKER_CONFIG = 26;
    GET_ALL_CONSUMER_OFFSET = 43;
    GET_ROUTEINFO_BY_TOPIC = 105;
    GET_BROKER_CLUSTER_INFO = 106;
    UPDATE_AND_CREATE_SUBSCRIPTIONGROUP = 200;
    GET_ALL_SUBSCRIPTIONGROUP_CONFIG = 201;
    GET_TOPIC_STATS_INFO = 202;
    DELETE_TOPIC_IN_BROKER = 215;
    DELETE_TOPIC_IN_NAMESRV = 216;
    GET_SYSTEM_TOPIC_LIST_FROM_BROKER = 305;
    CONTROLLER_ELECT_MASTER = 1002;
    CONTROLLER_GET_METADATA_INFO = 1005;
    CONTROLLER_GET_SYNC_STATE_DATA = 1006;
    AUTH_CREATE_USER = 3001;
    AUTH_UPDATE_USER = 3002;
    AUTH_DELETE_USER = 3003;
    AUTH_GET_USER = 3004;
    AUTH_LIST_USER = 3005;
    AUTH_CREATE_ACL = 3006;
    AUTH_UPDATE_ACL = 3007;
    AUTH_DELETE_ACL = 3008;
    AUTH_GET_ACL = 3009;
    AUTH_LIST_ACL = 3010;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) code: RequestCode,
    /// Sorted, as the ACL signature needs them.
    pub(crate) fields: BTreeMap<String, String>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn new(code: RequestCode) -> Request {
        Request {
            code,
            fields: BTreeMap::new(),
            body: Vec::new(),
        }
    }

    /// Adds a custom header field; RocketMQ sends every one as a string (`toString()`).
    pub(crate) fn field(mut self, key: &str, value: impl ToString) -> Request {
        self.fields.insert(key.to_string(), value.to_string());
        self
    }

    pub(crate) fn body(mut self, body: Vec<u8>) -> Request {
        self.body = body;
        self
    }

    /// The body as the JSON RocketMQ reads with fastjson.
    pub(crate) fn json_body(self, body: &impl serde::Serialize) -> Request {
        // Serializing plain structs and maps with string keys into a Vec cannot fail.
        let body = serde_json::to_vec(body).unwrap_or_default();
        self.body(body)
    }
}
