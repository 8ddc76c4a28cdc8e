//! A small S3 client for the fuel bucket: `GET` an object and list keys under a prefix
//! (ListObjectsV2), path-style, signed with AWS Signature Version 4.
//!
//! Why not `object_store`: its `aws` feature brings a second TLS/crypto stack (aws-lc-rs, a C
//! build) and some thirty crates for two read-only calls. Signing is a page of HMAC-SHA256 over
//! the crates the platform already has, and it is tested against a real S3 server (s3s-fs).

use std::time::Duration;

use chrono::{DateTime, Utc};
use fleet_core::config::FuelFeedConfig;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// What went wrong talking to the bucket.
#[derive(Debug)]
pub enum S3Error {
    /// The object does not exist.
    NotFound(String),
    /// The server answered with an error status.
    Status {
        status: u16,
        key: String,
        body: String,
    },
    /// The server could not be reached or the answer could not be read.
    Transport(String),
}

impl std::error::Error for S3Error {}

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotFound(key) => write!(f, "{key}: no such object in the bucket"),
            Self::Status { status, key, body } => {
                write!(
                    f,
                    "{key}: the bucket answered HTTP {status}: {}",
                    snippet(body)
                )
            }
            Self::Transport(e) => write!(f, "the bucket cannot be reached: {e}"),
        }
    }
}

fn snippet(body: &str) -> String {
    let code = between(body, "<Code>", "</Code>");
    let message = between(body, "<Message>", "</Message>");
    match (code, message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        _ => body.chars().take(200).collect(),
    }
}

/// The fuel bucket.
pub struct Bucket {
    cfg: FuelFeedConfig,
    http: reqwest::Client,
}

impl Bucket {
    pub fn new(cfg: FuelFeedConfig) -> Result<Self, S3Error> {
        let http = fleet_core::http::client(Duration::from_secs(60))
            .build()
            .map_err(|e| S3Error::Transport(e.to_string()))?;
        Ok(Self { cfg, http })
    }

    /// The key of an object under the configured prefix (`latest.json` → `fuel_records/latest.json`).
    pub fn key(&self, name: &str) -> String {
        if self.cfg.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.cfg.prefix)
        }
    }

    /// The bytes of one object.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, S3Error> {
        let resp = self.send(key, &[]).await?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| S3Error::Transport(e.to_string()))?;
        match status {
            200 => Ok(bytes.to_vec()),
            404 => Err(S3Error::NotFound(key.to_string())),
            _ => Err(S3Error::Status {
                status,
                key: key.to_string(),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            }),
        }
    }

    /// Every key under `prefix` that sorts after `start_after`, in key order (all pages).
    pub async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<String>, S3Error> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![
                ("list-type".to_string(), "2".to_string()),
                ("prefix".to_string(), prefix.to_string()),
            ];
            if let Some(t) = &token {
                query.push(("continuation-token".into(), t.clone()));
            } else if let Some(s) = start_after {
                query.push(("start-after".into(), s.to_string()));
            }
            let resp = self.send("", &query).await?;
            let status = resp.status().as_u16();
            let body = resp
                .text()
                .await
                .map_err(|e| S3Error::Transport(e.to_string()))?;
            if status != 200 {
                return Err(S3Error::Status {
                    status,
                    key: format!("{prefix}*"),
                    body,
                });
            }
            let mut rest = body.as_str();
            while let Some(i) = rest.find("<Contents>") {
                rest = &rest[i + "<Contents>".len()..];
                if let Some(k) = between(rest, "<Key>", "</Key>") {
                    keys.push(xml_unescape(k));
                }
            }
            token = match between(&body, "<IsTruncated>", "</IsTruncated>") {
                Some("true") => {
                    between(&body, "<NextContinuationToken>", "</NextContinuationToken>")
                        .map(xml_unescape)
                }
                _ => None,
            };
            if token.is_none() {
                break;
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn send(
        &self,
        key: &str,
        query: &[(String, String)],
    ) -> Result<reqwest::Response, S3Error> {
        let bucket = uri_encode(&self.cfg.bucket, false);
        let path = if key.is_empty() {
            format!("/{bucket}")
        } else {
            format!("/{bucket}/{}", uri_encode(key, false))
        };
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
            .collect();
        pairs.sort();
        let canonical_query = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let url = if canonical_query.is_empty() {
            format!("{}{path}", self.cfg.endpoint)
        } else {
            format!("{}{path}?{canonical_query}", self.cfg.endpoint)
        };
        let parsed = reqwest::Url::parse(&url).map_err(|e| S3Error::Transport(e.to_string()))?;
        let host = match parsed.port() {
            Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or_default()),
            None => parsed.host_str().unwrap_or_default().to_string(),
        };
        let headers = sign(&self.cfg, &host, &path, &canonical_query, Utc::now());
        let mut req = self.http.get(parsed);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
            .await
            .map_err(|e| S3Error::Transport(e.to_string()))
    }
}

/// The headers that sign a `GET` with no body (SigV4, service `s3`).
fn sign(
    cfg: &FuelFeedConfig,
    host: &str,
    path: &str,
    canonical_query: &str,
    now: DateTime<Utc>,
) -> Vec<(&'static str, String)> {
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let payload = hex::encode(Sha256::digest(b""));
    let canonical_request = format!(
        "GET\n{path}\n{canonical_query}\nhost:{host}\nx-amz-content-sha256:{payload}\nx-amz-date:{amz_date}\n\nhost;x-amz-content-sha256;x-amz-date\n{payload}"
    );
    let scope = format!("{date}/{}/s3/aws4_request", cfg.region);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", cfg.secret_key.expose()).as_bytes(),
        date.as_bytes(),
    );
    for part in [cfg.region.as_str(), "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
    vec![
        ("x-amz-date", amz_date),
        ("x-amz-content-sha256", payload),
        (
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}",
                cfg.access_key
            ),
        ),
    ]
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// SigV4's URI encoding: unreserved characters as they are, everything else `%XX`; `/` kept in
/// paths and encoded in query values.
fn uri_encode(s: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if !encode_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(close)? + start;
    Some(&s[start..end])
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signing-key derivation of AWS's SigV4 documentation: secret
    /// `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, 20150830, us-east-1, iam.
    #[test]
    fn the_signing_key_matches_the_documented_example() {
        let mut key = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", b"20150830");
        for part in ["us-east-1", "iam", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        assert_eq!(
            hex::encode(key),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }

    #[test]
    fn keys_are_encoded_the_way_they_are_signed() {
        assert_eq!(
            uri_encode("fuel_records/changes/2026-11-24T10:00:00Z.json", false),
            "fuel_records/changes/2026-11-24T10%3A00%3A00Z.json"
        );
        assert_eq!(uri_encode("a b/c", true), "a%20b%2Fc");
        assert_eq!(xml_unescape("a&amp;b&lt;"), "a&b<");
        assert_eq!(
            snippet("<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>"),
            "NoSuchBucket: gone"
        );
    }
}
