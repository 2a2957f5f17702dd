//! The pure part of log streaming: Consul's level names, the module an event is shown
//! under, and one event written as one line the way Consul's logger (hashicorp/go-hclog)
//! writes it, as text or as JSON.
//!
//! Text: `2024-05-01T10:00:00.123Z [INFO]  agent.http: message: key=value other="a b"`,
//! the level in a bracket padded to seven characters, a value quoted as Go's
//! `strconv.Quote` does when it holds anything but `-` through `~`, and a value spanning
//! lines written below the line, indented with `  | `. JSON: one object per line with
//! `@level`, `@message`, `@module` and `@timestamp` (microseconds) and the event's
//! fields, keys sorted and `<`, `>`, `&` escaped, as Go's `encoding/json` writes a map.
//! Times are UTC.

use std::collections::BTreeMap;
use std::fmt::Write;

/// A log level as Consul names it, from the most verbose to the most severe: a client
/// following level `L` gets every line of level `L` or above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// Every level, from the most verbose.
    pub const ALL: [LogLevel; 5] = [
        LogLevel::Trace,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
    ];

    /// Consul's level names, in any case: `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERR` and
    /// `ERROR` (its `logging.ValidateLogLevel`). Anything else is `None`.
    pub fn parse(text: &str) -> Option<LogLevel> {
        Some(match text.to_ascii_uppercase().as_str() {
            "TRACE" => LogLevel::Trace,
            "DEBUG" => LogLevel::Debug,
            "INFO" => LogLevel::Info,
            "WARN" => LogLevel::Warn,
            "ERR" | "ERROR" => LogLevel::Error,
            _ => return None,
        })
    }

    /// The level of a `tracing` event.
    pub fn from_tracing(level: &tracing::Level) -> LogLevel {
        match *level {
            tracing::Level::TRACE => LogLevel::Trace,
            tracing::Level::DEBUG => LogLevel::Debug,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::ERROR => LogLevel::Error,
        }
    }

    /// This level as a `tracing` filter (everything at least this severe).
    pub fn as_filter(self) -> tracing::level_filters::LevelFilter {
        use tracing::level_filters::LevelFilter;
        match self {
            LogLevel::Trace => LevelFilter::TRACE,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Error => LevelFilter::ERROR,
        }
    }

    /// 0 for `Trace` up to 4 for `Error`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// hclog's bracket, padded to seven characters.
    fn bracket(self) -> &'static str {
        match self {
            LogLevel::Trace => "[TRACE]",
            LogLevel::Debug => "[DEBUG]",
            LogLevel::Info => "[INFO] ",
            LogLevel::Warn => "[WARN] ",
            LogLevel::Error => "[ERROR]",
        }
    }

    /// hclog's `@level` in JSON.
    fn json_name(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// How a client wants its lines written (`?logjson` or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineFormat {
    Text,
    Json,
}

impl LineFormat {
    /// Both formats.
    pub const ALL: [LineFormat; 2] = [LineFormat::Text, LineFormat::Json];

    /// 0 for text, 1 for JSON.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A field's value, with the type it was recorded with (JSON keeps numbers and booleans).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

impl FieldValue {
    fn text(&self) -> String {
        match self {
            FieldValue::Str(text) => text.clone(),
            FieldValue::I64(n) => n.to_string(),
            FieldValue::U64(n) => n.to_string(),
            FieldValue::F64(n) => n.to_string(),
            FieldValue::Bool(b) => b.to_string(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            FieldValue::Str(text) => text.clone().into(),
            FieldValue::I64(n) => (*n).into(),
            FieldValue::U64(n) => (*n).into(),
            FieldValue::F64(n) => (*n).into(),
            FieldValue::Bool(b) => (*b).into(),
        }
    }
}

/// One logged event, ready to be written in either format.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// When it was logged, in nanoseconds since the Unix epoch.
    pub unix_nanos: i128,
    pub level: LogLevel,
    /// hclog's logger name (`agent`, `agent.http`, ...); empty writes none.
    pub module: String,
    pub message: String,
    /// The event's other fields, in the order they were recorded.
    pub fields: Vec<(String, FieldValue)>,
}

impl LogRecord {
    /// The record as one line (a multi-line value makes it several), ending in `\n`.
    pub fn line(&self, format: LineFormat) -> String {
        match format {
            LineFormat::Text => self.text(),
            LineFormat::Json => self.json(),
        }
    }

