//! Registry workloads side by side with peers, each figure the median of several runs
//! in the same process run: registrations (Proconsul dev and durable against rnacos),
//! discovery reads (against rnacos and the axum ceiling), KV put/get (against etcd).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use clap::Args;
use serde_json::json;

use crate::agent_process::AgentProcess;
use crate::kv_put::Api;
use crate::lean_http::{LeanClient, Request};
use crate::load::{LoadResult, closed_loop, median_run};
use crate::peers;
use crate::plot_data::PlotData;

#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// The rnacos binary (`cargo install rnacos`).
    #[arg(long, default_value = "rnacos")]
    pub rnacos: String,
    /// The etcd binary (Debian's etcd-server).
    #[arg(long, default_value = "etcd")]
    pub etcd: String,
    /// Runs per figure; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Seconds per run.
    #[arg(long, default_value_t = 3)]
    pub seconds: u64,
    /// Where figures are appended as CSV for the plots.
    #[arg(long)]
    pub csv: Option<std::path::PathBuf>,
    /// Runs only these parts (all when empty), e.g. to profile one of them.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<RegistryPart>,
}

/// The suite's parts, for `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RegistryPart {
    Registrations,
    Discovery,
    Kv,
}

/// Counts requests across runs so every registration is new.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

pub async fn run(binary: &str, args: RegistryArgs) -> anyhow::Result<()> {
    let mut plot = PlotData::new(args.csv.clone());
    let wanted = |part| args.only.is_empty() || args.only.contains(&part);
    if wanted(RegistryPart::Registrations) {
        registrations(binary, &args, &mut plot).await?;
    }
    if wanted(RegistryPart::Discovery) {
        discovery(binary, &args, &mut plot).await?;
    }
    if wanted(RegistryPart::Kv) {
        key_values(binary, &args, &mut plot).await?;
    }
    plot.flush()
}

fn ratio(ours: &LoadResult, theirs: &LoadResult) -> String {
    format!(
        "{:.2}×",
        ours.per_second() / theirs.per_second().max(f64::EPSILON)
    )
}

fn rate(result: &LoadResult) -> String {
    format!(
        "{:.0} (p99 {:.1} ms)",
        result.per_second(),
        result.percentile_ms(0.99)
    )
}

async fn register_proconsul(client: &LeanClient, service: &str) -> bool {
    let id = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let body = json!({"Name": service, "ID": format!("{service}-{id}"), "Port": 8080,
        "Address": "10.1.2.3", "Check": {"TTL": "10m", "Status": "passing"}});
    let request = client.request(
        "PUT",
        "/v1/agent/service/register",
        body.to_string().as_bytes(),
    );
    client.answered(&request, 0).await
}

async fn register_rnacos(client: &LeanClient, service: &str, ephemeral: bool) -> bool {
    let id = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let ip = format!("10.{}.{}.{}", (id >> 16) & 255, (id >> 8) & 255, id & 255);
    let path = format!(
        "/nacos/v1/ns/instance?serviceName={service}&ip={ip}&port={}&ephemeral={ephemeral}",
        8000 + (id >> 24) % 1000
    );
    let request = client.request("POST", &path, b"");
    client
        .send(&request)
        .await
        .is_ok_and(|answer| answer.is_success() && answer.body.trim_ascii() == b"ok")
}

async fn registrations(
    binary: &str,
    args: &RegistryArgs,
    plot: &mut PlotData,
) -> anyhow::Result<()> {
    println!("## Service registrations per second");
    println!();
    println!(
        "C clients each loop one registration of a new instance for {} s; the median of {} runs.",
        args.seconds, args.runs
    );
    println!(
        "Proconsul: `PUT /v1/agent/service/register` with a TTL check (one Raft write each), on"
    );
    println!("`agent -dev` and on a durable single server (`-server -bootstrap`, fsync per write");
    println!(
        "batch). rnacos: `POST /nacos/v1/ns/instance` with an ephemeral instance (Nacos's usual"
    );
    println!(
        "registration; rnacos keeps ephemeral instances in memory, without Raft or disk). The seed"
    );
    println!(
        "document quotes Consul at about 1,000 registrations/s. Cells: registrations/s (p99)."
    );
    println!();
    println!(
        "| Clients | Proconsul dev | Proconsul durable | rnacos | dev / rnacos | durable / rnacos | dev / 1,000 |"
    );
    println!("|---|---|---|---|---|---|---|");
    let dev = AgentProcess::start(binary).await?;
    let durable = AgentProcess::start_durable(binary).await?;
    let rnacos = peers::start_rnacos(&args.rnacos).await?;
    let dev_client = Arc::new(LeanClient::new(&dev.http));
    let durable_client = Arc::new(LeanClient::new(&durable.http));
    let rnacos_client = Arc::new(LeanClient::new(&rnacos.http));
    for clients in [1usize, 16, 256] {
        let duration = Duration::from_secs(args.seconds);
        let measure_proconsul = |client: Arc<LeanClient>| async move {
            closed_loop(clients, duration, move |_, _| {
                let client = client.clone();
                async move { register_proconsul(&client, "registered").await }
            })
            .await
        };
        let on_dev = median_run(args.runs, || measure_proconsul(dev_client.clone())).await;
        let on_durable = median_run(args.runs, || measure_proconsul(durable_client.clone())).await;
        let on_rnacos = median_run(args.runs, || {
            let client = rnacos_client.clone();
            async move {
                closed_loop(clients, duration, move |_, _| {
                    let client = client.clone();
                    async move { register_rnacos(&client, "registered", true).await }
                })
                .await
            }
        })
        .await;
        println!(
            "| {clients} | {} | {} | {} | {} | {} | {:.1}× |",
            rate(&on_dev),
            rate(&on_durable),
            rate(&on_rnacos),
            ratio(&on_dev, &on_rnacos),
            ratio(&on_durable, &on_rnacos),
            on_dev.per_second() / 1000.0
        );
        plot.add(
            "registrations",
            "Proconsul dev",
            clients,
            on_dev.per_second(),
        );
        plot.add(
            "registrations",
            "Proconsul durable",
            clients,
            on_durable.per_second(),
        );
        plot.add("registrations", "rnacos", clients, on_rnacos.per_second());
    }
    println!();
    Ok(())
}

