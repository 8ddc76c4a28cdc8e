//! `fleet healthcheck ROLE`: asks this host's ROLE for its health and exits 0 only on 200, so a
//! container's `HEALTHCHECK` needs no curl. The address is the role's listen address from the
//! configuration (`FLEET_LISTEN`, `FLEET_WORKER_LISTEN`, `FLEET_CRON_LISTEN`; an unspecified
//! address such as 0.0.0.0 is asked on loopback), or `--addr`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Result, bail};
use fleet_core::Config;

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum RoleName {
    Gateway,
    Worker,
    Cron,
    /// The backup schedule (`fleet backup schedule`): its status file under FLEET_HOME.
    Backup,
}

impl RoleName {
    fn name(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::Worker => "worker",
            Self::Cron => "cron",
            Self::Backup => "backup",
        }
    }
}

pub async fn run(config: Config, role: RoleName, addr: Option<SocketAddr>) -> Result<()> {
    let mut addr = addr.unwrap_or(match role {
        RoleName::Gateway => config.listen,
        RoleName::Worker => config.worker_listen,
        RoleName::Cron => config.cron_listen,
        RoleName::Backup => {
            let path = fleet_backup::schedule::status_path(&config.fleet_home);
            let status = fleet_backup::schedule::Status::read(&path).map_err(anyhow::Error::msg)?;
            return match status.healthy(chrono::Utc::now()) {
                Ok(()) => {
                    println!("backup is healthy ({})", path.display());
                    Ok(())
                }
                Err(why) => bail!("backup is unhealthy: {why}"),
            };
        }
    });
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    let url = format!("http://{addr}/health/{}", role.name());
    let http = fleet_core::http::client(Duration::from_secs(5)).build()?;
    let res = match http.get(&url).send().await {
        Ok(r) => r,
        Err(e) => bail!("{} is not answering at {url}: {e}", role.name()),
    };
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    if status.is_success() {
        println!("{} is healthy ({url})", role.name());
        Ok(())
    } else {
        bail!(
            "{} is unhealthy ({url} answered {status}): {}",
            role.name(),
            body["problems"]
        )
    }
}
