//! Configuration from the environment (and an optional `.env`, loaded by the binary first).
//!
//! Parsing is a pure function of a variable lookup, so it is table-tested without touching the
//! process environment. Every variable is documented in `.env.example`; an invalid value fails
//! fast with an error that names the variable, the value and what would be accepted.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::secret::Secret;

/// Every `FLEET_*` and `JIMI_*` variable the platform reads (each documented in `.env.example`),
/// plus the test harness's `FLEET_TEST_DATABASE_URL` and the build's `FLEET_GIT_SHA`.
pub const KNOWN_VARS: &[&str] = &[
    "FLEET_ACCESS_TOKEN_TTL_SECS",
    "FLEET_ALERT_WEBHOOK_URL",
    "FLEET_BACKUP_DIR",
    "FLEET_BACKUP_HOUR_UTC",
    "FLEET_BACKUP_KEEP_EVENTS",
    "FLEET_BACKUP_KEEP_FULL",
    "FLEET_BACKUP_KEEP_GEO",
    "FLEET_BACKUP_S3_ACCESS_KEY",
    "FLEET_BACKUP_S3_BUCKET",
    "FLEET_BACKUP_S3_ENDPOINT",
    "FLEET_BACKUP_S3_PREFIX",
    "FLEET_BACKUP_S3_REGION",
    "FLEET_BACKUP_S3_SECRET_KEY",
    "FLEET_CORS_ORIGINS",
    "FLEET_CRON_LISTEN",
    "FLEET_DB_MAX_CONNECTIONS",
    "FLEET_FUEL_S3_ACCESS_KEY",
    "FLEET_FUEL_S3_BUCKET",
    "FLEET_FUEL_S3_ENDPOINT",
    "FLEET_FUEL_S3_PREFIX",
    "FLEET_FUEL_S3_REGION",
    "FLEET_FUEL_S3_SECRET_KEY",
    "FLEET_HOME",
    "FLEET_JWT_SECRET",
    "FLEET_LISTEN",
    "FLEET_LOG",
    "FLEET_LOG_FORMAT",
    "FLEET_MAP_STYLE_URL",
    "FLEET_MIGRATION_WAIT_SECS",
    "FLEET_NOMINATIM_URL",
    "FLEET_OSM_FILE",
    "FLEET_OSM_URL",
    "FLEET_PG_BINDIR",
    "FLEET_PUSH_MAX_BYTES",
    "FLEET_PUSH_MIRROR_URL",
    "FLEET_PUSH_SECRETS",
    "FLEET_RATE_DASHBOARD_PER_MIN",
    "FLEET_RATE_LOGIN_PER_MIN",
    "FLEET_RATE_PUSH_FAILED_PER_MIN",
    "FLEET_RATE_PUSH_PER_MIN",
    "FLEET_RATE_PUSH_PER_SOURCE_PER_MIN",
    "FLEET_RATE_ROUTES_PER_MIN",
    "FLEET_REFRESH_TOKEN_TTL_SECS",
    "FLEET_SIM_API_LISTEN",
    "FLEET_SIM_SEED",
    "FLEET_SIM_SPEED",
    "FLEET_SIM_VEHICLES",
    "FLEET_WORKER_LISTEN",
    "JIMI_API_BASE",
    "JIMI_APP_KEY",
    "JIMI_APP_SECRET",
    "JIMI_CONTRACT_TARGET",
    "JIMI_MIN_CALL_INTERVAL_MS",
    "JIMI_PASSWORD",
    "JIMI_PUSH_TOKEN",
    "JIMI_TARGETS",
    "JIMI_TIMEOUT_SECS",
    "JIMI_USER_ID",
    "FLEET_TEST_DATABASE_URL",
    // read by the build script (crates/fleet/build.rs), not at run time
    "FLEET_GIT_SHA",
];

/// The `FLEET_*` / `JIMI_*` names among `names` that the platform does not read (a typo, or a
/// variable of another version), each with the known name it most resembles, if any is close.
pub fn unknown_vars(
    names: impl IntoIterator<Item = String>,
) -> Vec<(String, Option<&'static str>)> {
    let mut out: Vec<(String, Option<&'static str>)> = names
        .into_iter()
        .filter(|n| n.starts_with("FLEET_") || n.starts_with("JIMI_"))
        .filter(|n| !KNOWN_VARS.contains(&n.as_str()))
        .map(|n| {
            let near = KNOWN_VARS
                .iter()
                .map(|k| (edit_distance(&n, k), *k))
                .min()
                .filter(|(d, _)| *d <= 3)
                .map(|(_, k)| k);
            (n, near)
        })
        .collect();
    out.sort();
    out
}

/// Levenshtein distance over bytes (the names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable on a terminal, JSON otherwise.
    Auto,
    Json,
    Pretty,
}

