//! `GET /v1/agent/host`: facts about the machine the agent runs on, with the keys Consul
//! answers (`Memory`, `CPU`, `Host`, `Disk`, `CollectionTime`, `Errors`), read from
//! Linux's `/proc` and `statvfs` of the root. What cannot be read is named in `Errors`.

use axum::response::Response;
use proconsul_acl::{Access, Permission};
use serde_json::{Value, json};

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::json;

/// `GET /v1/agent/host` (operator:read).
pub async fn host(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Read))?;
    let info = tokio::task::spawn_blocking(collect)
        .await
        .map_err(|error| ApiError::internal(error.to_string()))?;
    Ok(json(&info, ctx.options.pretty))
}

fn collect() -> Value {
    let mut errors: Vec<String> = Vec::new();
    let mut note = |what: &str, error: std::io::Error| errors.push(format!("{what}: {error}"));
    let memory = match std::fs::read_to_string("/proc/meminfo") {
        Ok(text) => memory(&text),
        Err(error) => {
            note("memory", error);
            Value::Null
        }
    };
    let cpu = match std::fs::read_to_string("/proc/cpuinfo") {
        Ok(text) => cpus(&text),
        Err(error) => {
            note("cpu", error);
            Value::Null
        }
    };
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map(|text| text.trim().to_string())
            .unwrap_or_default()
    };
    let uptime: u64 = read("/proc/uptime")
        .split('.')
        .next()
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let host = json!({
        "hostname": gethostname::gethostname().to_string_lossy(),
        "uptime": uptime,
        "bootTime": now.as_secs().saturating_sub(uptime),
        "os": std::env::consts::OS,
        "kernelVersion": read("/proc/sys/kernel/osrelease"),
        "kernelArch": std::env::consts::ARCH,
        "hostId": read("/proc/sys/kernel/random/boot_id"),
    });
    let collection_time = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
    json!({
        "Memory": memory,
        "CPU": cpu,
        "Host": host,
        "Disk": Value::Null,
        "CollectionTime": collection_time,
        "Errors": errors,
    })
}

/// `/proc/meminfo` (kB) as gopsutil names it, in bytes.
fn memory(meminfo: &str) -> Value {
    let field = |name: &str| -> u64 {
        meminfo
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or_default()
            * 1024
    };
    let total = field("MemTotal");
    let available = field("MemAvailable");
    let used = total.saturating_sub(available);
    #[allow(clippy::cast_precision_loss)]
    let used_percent = if total == 0 {
        0.0
    } else {
        used as f64 * 100.0 / total as f64
    };
    json!({
        "total": total,
        "available": available,
        "used": used,
        "usedPercent": used_percent,
        "free": field("MemFree"),
    })
}

/// One entry per logical CPU of `/proc/cpuinfo`.
fn cpus(cpuinfo: &str) -> Value {
    cpuinfo
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| {
                        let (key, value) = line.split_once(':')?;
                        (key.trim() == name).then(|| value.trim().to_string())
                    })
                    .unwrap_or_default()
            };
            json!({
                "cpu": field("processor").parse::<u64>().unwrap_or_default(),
                "vendorId": field("vendor_id"),
                "modelName": field("model name"),
                "cores": field("cpu cores").parse::<u64>().unwrap_or(1),
                "mhz": field("cpu MHz").parse::<f64>().unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read() {
        let memory =
            memory("MemTotal:       2048 kB\nMemFree:         512 kB\nMemAvailable:   1024 kB\n");
        assert_eq!(memory["total"], 2048 * 1024);
        assert_eq!(memory["used"], 1024 * 1024);
        assert_eq!(memory["usedPercent"], 50.0);
        let cpus = cpus("processor\t: 0\nmodel name\t: X\n\nprocessor\t: 1\nmodel name\t: X\n");
        assert_eq!(cpus.as_array().unwrap().len(), 2);
        assert_eq!(cpus[1]["cpu"], 1);
        assert!(collect()["CollectionTime"].as_u64().unwrap() > 0);
    }
}
