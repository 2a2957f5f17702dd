//! Request bodies decoded the way Consul decodes them (see `proconsul_api::decode`), with
//! decoding errors reported as 400s.

use proconsul_api::decode::decode_lenient;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::http::error::ApiError;

/// Parses `body` as JSON and decodes it into `T` with Consul's lenient field matching.
/// An empty body decodes as `{}`, as Consul treats it.
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|error| ApiError::bad_request(format!("Request decode failed: {error}")))?
    };
    decode_lenient(value)
        .map_err(|error| ApiError::bad_request(format!("Request decode failed: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proconsul_api::ServiceRegistration;

    #[test]
    fn lowercase_and_snake_case_keys_match() {
        let body = br#"{"name":"pg","id":"scope/pg0","enabletagoverride":true,"tags":["master"],
            "meta":{"Some_Key":"v"},"check":{"http":"http://x","deregister_critical_service_after":"30s","interval":"5s"},
            "tagged_addresses":{"lan_ipv4":{"address":"10.0.0.1","port":5432}}}"#;
        let service: ServiceRegistration = decode_body(body).unwrap();
        assert_eq!(service.name, "pg");
        assert_eq!(service.id, "scope/pg0");
        assert!(service.enable_tag_override);
        assert_eq!(service.tags, ["master"]);
        assert_eq!(service.meta["Some_Key"], "v");
        let check = service.check.unwrap();
        assert_eq!(check.http.as_deref(), Some("http://x"));
        assert_eq!(
            check.deregister_critical_service_after.as_deref(),
            Some("30s")
        );
        assert_eq!(service.tagged_addresses["lan_ipv4"].port, 5432);
    }

    #[test]
    fn malformed_bodies_are_400_with_a_reason() {
        for body in [&b"{"[..], b"[1,2]", b"{\"Port\":\"80\"}", b"\xff\xfe"] {
            let error = decode_body::<ServiceRegistration>(body).unwrap_err();
            assert_eq!(error.status, 400);
            assert!(
                error.message.starts_with("Request decode failed"),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn numeric_durations_are_nanoseconds() {
        let check: proconsul_api::CheckRegistration =
            decode_body(br#"{"Name":"s","Args":["/bin/true"],"Interval":10,"ttl":1000000000}"#)
                .unwrap();
        assert_eq!(check.interval.as_deref(), Some("10ns"));
        assert_eq!(check.ttl.as_deref(), Some("1000000000ns"));
    }

    #[test]
    fn empty_body_is_an_empty_object() {
        let service: ServiceRegistration = decode_body(b"  ").unwrap();
        assert_eq!(service, ServiceRegistration::default());
    }
}
