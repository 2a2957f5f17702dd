//! `GET /v1/agent/host` and `GET /v1/agent/version` against a real agent: Consul's
//! shapes (gopsutil's keys under `Memory`, `CPU`, `Host`, `Disk`; `SHA`, `BuildDate`,
//! `HumanVersion`, `FIPS`), and with ACLs, `operator:read` for the host and nothing for
//! the version (any token, even an unknown one).

use proconsul_tests::{TempDir, TestAgent, call_with_token, get, write_file};
use serde_json::json;

const MANAGEMENT: &str = "a1b2c3d4-0000-4000-8000-00000000beef";

#[tokio::test]
async fn host_and_version_have_consuls_shape() {
    let agent = TestAgent::start();
    let host = get(&agent.url("/v1/agent/host")).await;
    assert_eq!(host.status, 200, "{}", host.body);
    let host = host.json();
    assert!(host["CollectionTime"].as_u64().unwrap() > 0, "{host}");
    assert!(host["Errors"].is_null(), "{host}");
    for key in ["total", "available", "used", "usedPercent", "free"] {
        assert!(host["Memory"][key].is_number(), "Memory.{key}: {host}");
    }
    let cpu = &host["CPU"][0];
    for key in ["cpu", "cores", "mhz", "stepping", "cacheSize"] {
        assert!(cpu[key].is_number(), "CPU.{key}: {cpu}");
    }
    for key in ["vendorId", "modelName", "family", "model", "microcode"] {
        assert!(cpu[key].is_string(), "CPU.{key}: {cpu}");
    }
    assert!(cpu["flags"].is_array(), "{cpu}");
    for key in [
        "hostname",
        "os",
        "platform",
        "platformFamily",
        "platformVersion",
        "kernelVersion",
        "kernelArch",
        "hostId",
    ] {
        assert!(host["Host"][key].is_string(), "Host.{key}: {host}");
    }
    assert_eq!(host["Host"]["os"], std::env::consts::OS);
    for key in ["uptime", "bootTime", "procs"] {
        assert!(
            host["Host"][key].as_u64().unwrap() > 0,
            "Host.{key}: {host}"
        );
    }
    assert_eq!(host["Disk"]["path"], "/");
    assert!(host["Disk"]["total"].as_u64().unwrap() > 0, "{host}");
    assert!(host["Disk"]["fstype"].is_string(), "{host}");

    let version = get(&agent.url("/v1/agent/version")).await;
    assert_eq!(version.status, 200);
    let version = version.json();
    let keys: Vec<&String> = version.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["BuildDate", "FIPS", "HumanVersion", "SHA"]);
    assert_eq!(version["HumanVersion"], "1.22.0");
    assert_eq!(version["FIPS"], "");
    assert!(version["SHA"].is_string());
    assert!(
        version["BuildDate"].as_str().unwrap().ends_with('Z'),
        "{version}"
    );
}

#[tokio::test]
async fn host_needs_operator_read_and_version_nothing() {
    let dir = TempDir::new("host-acl");
    let config = write_file(
        dir.path(),
        "acl.json",
        &json!({"primary_datacenter": "dc1",
                "acl": {"enabled": true, "default_policy": "deny",
                        "tokens": {"initial_management": MANAGEMENT}}})
        .to_string(),
    );
    let agent = TestAgent::start_with(&["-config-file", &config]);
    let as_token = |path: &str, token: Option<&str>| {
        let url = agent.url(path);
        let token = token.map(str::to_string);
        async move { call_with_token("GET", &url, token.as_deref(), None).await }
    };
    let policy = call_with_token(
        "PUT",
        &agent.url("/v1/acl/policy"),
        Some(MANAGEMENT),
        Some(
            json!({"Name": "op-read", "Rules": "operator = \"read\""})
                .to_string()
                .into_bytes(),
        ),
    )
    .await
    .json();
    let token = call_with_token(
        "PUT",
        &agent.url("/v1/acl/token"),
        Some(MANAGEMENT),
        Some(
            json!({"Policies": [{"ID": policy["ID"]}]})
                .to_string()
                .into_bytes(),
        ),
    )
    .await
    .json();
    let operator = token["SecretID"].as_str().unwrap().to_string();
    let agent_reader = {
        let policy = call_with_token(
            "PUT",
            &agent.url("/v1/acl/policy"),
            Some(MANAGEMENT),
            Some(
                json!({"Name": "agent-read", "Rules": "agent_prefix \"\" { policy = \"read\" }"})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await
        .json();
        call_with_token(
            "PUT",
            &agent.url("/v1/acl/token"),
            Some(MANAGEMENT),
            Some(
                json!({"Policies": [{"ID": policy["ID"]}]})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await
        .json()["SecretID"]
            .as_str()
            .unwrap()
            .to_string()
    };

    let anonymous = as_token("/v1/agent/host", None).await;
    assert_eq!(anonymous.status, 403, "{}", anonymous.body);
    assert!(
        anonymous.body.contains("lacks permission 'operator:read'"),
        "{}",
        anonymous.body
    );
    let agent_read = as_token("/v1/agent/host", Some(&agent_reader)).await;
    assert_eq!(agent_read.status, 403, "{}", agent_read.body);
    let granted = as_token("/v1/agent/host", Some(&operator)).await;
    assert_eq!(granted.status, 200, "{}", granted.body);
    assert!(granted.json()["CollectionTime"].as_u64().is_some());

    for token in [
        None,
        Some("0badc0de-0000-4000-8000-000000000000"),
        Some(operator.as_str()),
    ] {
        let version = as_token("/v1/agent/version", token).await;
        assert_eq!(version.status, 200, "{token:?}: {}", version.body);
        assert_eq!(version.json()["HumanVersion"], "1.22.0");
    }
}
