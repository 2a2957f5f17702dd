//! `?format=prometheus` as Consul answers it (client_golang's text format 0.0.4 over
//! go-metrics' Prometheus sink): families sorted by name, each with `# HELP` and
//! `# TYPE`; counters without `_total`; timers as summaries with `quantile="0.5"`,
//! `"0.9"`, `"0.99"` over the last ten seconds (`NaN` when none), `_sum` and `_count`;
//! within a family, series sorted by their number of labels, then label values. Series
//! not updated for `prometheus_retention_time` are left out, except declared ones.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::Kind;
use crate::go_format::prometheus_value;
use crate::names::{SeriesNames, escape_help};
use crate::sink::{Series, Sink};

/// The quantiles every summary shows (go-metrics' objectives).
const QUANTILES: [(f64, &str); 3] = [(0.5, "0.5"), (0.9, "0.9"), (0.99, "0.99")];

/// One series' numbers.
enum Value {
    Scalar(f64),
    Summary {
        quantiles: Vec<Option<f64>>,
        sum: f64,
        count: u64,
    },
}

/// One family: its type, HELP and series.
struct Family<'a> {
    kind: Kind,
    help: String,
    members: Vec<(&'a SeriesNames, Value)>,
}

/// The whole text as of `now_seconds`.
pub fn render(sink: &Sink, now_seconds: u64) -> String {
    let retention = sink.settings.prometheus_retention.as_secs().max(1);
    let mut families: BTreeMap<&str, Family<'_>> = BTreeMap::new();
    let declared_help = |kind: Kind, name: &str| {
        sink.declared
            .iter()
            .find(|declared| declared.kind == kind && declared.names.prom_name == name)
            .map(|declared| declared.help)
    };
    let is_declared = |kind: Kind, names: &SeriesNames| {
        names.labels.is_empty() && declared_help(kind, &names.prom_name).is_some()
    };
    let kinds = [
        (Kind::Counter, &sink.counters),
        (Kind::Gauge, &sink.gauges),
        (Kind::Timer, &sink.timers),
    ];
    for (kind, all) in kinds {
        for series in all.values() {
            let Some(updated) = series.updated else {
                continue;
            };
            let names = series.names.as_ref();
            if now_seconds.saturating_sub(updated) > retention && !is_declared(kind, names) {
                continue;
            }
            let family = families
                .entry(names.prom_name.as_str())
                .or_insert_with(|| Family {
                    kind,
                    help: declared_help(kind, &names.prom_name)
                        .map_or_else(|| names.prom_name.clone(), str::to_string),
                    members: Vec::new(),
                });
            // client_golang refuses a series whose type differs from its family's.
            if family.kind == kind {
                family
                    .members
                    .push((names, value(kind, series, now_seconds)));
            }
        }
    }
    for declared in &sink.declared {
        let family = families
            .entry(declared.names.prom_name.as_str())
            .or_insert_with(|| Family {
                kind: declared.kind,
                help: declared.help.to_string(),
                members: Vec::new(),
            });
        let present = family
            .members
            .iter()
            .any(|(names, _)| names.labels.is_empty());
        if family.kind == declared.kind && !present {
            let zero = match declared.kind {
                Kind::Timer => Value::Summary {
                    quantiles: vec![None; QUANTILES.len()],
                    sum: 0.0,
                    count: 0,
                },
                Kind::Counter | Kind::Gauge => Value::Scalar(0.0),
            };
            family.members.push((&declared.names, zero));
        }
    }
    let mut out = String::with_capacity(families.len() * 256);
    for (name, mut family) in families {
        family.members.sort_by(|(a, _), (b, _)| {
            (a.label_count(), a.sorted_values()).cmp(&(b.label_count(), b.sorted_values()))
        });
        let type_name = match family.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Timer => "summary",
        };
        let _ = writeln!(out, "# HELP {name} {}", escape_help(&family.help));
        let _ = writeln!(out, "# TYPE {name} {type_name}");
        for (names, value) in &family.members {
            write_series(&mut out, name, names, value);
        }
    }
    out
}

/// A series' numbers as of `now_seconds`.
fn value(kind: Kind, series: &Series, now_seconds: u64) -> Value {
    match kind {
        Kind::Counter | Kind::Gauge => Value::Scalar(series.value),
        Kind::Timer => {
            let qs: Vec<f64> = QUANTILES.iter().map(|(q, _)| *q).collect();
            Value::Summary {
                quantiles: series.window.quantiles(now_seconds, &qs),
                sum: series.sum,
                count: series.count,
            }
        }
    }
}

/// The sample lines of one series.
fn write_series(out: &mut String, name: &str, names: &SeriesNames, value: &Value) {
    let labels = &names.prom_labels;
    let braces = |extra: &str| -> String {
        match (labels.is_empty(), extra.is_empty()) {
            (true, true) => String::new(),
            (true, false) => format!("{{{extra}}}"),
            (false, true) => format!("{{{labels}}}"),
            (false, false) => format!("{{{labels},{extra}}}"),
        }
    };
    match value {
        Value::Scalar(number) => {
            let _ = writeln!(out, "{name}{} {}", braces(""), prometheus_value(*number));
        }
        Value::Summary {
            quantiles,
            sum,
            count,
        } => {
            for ((_, text), found) in QUANTILES.iter().zip(quantiles) {
                let _ = writeln!(
                    out,
                    "{name}{} {}",
                    braces(&format!("quantile=\"{text}\"")),
                    prometheus_value(found.unwrap_or(f64::NAN))
                );
            }
            let plain = braces("");
            let _ = writeln!(out, "{name}_sum{plain} {}", prometheus_value(*sum));
            let _ = writeln!(
                out,
                "{name}_count{plain} {}",
                prometheus_value(*count as f64)
            );
        }
    }
}