/// The whole process configuration. Role-specific settings are added here by later areas.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: an existing Postgres server. `None` = use the managed local cluster.
    pub database_url: Option<Secret>,
    /// `DATABASE_READ_URL`: a hot standby of `DATABASE_URL` that serves the gateway's views and
    /// analytics while its replay lag is within `slo.targets` `replica_lag_sec`. `None` = all reads
    /// on the primary.
    pub database_read_url: Option<Secret>,
    /// `FLEET_HOME`: data folder of the managed local cluster (and other local state).
    pub fleet_home: PathBuf,
    /// `FLEET_PG_BINDIR`: where `initdb`/`pg_ctl` live; found automatically when unset.
    pub pg_bindir: Option<PathBuf>,
    /// `FLEET_LISTEN`: the gateway's address (also the single address of `fleet up`).
    pub listen: SocketAddr,
    /// `FLEET_WORKER_LISTEN`: health/metrics address of a standalone worker process.
    pub worker_listen: SocketAddr,
    /// `FLEET_CRON_LISTEN`: health/metrics address of a standalone cron process.
    pub cron_listen: SocketAddr,
    /// `FLEET_DB_MAX_CONNECTIONS`: pool size per process.
    pub db_max_connections: u32,
    /// `FLEET_MIGRATION_WAIT_SECS`: how long gateway and cron wait for the worker's migrations.
    pub migration_wait: Duration,
    /// `FLEET_LOG_FORMAT`: auto | json | pretty.
    pub log_format: LogFormat,
    /// `FLEET_LOG` (or `RUST_LOG`): tracing filter directives.
    pub log_filter: String,
    /// `JIMI_PUSH_TOKEN`: the shared token the Jimi IoT Hub sends in its `token` form field.
    pub jimi_push_token: Option<Secret>,
    /// `FLEET_PUSH_SECRETS`: `source=secret,...` HMAC-SHA256 secrets of generic signed sources.
    pub push_secrets: Vec<(String, Secret)>,
    /// `FLEET_PUSH_MAX_BYTES`: largest accepted push body.
    pub push_max_bytes: usize,
    /// `FLEET_PUSH_MIRROR_URL`: copy every accepted push to this base URL (side-by-side cutover).
    pub push_mirror_url: Option<String>,
    /// `FLEET_SIM_VEHICLES`: vehicles of the simulated fleet in `fleet up` (0 = no simulator).
    pub sim_vehicles: usize,
    /// `FLEET_SIM_SPEED`: simulated seconds per real second.
    pub sim_speed: f64,
    /// `FLEET_SIM_SEED`: the simulated fleet's seed (same seed, same fleet).
    pub sim_seed: u64,
    /// `FLEET_SIM_API_LISTEN`: where `fleet up` serves the simulated vendor Open API.
    pub sim_api_listen: SocketAddr,
    /// The vendor Open API account the cron role polls (`JIMI_API_BASE` and friends);
    /// `None` = no polling (pushes only).
    pub vendor: Option<VendorConfig>,
    /// The fuel feed's S3-compatible bucket (`FLEET_FUEL_S3_ENDPOINT` and friends); `None` = no
    /// bucket (imports from files only, no hourly job).
    pub fuel_feed: Option<BucketConfig>,
    /// Where and how `fleet backup` keeps backups (`FLEET_BACKUP_S3_ENDPOINT` and friends);
    /// `None` = no bucket (`fleet backup` refuses and says what to set).
    pub backup: Option<BackupConfig>,
    /// `FLEET_ALERT_WEBHOOK_URL`: where alerts (contract drift) are POSTed as JSON; optional.
    pub alert_webhook_url: Option<String>,
    /// `FLEET_OSM_FILE` or `FLEET_OSM_URL`: the OpenStreetMap extract the cron role loads into
    /// `geo.*` at its first start and every 30 days after; `None` = loaded by hand only.
    pub osm_source: Option<OsmSource>,
    /// `FLEET_NOMINATIM_URL`: a Nominatim server the geocoder also asks (reverse, at most one
    /// request a second, each position once); `None` = addresses from the loaded extract only.
    pub nominatim_url: Option<String>,
    /// `FLEET_JWT_SECRET`: the key access tokens are signed with (required by the gateway;
    /// `fleet up` makes one per run when unset).
    pub jwt_secret: Option<Secret>,
    /// `FLEET_ACCESS_TOKEN_TTL_SECS`: lifetime of an access token.
    pub access_token_ttl: Duration,
    /// `FLEET_REFRESH_TOKEN_TTL_SECS`: lifetime of a refresh token.
    pub refresh_token_ttl: Duration,
    /// `FLEET_CORS_ORIGINS`: browser origins allowed to call the API from another site
    /// (e.g. `https://ops.example.com`); empty = same-origin only, `*` = any (not for production).
    pub cors_origins: Vec<String>,
    /// `FLEET_MAP_STYLE_URL`: a MapLibre style for the pages' maps; unset = the offline basemap
    /// of our own vector tiles from the loaded OpenStreetMap extract.
    pub map_style_url: Option<String>,
    /// `FLEET_RATE_DASHBOARD_PER_MIN`: authenticated `/api/*` requests per minute per token subject.
    pub rate_dashboard_per_min: u32,
    /// `FLEET_RATE_ROUTES_PER_MIN`: route requests per minute per token subject.
    pub rate_routes_per_min: u32,
    /// `FLEET_RATE_PUSH_PER_SOURCE_PER_MIN`: verified pushes per minute per source credential
    /// (the vendor's push token, each signed source's secret).
    pub rate_push_per_source_per_min: u32,
    /// `FLEET_RATE_PUSH_FAILED_PER_MIN`: pushes that fail verification, per minute per sending IP;
    /// past it every push from that IP is refused until the bucket refills.
    pub rate_push_failed_per_min: u32,
    /// `FLEET_RATE_LOGIN_PER_MIN`: token requests per minute per IP.
    pub rate_login_per_min: u32,
}

/// Default least time between two calls of one vendor method, in ms.
pub const DEFAULT_VENDOR_PACE_MS: u32 = 250;
/// Default vendor request timeout, in seconds.
pub const DEFAULT_VENDOR_TIMEOUT_SECS: u32 = 30;

/// The Jimi Open API account and how it is polled.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorConfig {
    /// `JIMI_API_BASE`, e.g. `https://eu-open.tracksolidpro.com`.
    pub base_url: String,
    /// `JIMI_APP_KEY`.
    pub app_key: String,
    /// `JIMI_APP_SECRET`.
    pub app_secret: Secret,
    /// `JIMI_USER_ID`: the login the token is taken for.
    pub user_id: String,
    /// `JIMI_PASSWORD`: that login's password (sent only as its MD5, as the vendor requires).
    pub password: Secret,
    /// `JIMI_TARGETS`: the sub-accounts every poll iterates (FIX-M19); default: the user id.
    pub targets: Vec<String>,
    /// `JIMI_CONTRACT_TARGET`: the (sandbox) account the daily contract check calls; default:
    /// the first target.
    pub contract_target: String,
    /// `JIMI_MIN_CALL_INTERVAL_MS`: least time between two calls of one method.
    pub pace: Duration,
    /// `JIMI_TIMEOUT_SECS`: per-request timeout.
    pub timeout: Duration,
}

