//! Running one check once: an HTTP request or a TCP connect, bounded by the check's
//! timeout, reduced to a status and Consul-style output.

use std::time::Duration;

use proconsul_api::HealthStatus;
use proconsul_api::duration::parse_duration;
use reqwest::Method;
use tokio::net::TcpStream;

use super::tls::{AgentConfigs, TlsOptions};
use crate::checks_tls::ChecksTls;

use crate::local::LocalCheck;

/// Consul's default timeout for network checks.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Output beyond this many bytes is cut (`check_output_max_size`).
pub const OUTPUT_MAX_SIZE: usize = 4096;

/// What one run of a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    pub status: HealthStatus,
    pub output: String,
}

/// A check the agent runs itself.
#[derive(Debug, Clone)]
pub enum Probe {
    Http {
        url: String,
        method: Method,
        headers: Vec<(String, String)>,
        body: Option<String>,
        follow_redirects: bool,
        /// `TLSSkipVerify`: accept any certificate from an HTTPS target.
        skip_verify: bool,
        /// `TLSServerName` on an HTTPS URL with an IP address: a client of the check's
        /// own that sends and verifies that name, and the URL it requests.
        server_name: Option<(reqwest::Client, String)>,
    },
    Tcp {
        address: String,
        /// `TCPUseTLS`: the check also completes a TLS handshake.
        tls: Option<TlsOptions>,
    },
    Udp {
        address: String,
    },
    Grpc {
        target: String,
        tls: Option<TlsOptions>,
    },
    H2Ping {
        address: String,
        tls: Option<TlsOptions>,
    },
    /// A command: exit 0 is passing, 1 warning, anything else critical.
    Script {
        args: Vec<String>,
    },
    /// Mirrors the health of a service instance and/or a node from the catalog.
    Alias {
        /// The node; this agent's node when unset.
        node: Option<String>,
        service: Option<String>,
        /// The alias check's own ID, which must not count toward its own status.
        own_id: String,
    },
}

/// How often an alias check re-reads the catalog.
const ALIAS_INTERVAL: Duration = Duration::from_secs(1);

/// What probes need besides their own definition.
#[derive(Clone)]
pub struct ProbeContext {
    pub clients: HttpClients,
    /// The agent's TLS material for TCP, gRPC and H2PING checks over TLS.
    pub tls: Option<AgentConfigs>,
    /// Where alias checks read the catalog: this server's replica, or a server.
    pub catalog: crate::catalog_backend::CatalogBackend,
    pub local_node: String,
}

/// A check's TLS options with the agent's configurations (its CA and certificate).
fn with_agent_tls(tls: &Option<TlsOptions>, context: &ProbeContext) -> Option<TlsOptions> {
    tls.clone().map(|options| TlsOptions {
        agent: context.tls.clone(),
        ..options
    })
}

/// Consul's default timeout for script checks.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// A runnable check: the probe, how often, and how long one run may take.
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    pub probe: Probe,
    pub interval: Duration,
    pub timeout: Duration,
}

