//! `fleet users`: API accounts (people and services) and their scopes.

use anyhow::Result;
use clap::Subcommand;
use fleet_core::Config;

use super::{cli_actor, with_current_db};

#[derive(Subcommand)]
pub enum UsersAction {
    /// Add an account. Without --password a password is generated and printed once.
    #[command(
        after_help = "Examples:\n  fleet users add dispatcher1 --scopes read:fleet\n  fleet users add ops-lead --scopes read:fleet,write:ops --password -   # reads it from stdin\n  fleet users add fuel-feed --service --scopes write:ops"
    )]
    Add {
        /// Account name: 1-64 letters, digits, and _ . @ -
        name: String,
        /// Comma-separated scopes.
        #[arg(long, value_name = "SCOPES")]
        scopes: String,
        /// The password (at least 12 characters); `-` reads it from standard input.
        #[arg(long)]
        password: Option<String>,
        /// A service account (another system) rather than a person.
        #[arg(long)]
        service: bool,
    },
    /// List accounts, their scopes and whether they are disabled.
    List,
    /// Disable an account: its tokens stop working at once.
    Disable { name: String },
    /// Replace an account's scopes.
    SetScopes {
        name: String,
        /// Comma-separated scopes.
        scopes: String,
    },
}
pub async fn run(config: Config, action: UsersAction) -> Result<()> {
    match action {
        UsersAction::Add {
            name,
            scopes,
            password,
            service,
        } => add(config, &name, &scopes, password, service).await,
        UsersAction::List => list(config).await,
        UsersAction::Disable { name } => change(config, &name, None).await,
        UsersAction::SetScopes { name, scopes } => change(config, &name, Some(&scopes)).await,
    }
}

async fn add(
    config: Config,
    name: &str,
    scopes: &str,
    password: Option<String>,
    service: bool,
) -> Result<()> {
    use fleet_serve::auth;
    let scopes = auth::parse_scopes(scopes).map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
    let (password, generated) = match password.as_deref() {
        Some("-") => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            (line.trim_end_matches(['\r', '\n']).to_string(), false)
        }
        Some(p) => (p.to_string(), false),
        None => (
            auth::random_token(12).map_err(|e| anyhow::anyhow!(e))?,
            true,
        ),
    };
    let (pw, sc) = (&password, &scopes);
    with_current_db(&config, |pool| async move {
        auth::add_account(&pool, name, pw, sc, service, &cli_actor())
            .await
            .map_err(|e| anyhow::anyhow!(e))
    })
    .await?;
    println!("added {name} with scopes {}", scopes.join(","));
    if generated {
        println!("password: {password}   (shown only this once)");
    }
    Ok(())
}

async fn list(config: Config) -> Result<()> {
    let accounts = with_current_db(&config, |pool| async move {
        Ok(fleet_serve::auth::list_accounts(&pool).await?)
    })
    .await;
    println!("{:<24} {:<8} {:<36} status", "account", "kind", "scopes");
    for a in accounts? {
        let status = match a.disabled_at {
            Some(t) => format!("disabled {}", t.format("%Y-%m-%d %H:%M UTC")),
            None => "active".into(),
        };
        println!(
            "{:<24} {:<8} {:<36} {status}",
            a.username,
            a.kind,
            a.scopes.join(",")
        );
    }
    Ok(())
}

/// Disables an account (`scopes` = None) or replaces its scopes.
async fn change(config: Config, name: &str, scopes: Option<&str>) -> Result<()> {
    use fleet_serve::auth::{self, AccountChange};
    let parsed = match scopes {
        Some(s) => Some(auth::parse_scopes(s).map_err(|e| anyhow::anyhow!("scopes: {e}"))?),
        None => None,
    };
    let change = match &parsed {
        Some(s) => AccountChange::Scopes(s),
        None => AccountChange::Disable,
    };
    with_current_db(&config, |pool| async move {
        auth::change_account(&pool, name, change, &cli_actor())
            .await
            .map_err(|e| anyhow::anyhow!(e))
    })
    .await?;
    match parsed {
        Some(s) => println!("{name} now has scopes {}", s.join(",")),
        None => println!("{name} is disabled; its tokens no longer work"),
    }
    Ok(())
}