/// A configuration variable holds a value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {var}={value:?}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub value: String,
    pub reason: String,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `lookup` (variable name → value).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let database_url = match get("DATABASE_URL") {
            Some(url) => Some(Secret::new(parse_database_url(&url)?)),
            None => None,
        };
        let database_read_url = match get("DATABASE_READ_URL") {
            Some(url) => Some(Secret::new(parse_postgres_url("DATABASE_READ_URL", &url)?)),
            None => None,
        };
        if database_read_url.is_some() && database_url.is_none() {
            return Err(ConfigError {
                var: "DATABASE_READ_URL",
                value: "(set)".into(),
                reason: "a read replica needs its primary: set DATABASE_URL too (the managed local cluster has no replica)".into(),
            });
        }
        Ok(Self {
            database_url,
            database_read_url,
            fleet_home: get("FLEET_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("./var")),
            pg_bindir: get("FLEET_PG_BINDIR").map(PathBuf::from),
            listen: addr("FLEET_LISTEN", get("FLEET_LISTEN"), "127.0.0.1:8080")?,
            worker_listen: addr(
                "FLEET_WORKER_LISTEN",
                get("FLEET_WORKER_LISTEN"),
                "127.0.0.1:8081",
            )?,
            cron_listen: addr(
                "FLEET_CRON_LISTEN",
                get("FLEET_CRON_LISTEN"),
                "127.0.0.1:8082",
            )?,
            db_max_connections: int_in(
                "FLEET_DB_MAX_CONNECTIONS",
                get("FLEET_DB_MAX_CONNECTIONS"),
                10,
                1,
                1000,
            )?,
            migration_wait: Duration::from_secs(
                int_in(
                    "FLEET_MIGRATION_WAIT_SECS",
                    get("FLEET_MIGRATION_WAIT_SECS"),
                    120,
                    0,
                    86_400,
                )?
                .into(),
            ),
            log_format: match get("FLEET_LOG_FORMAT")
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                None | Some("auto") => LogFormat::Auto,
                Some("json") => LogFormat::Json,
                Some("pretty") | Some("text") => LogFormat::Pretty,
                Some(other) => {
                    return Err(ConfigError {
                        var: "FLEET_LOG_FORMAT",
                        value: other.to_string(),
                        reason: "expected one of: auto, json, pretty".into(),
                    });
                }
            },
            log_filter: get("FLEET_LOG")
                .or_else(|| get("RUST_LOG"))
                .unwrap_or_else(|| "info,sqlx=warn".into()),
            jimi_push_token: match get("JIMI_PUSH_TOKEN") {
                Some(t) if t.len() < 8 => {
                    return Err(ConfigError {
                        var: "JIMI_PUSH_TOKEN",
                        value: "(hidden)".into(),
                        reason: "the shared push token must be at least 8 characters".into(),
                    });
                }
                t => t.map(Secret::new),
            },
            push_secrets: parse_push_secrets(get("FLEET_PUSH_SECRETS"))?,
            push_max_bytes: int_in(
                "FLEET_PUSH_MAX_BYTES",
                get("FLEET_PUSH_MAX_BYTES"),
                1 << 20,
                256,
                64 << 20,
            )? as usize,
            push_mirror_url: match get("FLEET_PUSH_MIRROR_URL") {
                Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => {
                    return Err(ConfigError {
                        var: "FLEET_PUSH_MIRROR_URL",
                        value: u,
                        reason: "expected a base URL such as https://old-stack.example/webhook"
                            .into(),
                    });
                }
                u => u,
            },
            sim_vehicles: int_in(
                "FLEET_SIM_VEHICLES",
                get("FLEET_SIM_VEHICLES"),
                80,
                0,
                10_000,
            )? as usize,
            sim_speed: match get("FLEET_SIM_SPEED") {
                None => 1.0,
                Some(v) => match v.trim().parse::<f64>() {
                    Ok(x) if (0.1..=1000.0).contains(&x) => x,
                    _ => {
                        return Err(ConfigError {
                            var: "FLEET_SIM_SPEED",
                            value: v,
                            reason: "expected simulated seconds per real second, from 0.1 to 1000"
                                .into(),
                        });
                    }
                },
            },
            sim_api_listen: addr(
                "FLEET_SIM_API_LISTEN",
                get("FLEET_SIM_API_LISTEN"),
                "127.0.0.1:8090",
            )?,
            vendor: vendor_config(&get)?,
            fuel_feed: bucket_config(&get, &FUEL_BUCKET)?,
            backup: backup_config(&get)?,
            jwt_secret: match get("FLEET_JWT_SECRET") {
                Some(s) if s.trim().len() < 32 => {
                    return Err(ConfigError {
                        var: "FLEET_JWT_SECRET",
                        value: "(hidden)".into(),
                        reason: "the token signing key must be at least 32 characters (e.g. openssl rand -hex 32)".into(),
                    });
                }
                s => s.map(Secret::new),
            },
            access_token_ttl: Duration::from_secs(
                int_in(
                    "FLEET_ACCESS_TOKEN_TTL_SECS",
                    get("FLEET_ACCESS_TOKEN_TTL_SECS"),
                    900,
                    60,
                    86_400,
                )?
                .into(),
            ),
            refresh_token_ttl: Duration::from_secs(
                int_in(
                    "FLEET_REFRESH_TOKEN_TTL_SECS",
                    get("FLEET_REFRESH_TOKEN_TTL_SECS"),
                    30 * 86_400,
                    300,
                    365 * 86_400,
                )?
                .into(),
            ),
            alert_webhook_url: http_url(
                "FLEET_ALERT_WEBHOOK_URL",
                get("FLEET_ALERT_WEBHOOK_URL"),
                "a URL such as https://hooks.example/fleet",
            )?,
            osm_source: match (get("FLEET_OSM_FILE"), get("FLEET_OSM_URL")) {
                (Some(f), Some(_)) => {
                    return Err(ConfigError {
                        var: "FLEET_OSM_URL",
                        value: "(set)".into(),
                        reason: format!(
                            "FLEET_OSM_FILE is set too ({f}): set one of them, the file or the URL of the extract"
                        ),
                    });
                }
                (Some(f), None) => Some(OsmSource::File(std::path::PathBuf::from(f))),
                (None, u) => http_url(
                    "FLEET_OSM_URL",
                    u,
                    "the URL of an .osm.pbf extract, such as https://download.geofabrik.de/africa/kenya-latest.osm.pbf",
                )?
                .map(OsmSource::Url),
            },
            nominatim_url: http_url(
                "FLEET_NOMINATIM_URL",
                get("FLEET_NOMINATIM_URL"),
                "the base URL of a Nominatim server, such as https://nominatim.example.org (its /reverse is asked)",
            )?,
            cors_origins: parse_origins(get("FLEET_CORS_ORIGINS"))?,
            map_style_url: http_url(
                "FLEET_MAP_STYLE_URL",
                get("FLEET_MAP_STYLE_URL"),
                "the URL of a MapLibre style JSON, such as https://tiles.example/styles/streets/style.json",
            )?,
            rate_dashboard_per_min: int_in(
                "FLEET_RATE_DASHBOARD_PER_MIN",
                get("FLEET_RATE_DASHBOARD_PER_MIN"),
                60,
                0,
                1_000_000,
            )?,
            rate_routes_per_min: int_in(
                "FLEET_RATE_ROUTES_PER_MIN",
                get("FLEET_RATE_ROUTES_PER_MIN"),
                10,
                0,
                1_000_000,
            )?,
            rate_push_per_source_per_min: match get("FLEET_RATE_PUSH_PER_MIN") {
                // per IP until 2026-12-02: a hub sends every device's pushes from a few
                // addresses, so a per-IP figure would throttle the vendor; refuse it by name
                Some(v) => {
                    return Err(ConfigError {
                        var: "FLEET_RATE_PUSH_PER_MIN",
                        value: v,
                        reason: "this per-IP push limit is replaced: set FLEET_RATE_PUSH_PER_SOURCE_PER_MIN \
                                 (verified pushes per minute per source credential, default 200000) and \
                                 FLEET_RATE_PUSH_FAILED_PER_MIN (failed attempts per minute per IP, default 30), \
                                 and remove this one"
                            .into(),
                    });
                }
                None => int_in(
                    "FLEET_RATE_PUSH_PER_SOURCE_PER_MIN",
                    get("FLEET_RATE_PUSH_PER_SOURCE_PER_MIN"),
                    200_000,
                    0,
                    100_000_000,
                )?,
            },
            rate_push_failed_per_min: int_in(
                "FLEET_RATE_PUSH_FAILED_PER_MIN",
                get("FLEET_RATE_PUSH_FAILED_PER_MIN"),
                30,
                0,
                1_000_000,
            )?,
            rate_login_per_min: int_in(
                "FLEET_RATE_LOGIN_PER_MIN",
                get("FLEET_RATE_LOGIN_PER_MIN"),
                10,
                0,
                1_000_000,
            )?,
            sim_seed: match get("FLEET_SIM_SEED") {
                None => 42,
                Some(v) => v.trim().parse().map_err(|_| ConfigError {
                    var: "FLEET_SIM_SEED",
                    value: v.clone(),
                    reason: "expected a whole number".into(),
                })?,
            },
        })
    }
}