/// Registers `count` instances of `service` with `parallel` requests in flight.
async fn populate(
    count: usize,
    parallel: usize,
    register: impl Fn() -> futures::future::BoxFuture<'static, bool>,
) -> anyhow::Result<()> {
    use futures::StreamExt;
    let failures = futures::stream::iter(0..count)
        .map(|_| register())
        .buffer_unordered(parallel)
        .filter(|ok| std::future::ready(!ok))
        .count()
        .await;
    anyhow::ensure!(failures == 0, "{failures} registrations failed");
    Ok(())
}

async fn discovery(binary: &str, args: &RegistryArgs, plot: &mut PlotData) -> anyhow::Result<()> {
    const CLIENTS: usize = 32;
    println!("## Discovery reads per second");
    println!();
    println!(
        "{CLIENTS} clients loop one read each for {} s; the median of {} runs. Proconsul (`agent -dev`):",
        args.seconds, args.runs
    );
    println!(
        "`GET /v1/health/service/<s>?passing` over N instances with a passing check each, and"
    );
    println!("`GET /v1/catalog/services` (1,010 instances in 3 services). rnacos: `GET");
    println!(
        "/nacos/v1/ns/instance/list?serviceName=<s>&healthyOnly=true` over N persistent instances,"
    );
    println!(
        "and `GET /nacos/v1/ns/service/list`. The ceiling: an axum server answering `GET /hello` with"
    );
    println!("5 bytes. Cells: reads/s (p99).");
    println!();
    println!(
        "| Read | Proconsul | rnacos | axum hello | Proconsul / rnacos | Proconsul / ceiling |"
    );
    println!("|---|---|---|---|---|---|");
    let proconsul = AgentProcess::start(binary).await?;
    let rnacos = peers::start_rnacos(&args.rnacos).await?;
    let hello = peers::start_hello().await?;
    let proconsul_client = Arc::new(LeanClient::new(&proconsul.http));
    let rnacos_client = Arc::new(LeanClient::new(&rnacos.http));
    let hello_client = Arc::new(LeanClient::new(&hello.http));
    for (service, count) in [("disc-10", 10usize), ("disc-1000", 1000)] {
        let client = proconsul_client.clone();
        populate(count, 16, move || {
            let client = client.clone();
            Box::pin(async move { register_proconsul(&client, service).await })
        })
        .await?;
        let client = rnacos_client.clone();
        populate(count, 16, move || {
            let client = client.clone();
            Box::pin(async move { register_rnacos(&client, service, false).await })
        })
        .await?;
    }
    let duration = Duration::from_secs(args.seconds);
    let read = |client: &Arc<LeanClient>, path: &str, expect: usize| {
        let request = Arc::new(client.request("GET", path, b""));
        let client = client.clone();
        async move {
            closed_loop(CLIENTS, duration, move |_, _| {
                let (client, request) = (client.clone(), request.clone());
                async move { client.answered(&request, expect).await }
            })
            .await
        }
    };
    let ceiling = median_run(args.runs, || read(&hello_client, "/hello", 5)).await;
    let cases = [
        (
            "health, 10 instances",
            "/v1/health/service/disc-10?passing",
            "/nacos/v1/ns/instance/list?serviceName=disc-10&healthyOnly=true",
        ),
        (
            "health, 1,000 instances",
            "/v1/health/service/disc-1000?passing",
            "/nacos/v1/ns/instance/list?serviceName=disc-1000&healthyOnly=true",
        ),
        (
            "service list",
            "/v1/catalog/services",
            "/nacos/v1/ns/service/list?pageNo=1&pageSize=100",
        ),
    ];
    for (label, ours, theirs) in cases {
        let on_proconsul = median_run(args.runs, || read(&proconsul_client, ours, 2)).await;
        let on_rnacos = median_run(args.runs, || read(&rnacos_client, theirs, 2)).await;
        println!(
            "| {label} | {} | {} | {} | {} | {} |",
            rate(&on_proconsul),
            rate(&on_rnacos),
            rate(&ceiling),
            ratio(&on_proconsul, &on_rnacos),
            ratio(&on_proconsul, &ceiling)
        );
        plot.add(
            "reads",
            &format!("Proconsul: {label}"),
            CLIENTS,
            on_proconsul.per_second(),
        );
        plot.add(
            "reads",
            &format!("rnacos: {label}"),
            CLIENTS,
            on_rnacos.per_second(),
        );
    }
    plot.add("reads", "axum hello", CLIENTS, ceiling.per_second());
    println!();
    Ok(())
}