impl ProbeSpec {
    /// The spec of a check this agent knows how to run.
    pub fn from_check(check: &LocalCheck) -> Option<ProbeSpec> {
        let definition = &check.definition.decode();
        let duration = |text: &Option<String>| text.as_deref().and_then(|t| parse_duration(t).ok());
        let is_alias = definition.alias_service.is_some() || definition.alias_node.is_some();
        let interval = match duration(&definition.interval) {
            Some(interval) => interval.max(Duration::from_secs(1)),
            None if is_alias => ALIAS_INTERVAL,
            None => return None,
        };
        let is_script = !definition.args.is_empty() || definition.script.is_some();
        let tls = |enabled: bool| {
            enabled.then(|| TlsOptions {
                server_name: definition.tls_server_name.clone(),
                skip_verify: definition.tls_skip_verify,
                agent: None,
            })
        };
        let timeout = duration(&definition.timeout)
            .filter(|timeout| !timeout.is_zero())
            .unwrap_or(if is_script {
                SCRIPT_TIMEOUT
            } else {
                DEFAULT_TIMEOUT
            });
        let probe = if let Some(url) = &definition.http {
            let method = definition.method.as_deref().unwrap_or("GET");
            Probe::Http {
                url: url.clone(),
                method: Method::from_bytes(method.as_bytes()).ok()?,
                headers: definition
                    .header
                    .iter()
                    .flat_map(|(name, values)| {
                        values.iter().map(|value| (name.clone(), value.clone()))
                    })
                    .collect(),
                body: definition.body.clone(),
                follow_redirects: !definition.disable_redirects,
                skip_verify: definition.tls_skip_verify,
                server_name: definition.tls_server_name.as_deref().and_then(|name| {
                    server_name_client(
                        url,
                        name,
                        !definition.disable_redirects,
                        definition.tls_skip_verify,
                    )
                }),
            }
        } else if let Some(address) = &definition.tcp {
            Probe::Tcp {
                address: address.clone(),
                tls: tls(definition.tcp_use_tls),
            }
        } else if let Some(target) = &definition.grpc {
            Probe::Grpc {
                target: target.clone(),
                tls: tls(definition.grpc_use_tls),
            }
        } else if let Some(address) = &definition.h2ping {
            Probe::H2Ping {
                address: address.clone(),
                tls: tls(definition.h2ping_use_tls.unwrap_or(true)),
            }
        } else if let Some(address) = &definition.udp {
            Probe::Udp {
                address: address.clone(),
            }
        } else if !definition.args.is_empty() {
            Probe::Script {
                args: definition.args.clone(),
            }
        } else if let Some(script) = &definition.script {
            Probe::Script {
                args: vec!["/bin/sh".to_string(), "-c".to_string(), script.clone()],
            }
        } else if is_alias {
            Probe::Alias {
                node: definition
                    .alias_node
                    .clone()
                    .filter(|node| !node.is_empty()),
                service: definition.alias_service.clone().filter(|s| !s.is_empty()),
                own_id: check.check.check_id.clone(),
            }
        } else {
            return None;
        };
        Some(ProbeSpec {
            probe,
            interval,
            timeout,
        })
    }
}

/// For `TLSServerName` on an HTTPS URL: the URL rewritten to the name and a client
/// whose resolver answers for the name with the URL's own host (an address, or a name
/// it looks up), so that the TLS handshake sends and verifies the name while the
/// connection goes where the URL points. The `Host` header keeps the URL's authority.
/// `None` when the check is not HTTPS.
fn server_name_client(
    url: &str,
    name: &str,
    follow_redirects: bool,
    skip_verify: bool,
) -> Option<(reqwest::Client, String)> {
    let parsed = reqwest::Url::parse(url).ok()?;
    if parsed.scheme() != "https" || name.is_empty() {
        return None;
    }
    let host = parsed.host_str()?.to_string();
    let authority = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    let mut rewritten = parsed.clone();
    rewritten.set_host(Some(name)).ok()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::HOST,
        reqwest::header::HeaderValue::from_str(&authority).ok()?,
    );
    let target = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let builder = reqwest::Client::builder()
        .user_agent("Consul Health Check")
        .default_headers(headers)
        .tls_danger_accept_invalid_certs(skip_verify)
        .dns_resolver(std::sync::Arc::new(ResolveTo(target)));
    let builder = if follow_redirects {
        builder
    } else {
        builder.redirect(reqwest::redirect::Policy::none())
    };
    Some((builder.build().ok()?, rewritten.to_string()))
}

/// Resolves every name to one host: the real target of a check with `TLSServerName`.
struct ResolveTo(String);