/// `FLEET_CORS_ORIGINS`: a comma-separated list of `scheme://host[:port]` origins, or `*`.
fn parse_origins(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for o in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let o = o.trim_end_matches('/');
        let ok = o == "*"
            || ((o.starts_with("http://") || o.starts_with("https://"))
                && !o
                    .split_once("://")
                    .is_some_and(|(_, rest)| rest.is_empty() || rest.contains('/')));
        if !ok {
            return Err(ConfigError {
                var: "FLEET_CORS_ORIGINS",
                value: o.to_string(),
                reason: "expected origins like https://ops.example.com (scheme and host, no path), comma-separated, or *".into(),
            });
        }
        out.push(o.to_string());
    }
    Ok(out)
}

/// An S3-compatible bucket, addressed path-style (as RustFS and MinIO serve it): the fuel feed's
/// (`FLEET_FUEL_S3_*`) or the backups' (`FLEET_BACKUP_S3_*`).
#[derive(Debug, Clone, PartialEq)]
pub struct BucketConfig {
    /// `…_S3_ENDPOINT`, e.g. `https://s3.example.com` (the client's `RUSTFS_ENDPOINT`).
    pub endpoint: String,
    /// `…_S3_REGION` (default `us-east-1`).
    pub region: String,
    /// `…_S3_BUCKET` (default `fuel` / `backups`).
    pub bucket: String,
    /// `…_S3_PREFIX`: the folder inside the bucket (default `fuel_records` / `fleet`).
    pub prefix: String,
    /// `…_S3_ACCESS_KEY`.
    pub access_key: String,
    /// `…_S3_SECRET_KEY`.
    pub secret_key: Secret,
}

/// The names and defaults of one bucket's variables.
struct BucketVars {
    what: &'static str,
    endpoint: &'static str,
    region: &'static str,
    bucket: &'static str,
    prefix: &'static str,
    access_key: &'static str,
    secret_key: &'static str,
    default_bucket: &'static str,
    default_prefix: &'static str,
}

const FUEL_BUCKET: BucketVars = BucketVars {
    what: "the fuel bucket",
    endpoint: "FLEET_FUEL_S3_ENDPOINT",
    region: "FLEET_FUEL_S3_REGION",
    bucket: "FLEET_FUEL_S3_BUCKET",
    prefix: "FLEET_FUEL_S3_PREFIX",
    access_key: "FLEET_FUEL_S3_ACCESS_KEY",
    secret_key: "FLEET_FUEL_S3_SECRET_KEY",
    default_bucket: "fuel",
    default_prefix: "fuel_records",
};

const BACKUP_BUCKET: BucketVars = BucketVars {
    what: "the backup bucket",
    endpoint: "FLEET_BACKUP_S3_ENDPOINT",
    region: "FLEET_BACKUP_S3_REGION",
    bucket: "FLEET_BACKUP_S3_BUCKET",
    prefix: "FLEET_BACKUP_S3_PREFIX",
    access_key: "FLEET_BACKUP_S3_ACCESS_KEY",
    secret_key: "FLEET_BACKUP_S3_SECRET_KEY",
    default_bucket: "backups",
    default_prefix: "fleet",
};

