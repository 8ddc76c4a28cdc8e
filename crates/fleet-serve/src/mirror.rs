//! Push mirror: forwards every accepted push, unchanged, to a second receiver (e.g. the old stack
//! during a side-by-side cutover). Fire-and-forget by design: the push is already committed and
//! acknowledged; the mirror never slows or fails the ack. A bounded queue absorbs bursts; when it
//! is full, or the mirror answers with an error, the copy is dropped and counted.

use fleet_core::metrics::{MIRROR_DROPPED_TOTAL, MIRROR_FAILED_TOTAL, MIRROR_FORWARDED_TOTAL};
use std::time::Duration;

use tokio::sync::mpsc;

/// Copies waiting to be forwarded before new ones are dropped.
const QUEUE: usize = 10_000;
/// Forwards in flight at once.
const CONCURRENCY: usize = 16;

/// One push to copy: the path and query it arrived on, its content type and body.
#[derive(Debug)]
pub struct Copy {
    pub path_and_query: String,
    pub content_type: Option<String>,
    pub body: bytes::Bytes,
}

/// Handle to the mirror task.
#[derive(Clone)]
pub struct Mirror {
    tx: mpsc::Sender<Copy>,
}

impl Mirror {
    /// Starts forwarding to `base` (e.g. `https://old-stack.example/webhook`).
    pub fn start(base: String) -> Self {
        let (tx, mut rx) = mpsc::channel::<Copy>(QUEUE);
        let client = fleet_core::http::client(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        tokio::spawn(async move {
            while let Some(copy) = rx.recv().await {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let (client, url) = (
                    client.clone(),
                    format!("{}{}", base.trim_end_matches('/'), copy.path_and_query),
                );
                tokio::spawn(async move {
                    let _permit = permit;
                    let mut req = client.post(&url).body(copy.body);
                    if let Some(ct) = copy.content_type {
                        req = req.header(reqwest::header::CONTENT_TYPE, ct);
                    }
                    match req.send().await {
                        Ok(r) if r.status().is_success() => {
                            metrics::counter!(MIRROR_FORWARDED_TOTAL).increment(1)
                        }
                        Ok(r) => {
                            metrics::counter!(MIRROR_FAILED_TOTAL).increment(1);
                            tracing::debug!(
                                url,
                                status = r.status().as_u16(),
                                "mirror refused a push"
                            );
                        }
                        Err(e) => {
                            metrics::counter!(MIRROR_FAILED_TOTAL).increment(1);
                            tracing::debug!(url, error = %e, "mirror unreachable");
                        }
                    }
                });
            }
        });
        Self { tx }
    }

    /// Queues a copy without waiting; a full queue drops it (counted).
    pub fn forward(&self, copy: Copy) {
        if self.tx.try_send(copy).is_err() {
            metrics::counter!(MIRROR_DROPPED_TOTAL).increment(1);
        }
    }
}
