//! A broker's live configuration, read and changed as Java properties text.

use std::collections::BTreeMap;

use crate::client::AdminClient;
use crate::error::{Error, Result};
use crate::request::{GET_BROKER_CONFIG, Request, UPDATE_BROKER_CONFIG};

impl AdminClient {
    /// GET_BROKER_CONFIG: every setting of the broker (its `BrokerConfig`, `MessageStoreConfig`
    /// and the rest), with its current value.
    pub async fn broker_config(&self, broker: &str) -> Result<BTreeMap<String, String>> {
        let body = self.call(broker, &Request::new(GET_BROKER_CONFIG)).await?;
        let text = String::from_utf8(body)
            .map_err(|_| Error::Protocol(format!("the configuration of {broker} is not UTF-8")))?;
        Ok(parse(&text))
    }

    /// UPDATE_BROKER_CONFIG: sets the settings in the running broker, which also writes them to
    /// its configuration file. Each takes effect when the code reading it next does: many at
    /// once, some on a timer (`namesrvAddr`), some only after a restart. Unknown keys are
    /// ignored; `brokerConfigPath`, `rocketmqHome` and the broker's `configBlackList` are
    /// refused (NO_PERMISSION).
    pub async fn update_broker_config(
        &self,
        broker: &str,
        changes: &BTreeMap<String, String>,
    ) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let request = Request::new(UPDATE_BROKER_CONFIG).body(encode(changes).into_bytes());
        self.call(broker, &request).await?;
        Ok(())
    }
}

/// Brokers write `key=value` lines without escapes (`MixAll.properties2String`).
fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

/// As `java.util.Properties.load` reads it: brokers load the body as ISO-8859-1, so anything
/// outside printable ASCII travels as `\uXXXX`, and separators in keys are escaped.
fn encode(changes: &BTreeMap<String, String>) -> String {
    let mut text = String::new();
    for (key, value) in changes {
        escape(&mut text, key, true);
        text.push('=');
        escape(&mut text, value, false);
        text.push('\n');
    }
    text
}

fn escape(out: &mut String, text: &str, is_key: bool) {
    for (index, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            // A leading space would be skipped, a space in a key would end it.
            ' ' if is_key || index == 0 => out.push_str("\\ "),
            // Separators end a key, and `#` or `!` first on a line start a comment.
            '=' | ':' | '#' | '!' if is_key => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_broker_format() {
        let text = "brokerName=broker-a\nnamesrvAddr=127.0.0.1:9876;127.0.0.1:9877\nmessageDelayLevel=1s 5s\nempty=\n\nnot a setting\n";
        let config = parse(text);
        assert_eq!(config["brokerName"], "broker-a");
        assert_eq!(config["namesrvAddr"], "127.0.0.1:9876;127.0.0.1:9877");
        assert_eq!(config["messageDelayLevel"], "1s 5s");
        assert_eq!(config["empty"], "");
        assert_eq!(config.len(), 4);
    }

    #[test]
    fn encodes_for_java_properties() {
        let changes = BTreeMap::from([
            (
                "namesrvAddr".to_string(),
                "127.0.0.1:9876;b:9876".to_string(),
            ),
            ("a key".to_string(), " lead and\ttab é😀".to_string()),
            ("path".to_string(), "C:\\x=#!".to_string()),
        ]);
        assert_eq!(
            encode(&changes),
            "a\\ key=\\ lead and\\ttab \\u00E9\\uD83D\\uDE00\n\
             namesrvAddr=127.0.0.1:9876;b:9876\n\
             path=C:\\\\x=#!\n"
        );
    }
}
