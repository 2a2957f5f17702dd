//! Blocking-query fan-out: many idle blocking queries on one service held open on one
//! agent; the agent's memory per watcher and its CPU while they idle; whether a write to
//! another service wakes any; and how long after a write to the watched service each
//! watcher has its answer.
//!
//! 10,000 watchers each hold an HTTP/1.1 connection (one file descriptor each on both
//! sides). This machine caps a process at 20,000 open files and the cap cannot be
//! raised here, so 100,000 watchers travel as HTTP/2 streams (cleartext, prior
//! knowledge), 200 per connection, which the agent serves on the same port.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::agent_process::AgentProcess;
use crate::plot_data::PlotData;

#[derive(Debug, Args)]
pub struct FanoutArgs {
    /// Watchers over HTTP/1.1, one connection each.
    #[arg(long, default_value_t = 10_000)]
    pub http1: usize,
    /// Watchers over HTTP/2, 200 streams per connection.
    #[arg(long, default_value_t = 100_000)]
    pub http2: usize,
    #[arg(long)]
    pub csv: Option<std::path::PathBuf>,
}

const STREAMS_PER_CONNECTION: usize = 200;

pub async fn run(binary: &str, args: FanoutArgs) -> anyhow::Result<()> {
    let mut plot = PlotData::new(args.csv.clone());
    println!("## Blocking-query fan-out");
    println!();
    println!(
        "One `agent -dev` (release build). N clients each hold `GET /v1/health/service/fan?index=I&wait=10m`"
    );
    println!(
        "open (the service has one instance). Memory is the agent's RSS growth over N; idle CPU is"
    );
    println!(
        "the agent's CPU time over 5 s while they wait. Then a service the watchers do not read is"
    );
    println!(
        "registered (the answers it woke, within 1 s, are counted: it should be none; and the agent's"
    );
    println!("CPU time over that second, at the kernel's 10 ms granularity), and then an");
    println!("instance of the watched service: the delay from sending that write to each");
    println!("watcher's answer, and the agent's CPU time until the last answer, per watcher. The");
    println!(
        "watchers run on one thread of the load generator. HTTP/1.1 holds a connection per watcher; this machine allows a process"
    );
    println!(
        "20,000 open files, so 100,000 watchers use HTTP/2 streams, 200 per connection. Command:"
    );
    println!("`proconsul-bench fanout`.");
    println!();
    println!(
        "| Watchers | Transport | Agent RSS growth (MiB) | Per watcher (KiB) | Idle CPU | Woken by another service | Agent CPU for that write (ms) | Woken by the write | p50 wake (ms) | p99 wake (ms) | Agent CPU per woken watcher (µs) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (watchers, http2) in [(args.http1, false), (args.http2, true)] {
        if watchers > 0 {
            measure(binary, watchers, http2, &mut plot).await?;
        }
    }
    println!();
    plot.flush()
}

