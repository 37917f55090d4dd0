use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::bail;
use clap::Args;

use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// URL to probe; defaults to /healthz on the configured listen address
    #[arg(long)]
    url: Option<String>,
    /// Seconds to wait for the answer
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

pub fn run(global: &GlobalArgs, args: &HealthcheckArgs) -> anyhow::Result<()> {
    let url = if let Some(url) = &args.url {
        url.clone()
    } else {
        let listen = global.load_config(None)?.config.listen;
        format!("http://{}/healthz", reachable(listen))
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(args.timeout)))
        .http_status_as_error(false)
        .build()
        .into();
    let response = match agent.get(&url).call() {
        Ok(response) => response,
        Err(err) => bail!("{url} did not answer: {err}"),
    };
    if response.status() != 200 {
        bail!("{url} answered {}", response.status());
    }
    say!("healthy: {url} answered 200");
    Ok(())
}

/// A server listening on all interfaces is probed on loopback.
fn reachable(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}
