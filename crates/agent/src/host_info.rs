//! Facts about the machine the agent runs on, in the shape of Consul's
//! `debug.CollectHostInfo` (gopsutil's structs, lower-camel keys): `Memory`, `CPU`,
//! `Host`, `Disk` (of `/`), `CollectionTime` (Unix nanoseconds) and `Errors`.
//!
//! Read portably with the `sysinfo` crate. Where gopsutil reads more than `sysinfo`
//! offers, Linux's `/proc/cpuinfo` fills a CPU's `family`, `model`, `stepping`,
//! `physicalId`, `coreId`, `cores`, `cacheSize`, `flags` and `microcode` (empty
//! elsewhere). Not collected: the kernel's detailed memory counters (`buffers`,
//! `cached`, `slab`, ... : only `total`, `available`, `used`, `usedPercent`, `free`,
//! `swapTotal`, `swapFree`), the disk's inode counts, and `virtualizationSystem`/`Role`
//! (empty). A part that cannot be read is `null` with its error in `Errors`, as Consul
//! reports it.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sysinfo::{Disks, ProcessRefreshKind, ProcessesToUpdate, System};

/// Collects everything now (blocking: it reads `/proc` or the platform's equivalent).
pub fn collect() -> Value {
    let mut errors: Vec<String> = Vec::new();
    let mut system = match System::new() {
        Ok(system) => Some(system),
        Err(error) => {
            errors.push(format!("system: {error}"));
            None
        }
    };
    let memory = system.as_mut().map_or(Value::Null, memory);
    let cpu = system.as_mut().map_or(Value::Null, cpus);
    let host = host(system.as_mut(), &mut errors);
    let disk = match Disks::new_with_refreshed_list() {
        Ok(disks) => disk(&disks).unwrap_or_else(|| {
            errors.push("disk: no file system is mounted on /".to_string());
            Value::Null
        }),
        Err(error) => {
            errors.push(format!("disk: {error}"));
            Value::Null
        }
    };
    let collection_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        });
    json!({
        "Memory": memory,
        "CPU": cpu,
        "Host": host,
        "Disk": disk,
        "CollectionTime": collection_time,
        "Errors": if errors.is_empty() { Value::Null } else { json!(errors) },
    })
}

/// gopsutil's `VirtualMemoryStat`, the keys `sysinfo` can fill.
fn memory(system: &mut System) -> Value {
    system.refresh_memory();
    let total = system.total_memory();
    let used = system.used_memory();
    json!({
        "total": total,
        "available": system.available_memory(),
        "used": used,
        "usedPercent": percent(used, total),
        "free": system.free_memory(),
        "swapTotal": system.total_swap(),
        "swapFree": system.free_swap(),
    })
}

/// gopsutil's `InfoStat`, one per logical CPU.
fn cpus(system: &mut System) -> Value {
    system.refresh_cpu_all();
    let details = std::fs::read_to_string("/proc/cpuinfo")
        .map(|text| cpuinfo_blocks(&text))
        .unwrap_or_default();
    system
        .cpus()
        .iter()
        .enumerate()
        .map(|(index, cpu)| {
            let detail = |key: &str| {
                details
                    .get(index)
                    .and_then(|block| block.get(key))
                    .cloned()
                    .unwrap_or_default()
            };
            let number = |key: &str| detail(key).parse::<u64>().unwrap_or_default();
            json!({
                "cpu": index,
                "vendorId": cpu.vendor_id(),
                "family": detail("cpu family"),
                "model": detail("model"),
                "stepping": number("stepping"),
                "physicalId": detail("physical id"),
                "coreId": detail("core id"),
                "cores": number("cpu cores").max(1),
                "modelName": cpu.brand(),
                "mhz": cpu.frequency(),
                "cacheSize": detail("cache size")
                    .split_whitespace()
                    .next()
                    .and_then(|size| size.parse::<u64>().ok())
                    .unwrap_or_default(),
                "flags": detail("flags").split_whitespace().collect::<Vec<_>>(),
                "microcode": detail("microcode"),
            })
        })
        .collect()
}