/// Backups: the bucket, how many of each kind are kept, when the nightly run starts and where
/// dumps are staged on their way to and from the bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupConfig {
    pub bucket: BucketConfig,
    /// `FLEET_BACKUP_KEEP_FULL`: nightly full backups kept (default 14).
    pub keep_full: u32,
    /// `FLEET_BACKUP_KEEP_EVENTS`: weekly `events` slices kept (default 8).
    pub keep_events: u32,
    /// `FLEET_BACKUP_KEEP_GEO`: monthly `geo` slices kept (default 3).
    pub keep_geo: u32,
    /// `FLEET_BACKUP_HOUR_UTC`: the hour (UTC) the scheduled run starts (default 0 = 03:00 EAT).
    pub hour_utc: u32,
    /// `FLEET_BACKUP_DIR`: the staging folder (default the system's temporary folder).
    pub dir: Option<PathBuf>,
}

/// A group of variables switched on by one base URL, `anchor`: unset, any of `dependents` set is
/// an error (it would be ignored); set, it must be an http(s) URL. Returns the URL.
fn anchored_url(
    get: &impl Fn(&str) -> Option<String>,
    anchor: &'static str,
    dependents: &[&'static str],
    what: &str,
    example: &str,
) -> Result<Option<String>, ConfigError> {
    let Some(url) = get(anchor) else {
        return match dependents.iter().find(|v| get(v).is_some()) {
            Some(var) => Err(ConfigError {
                var,
                value: "(set)".into(),
                reason: format!(
                    "{anchor} is not set, so {what} would be ignored; set {anchor} (e.g. {example}) too"
                ),
            }),
            None => Ok(None),
        };
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConfigError {
            var: anchor,
            value: url,
            reason: format!("expected a base URL such as {example}"),
        });
    }
    Ok(Some(url))
}

/// A variable that `anchor` being set requires.
fn required_by(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    anchor: &str,
) -> Result<String, ConfigError> {
    get(var).ok_or_else(|| ConfigError {
        var,
        value: String::new(),
        reason: format!("required when {anchor} is set (see .env.example)"),
    })
}

/// An optional http(s) URL; anything else is an error that says what was expected.
fn http_url(
    var: &'static str,
    value: Option<String>,
    expected: &str,
) -> Result<Option<String>, ConfigError> {
    match value {
        Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => Err(ConfigError {
            var,
            value: u,
            reason: format!("expected {expected}"),
        }),
        u => Ok(u),
    }
}

/// Where the monthly OSM load reads its extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsmSource {
    File(std::path::PathBuf),
    Url(String),
}

/// A bucket, when its endpoint variable is set; then both keys must be too.
fn bucket_config(
    get: &impl Fn(&str) -> Option<String>,
    vars: &BucketVars,
) -> Result<Option<BucketConfig>, ConfigError> {
    let Some(endpoint) = anchored_url(
        get,
        vars.endpoint,
        &[vars.access_key, vars.secret_key],
        vars.what,
        "https://s3.example.com",
    )?
    else {
        return Ok(None);
    };
    let required = |var| required_by(get, var, vars.endpoint);
    Ok(Some(BucketConfig {
        endpoint: endpoint.trim_end_matches('/').to_string(),
        region: get(vars.region).unwrap_or_else(|| "us-east-1".into()),
        bucket: get(vars.bucket).unwrap_or_else(|| vars.default_bucket.into()),
        prefix: get(vars.prefix)
            .map(|p| p.trim_matches('/').to_string())
            .unwrap_or_else(|| vars.default_prefix.into()),
        access_key: required(vars.access_key)?,
        secret_key: Secret::new(required(vars.secret_key)?),
    }))
}