impl reqwest::dns::Resolve for ResolveTo {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = self.0.clone();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// HTTP clients shared by every HTTP check (connection pools are per client): one per
/// combination of redirect following and certificate verification.
#[derive(Debug, Clone)]
pub struct HttpClients {
    /// Indexed by `[follow_redirects][skip_verify]`.
    clients: [[reqwest::Client; 2]; 2],
}

impl HttpClients {
    /// Clients that send Consul's user agent and verify HTTPS targets against the
    /// system's roots and the agent's CA (unless a check sets `TLSSkipVerify`),
    /// presenting the agent's certificate when `tls` has one.
    pub fn new(tls: &ChecksTls) -> Result<HttpClients, String> {
        // rustls needs a process-wide crypto provider; another component may have
        // installed it already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Bad TLS files must not stop every check: HTTPS ones fall back to the system's
        // roots, and the reason is logged.
        let (roots, identity) = tls.load().unwrap_or_else(|error| {
            tracing::error!(%error, "cannot use the agent's TLS material for HTTP checks");
            (Vec::new(), None)
        });
        let build = |follow: bool, skip_verify: bool| {
            let mut builder = reqwest::Client::builder()
                .user_agent("Consul Health Check")
                .tls_danger_accept_invalid_certs(skip_verify)
                .tls_certs_merge(roots.clone());
            if let Some(identity) = &identity {
                builder = builder.identity(identity.clone());
            }
            let builder = if follow {
                builder
            } else {
                builder.redirect(reqwest::redirect::Policy::none())
            };
            builder.build().map_err(|error| error.to_string())
        };
        Ok(HttpClients {
            clients: [
                [build(false, false)?, build(false, true)?],
                [build(true, false)?, build(true, true)?],
            ],
        })
    }

