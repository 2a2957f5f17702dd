//! Per-server monotonic reads: what `?stale` promises. On one server (one run of its
//! process), a read that began after another completed never answers with a lower
//! index. O(n log n) per server.

use std::collections::BTreeMap;

/// One read's server, interval and the index it answered with.
#[derive(Debug, Clone)]
pub struct IndexedRead {
    pub server: String,
    pub invoke_ns: u64,
    pub complete_ns: u64,
    pub index: u64,
    /// How the read is named in an error.
    pub label: String,
}

/// Checks that no read answered with a lower index than one that completed before it
/// began on the same server.
pub fn check(reads: &[IndexedRead]) -> Result<(), String> {
    let mut by_server: BTreeMap<&str, Vec<&IndexedRead>> = BTreeMap::new();
    for read in reads {
        by_server.entry(&read.server).or_default().push(read);
    }
    for reads in by_server.values() {
        let mut by_invoke = reads.clone();
        by_invoke.sort_by_key(|read| read.invoke_ns);
        let mut by_complete = reads.clone();
        by_complete.sort_by_key(|read| read.complete_ns);
        let mut done = 0;
        let mut highest: Option<&IndexedRead> = None;
        for read in by_invoke {
            while done < by_complete.len() && by_complete[done].complete_ns < read.invoke_ns {
                if highest.is_none_or(|high| by_complete[done].index > high.index) {
                    highest = Some(by_complete[done]);
                }
                done += 1;
            }
            if let Some(high) = highest
                && read.index < high.index
            {
                return Err(format!(
                    "index went back on {}: {} answered {} after {} had answered {}",
                    read.server, read.label, read.index, high.label, high.index
                ));
            }
        }
    }
    Ok(())
}
