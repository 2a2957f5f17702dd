//! Counters labelled by service name (and tag), as Consul's catalog and health
//! endpoints count their queries: `<family>.query{service}`, `<family>.query-tags
//! {service, tag}` and `<family>.not-found{service}`. Handles are made once per label
//! set and found again without allocating; their number is bounded ([`MAX_SERIES`]
//! per family), so clients asking for endless made-up names cannot grow the registry:
//! past the bound, new names are counted under `service="_other"`.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use metrics::{Counter, counter};

/// The most label sets one counter name keeps.
pub const MAX_SERIES: usize = 1024;
/// The label value past [`MAX_SERIES`].
const OVERFLOW: &str = "_other";

/// One counter name's handles by label values (`service`, or `service\0tag`).
#[derive(Debug)]
struct Labelled {
    name: &'static str,
    handles: ArcSwap<HashMap<Box<str>, Counter>>,
}

impl Labelled {
    fn new(name: &'static str) -> Labelled {
        Labelled {
            name,
            handles: ArcSwap::from_pointee(HashMap::new()),
        }
    }

    /// Adds one to the series of `service` (and `tag`, when given).
    fn increment(&self, service: &str, tag: Option<&str>) {
        let mut lookup = String::new();
        let key: &str = match tag {
            Some(tag) => {
                lookup.reserve(service.len() + tag.len() + 1);
                lookup.push_str(service);
                lookup.push('\0');
                lookup.push_str(tag);
                &lookup
            }
            None => service,
        };
        if let Some(handle) = self.handles.load().get(key) {
            handle.increment(1);
            return;
        }
        self.make(key, service, tag).increment(1);
    }

    /// The handle of a label set not seen yet (or the overflow's, past the bound).
    fn make(&self, key: &str, service: &str, tag: Option<&str>) -> Counter {
        let name = self.name;
        let mut made = None;
        self.handles.rcu(|handles| {
            let mut handles = HashMap::clone(handles);
            let (key, service) = if handles.len() >= MAX_SERIES && !handles.contains_key(key) {
                (OVERFLOW, OVERFLOW)
            } else {
                (key, service)
            };
            let handle = handles
                .entry(key.into())
                .or_insert_with(|| match tag {
                    Some(tag) if service != OVERFLOW => {
                        counter!(name, "service" => service.to_string(), "tag" => tag.to_string())
                    }
                    _ => counter!(name, "service" => service.to_string()),
                })
                .clone();
            made = Some(handle);
            Arc::new(handles)
        });
        made.expect("rcu ran at least once")
    }
}

/// The query counters of one endpoint family (`catalog.service`, `health.service`...).
#[derive(Debug)]
pub struct ServiceQueries {
    query: Labelled,
    query_tags: Labelled,
    not_found: Labelled,
}

impl ServiceQueries {
    /// The counters `<family>.query`, `<family>.query-tags` and `<family>.not-found`.
    pub fn new(family: &'static str) -> ServiceQueries {
        let leak = |suffix: &str| -> &'static str {
            Box::leak(format!("{family}.{suffix}").into_boxed_str())
        };
        ServiceQueries {
            query: Labelled::new(leak("query")),
            query_tags: Labelled::new(leak("query-tags")),
            not_found: Labelled::new(leak("not-found")),
        }
    }

    /// Counts a query for `service` with `tags` (`?tag`, repeated) that found
    /// something or not. As in Consul, tags are sorted, and of the repeated `tag` label
    /// the last one is what go-metrics' sinks keep.
    pub fn record(&self, service: &str, tags: &[String], found: bool) {
        self.query.increment(service, None);
        if let Some(last) = tags.iter().max() {
            self.query_tags.increment(service, Some(last));
        }
        if !found {
            self.not_found.increment(service, None);
        }
    }
}