/// Backups, when `FLEET_BACKUP_S3_ENDPOINT` is set; the retention and schedule variables without
/// it would be ignored, so they are an error then.
fn backup_config(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<BackupConfig>, ConfigError> {
    const TUNING: [&str; 5] = [
        "FLEET_BACKUP_KEEP_FULL",
        "FLEET_BACKUP_KEEP_EVENTS",
        "FLEET_BACKUP_KEEP_GEO",
        "FLEET_BACKUP_HOUR_UTC",
        "FLEET_BACKUP_DIR",
    ];
    let Some(bucket) = bucket_config(get, &BACKUP_BUCKET)? else {
        if let Some(var) = TUNING.iter().find(|v| get(v).is_some()) {
            return Err(ConfigError {
                var,
                value: "(set)".into(),
                reason: "FLEET_BACKUP_S3_ENDPOINT is not set, so this would be ignored; set the backup bucket (FLEET_BACKUP_S3_*) too".into(),
            });
        }
        return Ok(None);
    };
    Ok(Some(BackupConfig {
        bucket,
        keep_full: int_in(
            "FLEET_BACKUP_KEEP_FULL",
            get("FLEET_BACKUP_KEEP_FULL"),
            14,
            1,
            10_000,
        )?,
        keep_events: int_in(
            "FLEET_BACKUP_KEEP_EVENTS",
            get("FLEET_BACKUP_KEEP_EVENTS"),
            8,
            1,
            10_000,
        )?,
        keep_geo: int_in(
            "FLEET_BACKUP_KEEP_GEO",
            get("FLEET_BACKUP_KEEP_GEO"),
            3,
            1,
            10_000,
        )?,
        hour_utc: int_in(
            "FLEET_BACKUP_HOUR_UTC",
            get("FLEET_BACKUP_HOUR_UTC"),
            0,
            0,
            23,
        )?,
        dir: get("FLEET_BACKUP_DIR").map(PathBuf::from),
    }))
}

/// The vendor account, when `JIMI_API_BASE` is set; then every credential must be too.
fn vendor_config(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<VendorConfig>, ConfigError> {
    let Some(base) = anchored_url(
        get,
        "JIMI_API_BASE",
        &[
            "JIMI_APP_KEY",
            "JIMI_APP_SECRET",
            "JIMI_USER_ID",
            "JIMI_PASSWORD",
            "JIMI_TARGETS",
        ],
        "the vendor account",
        "https://eu-open.tracksolidpro.com",
    )?
    else {
        return Ok(None);
    };
    let required = |var| required_by(get, var, "JIMI_API_BASE");
    let user_id = required("JIMI_USER_ID")?;
    let mut targets: Vec<String> = Vec::new();
    for t in get("JIMI_TARGETS")
        .unwrap_or_else(|| user_id.clone())
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if !targets.iter().any(|x| x == t) {
            targets.push(t.to_string());
        }
    }
    let contract_target = get("JIMI_CONTRACT_TARGET")
        .map(|t| t.trim().to_string())
        .or_else(|| targets.first().cloned())
        .unwrap_or_else(|| user_id.clone());
    Ok(Some(VendorConfig {
        base_url: base.trim_end_matches('/').to_string(),
        app_key: required("JIMI_APP_KEY")?,
        app_secret: Secret::new(required("JIMI_APP_SECRET")?),
        password: Secret::new(required("JIMI_PASSWORD")?),
        user_id,
        targets,
        contract_target,
        pace: Duration::from_millis(
            int_in(
                "JIMI_MIN_CALL_INTERVAL_MS",
                get("JIMI_MIN_CALL_INTERVAL_MS"),
                DEFAULT_VENDOR_PACE_MS,
                0,
                60_000,
            )?
            .into(),
        ),
        timeout: Duration::from_secs(
            int_in(
                "JIMI_TIMEOUT_SECS",
                get("JIMI_TIMEOUT_SECS"),
                DEFAULT_VENDOR_TIMEOUT_SECS,
                1,
                600,
            )?
            .into(),
        ),
    }))
}

/// `source=secret,source2=secret2`; source names follow the event log's rule (lower-case, digits, `_`).
fn parse_push_secrets(value: Option<String>) -> Result<Vec<(String, Secret)>, ConfigError> {
    let Some(v) = value else {
        return Ok(Vec::new());
    };
    let err = |reason: String| ConfigError {
        var: "FLEET_PUSH_SECRETS",
        value: "(hidden)".into(),
        reason,
    };
    let mut out: Vec<(String, Secret)> = Vec::new();
    for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (source, secret) = pair.split_once('=').ok_or_else(|| err(format!("expected source=secret pairs separated by commas, got an entry without '=' ({} characters)", pair.len())))?;
        let source = source.trim();
        let valid = source.len() <= 40
            && source.starts_with(|c: char| c.is_ascii_lowercase())
            && source
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(err(format!(
                "source name {source:?} must be lower-case letters, digits and _ (at most 40, starting with a letter)"
            )));
        }
        if source.starts_with("jimi_") {
            return Err(err(format!(
                "source name {source:?} is reserved for the vendor's own receivers"
            )));
        }
        if secret.trim().len() < 16 {
            return Err(err(format!(
                "the secret of {source:?} must be at least 16 characters"
            )));
        }
        if out.iter().any(|(s, _)| s == source) {
            return Err(err(format!("source {source:?} is listed twice")));
        }
        out.push((source.to_string(), Secret::new(secret.trim())));
    }
    Ok(out)
}

fn parse_database_url(url: &str) -> Result<String, ConfigError> {
    parse_postgres_url("DATABASE_URL", url)
}

fn parse_postgres_url(var: &'static str, url: &str) -> Result<String, ConfigError> {
    let err = |reason: &str| ConfigError {
        var,
        value: redact_url(url),
        reason: reason.to_string(),
    };
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or_else(|| err("expected a URL such as postgres://user:password@host:5432/dbname"))?;
    if rest.is_empty() || (rest.starts_with('/') && !rest.contains("host=")) {
        return Err(err(
            "the URL names no host; expected postgres://user:password@host:5432/dbname",
        ));
    }
    Ok(url.to_string())
}

/// The URL with its password replaced, safe to print.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