    fn text(&self) -> String {
        let mut out = String::with_capacity(64 + self.message.len());
        out.push_str(&timestamp(self.unix_nanos, 3));
        out.push(' ');
        out.push_str(self.level.bracket());
        out.push(' ');
        if !self.module.is_empty() {
            out.push_str(&self.module);
            out.push_str(": ");
        }
        out.push_str(&self.message);
        if !self.fields.is_empty() {
            out.push(':');
        }
        for (key, value) in &self.fields {
            let text = value.text();
            if text.contains('\n') {
                // hclog's writeIndent: every line, but an empty last one.
                let _ = write!(out, "\n  {key}=\n");
                let mut rest = text.as_str();
                while let Some(end) = rest.find('\n') {
                    let _ = writeln!(out, "  | {}", &rest[..end]);
                    rest = &rest[end + 1..];
                }
                if !rest.is_empty() {
                    let _ = writeln!(out, "  | {rest}");
                }
                out.push_str("  ");
            } else if text.is_empty() {
                let _ = write!(out, " {key}=\"\"");
            } else if text.chars().all(|c| ('-'..='~').contains(&c)) {
                let _ = write!(out, " {key}={text}");
            } else {
                let _ = write!(out, " {key}={}", go_quote(&text));
            }
        }
        out.push('\n');
        out
    }

    fn json(&self) -> String {
        let mut object: BTreeMap<&str, serde_json::Value> = self
            .fields
            .iter()
            .map(|(key, value)| (key.as_str(), value.json()))
            .collect();
        // The record's own keys win over a field of the same name.
        object.insert("@level", self.level.json_name().into());
        object.insert("@message", self.message.clone().into());
        object.insert("@timestamp", timestamp(self.unix_nanos, 6).into());
        if self.module.is_empty() {
            object.remove("@module");
        } else {
            object.insert("@module", self.module.clone().into());
        }
        let encoded = serde_json::to_string(&object).unwrap_or_default();
        // Go escapes these inside strings (the only place they can appear in JSON).
        let mut out = String::with_capacity(encoded.len() + 1);
        for c in encoded.chars() {
            match c {
                '<' => out.push_str("\\u003c"),
                '>' => out.push_str("\\u003e"),
                '&' => out.push_str("\\u0026"),
                '\u{2028}' => out.push_str("\\u2028"),
                '\u{2029}' => out.push_str("\\u2029"),
                c => out.push(c),
            }
        }
        out.push('\n');
        out
    }
}

/// `2006-01-02T15:04:05.000Z` (3 digits) or `...05.000000Z` (6), in UTC.
fn timestamp(unix_nanos: i128, digits: u32) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(unix_nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fraction = time.nanosecond() / 10u32.pow(9 - digits);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{fraction:0width$}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        width = digits as usize,
    )
}

/// `text` quoted as Go's `strconv.Quote` quotes it: printable characters kept, the
/// usual escapes, other control characters as `\xNN` or `\uNNNN`.
fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The hclog logger name an event of `target` (its Rust module path) is shown under:
/// the agent's modules as `agent.<module>`, Raft as `agent.server.raft` (Consul's name),
/// DNS as `agent.dns`, the binary as `agent`, another crate as its crate name.
pub fn module_name(target: &str) -> String {
    let mut path = target.split("::");
    let krate = path.next().unwrap_or_default();
    match krate {
        "proconsul_agent" => match path.next() {
            None | Some("agent") => "agent".to_string(),
            Some(module) => format!("agent.{module}"),
        },
        "proconsul" | "proconsul_cli" => "agent".to_string(),
        "proconsul_consensus" | "openraft" => "agent.server.raft".to_string(),
        _ => match krate.strip_prefix("proconsul_") {
            Some(component) => format!("agent.{component}"),
            None => krate.to_string(),
        },
    }
}

