//! `GET /v1/agent/metrics` as go-metrics' `DisplayMetrics` answers: the `MetricsSummary`
//! of one interval, its fields in Go's order, numbers as `encoding/json` writes them
//! (gauges are `float32`), strings escaped as Go escapes them (`<`, `>`, `&` too), and
//! `?pretty` indented by four spaces like `json.MarshalIndent`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::aggregate::Aggregate;
use crate::go_format::{json_number, utc_timestamp};
use crate::interval::{INTERVAL_SECONDS, Interval};
use crate::names::SeriesNames;

/// The summary of `interval` as compact JSON.
pub fn summary(interval: &Interval) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("{\"Timestamp\":");
    string(&mut out, &utc_timestamp(interval.start));
    out.push_str(",\"Gauges\":[");
    for (i, (names, value)) in interval.gauges.values().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"Name\":");
        string(&mut out, &names.json_name);
        let _ = write!(out, ",\"Value\":{},\"Labels\":", json_number(*value, true));
        labels(&mut out, names);
        out.push('}');
    }
    out.push_str("],\"PrecisionGauges\":[],\"Points\":[],\"Counters\":");
    sampled(&mut out, interval.counters.values());
    out.push_str(",\"Samples\":");
    sampled(&mut out, interval.samples.values());
    out.push('}');
    out
}

/// go-metrics' `SampledValue`s: the name, the embedded `AggregateSample` fields
/// (`Count`, `Rate`, `Sum`, `Min`, `Max`), then `Mean`, `Stddev` and `Labels`.
fn sampled<'a>(
    out: &mut String,
    values: impl Iterator<Item = &'a (std::sync::Arc<SeriesNames>, Aggregate)>,
) {
    out.push('[');
    for (i, (names, aggregate)) in values.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"Name\":");
        string(out, &names.json_name);
        let number = |value: f64| json_number(value, false);
        let _ = write!(
            out,
            ",\"Count\":{},\"Rate\":{},\"Sum\":{},\"Min\":{},\"Max\":{},\"Mean\":{},\"Stddev\":{},\"Labels\":",
            aggregate.count,
            number(aggregate.rate(INTERVAL_SECONDS as f64)),
            number(aggregate.sum),
            number(aggregate.min),
            number(aggregate.max),
            number(aggregate.mean()),
            number(aggregate.stddev()),
        );
        labels(out, names);
        out.push('}');
    }
    out.push(']');
}

/// A series' labels as Go shows a `map[string]string`: sorted by name, the last of a
/// repeated name winning.
fn labels(out: &mut String, names: &SeriesNames) {
    let map: BTreeMap<&str, &str> = names
        .labels
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    out.push('{');
    for (i, (key, value)) in map.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, key);
        out.push(':');
        string(out, value);
    }
    out.push('}');
}

/// A JSON string as `encoding/json` escapes it (HTML-safe).
fn string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Compact JSON indented as `json.MarshalIndent(v, "", "    ")` writes it: empty
/// arrays and objects stay `[]` and `{}`.
pub fn indent(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let bytes: Vec<char> = compact.chars().collect();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"    ".repeat(depth));
    };
    for (i, &c) in bytes.iter().enumerate() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let closes = if c == '{' { '}' } else { ']' };
                if bytes.get(i + 1) == Some(&closes) {
                    continue;
                }
                depth += 1;
                newline(&mut out, depth);
            }
            '}' | ']' => {
                let opens = if c == '}' { '{' } else { '[' };
                if i > 0 && bytes[i - 1] == opens {
                    out.push(c);
                    continue;
                }
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn names(name: &str, labels: &[(&str, &str)]) -> Arc<SeriesNames> {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Arc::new(SeriesNames::new("consul", None, name, labels))
    }

    #[test]
    fn the_summary_has_go_metrics_shape() {
        let mut interval = Interval {
            start: 1_502_160_910,
            ..Interval::default()
        };
        let alloc = names("runtime.alloc_bytes", &[]);
        interval
            .gauges
            .insert(alloc.json_hash.clone(), (alloc, 4_704_344.0));
        let apply = names("raft.apply", &[]);
        let mut once = Aggregate::default();
        once.ingest(1.0);
        interval
            .counters
            .insert(apply.json_hash.clone(), (apply, once));
        let http = names(
            "api.http",
            &[("method", "GET"), ("path", "v1_agent_metrics")],
        );
        let mut timer = Aggregate::default();
        timer.ingest(f64::from(0.18_f32));
        interval
            .samples
            .insert(http.json_hash.clone(), (http, timer));
        assert_eq!(
            summary(&interval),
            concat!(
                r#"{"Timestamp":"2017-08-08 02:55:10 +0000 UTC","#,
                r#""Gauges":[{"Name":"consul.runtime.alloc_bytes","Value":4704344,"Labels":{}}],"#,
                r#""PrecisionGauges":[],"Points":[],"#,
                r#""Counters":[{"Name":"consul.raft.apply","Count":1,"Rate":0.1,"Sum":1,"Min":1,"Max":1,"Mean":1,"Stddev":0,"Labels":{}}],"#,
                r#""Samples":[{"Name":"consul.api.http","Count":1,"Rate":0.01800000071525574,"Sum":0.18000000715255737,"Min":0.18000000715255737,"Max":0.18000000715255737,"Mean":0.18000000715255737,"Stddev":0,"Labels":{"method":"GET","path":"v1_agent_metrics"}}]}"#
            )
        );
    }

    #[test]
    fn strings_escape_like_go_and_pretty_indents_like_marshal_indent() {
        let mut out = String::new();
        string(&mut out, "a<b>&\"\n");
        assert_eq!(out, r#""a\u003cb\u003e\u0026\"\n""#);
        assert_eq!(
            indent(r#"{"A":[],"B":{"c":"x,y:{"},"D":[1,2]}"#),
            "{\n    \"A\": [],\n    \"B\": {\n        \"c\": \"x,y:{\"\n    },\n    \"D\": [\n        1,\n        2\n    ]\n}"
        );
    }
}