async fn key_values(binary: &str, args: &RegistryArgs, plot: &mut PlotData) -> anyhow::Result<()> {
    const CLIENTS: usize = 16;
    println!("## KV writes and reads per second");
    println!();
    println!(
        "{CLIENTS} clients, {} s per run, the median of {} runs. Writes put a 128-byte value under a new key;",
        args.seconds, args.runs
    );
    println!(
        "reads get one existing key. Proconsul: `PUT`/`GET /v1/kv/<key>` on `agent -dev` and on a"
    );
    println!(
        "durable single server; etcd 3.4 (one durable member): `POST /v3/kv/put` and `/v3/kv/range`"
    );
    println!("through its HTTP/JSON gateway. Cells: operations/s (p99).");
    println!();
    println!("| Operation | Proconsul dev | Proconsul durable | etcd | durable / etcd |");
    println!("|---|---|---|---|---|");
    let dev = AgentProcess::start(binary).await?;
    let durable = AgentProcess::start_durable(binary).await?;
    let etcd = peers::start_etcd(&args.etcd).await?;
    let dev_client = Arc::new(LeanClient::new(&dev.http));
    let durable_client = Arc::new(LeanClient::new(&durable.http));
    let etcd_client = Arc::new(LeanClient::new(&etcd.http));
    let duration = Duration::from_secs(args.seconds);
    let value = Arc::new(vec![b'x'; 128]);
    let writes = |api: Api, client: &Arc<LeanClient>| {
        let (client, value) = (client.clone(), value.clone());
        async move {
            closed_loop(CLIENTS, duration, move |c, n| {
                let (client, value) = (client.clone(), value.clone());
                let key = format!("kv/{}/{c}/{n}", SEQUENCE.fetch_add(1, Ordering::Relaxed));
                async move { crate::kv_put::put(&client, api, &key, &value).await }
            })
            .await
        }
    };
    let put_dev = median_run(args.runs, || writes(Api::Consul, &dev_client)).await;
    let put_durable = median_run(args.runs, || writes(Api::Consul, &durable_client)).await;
    let put_etcd = median_run(args.runs, || writes(Api::Etcd, &etcd_client)).await;
    println!(
        "| put | {} | {} | {} | {} |",
        rate(&put_dev),
        rate(&put_durable),
        rate(&put_etcd),
        ratio(&put_durable, &put_etcd)
    );
    for client in [&dev_client, &durable_client] {
        crate::kv_put::put(client, Api::Consul, "kv/read", &value).await;
    }
    crate::kv_put::put(&etcd_client, Api::Etcd, "kv/read", &value).await;
    let key = base64::engine::general_purpose::STANDARD.encode("kv/read");
    let etcd_range = json!({"key": key}).to_string();
    let reads = |client: &Arc<LeanClient>, request: Request| {
        let (client, request) = (client.clone(), Arc::new(request));
        async move {
            closed_loop(CLIENTS, duration, move |_, _| {
                let (client, request) = (client.clone(), request.clone());
                async move { client.answered(&request, 1).await }
            })
            .await
        }
    };
    let consul_get = |client: &Arc<LeanClient>| client.request("GET", "/v1/kv/kv/read", b"");
    let get_dev = median_run(args.runs, || reads(&dev_client, consul_get(&dev_client))).await;
    let get_durable = median_run(args.runs, || {
        reads(&durable_client, consul_get(&durable_client))
    })
    .await;
    let get_etcd = median_run(args.runs, || {
        let request = etcd_client.request("POST", "/v3/kv/range", etcd_range.as_bytes());
        reads(&etcd_client, request)
    })
    .await;
    println!(
        "| get | {} | {} | {} | {} |",
        rate(&get_dev),
        rate(&get_durable),
        rate(&get_etcd),
        ratio(&get_durable, &get_etcd)
    );
    for (label, result) in [
        ("Proconsul dev put", &put_dev),
        ("Proconsul durable put", &put_durable),
        ("etcd put", &put_etcd),
        ("Proconsul dev get", &get_dev),
        ("Proconsul durable get", &get_durable),
        ("etcd get", &get_etcd),
    ] {
        plot.add("kv", label, CLIENTS, result.per_second());
    }
    println!();
    Ok(())
}
