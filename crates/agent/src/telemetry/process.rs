//! What Go's runtime metrics become in Rust, read from `/proc/self` and tokio:
//! - `runtime.alloc_bytes` and `runtime.sys_bytes`: the resident set size (Go's heap
//!   in use and memory obtained from the OS have no allocator-independent counterpart;
//!   RSS is what both approximate for an operator);
//! - `runtime.num_goroutines`: tokio's alive tasks;
//! - `runtime.total_gc_pause_ns`: 0 (no garbage collector).

/// The resident set size in bytes (`VmRSS` of `/proc/self/status`).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Tasks alive on the current tokio runtime, if there is one.
pub fn alive_tasks() -> Option<usize> {
    tokio::runtime::Handle::try_current()
        .ok()
        .map(|handle| handle.metrics().num_alive_tasks())
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_has_a_resident_size() {
        assert!(super::resident_bytes().is_some_and(|bytes| bytes > 0));
    }
}
