//! Go durations (`"10s"`, `"1h30m"`, `"-1.5µs"`) as query parameters and bodies carry
//! them: any text parses or is refused, and what parses formats back without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proconsul_api::duration::{format_duration, parse_duration};

fuzz_target!(|data: &[u8]| {
    if let Ok(duration) = parse_duration(&String::from_utf8_lossy(data)) {
        let _ = format_duration(duration);
    }
});
