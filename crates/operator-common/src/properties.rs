//! Java `.properties` text, as `java.util.Properties` reads it: Kafka's `server.properties` and
//! RocketMQ's `broker.conf`. Every key and value is written escaped, so no setting can end its
//! line early, hide its key behind an escape or whitespace, or start a comment; and text is read
//! back with the escapes decoded, so the keys compared with the operator's are the keys Java sees.

use std::collections::BTreeMap;

/// Settings by key, sorted so the generated file is byte-identical for the same input; a key
/// given twice keeps its last value, as Java reads it.
pub type Properties = BTreeMap<String, String>;

/// Whether `key` is one Kafka or RocketMQ could mean: letters, digits, `.`, `_` and `-`. Anything
/// else (a space, a backslash escape, a line break, non-ASCII) could only serve to slip a key past
/// the operator's list of the keys it owns.
pub fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// One `key=value` line, without its line break.
pub fn line(key: &str, value: &str) -> String {
    format!("{}={}", escape(key, true), escape(value, false))
}

/// Escapes as `Properties.store` does, so that `load` gives back exactly `text`. In keys, the
/// separators and comment characters too; values keep `=`, `:`, `#` and `!` as written, which
/// Java reads literally there, so that files of ordinary settings stay as they always were (a
/// changed file restarts brokers).
fn escape(text: &str, is_key: bool) -> String {
    let mut escaped = String::with_capacity(text.len());
    for (index, c) in text.chars().enumerate() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\t' => escaped.push_str("\\t"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\u{c}' => escaped.push_str("\\f"),
            ' ' if is_key || index == 0 => escaped.push_str("\\ "),
            '=' | ':' | '#' | '!' if is_key => {
                escaped.push('\\');
                escaped.push(c);
            }
            // Kafka and RocketMQ read their files as ISO-8859-1: anything else as `\uXXXX`.
            c if !(' '..='~').contains(&c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    escaped.push_str(&format!("\\u{unit:04X}"));
                }
            }
            c => escaped.push(c),
        }
    }
    escaped
}

/// Reads properties text as `Properties.load` does: `key=value` or `key: value` lines, `#` and
/// `!` comments, a trailing `\` continuing a line, escapes decoded in keys and values. A line
/// without `=` or `:` is refused: it is almost always a mistake (Java would read `key value`).
pub fn parse(text: &str) -> Result<Properties, String> {
    let mut properties = Properties::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let number = index + 1;
        let mut logical = skip_whitespace(line).to_string();
        if logical.is_empty() || logical.starts_with('#') || logical.starts_with('!') {
            continue;
        }
        while ends_with_continuation(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(skip_whitespace(next)),
                None => break,
            }
        }
        let key_end = key_end(&logical);
        let rest = skip_whitespace(&logical[key_end..]);
        let value = rest
            .strip_prefix(['=', ':'])
            .ok_or_else(|| format!("line {number}: expected key=value, found {line:?}"))?;
        let key =
            unescape(&logical[..key_end]).map_err(|error| format!("line {number}: {error}"))?;
        if key.is_empty() {
            return Err(format!("line {number}: a setting without a name"));
        }
        let value =
            unescape(skip_whitespace(value)).map_err(|error| format!("line {number}: {error}"))?;
        properties.insert(key, value);
    }
    Ok(properties)
}

fn skip_whitespace(text: &str) -> &str {
    text.trim_start_matches([' ', '\t', '\u{c}'])
}

/// Where the key ends: at the first `=`, `:` or whitespace that no backslash escapes.
fn key_end(line: &str) -> usize {
    let mut escaped = false;
    for (index, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '=' | ':' | ' ' | '\t' | '\u{c}' => return index,
            _ => {}
        }
    }
    line.len()
}

/// Whether a line ends with an odd number of backslashes (an even number is escaped ones).
fn ends_with_continuation(line: &str) -> bool {
    line.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// Decodes `\t`, `\n`, `\r`, `\f`, `\uXXXX` (with surrogate pairs) and `\<c>` for any other `c`.
fn unescape(text: &str) -> Result<String, String> {
    let mut units: Vec<u16> = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let decoded = match c {
            '\\' => match chars.next() {
                Some('t') => '\t',
                Some('n') => '\n',
                Some('r') => '\r',
                Some('f') => '\u{c}',
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let unit = u16::from_str_radix(&hex, 16)
                        .ok()
                        .filter(|_| hex.len() == 4)
                        .ok_or_else(|| format!("malformed \\uXXXX escape \\u{hex}"))?;
                    units.push(unit);
                    continue;
                }
                Some(other) => other,
                None => continue,
            },
            other => other,
        };
        units.extend(decoded.encode_utf16(&mut [0; 2]).iter());
    }
    String::from_utf16(&units).map_err(|_| "a \\uXXXX escape is half a surrogate pair".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_characters_of_real_keys_are_plain() {
        for key in ["log.retention.ms", "num_io-threads", "brokerIP1"] {
            assert!(is_plain_key(key), "{key}");
        }
        for key in [
            "",
            " super.users",
            "super.users\n",
            "\\u0073uper.users",
            "super.users ",
            "a=b",
            "süper.users",
        ] {
            assert!(!is_plain_key(key), "{key:?}");
        }
    }

    #[test]
    fn every_written_line_reads_back_as_the_one_setting_written() {
        let tricky = [
            ("key", "value"),
            ("a key", " leading space"),
            ("k=e:y#!", "x\nsuper.users=User:mallory"),
            ("tab\tand\\slash", "ends with a backslash \\"),
            ("ünïcödé", "CN=José,O=🦀"),
            ("#comment", "!bang\r\u{c}"),
            ("", ""),
            ("dir", "${directory:/opt/kafka/node-certs:pod.crt}"),
        ];
        for (key, value) in tricky {
            let text = line(key, value);
            assert!(!text.contains('\n') && text.is_ascii(), "{text}");
            if key.is_empty() {
                continue;
            }
            let read = parse(&format!("{text}\nafter=1\n")).unwrap();
            assert_eq!(
                read,
                Properties::from([(key.into(), value.into()), ("after".into(), "1".into())]),
                "{text}"
            );
        }
        // Ordinary values are written as they are, so existing files do not change.
        assert_eq!(
            line("ssl.truststore.certificates", "${directory:/certs:ca.crt}"),
            "ssl.truststore.certificates=${directory:/certs:ca.crt}"
        );
    }

    #[test]
    fn text_reads_as_java_reads_it() {
        let text = "# comment\n! also a comment\ndeleteWhen=04\n  fileReservedTime : 48\n\n\
                    list=a,\\\n  b\npath=C:\\\\data\\\\\n\\u0062rokerRole=SLAVE\nescaped\\ key=1\n\
                    deleteWhen=05\n";
        let properties = parse(text).unwrap();
        assert_eq!(properties["deleteWhen"], "05");
        assert_eq!(properties["fileReservedTime"], "48");
        assert_eq!(properties["list"], "a,b");
        assert_eq!(properties["path"], "C:\\data\\");
        assert_eq!(properties["brokerRole"], "SLAVE");
        assert_eq!(properties["escaped key"], "1");
        assert_eq!(properties.len(), 6);

        let error = parse("deleteWhen=04\nflushDiskType ASYNC_FLUSH\n").unwrap_err();
        assert!(error.contains("line 2"), "{error}");
        assert!(parse("=1\n").unwrap_err().contains("without a name"));
        assert!(parse("a=\\u00zz\n").unwrap_err().contains("malformed"));
    }
}
