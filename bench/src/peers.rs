//! The peers measured beside Proconsul in the same run: rnacos (Nacos's API, in Rust),
//! etcd (a durable single member) and a minimal axum server, the ceiling of one HTTP
//! round trip on this machine.

use std::process::Command;

use crate::agent_process::{AgentProcess, Scratch, free_port};

/// rnacos with its data in a scratch dir; its Nacos HTTP API is `http`.
pub async fn start_rnacos(binary: &str) -> anyhow::Result<AgentProcess> {
    let scratch = Scratch::new("rnacos")?;
    let port = free_port()?;
    let mut command = Command::new(binary);
    command
        .env("RNACOS_HTTP_PORT", port.to_string())
        .env("RNACOS_GRPC_PORT", free_port()?.to_string())
        .env("RNACOS_HTTP_CONSOLE_PORT", free_port()?.to_string())
        .env("RNACOS_DATA_DIR", &scratch.0)
        .env("RUST_LOG", "warn");
    let http = format!("http://127.0.0.1:{port}");
    let ready = format!("{http}/nacos/v1/ns/instance/list?serviceName=ready");
    AgentProcess::spawn(command, http, Some(scratch), &ready, |body| {
        body.contains("hosts")
    })
    .await
}

/// A single durable etcd member; its HTTP/JSON gateway is `http`.
pub async fn start_etcd(binary: &str) -> anyhow::Result<AgentProcess> {
    let scratch = Scratch::new("etcd")?;
    let (client, peer) = (free_port()?, free_port()?);
    let mut command = Command::new(binary);
    command
        .args(["--name", "bench", "--log-level", "error"])
        .arg("--data-dir")
        .arg(&scratch.0)
        .arg(format!("--listen-client-urls=http://127.0.0.1:{client}"))
        .arg(format!("--advertise-client-urls=http://127.0.0.1:{client}"))
        .arg(format!("--listen-peer-urls=http://127.0.0.1:{peer}"))
        .arg(format!(
            "--initial-advertise-peer-urls=http://127.0.0.1:{peer}"
        ))
        .arg(format!("--initial-cluster=bench=http://127.0.0.1:{peer}"));
    let http = format!("http://127.0.0.1:{client}");
    let ready = format!("{http}/health");
    AgentProcess::spawn(command, http, Some(scratch), &ready, |body| {
        body.contains("true")
    })
    .await
}

/// This benchmark binary serving `GET /hello` with axum, in its own process.
pub async fn start_hello() -> anyhow::Result<AgentProcess> {
    let port = free_port()?;
    let mut command = Command::new(std::env::current_exe()?);
    command.args(["hello-server", "--port", &port.to_string()]);
    let http = format!("http://127.0.0.1:{port}");
    let ready = format!("{http}/hello");
    AgentProcess::spawn(command, http, None, &ready, |body| body == "hello").await
}

/// `proconsul-bench hello-server`: the smallest useful axum server.
pub async fn serve_hello(port: u16) -> anyhow::Result<()> {
    let router = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, router).await?;
    Ok(())
}
