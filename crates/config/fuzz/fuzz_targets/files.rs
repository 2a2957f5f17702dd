//! Configuration files: any text, read as an HCL file and as a JSON file, loads or is
//! refused with an error naming the file, never a panic.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use proconsul_config::load_texts;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    for name in ["fuzz.hcl", "fuzz.json"] {
        if let Err(error) = load_texts(&[(PathBuf::from(name), text.clone())]) {
            assert!(error.to_string().starts_with(name), "{error}");
        }
    }
});