/// `/proc/cpuinfo`'s blocks (one per logical CPU), as key/value maps.
fn cpuinfo_blocks(text: &str) -> Vec<BTreeMap<String, String>> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            block
                .lines()
                .filter_map(|line| {
                    let (key, value) = line.split_once(':')?;
                    Some((key.trim().to_string(), value.trim().to_string()))
                })
                .collect()
        })
        .collect()
}

/// gopsutil's `InfoStat` of the host.
fn host(system: Option<&mut System>, errors: &mut Vec<String>) -> Value {
    let mut read = |what: &str, value: Result<String, sysinfo::Error>| {
        value.unwrap_or_else(|error| {
            errors.push(format!("host {what}: {error}"));
            String::new()
        })
    };
    let hostname = read("name", System::host_name());
    let kernel_version = read("kernel version", System::kernel_version());
    let platform_version = System::os_version().unwrap_or_default();
    let uptime = System::uptime().unwrap_or_default();
    let boot_time = System::boot_time().unwrap_or_default();
    let procs = system.map_or(0, |system| {
        system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing(),
        );
        system.processes().len()
    });
    let platform = System::distribution_id();
    let family = System::distribution_id_like()
        .into_iter()
        .next()
        .unwrap_or_else(|| platform.clone());
    json!({
        "hostname": hostname,
        "uptime": uptime,
        "bootTime": boot_time,
        "procs": procs,
        "os": std::env::consts::OS,
        "platform": platform,
        "platformFamily": family,
        "platformVersion": platform_version,
        "kernelVersion": kernel_version,
        "kernelArch": System::cpu_arch(),
        "virtualizationSystem": "",
        "virtualizationRole": "",
        "hostId": std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|id| id.trim().to_string())
            .unwrap_or_default(),
    })
}

/// gopsutil's `UsageStat` of `/` (no inode counts).
fn disk(disks: &Disks) -> Option<Value> {
    let root = disks
        .iter()
        .find(|disk| disk.mount_point() == std::path::Path::new("/"))?;
    let total = root.total_space();
    let free = root.available_space();
    let used = total.saturating_sub(free);
    Some(json!({
        "path": "/",
        "fstype": root.file_system().to_string_lossy(),
        "total": total,
        "free": free,
        "used": used,
        "usedPercent": percent(used, used + free),
    }))
}

/// `part` of `whole` in percent (0 when `whole` is 0).
#[allow(clippy::cast_precision_loss)]
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_has_gopsutils_keys() {
        let info = collect();
        assert!(info["CollectionTime"].as_u64().unwrap() > 0);
        for key in ["total", "available", "used", "usedPercent", "free"] {
            assert!(info["Memory"][key].is_number(), "Memory.{key}: {info}");
        }
        assert!(info["Memory"]["total"].as_u64().unwrap() > 0);
        let cpus = info["CPU"].as_array().unwrap();
        assert!(!cpus.is_empty());
        assert_eq!(cpus[0]["cpu"], 0);
        for key in ["hostname", "os", "kernelVersion", "kernelArch", "platform"] {
            assert!(info["Host"][key].is_string(), "Host.{key}: {info}");
        }
        assert!(info["Host"]["uptime"].as_u64().unwrap() > 0);
        assert!(info["Host"]["procs"].as_u64().unwrap() > 0);
    }

    #[test]
    fn cpuinfo_blocks_are_read() {
        let blocks = cpuinfo_blocks(
            "processor\t: 0\nmodel name\t: X\ncpu family\t: 6\n\nprocessor\t: 1\nflags\t\t: fpu vme\n",
        );
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0]["cpu family"], "6");
        assert_eq!(blocks[1]["flags"], "fpu vme");
        assert_eq!(percent(1, 4), 25.0);
        assert_eq!(percent(1, 0), 0.0);
    }
}
