//! Reloading, by `PUT /v1/agent/reload` or SIGHUP: the certificates, keys and CAs of
//! HTTPS and server RPC are read again (new connections use them, open ones keep
//! theirs), then the
//! configuration files, whose services and checks are brought in line with them, and
//! whose `log_level` is printed from then on (unless `-log-level` was given). Other
//! settings take effect on restart. A failure leaves what was running as it was.

use std::sync::Arc;

use crate::agent::AgentInner;
use crate::config_registrations;

/// Reloads what can change at run time; the error is Consul's `Failed reloading: ...`.
pub async fn reload(agent: &AgentInner) -> Result<(), String> {
    let failed = |message: String| format!("Failed reloading: {message}");
    if let Some(tls) = &agent.https_tls {
        tls.reload()
            .map_err(|error| failed(format!("HTTPS: {error}")))?;
    }
    if let Some(settings) = agent.config.rpc_tls.as_ref().filter(|_| !agent.config.dev) {
        let tls = settings
            .load()
            .map_err(|error| failed(format!("server RPC TLS: {error}")))?;
        agent.catalog.reload_tls(&tls);
    }
    let files = proconsul_config::load(&agent.config.config_sources)
        .map_err(|error| failed(error.to_string()))?;
    let level = agent
        .config
        .log_level
        .wanted(files.log_level.as_deref())
        .map_err(failed)?;
    let services = files.service_registrations().map_err(failed)?;
    let checks = files.check_registrations().map_err(failed)?;
    let prepared = config_registrations::prepare(agent, &services, &checks).map_err(failed)?;
    config_registrations::apply(agent, prepared)
        .await
        .map_err(|error| failed(error.to_string()))?;
    if agent.config.log_level.set(level).map_err(failed)? {
        tracing::info!(log_level = %level, "log level changed");
    }
    tracing::info!(
        services = services.len(),
        checks = checks.len(),
        "reloaded configuration"
    );
    Ok(())
}

/// Reloads on every SIGHUP until shutdown.
pub async fn on_hangup(agent: Arc<AgentInner>) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(hangups) => hangups,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGHUP; reload with `proconsul reload`");
            return;
        }
    };
    loop {
        tokio::select! {
            received = hangups.recv() => {
                if received.is_none() {
                    return;
                }
                tracing::info!("caught SIGHUP, reloading");
                if let Err(error) = reload(&agent).await {
                    tracing::error!(%error, "reload failed");
                }
            }
            () = agent.shutdown.cancelled() => return,
        }
    }
}
