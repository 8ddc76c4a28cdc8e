//! Liveness of the roles a process runs: each role ticks its [`Liveness`] from its main loop and
//! annotates it with facts (last job, queue depth, ...); the health endpoints read it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// What a role's main loop returns; the binary reports the error and exits non-zero.
pub type RoleResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The roles of the binary.
pub const ROLES: [&str; 3] = ["gateway", "worker", "cron"];

/// Liveness facts of one role in this process.
#[derive(Debug)]
pub struct Liveness {
    role: &'static str,
    started: Instant,
    /// Milliseconds after `started` of the last tick (0 = never ticked).
    last_tick_ms: AtomicU64,
    stale_after: Duration,
    facts: Mutex<BTreeMap<String, Value>>,
}

impl Liveness {
    /// How long it may go without a tick before it counts as stuck.
    pub fn stale_after(&self) -> Duration {
        self.stale_after
    }

    /// How long ago the role started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// A role that counts as stuck when it has not ticked for `stale_after`.
    pub fn new(role: &'static str, stale_after: Duration) -> Arc<Self> {
        Arc::new(Self {
            role,
            started: Instant::now(),
            last_tick_ms: AtomicU64::new(0),
            stale_after,
            facts: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn role(&self) -> &'static str {
        self.role
    }

    /// Records that the role's main loop is making progress.
    pub fn tick(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.last_tick_ms.store(ms, Ordering::Relaxed);
    }

    /// Sets a fact shown in the health body.
    pub fn set_fact(&self, key: &str, value: Value) {
        if let Ok(mut f) = self.facts.lock() {
            f.insert(key.to_string(), value);
        }
    }

    /// Seconds since the last tick, `None` if it never ticked.
    pub fn tick_age(&self) -> Option<Duration> {
        match self.last_tick_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(
                self.started
                    .elapsed()
                    .saturating_sub(Duration::from_millis(ms)),
            ),
        }
    }

    /// The facts set so far.
    pub fn facts(&self) -> BTreeMap<String, Value> {
        self.facts.lock().map(|f| f.clone()).unwrap_or_default()
    }
}
