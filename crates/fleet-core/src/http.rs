//! The one way an outbound HTTP client is made (vendor API, push mirror, alert webhook,
//! simulator): reqwest over rustls on the `ring` provider, so there is no C crypto library to
//! build or link. The provider must be installed before a client is built (reqwest panics
//! otherwise); doing it here means no caller can forget. Building a client does no I/O.

use std::time::Duration;

/// A client builder with TLS ready and the given per-request timeout.
pub fn client(timeout: Duration) -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(timeout)
}
