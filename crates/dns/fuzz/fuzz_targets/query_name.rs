//! The query-name parser on arbitrary labels: it must return a lookup for anything.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).to_ascii_lowercase();
    let labels: Vec<&str> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('.').collect()
    };
    let _ = proconsul_dns::name::parse(&labels);
});
