//! Request bodies as the HTTP handlers decode them: arbitrary bytes as JSON, then
//! decoded as Go decodes it (`decode_lenient`) into every request type Consul's
//! endpoints take. Each must give a value or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proconsul_api::acl::{AclPolicy, AclRole, AclToken};
use proconsul_api::connect::IntentionRequest;
use proconsul_api::decode::decode_lenient;
use proconsul_api::query::PreparedQuery;
use proconsul_api::{
    CatalogDeregistration, CatalogRegistration, CheckRegistration, ServiceRegistration, Session,
};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = decode_lenient::<ServiceRegistration>(value.clone());
    let _ = decode_lenient::<CheckRegistration>(value.clone());
    let _ = decode_lenient::<CatalogRegistration>(value.clone());
    let _ = decode_lenient::<CatalogDeregistration>(value.clone());
    let _ = decode_lenient::<Session>(value.clone());
    let _ = decode_lenient::<AclToken>(value.clone());
    let _ = decode_lenient::<AclPolicy>(value.clone());
    let _ = decode_lenient::<AclRole>(value.clone());
    let _ = decode_lenient::<IntentionRequest>(value.clone());
    let _ = decode_lenient::<PreparedQuery>(value);
});
