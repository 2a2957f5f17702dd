//! The rule parser on arbitrary text (HCL, and JSON when it starts with `{`): it must
//! return rules or an error, never panic; and whatever it accepts must compile into an
//! authorizer that answers without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proconsul_acl::{Authorizer, DefaultPolicy, Rules};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(rules) = Rules::parse(&text) {
        let authz = Authorizer::from_rules(&rules, DefaultPolicy::Deny);
        let name = text.lines().next().unwrap_or_default();
        let _ = authz.key_read(name);
        let _ = authz.key_write_prefix(name);
        let _ = authz.service_read_all();
        let _ = authz.intention_write("*");
    }
});