fn addr(
    var: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<SocketAddr, ConfigError> {
    let v = value.unwrap_or_else(|| default.to_string());
    v.parse().map_err(|_| ConfigError {
        var,
        value: v.clone(),
        reason:
            "expected an IP address and port such as 127.0.0.1:8080 (use port 0 for any free port)"
                .into(),
    })
}

fn int_in(
    var: &'static str,
    value: Option<String>,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    let Some(v) = value else { return Ok(default) };
    match v.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError {
            var,
            value: v,
            reason: format!("expected a whole number from {min} to {max}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_variable_read_or_documented_is_known_and_typos_are_named() {
        let source = include_str!("config.rs");
        let source = &source[..source.find("#[cfg(test)]").expect("tests")];
        let example = include_str!("../../../.env.example");
        let quoted = |text: &str| -> Vec<String> {
            text.split(['"', ' ', '\n', '#', '='])
                .filter(|w| {
                    (w.starts_with("FLEET_") || w.starts_with("JIMI_"))
                        && w.len() > 6
                        && w.bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                })
                .map(String::from)
                .collect()
        };
        for v in quoted(source).iter().chain(&quoted(example)) {
            assert!(
                KNOWN_VARS.contains(&v.as_str()),
                "{v} is read or documented but not in KNOWN_VARS"
            );
        }
        for k in KNOWN_VARS
            .iter()
            .filter(|k| **k != "FLEET_TEST_DATABASE_URL")
        {
            assert!(
                quoted(example).iter().any(|v| v == k),
                "{k} is not documented in .env.example"
            );
        }
        let found = unknown_vars(
            [
                "FLEET_LISTN",
                "JIMI_APP_SECRET",
                "FLEET_TOTALLY_NEW_THING",
                "PATH",
                "JIMI_PASWORD",
            ]
            .map(String::from),
        );
        assert_eq!(
            found,
            vec![
                ("FLEET_LISTN".to_string(), Some("FLEET_LISTEN")),
                ("FLEET_TOTALLY_NEW_THING".to_string(), None),
                ("JIMI_PASWORD".to_string(), Some("JIMI_PASSWORD")),
            ]
        );
    }

    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let c = cfg(&[]).expect("defaults are valid");
        assert_eq!(c.database_url, None);
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.worker_listen.to_string(), "127.0.0.1:8081");
        assert_eq!(c.cron_listen.to_string(), "127.0.0.1:8082");
        assert_eq!(c.fleet_home, PathBuf::from("./var"));
        assert_eq!(c.db_max_connections, 10);
        assert_eq!(c.log_format, LogFormat::Auto);
        assert_eq!(c.log_filter, "info,sqlx=warn");
    }

    #[test]
    fn values_are_read() {
        let c = cfg(&[
            ("DATABASE_URL", "postgres://u:p@db:5432/fleet"),
            ("FLEET_LISTEN", "0.0.0.0:9000"),
            ("FLEET_DB_MAX_CONNECTIONS", "25"),
            ("FLEET_LOG_FORMAT", "JSON"),
            ("RUST_LOG", "debug"),
        ])
        .expect("valid");
        assert_eq!(
            c.database_url.as_ref().map(Secret::expose),
            Some("postgres://u:p@db:5432/fleet")
        );
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.db_max_connections, 25);
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.log_filter, "debug");
    }

    #[test]
    fn the_osm_extract_is_a_file_or_a_url_not_both() {
        assert_eq!(cfg(&[]).expect("defaults").osm_source, None);
        let c = cfg(&[("FLEET_OSM_FILE", "/data/kenya.osm.pbf")]).expect("file");
        assert_eq!(
            c.osm_source,
            Some(OsmSource::File("/data/kenya.osm.pbf".into()))
        );
        let u = "https://download.example/kenya-latest.osm.pbf";
        let c = cfg(&[("FLEET_OSM_URL", u)]).expect("url");
        assert_eq!(c.osm_source, Some(OsmSource::Url(u.into())));
        let e = cfg(&[("FLEET_OSM_URL", "kenya.osm.pbf")]).expect_err("not a URL");
        assert!(e.reason.contains("URL"), "{e}");
        let e = cfg(&[("FLEET_OSM_FILE", "/a.pbf"), ("FLEET_OSM_URL", u)]).expect_err("both");
        assert!(e.reason.contains("one of them"), "{e}");
    }

    #[test]
    fn cors_origins_and_rate_limits() {
        let c = cfg(&[]).expect("defaults");
        assert!(c.cors_origins.is_empty());
        assert_eq!(
            (
                c.rate_dashboard_per_min,
                c.rate_routes_per_min,
                c.rate_push_per_source_per_min,
                c.rate_push_failed_per_min,
                c.rate_login_per_min
            ),
            (60, 10, 200_000, 30, 10)
        );
        // the per-IP push limit of before is refused by name, with what replaces it
        let e = cfg(&[("FLEET_RATE_PUSH_PER_MIN", "1000")]).expect_err("replaced");
        assert_eq!(e.var, "FLEET_RATE_PUSH_PER_MIN");
        assert!(
            e.reason.contains("FLEET_RATE_PUSH_PER_SOURCE_PER_MIN")
                && e.reason.contains("FLEET_RATE_PUSH_FAILED_PER_MIN"),
            "{}",
            e.reason
        );
        let c = cfg(&[
            (
                "FLEET_CORS_ORIGINS",
                "https://ops.example.com/, http://localhost:5173",
            ),
            ("FLEET_RATE_DASHBOARD_PER_MIN", "0"),
        ])
        .expect("valid");
        assert_eq!(
            c.cors_origins,
            ["https://ops.example.com", "http://localhost:5173"]
        );
        assert_eq!(c.rate_dashboard_per_min, 0);
        for bad in ["ops.example.com", "https://ops.example.com/app", "https://"] {
            let e = cfg(&[("FLEET_CORS_ORIGINS", bad)]).expect_err(bad);
            assert_eq!(e.var, "FLEET_CORS_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn url_variables_must_be_http_urls() {
        let c = cfg(&[]).expect("defaults");
        assert_eq!((c.map_style_url, c.alert_webhook_url), (None, None));
        let style = "https://tiles.example/styles/streets/style.json";
        let c = cfg(&[("FLEET_MAP_STYLE_URL", style)]).expect("valid");
        assert_eq!(c.map_style_url.as_deref(), Some(style));
        for var in ["FLEET_MAP_STYLE_URL", "FLEET_ALERT_WEBHOOK_URL"] {
            let e = cfg(&[(var, "tiles.example/style.json")]).expect_err(var);
            assert_eq!(e.var, var);
            assert!(e.reason.starts_with("expected "), "{}", e.reason);
        }
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = cfg(&[("DATABASE_URL", "  "), ("FLEET_LISTEN", "")]).expect("valid");
        assert_eq!(c.database_url, None);
        assert_eq!(c.listen.port(), 8080);
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let cases = [
            ("FLEET_LISTEN", "localhost"),
            ("FLEET_WORKER_LISTEN", "127.0.0.1"),
            ("FLEET_DB_MAX_CONNECTIONS", "0"),
            ("FLEET_DB_MAX_CONNECTIONS", "ten"),
            ("FLEET_MIGRATION_WAIT_SECS", "-1"),
            ("FLEET_LOG_FORMAT", "xml"),
            ("DATABASE_URL", "mysql://x@y/z"),
            ("JIMI_PUSH_TOKEN", "short"),
            ("FLEET_PUSH_SECRETS", "fuel_feed"),
            ("FLEET_PUSH_SECRETS", "Fuel=0123456789abcdef"),
            ("FLEET_PUSH_SECRETS", "fuel_feed=short"),
            ("FLEET_PUSH_SECRETS", "jimi_push=0123456789abcdef"),
            (
                "FLEET_PUSH_SECRETS",
                "a=0123456789abcdef,a=0123456789abcdef",
            ),
            ("FLEET_PUSH_MAX_BYTES", "10"),
            ("FLEET_SIM_VEHICLES", "20000"),
            ("FLEET_PUSH_MIRROR_URL", "old-stack:8000"),
            ("FLEET_SIM_SPEED", "0"),
            ("FLEET_SIM_SEED", "x"),
        ];
        for (var, value) in cases {
            let e = cfg(&[(var, value)]).expect_err(var);
            assert_eq!(e.var, var);
            assert!(e.to_string().contains(var), "{e}");
        }
    }

    #[test]
    fn vendor_account_is_all_or_nothing() {
        assert_eq!(cfg(&[]).expect("no vendor").vendor, None);
        let full = [
            ("JIMI_API_BASE", "https://eu-open.tracksolidpro.com/"),
            ("JIMI_APP_KEY", "k"),
            ("JIMI_APP_SECRET", "s"),
            ("JIMI_USER_ID", "fireside"),
            ("JIMI_PASSWORD", "p"),
        ];
        let v = cfg(&full).expect("valid").vendor.expect("vendor");
        assert_eq!(v.base_url, "https://eu-open.tracksolidpro.com");
        assert_eq!(v.targets, vec!["fireside".to_string()]);
        assert_eq!(v.contract_target, "fireside");
        assert_eq!(v.pace, Duration::from_millis(250));
        let mut more = full.to_vec();
        more.push((
            "JIMI_TARGETS",
            "fireside, Fireside@HQ,,Fireside_MSA,fireside",
        ));
        more.push(("JIMI_CONTRACT_TARGET", "sandbox"));
        let v = cfg(&more).expect("valid").vendor.expect("vendor");
        assert_eq!(v.targets, ["fireside", "Fireside@HQ", "Fireside_MSA"]);
        assert_eq!(v.contract_target, "sandbox");
        let e = cfg(&full[..4]).expect_err("password missing");
        assert_eq!(e.var, "JIMI_PASSWORD");
        let e = cfg(&full[1..]).expect_err("base missing");
        assert!(e.reason.contains("JIMI_API_BASE"), "{e}");
        let e = cfg(&[("JIMI_API_BASE", "eu-open.tracksolidpro.com")]).expect_err("no scheme");
        assert_eq!(e.var, "JIMI_API_BASE");
    }

    #[test]
    fn the_fuel_bucket_is_all_or_nothing_and_its_secret_never_printed() {
        assert_eq!(cfg(&[]).expect("no bucket").fuel_feed, None);
        let full = [
            ("FLEET_FUEL_S3_ENDPOINT", "http://127.0.0.1:9000/"),
            ("FLEET_FUEL_S3_ACCESS_KEY", "ak"),
            ("FLEET_FUEL_S3_SECRET_KEY", "very-secret"),
        ];
        let f = cfg(&full).expect("valid").fuel_feed.expect("bucket");
        assert_eq!(f.endpoint, "http://127.0.0.1:9000");
        assert_eq!(
            (f.region.as_str(), f.bucket.as_str(), f.prefix.as_str()),
            ("us-east-1", "fuel", "fuel_records")
        );
        assert!(!format!("{f:?}").contains("very-secret"));
        assert_eq!(
            cfg(&full[..2]).expect_err("no secret").var,
            "FLEET_FUEL_S3_SECRET_KEY"
        );
        let e = cfg(&full[1..]).expect_err("no endpoint");
        assert!(e.reason.contains("FLEET_FUEL_S3_ENDPOINT"), "{e}");
        let e = cfg(&[("FLEET_FUEL_S3_ENDPOINT", "s3.example.com")]).expect_err("no scheme");
        assert_eq!(e.var, "FLEET_FUEL_S3_ENDPOINT");
    }

    #[test]
    fn the_backup_bucket_has_its_own_variables_and_retention() {
        assert_eq!(cfg(&[]).expect("no bucket").backup, None);
        let full = [
            ("FLEET_BACKUP_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("FLEET_BACKUP_S3_ACCESS_KEY", "ak"),
            ("FLEET_BACKUP_S3_SECRET_KEY", "backup-secret"),
        ];
        let b = cfg(&full).expect("valid").backup.expect("backups");
        assert_eq!(
            (b.bucket.bucket.as_str(), b.bucket.prefix.as_str()),
            ("backups", "fleet")
        );
        assert_eq!(
            (b.keep_full, b.keep_events, b.keep_geo, b.hour_utc),
            (14, 8, 3, 0)
        );
        assert!(!format!("{b:?}").contains("backup-secret"));
        let mut more = full.to_vec();
        more.push(("FLEET_BACKUP_KEEP_FULL", "0"));
        assert_eq!(
            cfg(&more).expect_err("keep 0").var,
            "FLEET_BACKUP_KEEP_FULL"
        );
        more.pop();
        more.push(("FLEET_BACKUP_HOUR_UTC", "24"));
        assert_eq!(
            cfg(&more).expect_err("hour 24").var,
            "FLEET_BACKUP_HOUR_UTC"
        );
        let e = cfg(&[("FLEET_BACKUP_KEEP_GEO", "2")]).expect_err("retention without a bucket");
        assert!(e.reason.contains("FLEET_BACKUP_S3_ENDPOINT"), "{e}");
        // the fuel bucket is not the backup bucket
        assert_eq!(cfg(&full).expect("valid").fuel_feed, None);
    }

    #[test]
    fn push_secrets_are_read_and_never_echoed() {
        let c = cfg(&[(
            "FLEET_PUSH_SECRETS",
            "fuel_feed=0123456789abcdef, hr_extract=fedcba9876543210",
        )])
        .expect("valid");
        assert_eq!(c.push_secrets.len(), 2);
        assert_eq!(
            c.push_secrets[1],
            ("hr_extract".to_string(), Secret::new("fedcba9876543210"))
        );
        assert!(
            !format!("{c:?}").contains("fedcba9876543210"),
            "Debug of the configuration prints no secret"
        );
        let e = cfg(&[("FLEET_PUSH_SECRETS", "fuel_feed=tooshortsecret")]).expect_err("short");
        assert!(!e.to_string().contains("tooshortsecret"), "{e}");
    }

    #[test]
    fn database_url_errors_never_show_the_password() {
        let e = cfg(&[("DATABASE_URL", "mysql://user:hunter2@db/x")]).expect_err("bad scheme");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert_eq!(redact_url("postgres://a:b@h:1/d"), "postgres://a:***@h:1/d");
        assert_eq!(redact_url("postgres://h/d"), "postgres://h/d");
    }
}