/// Whether `target` is Proconsul's own code, whose events are streamed at every level.
/// Other crates' are streamed from `warn` up, as the agent prints openraft's: below that
/// they are noise to an operator (openraft logs some twenty debug lines per 10 ms tick),
/// and the HTTP stack's would describe the writing of the stream itself, line after line.
pub fn is_own_target(target: &str) -> bool {
    target.starts_with("proconsul")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-05-01T10:00:00.123456789Z.
    const WHEN: i128 = 1_714_557_600_123_456_789;

    fn record(level: LogLevel, fields: Vec<(&str, FieldValue)>) -> LogRecord {
        LogRecord {
            unix_nanos: WHEN,
            level,
            module: "agent".to_string(),
            message: "Synced service".to_string(),
            fields: fields
                .into_iter()
                .map(|(key, value)| (key.to_string(), value))
                .collect(),
        }
    }

    #[test]
    fn levels_as_consul_names_them() {
        for (text, level) in [
            ("trace", LogLevel::Trace),
            ("DEBUG", LogLevel::Debug),
            ("Info", LogLevel::Info),
            ("warn", LogLevel::Warn),
            ("ERR", LogLevel::Error),
            ("error", LogLevel::Error),
        ] {
            assert_eq!(LogLevel::parse(text), Some(level), "{text}");
        }
        for text in ["", "warning", "fatal", "off", "information", " info"] {
            assert_eq!(LogLevel::parse(text), None, "{text:?}");
        }
        assert!(LogLevel::Trace < LogLevel::Error);
    }

    #[test]
    fn text_lines_are_hclogs() {
        let line = record(
            LogLevel::Info,
            vec![("service", FieldValue::Str("redis".into()))],
        )
        .line(LineFormat::Text);
        assert_eq!(
            line,
            "2024-05-01T10:00:00.123Z [INFO]  agent: Synced service: service=redis\n"
        );
        let brackets: Vec<String> = LogLevel::ALL
            .iter()
            .map(|level| record(*level, vec![]).line(LineFormat::Text)[25..33].to_string())
            .collect();
        assert_eq!(
            brackets,
            ["[TRACE] ", "[DEBUG] ", "[INFO]  ", "[WARN]  ", "[ERROR] "]
        );
        let bare = LogRecord {
            module: String::new(),
            ..record(LogLevel::Warn, vec![])
        };
        assert_eq!(
            bare.line(LineFormat::Text),
            "2024-05-01T10:00:00.123Z [WARN]  Synced service\n"
        );
    }

    #[test]
    fn text_values_are_quoted_as_go_quotes_them() {
        let line = record(
            LogLevel::Debug,
            vec![
                ("a", FieldValue::Str("two words".into())),
                ("b", FieldValue::Str(String::new())),
                ("c", FieldValue::U64(42)),
                ("d", FieldValue::Bool(true)),
                ("e", FieldValue::Str("say \"hi\"\t\u{1}é".into())),
                ("f", FieldValue::Str("127.0.0.1:8500/v1/kv?x=y".into())),
                ("g", FieldValue::I64(-3)),
            ],
        )
        .line(LineFormat::Text);
        assert_eq!(
            line,
            "2024-05-01T10:00:00.123Z [DEBUG] agent: Synced service: a=\"two words\" b=\"\" \
             c=42 d=true e=\"say \\\"hi\\\"\\t\\x01é\" f=127.0.0.1:8500/v1/kv?x=y g=-3\n"
        );
    }

    #[test]
    fn multi_line_values_go_below_the_line() {
        let line = record(
            LogLevel::Error,
            vec![
                ("output", FieldValue::Str("one\ntwo\n".into())),
                ("n", FieldValue::U64(1)),
            ],
        )
        .line(LineFormat::Text);
        assert_eq!(
            line,
            "2024-05-01T10:00:00.123Z [ERROR] agent: Synced service:\n  output=\n  | one\n  | two\n   n=1\n"
        );
    }

    #[test]
    fn json_lines_are_hclogs() {
        let line = record(
            LogLevel::Warn,
            vec![
                ("service", FieldValue::Str("<web>&".into())),
                ("count", FieldValue::U64(3)),
                ("ok", FieldValue::Bool(false)),
                ("@level", FieldValue::Str("spoofed".into())),
            ],
        )
        .line(LineFormat::Json);
        assert_eq!(
            line,
            "{\"@level\":\"warn\",\"@message\":\"Synced service\",\"@module\":\"agent\",\
             \"@timestamp\":\"2024-05-01T10:00:00.123456Z\",\"count\":3,\"ok\":false,\
             \"service\":\"\\u003cweb\\u003e\\u0026\"}\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["service"], "<web>&");
        let bare = LogRecord {
            module: String::new(),
            ..record(LogLevel::Trace, vec![])
        };
        let parsed: serde_json::Value = serde_json::from_str(&bare.line(LineFormat::Json)).unwrap();
        assert_eq!(parsed["@level"], "trace");
        assert!(parsed.get("@module").is_none());
    }

    #[test]
    fn timestamps_are_utc_with_padding() {
        assert_eq!(timestamp(0, 3), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(1_000_000, 6), "1970-01-01T00:00:00.001000Z");
        assert_eq!(timestamp(WHEN, 3), "2024-05-01T10:00:00.123Z");
    }

    #[test]
    fn modules_as_consul_names_its_loggers() {
        for (target, module) in [
            ("proconsul_agent::http::error", "agent.http"),
            ("proconsul_agent::agent", "agent"),
            ("proconsul_agent::anti_entropy", "agent.anti_entropy"),
            ("proconsul_agent", "agent"),
            ("proconsul::commands::agent", "agent"),
            ("proconsul_consensus::forward", "agent.server.raft"),
            ("openraft::core::raft_core", "agent.server.raft"),
            ("proconsul_dns::server", "agent.dns"),
            ("hyper::proto::h1", "hyper"),
        ] {
            assert_eq!(module_name(target), module, "{target}");
        }
        assert!(is_own_target("proconsul_agent::http"));
        assert!(!is_own_target("openraft::engine"));
        assert!(!is_own_target("hyper::proto"));
    }
}