    fn pick(&self, follow_redirects: bool, skip_verify: bool) -> &reqwest::Client {
        &self.clients[usize::from(follow_redirects)][usize::from(skip_verify)]
    }
}

impl ProbeSpec {
    /// Runs the check once.
    pub async fn run(&self, context: &ProbeContext) -> ProbeResult {
        let clients = &context.clients;
        match &self.probe {
            Probe::Alias {
                node,
                service,
                own_id,
            } => alias(context, node.as_deref(), service.as_deref(), own_id).await,
            Probe::Http {
                url,
                method,
                headers,
                body,
                follow_redirects,
                skip_verify,
                server_name,
            } => {
                let (client, target) = match server_name {
                    Some((client, target)) => (client, target),
                    None => (clients.pick(*follow_redirects, *skip_verify), url),
                };
                let mut request = client.request(method.clone(), target).timeout(self.timeout);
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                if let Some(body) = body {
                    request = request.body(body.clone());
                }
                let exchange = async {
                    let mut response = request.send().await?;
                    let code = response.status();
                    let mut body = Vec::new();
                    while body.len() < OUTPUT_MAX_SIZE {
                        match response.chunk().await? {
                            Some(chunk) => body.extend_from_slice(&chunk),
                            None => break,
                        }
                    }
                    body.truncate(OUTPUT_MAX_SIZE);
                    Ok::<_, reqwest::Error>((code, body))
                };
                match tokio::time::timeout(self.timeout, exchange).await {
                    Ok(Ok((code, body))) => {
                        let status = match code.as_u16() {
                            200..=299 => HealthStatus::Passing,
                            429 => HealthStatus::Warning,
                            _ => HealthStatus::Critical,
                        };
                        let output = format!(
                            "HTTP {method} {url}: {code} Output: {}",
                            String::from_utf8_lossy(&body)
                        );
                        ProbeResult {
                            status,
                            output: capped(output),
                        }
                    }
                    Ok(Err(error)) => {
                        critical(format!("HTTP {method} {url}: {}", error_chain(&error)))
                    }
                    Err(_) => critical(format!(
                        "HTTP {method} {url}: request timed out after {:?}",
                        self.timeout
                    )),
                }
            }
            Probe::Udp { address } => udp(address, self.timeout).await,
            Probe::Grpc { target, tls } => {
                let tls = with_agent_tls(tls, context);
                super::http2::grpc(target, tls.as_ref(), self.timeout).await
            }
            Probe::H2Ping { address, tls } => {
                let tls = with_agent_tls(tls, context);
                super::http2::h2ping(address, tls.as_ref(), self.timeout).await
            }
            Probe::Script { args } => script(args, self.timeout).await,
            Probe::Tcp { address, tls: None } => {
                match tokio::time::timeout(self.timeout, TcpStream::connect(address.as_str())).await
                {
                    Ok(Ok(_)) => ProbeResult {
                        status: HealthStatus::Passing,
                        output: format!("TCP connect {address}: Success"),
                    },
                    Ok(Err(error)) => critical(format!("dial tcp {address}: {error}")),
                    Err(_) => critical(format!(
                        "dial tcp {address}: i/o timeout after {:?}",
                        self.timeout
                    )),
                }
            }
            Probe::Tcp {
                address,
                tls: Some(options),
            } => {
                let options = with_agent_tls(&Some(options.clone()), context);
                let options = options.unwrap_or_default();
                let handshake = super::tls::connect(address, &options, false);
                match tokio::time::timeout(self.timeout, handshake).await {
                    Ok(Ok(_)) => ProbeResult {
                        status: HealthStatus::Passing,
                        output: format!("TCP connect {address}: Success (TLS)"),
                    },
                    Ok(Err(error)) => critical(error),
                    Err(_) => critical(format!(
                        "TLS connect {address}: i/o timeout after {:?}",
                        self.timeout
                    )),
                }
            }
        }
    }
}

/// The worst status among the aliased node's own checks and, when a service is named,
/// that instance's checks, read from the catalog.
async fn alias(
    context: &ProbeContext,
    node: Option<&str>,
    service: Option<&str>,
    own_id: &str,
) -> ProbeResult {
    let node = node.unwrap_or(&context.local_node);
    let view = match context.catalog.node_view(node).await {
        Ok(view) => view,
        Err(error) => return critical(format!("Failed to query the catalog: {error}")),
    };
    let checks = &view.checks;
    if let Some(service) = service
        && !view.services.iter().any(|instance| instance.id == service)
    {
        return critical(format!(
            "Service {service} could not be found on node {node}"
        ));
    }
    if service.is_none() && view.node.is_none() {
        return critical(format!("Node {node} could not be found"));
    }
    let status = checks
        .iter()
        .filter(|check| check.check_id != own_id || node != context.local_node)
        .filter(|check| check.service_id.is_empty() || Some(check.service_id.as_str()) == service)
        .map(|check| check.status)
        .max()
        .unwrap_or(HealthStatus::Passing);
    let output = match status {
        HealthStatus::Passing => "All checks passing.".to_string(),
        other => format!("Aliased checks are {other}"),
    };
    ProbeResult { status, output }
}

/// Sends a datagram and waits for an answer. As in Consul, silence until the timeout
/// counts as passing (UDP has no handshake); an error such as ICMP port-unreachable is
/// critical.
async fn udp(address: &str, timeout: Duration) -> ProbeResult {
    let exchange = async {
        let target = tokio::net::lookup_host(address)
            .await?
            .next()
            .ok_or_else(|| std::io::Error::other("no address"))?;
        let local = if target.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = tokio::net::UdpSocket::bind(local).await?;
        socket.connect(target).await?;
        socket.send(b"Hello, World!").await?;
        let mut buffer = [0u8; 512];
        socket.recv(&mut buffer).await.map(|_| ())
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(())) | Err(_) => ProbeResult {
            status: HealthStatus::Passing,
            output: format!("UDP check {address}: Success"),
        },
        Ok(Err(error)) => critical(format!("UDP check {address}: {error}")),
    }
}

/// Runs a script check's command; it is killed if it outlives the timeout.
async fn script(args: &[String], timeout: Duration) -> ProbeResult {
    let Some((program, rest)) = args.split_first() else {
        return critical("no command to run".to_string());
    };
    let child = tokio::process::Command::new(program)
        .args(rest)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(timeout, child).await {
        Err(_) => critical(format!("Timed out ({timeout:?}) running check")),
        Ok(Err(error)) => critical(format!("Failed to run {program}: {error}")),
        Ok(Ok(output)) => {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            let status = match output.status.code() {
                Some(0) => HealthStatus::Passing,
                Some(1) => HealthStatus::Warning,
                _ => HealthStatus::Critical,
            };
            ProbeResult {
                status,
                output: capped(text),
            }
        }
    }
}

fn critical(output: String) -> ProbeResult {
    ProbeResult {
        status: HealthStatus::Critical,
        output: capped(output),
    }
}

fn capped(mut output: String) -> String {
    truncate_output(&mut output, OUTPUT_MAX_SIZE);
    output
}

/// Cuts `text` to at most `max` bytes without splitting a character.
pub fn truncate_output(text: &mut String, max: usize) {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
}

/// An error with its causes, so "connection refused" is not hidden behind "error
/// sending request".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