async fn register(
    client: &reqwest::Client,
    http: &str,
    name: &str,
    id: &str,
) -> anyhow::Result<()> {
    let body = serde_json::json!({"Name": name, "ID": id, "Port": 80});
    client
        .put(format!("{http}/v1/agent/service/register"))
        .json(&body)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

async fn measure(
    binary: &str,
    watchers: usize,
    http2: bool,
    plot: &mut PlotData,
) -> anyhow::Result<()> {
    let agent = AgentProcess::start(binary).await?;
    let client = crate::load::load_client(Duration::from_secs(10))?;
    register(&client, &agent.http, "fan", "fan-1").await?;
    let first = client
        .get(format!("{}/v1/health/service/fan", agent.http))
        .send()
        .await?;
    let index: u64 = first.headers()["x-consul-index"].to_str()?.parse()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = agent.rss_mib()?;
    let addr = agent.http.trim_start_matches("http://").to_string();
    let path = format!("/v1/health/service/fan?index={index}&wait=10m");
    let (woken_tx, mut woken_rx) = mpsc::channel::<Instant>(watchers);
    let parked = Arc::new(tokio::sync::Barrier::new(watchers + 1));
    // Watchers keep their connections until the measurement is over: a client closing
    // its connection as soon as it is woken would make the agent tear down thousands of
    // connections while the others are still waiting for their answers.
    let (over_tx, over) = watch::channel(false);
    if http2 {
        spawn_http2_watchers(&addr, &path, watchers, woken_tx, parked.clone()).await?;
    } else {
        spawn_http1_watchers(&addr, &path, watchers, woken_tx, parked.clone(), over);
    }
    parked.wait().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = agent.rss_mib()?;
    let cpu_before = agent.cpu_time()?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_cpu = (agent.cpu_time()? - cpu_before).as_secs_f64() / 5.0 * 100.0;

    let cpu_before_unrelated = agent.cpu_time()?;
    register(&client, &agent.http, "unrelated", "unrelated-1").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let unrelated_cpu = agent.cpu_time()? - cpu_before_unrelated;
    let mut spurious = 0;
    while woken_rx.try_recv().is_ok() {
        spurious += 1;
    }
    // Measured from sending the write: the agent may wake (and answer) watchers before
    // the writer's own answer is back.
    let agent_cpu_before = agent.cpu_time()?;
    let written = Instant::now();
    register(&client, &agent.http, "fan", "fan-2").await?;
    let mut delays = Vec::with_capacity(watchers);
    while delays.len() + spurious < watchers {
        match tokio::time::timeout(Duration::from_secs(30), woken_rx.recv()).await {
            Ok(Some(at)) => delays.push(at.saturating_duration_since(written)),
            _ => break,
        }
    }
    let wake_cpu = agent.cpu_time()? - agent_cpu_before;
    let _ = over_tx.send(true);
    delays.sort();
    let percentile = |q: f64| -> f64 {
        if delays.is_empty() {
            return f64::NAN;
        }
        let i = ((delays.len() as f64 * q).ceil() as usize).clamp(1, delays.len()) - 1;
        delays[i].as_secs_f64() * 1000.0
    };
    let growth = rss_after - rss_before;
    println!(
        "| {watchers} | {} | {growth:.0} | {:.1} | {idle_cpu:.1}% | {spurious} | {} | {} | {:.1} | {:.1} | {:.0} |",
        if http2 { "HTTP/2" } else { "HTTP/1.1" },
        growth * 1024.0 / watchers as f64,
        unrelated_cpu.as_millis(),
        delays.len(),
        percentile(0.50),
        percentile(0.99),
        wake_cpu.as_secs_f64() * 1e6 / watchers as f64
    );
    let transport = if http2 { "HTTP/2" } else { "HTTP/1.1" };
    plot.add("fanout-memory", transport, watchers, growth);
    plot.add("fanout-p99", transport, watchers, percentile(0.99));
    Ok(())
}

/// One connection per watcher, all on one thread of their own; the first byte of the
/// answer is the wake-up.
fn spawn_http1_watchers(
    addr: &str,
    path: &str,
    watchers: usize,
    woken: mpsc::Sender<Instant>,
    parked: Arc<tokio::sync::Barrier>,
    over: watch::Receiver<bool>,
) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    // Connect in bounded waves so the listen backlog never overflows.
    let connecting = Arc::new(Semaphore::new(256));
    let addr = addr.to_string();
    let mut over = over;
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            for _ in 0..watchers {
                let (addr, request, woken, parked, connecting) = (
                    addr.to_string(),
                    request.clone(),
                    woken.clone(),
                    parked.clone(),
                    connecting.clone(),
                );
                tokio::spawn(async move {
                    let permit = connecting.acquire_owned().await;
                    let stream = TcpStream::connect(&addr).await;
                    let Ok(mut stream) = stream else {
                        parked.wait().await;
                        return;
                    };
                    let sent = stream.write_all(request.as_bytes()).await;
                    drop(permit);
                    parked.wait().await;
                    if sent.is_err() {
                        return;
                    }
                    // The first bytes of the answer are the wake-up (one read takes them all).
                    let mut answer = [0u8; 4096];
                    if matches!(stream.read(&mut answer).await, Ok(n) if n > 0) {
                        let _ = woken.send(Instant::now()).await;
                    }
                    // Keep the connection, and do nothing else: every cycle spent here is
                    // taken from the agent being measured. The connections close when the
                    // measurement is over (or abandoned) and this runtime is dropped.
                    std::future::pending::<()>().await;
                    drop(stream);
                });
            }
            let _ = over.wait_for(|over| *over).await;
        });
    });
}

/// HTTP/2 streams, `STREAMS_PER_CONNECTION` per connection; the response headers are the
/// wake-up.
async fn spawn_http2_watchers(
    addr: &str,
    path: &str,
    watchers: usize,
    woken: mpsc::Sender<Instant>,
    parked: Arc<tokio::sync::Barrier>,
) -> anyhow::Result<()> {
    let uri: http::Uri = format!("http://{addr}{path}").parse()?;
    let mut remaining = watchers;
    while remaining > 0 {
        let streams = remaining.min(STREAMS_PER_CONNECTION);
        remaining -= streams;
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let (send, connection) = h2::client::Builder::new()
            .initial_window_size(65_535)
            .handshake::<_, bytes::Bytes>(tcp)
            .await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        for _ in 0..streams {
            let (send, uri, woken, parked) =
                (send.clone(), uri.clone(), woken.clone(), parked.clone());
            tokio::spawn(async move {
                let request = http::Request::get(uri).body(()).expect("a valid request");
                let response = match send.ready().await {
                    Ok(mut ready) => ready
                        .send_request(request, true)
                        .map(|(response, _)| response),
                    Err(error) => Err(error),
                };
                parked.wait().await;
                let Ok(response) = response else {
                    return;
                };
                if response.await.is_ok() {
                    let _ = woken.send(Instant::now()).await;
                }
            });
        }
    }
    Ok(())
}
