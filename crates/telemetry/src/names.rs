//! The names a metric is shown under, built once per series: go-metrics' in-memory key
//! (`consul.raft.apply`, and the hash it sorts by, `consul.api.http;method=GET;...`) and
//! its Prometheus sink's (`consul_raft_apply`, labels sorted by name). Names are given
//! to the facade without the prefix (`raft.apply`); gauges also carry the host name when
//! `disable_hostname` is false, as go-metrics inserts it.

/// How one series is named in each output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesNames {
    /// go-metrics' flattened key: parts joined by `.`, spaces as `_`.
    pub json_name: String,
    /// What the in-memory sink sorts by: the key and `;name=value` per label.
    pub json_hash: String,
    /// The labels as given (JSON shows them as a map, sorted by name).
    pub labels: Vec<(String, String)>,
    /// The Prometheus sink's name: ` `, `.`, `=`, `-` and `/` as `_`, case kept.
    pub prom_name: String,
    /// `name="value",...` sorted by name, escaped; empty without labels.
    pub prom_labels: String,
}

impl SeriesNames {
    /// The names of metric `name` (without the prefix) with `labels`, under `prefix`
    /// (none when empty) and `host` (gauges, unless `disable_hostname`).
    pub fn new(
        prefix: &str,
        host: Option<&str>,
        name: &str,
        labels: Vec<(String, String)>,
    ) -> Self {
        let mut parts: Vec<&str> = Vec::with_capacity(3);
        if !prefix.is_empty() {
            parts.push(prefix);
        }
        if let Some(host) = host.filter(|host| !host.is_empty()) {
            parts.push(host);
        }
        parts.push(name);
        let full = parts.join(".");
        let json_name = full.replace(' ', "_");
        let mut json_hash = json_name.clone();
        for (key, value) in &labels {
            json_hash.push_str(&format!(";{key}={value}").replace(' ', "_"));
        }
        SeriesNames {
            prom_name: prometheus_name(&full),
            prom_labels: prometheus_labels(&labels),
            json_name,
            json_hash,
            labels,
        }
    }

    /// How many labels the series has (client_golang sorts a family by this first).
    pub fn label_count(&self) -> usize {
        self.labels.len()
    }

    /// The label values in label-name order (client_golang's order within a family).
    pub fn sorted_values(&self) -> Vec<&str> {
        let mut pairs: Vec<&(String, String)> = self.labels.iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.into_iter().map(|(_, value)| value.as_str()).collect()
    }
}

/// go-metrics' Prometheus name of a dotted key.
pub fn prometheus_name(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            ' ' | '.' | '=' | '-' | '/' => '_',
            other => other,
        })
        .collect()
}

/// `name="value"` pairs sorted by name, values escaped as the text format wants.
fn prometheus_labels(labels: &[(String, String)]) -> String {
    let mut pairs: Vec<&(String, String)> = labels.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
        .iter()
        .map(|(name, value)| format!("{name}=\"{}\"", escape_label_value(value)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The text format's escaping of a label value: backslash, quote and newline.
pub fn escape_label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The text format's escaping of HELP text: backslash and newline.
pub fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_follow_go_metrics() {
        let timer = SeriesNames::new(
            "consul",
            None,
            "api.http",
            labels(&[("path", "v1_kv_"), ("method", "GET")]),
        );
        assert_eq!(timer.json_name, "consul.api.http");
        assert_eq!(timer.json_hash, "consul.api.http;path=v1_kv_;method=GET");
        assert_eq!(timer.prom_name, "consul_api_http");
        assert_eq!(timer.prom_labels, r#"method="GET",path="v1_kv_""#);
        assert_eq!(timer.sorted_values(), ["GET", "v1_kv_"]);
        let commit = SeriesNames::new("consul", None, "raft.commitTime", Vec::new());
        assert_eq!(commit.prom_name, "consul_raft_commitTime");
        assert_eq!(commit.prom_labels, "");
        let gauge = SeriesNames::new(
            "consul",
            Some("web-1.example"),
            "runtime.alloc_bytes",
            Vec::new(),
        );
        assert_eq!(gauge.json_name, "consul.web-1.example.runtime.alloc_bytes");
        assert_eq!(gauge.prom_name, "consul_web_1_example_runtime_alloc_bytes");
        let bare = SeriesNames::new(
            "",
            None,
            "catalog.service.query-tags",
            labels(&[("tag", "a b")]),
        );
        assert_eq!(bare.json_hash, "catalog.service.query-tags;tag=a_b");
        assert_eq!(bare.prom_name, "catalog_service_query_tags");
    }

    #[test]
    fn label_values_and_help_are_escaped() {
        assert_eq!(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(escape_help("x\\y\nz"), "x\\\\y\\nz");
    }
}
