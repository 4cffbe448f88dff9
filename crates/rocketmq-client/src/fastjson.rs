//! Reading the JSON that RocketMQ's servers write with fastjson.
//!
//! fastjson writes a map whose keys are not strings with bare keys: integers
//! (`"brokerAddrs":{0:"127.0.0.1:10911"}`, offsets by queue id) and even objects (topic stats by
//! `MessageQueue`: `{{"brokerName":"b","queueId":0,"topic":"t"}:{...}}`). Standard JSON parsers
//! refuse both, so a pre-pass turns every bare key into a string holding its text (`"0"`, or the
//! object's JSON) before serde reads it. Integer keys then deserialize into integer map keys as
//! usual; object keys are parsed again by whoever needs them.

use std::borrow::Cow;

use serde::de::DeserializeOwned;

use crate::error::Error;

/// Parses a response body, naming `what` it was in the error.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Error> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::Protocol(format!("the {what} is not UTF-8")))?;
    serde_json::from_str(&quote_keys(text))
        .map_err(|e| Error::Protocol(format!("unreadable {what}: {e}")))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    /// In an object; true where the next token is a key.
    Object(bool),
    Array,
}

/// Quotes every object key that is not a string; borrows when there is none.
pub(crate) fn quote_keys(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `text` already in `out`
    let mut stack: Vec<Container> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let expecting_key = stack.last() == Some(&Container::Object(true));
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i);
                continue;
            }
            b if b.is_ascii_whitespace() => {}
            b'}' | b']' => {
                stack.pop();
            }
            b':' => set_expecting_key(&mut stack, false),
            b',' => set_expecting_key(&mut stack, true),
            // After `{` or `,` and whitespace, so `i` starts a character; the key ends past it,
            // at an ASCII delimiter or the end of the text.
            _ if expecting_key => {
                let end = bare_key_end(bytes, i);
                let key = text[i..end].trim_end();
                let out = out.get_or_insert_with(|| String::with_capacity(text.len() + 64));
                out.push_str(&text[copied..i]);
                // A JSON string of the key's text; writing a &str into a String cannot fail.
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                copied = i + key.len();
                set_expecting_key(&mut stack, false);
                i = copied;
                continue;
            }
            b'{' => stack.push(Container::Object(true)),
            b'[' => stack.push(Container::Array),
            _ => {}
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

fn set_expecting_key(stack: &mut [Container], expecting: bool) {
    if let Some(Container::Object(expecting_key)) = stack.last_mut() {
        *expecting_key = expecting;
    }
}

/// The index just past the string starting at `start` (its opening quote).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The end of a bare key starting at `start`: a whole object or array when it opens one, else
/// everything up to the colon.
fn bare_key_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i);
                if depth == 0 {
                    return i;
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b':' | b',' | b'}' | b']' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn bare_integer_keys_are_quoted() {
        let text = r#"{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"broker-a"}}}"#;
        assert_eq!(
            quote_keys(text),
            r#"{"brokerAddrTable":{"broker-a":{"brokerAddrs":{"0":"127.0.0.1:10911","1":"127.0.0.1:10921"},"brokerName":"broker-a"}}}"#
        );
        let offsets: BTreeMap<String, BTreeMap<i32, i64>> =
            parse(br#"{"t@g":{0:5, -1 :7},"u@g":{}}"#, "offsets").unwrap();
        assert_eq!(offsets["t@g"], BTreeMap::from([(-1, 7), (0, 5)]));
        assert!(offsets["u@g"].is_empty());
    }

    #[test]
    fn object_keys_become_strings_of_their_json() {
        let text = r#"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t:{x}"}:{"maxOffset":3},{"brokerName":"b","queueId":1,"topic":"t"}:{"maxOffset":4}}}"#;
        let table: BTreeMap<String, BTreeMap<String, serde_json::Value>> =
            parse(text.as_bytes(), "stats").unwrap();
        let keys: Vec<&String> = table["offsetTable"].keys().collect();
        assert_eq!(
            keys,
            [
                r#"{"brokerName":"b","queueId":0,"topic":"t:{x}"}"#,
                r#"{"brokerName":"b","queueId":1,"topic":"t"}"#
            ]
        );
    }

    #[test]
    fn standard_json_is_left_alone() {
        let text = r#"{ "a" : [1, {"b": "{0:1}", "c": [] }], "d": {}, "e": "\"}{" }"#;
        assert!(matches!(quote_keys(text), Cow::Borrowed(_)));
        assert!(matches!(quote_keys("[1,2,{}]"), Cow::Borrowed(_)));
    }

    #[test]
    fn garbage_does_not_panic() {
        for text in [
            "{", "{0", "{{", "{\"a", "}}]]", "{0:{1:", "{]", "{\"\\", ":,:",
        ] {
            let _ = quote_keys(text);
            assert!(parse::<serde_json::Value>(text.as_bytes(), "garbage").is_err());
        }
        assert!(matches!(
            parse::<serde_json::Value>(&[0xFF, 0xFE], "body"),
            Err(Error::Protocol(_))
        ));
    }
}
