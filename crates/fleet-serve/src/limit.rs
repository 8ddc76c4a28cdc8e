//! Rate limits per client (ARCHITECTURE §1 rule 9): a token bucket per key and class. The key
//! is the token's subject when the request carries valid claims (the limit layer sits inside the
//! auth guard), else the caller's IP address. A refused request gets 429 with `Retry-After` in
//! whole seconds and the one JSON error shape. Health and metrics are never limited: they are
//! not behind any limit layer.
//!
//! Buckets live in the process: with several gateways, each enforces the limit on its own share
//! of the traffic, which is the usual trade for not adding a round trip to every request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::Claims;
use crate::error_response;

/// Requests per minute per client, by class; 0 turns a class's limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Every authenticated `/api/*` read and write (views, analytics, actions).
    pub dashboard: u32,
    /// Route requests (`POST /api/routes`).
    pub routes: u32,
    /// Verified pushes, per source credential (the vendor's push token, each signed source).
    pub push_source: u32,
    /// Pushes that fail verification, per sending IP (token guessing); past it, every push from
    /// that IP is refused before it is checked until the bucket refills.
    pub push_failed: u32,
    /// `POST /api/auth/token`, per IP (password guessing).
    pub login: u32,
}

impl RateLimits {
    /// Every limit off (benchmarks and tests that measure or exercise something else).
    pub const OFF: Self = Self {
        dashboard: 0,
        routes: 0,
        push_source: 0,
        push_failed: 0,
        login: 0,
    };
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            dashboard: 60,
            routes: 10,
            push_source: PUSH_PER_SOURCE_PER_MIN,
            push_failed: 30,
            login: 10,
        }
    }
}

/// Verified pushes a minute one credential may send by default. The design load is 10,000
/// vehicles reporting every 10 s: 1,000 fixes/s, 60,000 pushes/min if the hub sent one fix a push
/// (it batches up to 50). Three times that leaves room for a hub emptying its backlog after an
/// outage, and a full bucket takes a minute of it at once; a runaway sender still stops there.
pub const PUSH_PER_SOURCE_PER_MIN: u32 = 200_000;

/// Buckets above this many keys are swept of full (idle) buckets.
const SWEEP_AT: usize = 10_000;

/// One class's buckets.
#[derive(Clone)]
pub struct Limiter {
    class: &'static str,
    per_min: u32,
    buckets: Arc<Mutex<HashMap<String, Bucket>>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Limiter {
    pub fn new(class: &'static str, per_min: u32) -> Self {
        metrics::gauge!(fleet_core::metrics::RATE_LIMIT_PER_MIN, "class" => class)
            .set(f64::from(per_min));
        Self {
            class,
            per_min,
            buckets: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Takes one token for `key`; `Err(wait)` when the bucket is empty.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    /// Whether `key` may spend a token now, without spending it: `Err(wait)` when it is empty.
    pub fn peek(&self, key: &str) -> Result<(), Duration> {
        self.take_at(key, Instant::now(), false)
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        self.take_at(key, now, true)
    }

    fn take_at(&self, key: &str, now: Instant, spend: bool) -> Result<(), Duration> {
        if self.per_min == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_min);
        let per_sec = capacity / 60.0;
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > SWEEP_AT {
            map.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_sec < capacity
            });
        }
        if !spend && !map.contains_key(key) {
            return Ok(());
        }
        let b = map.entry(key.to_string()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refilled =
            (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_sec).min(capacity);
        b.at = now;
        if refilled >= 1.0 {
            b.tokens = refilled - f64::from(u8::from(spend));
            Ok(())
        } else {
            b.tokens = refilled;
            Err(Duration::from_secs_f64((1.0 - refilled) / per_sec))
        }
    }
}

/// Puts `router` behind `limiter`, keyed by the token subject when the auth guard ran first,
/// else by the caller's IP.
pub fn limit(router: Router, limiter: Limiter) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let limiter = limiter.clone();
            async move {
                let key = match req.extensions().get::<Claims>() {
                    Some(c) => format!("sub:{}", c.sub),
                    None => match req.extensions().get::<ConnectInfo<SocketAddr>>() {
                        Some(ConnectInfo(a)) => format!("ip:{}", a.ip()),
                        None => "ip:unknown".to_string(),
                    },
                };
                match limiter.check(&key) {
                    Ok(()) => next.run(req).await,
                    Err(wait) => limiter.refuse(wait),
                }
            }
        },
    ))
}

impl Limiter {
    /// The 429 answer for a client that must wait `wait`.
    pub fn refuse(&self, wait: Duration) -> Response {
        too_many(self.class, self.per_min, wait)
    }
}

fn too_many(class: &'static str, per_min: u32, wait: Duration) -> Response {
    metrics::counter!(fleet_core::metrics::RATE_LIMITED, "class" => class).increment(1);
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut resp = error_response(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        &format!(
            "too many {class} requests: the limit is {per_min} per minute per client; retry in {secs} s"
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_the_rate() {
        let l = Limiter::new("test", 60);
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(l.check_at("a", t0).is_ok());
        }
        let wait = l
            .check_at("a", t0)
            .expect_err("the 61st request in a minute");
        assert!(
            (wait.as_secs_f64() - 1.0).abs() < 1e-6,
            "one token per second: {wait:?}"
        );
        // Another client has its own bucket.
        assert!(l.check_at("b", t0).is_ok());
        // One second later exactly one more request fits.
        let t1 = t0 + Duration::from_secs(1);
        assert!(l.check_at("a", t1).is_ok());
        assert!(l.check_at("a", t1).is_err());
    }

    #[test]
    fn peeking_spends_nothing() {
        let l = Limiter::new("test", 2);
        let t0 = Instant::now();
        assert!(l.take_at("a", t0, false).is_ok(), "an unseen key may");
        for _ in 0..2 {
            assert!(l.take_at("a", t0, false).is_ok());
            assert!(l.check_at("a", t0).is_ok());
        }
        assert!(l.take_at("a", t0, false).is_err(), "both spent");
        assert!(
            l.take_at("a", t0 + Duration::from_secs(30), false).is_ok(),
            "one back after 30 s"
        );
    }

    #[test]
    fn zero_means_unlimited() {
        let l = Limiter::new("test", 0);
        let t0 = Instant::now();
        for _ in 0..10_000 {
            assert!(l.check_at("a", t0).is_ok());
        }
    }
}
