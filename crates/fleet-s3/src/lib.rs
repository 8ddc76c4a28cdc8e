//! A small S3 client for the platform's buckets (the fuel feed, backups): get, put (multipart
//! past [`PART_SIZE`]), list, delete; path-style, signed with AWS Signature Version 4.
//!
//! Why not `object_store` or the AWS SDK: their S3 features bring a second TLS/crypto stack
//! (aws-lc-rs, a C build) and some thirty crates for five calls. Signing is a page of
//! HMAC-SHA256 over the crates the platform already has, and it is tested against a real S3
//! server (s3s-fs) in the fuel and backup tests.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
pub use fleet_core::config::BucketConfig;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Objects larger than this are uploaded in parts of this size (S3 allows 5 MiB to 5 GiB a part,
/// and 5 GiB for a single PUT); each part is held in memory once while it is sent.
pub const PART_SIZE: usize = 64 * 1024 * 1024;

/// What went wrong talking to the bucket.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// The object does not exist.
    #[error("{0}: no such object in the bucket")]
    NotFound(String),
    /// The server answered with an error status.
    #[error("{key}: the bucket answered HTTP {status}: {}", snippet(body))]
    Status {
        status: u16,
        key: String,
        body: String,
    },
    /// The server could not be reached or the answer could not be read.
    #[error("the bucket cannot be reached: {0}")]
    Transport(String),
    /// A local file could not be read or written.
    #[error("{path}: {error}")]
    File { path: String, error: std::io::Error },
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

fn transport(e: reqwest::Error) -> S3Error {
    S3Error::Transport(e.to_string())
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> S3Error + '_ {
    move |error| S3Error::File {
        path: path.display().to_string(),
        error,
    }
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub key: String,
    pub size: u64,
}

/// A bucket, addressed path-style (`{endpoint}/{bucket}/{key}`, as RustFS and MinIO serve it).
pub struct Bucket {
    cfg: BucketConfig,
    http: reqwest::Client,
}

impl Bucket {
    pub fn new(cfg: BucketConfig) -> Result<Self, S3Error> {
        let http = fleet_core::http::client(Duration::from_secs(300))
            .build()
            .map_err(transport)?;
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

    /// Where the bucket is, for messages (`http://host/bucket/prefix`; no credentials).
    pub fn describe(&self) -> String {
        format!(
            "{}/{}/{}",
            self.cfg.endpoint, self.cfg.bucket, self.cfg.prefix
        )
    }

    /// The bytes of one object.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, S3Error> {
        let resp = self.send("GET", key, &[], Vec::new()).await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(transport)?;
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

    /// Streams one object into `path` (created or truncated); returns its size.
    pub async fn download(&self, key: &str, path: &Path) -> Result<u64, S3Error> {
        let mut resp = self.send("GET", key, &[], Vec::new()).await?;
        let status = resp.status().as_u16();
        if status != 200 {
            let body = resp.text().await.unwrap_or_default();
            return Err(match status {
                404 => S3Error::NotFound(key.to_string()),
                _ => S3Error::Status {
                    status,
                    key: key.to_string(),
                    body,
                },
            });
        }
        let mut out = tokio::fs::File::create(path)
            .await
            .map_err(file_error(path))?;
        let mut size = 0u64;
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            size += chunk.len() as u64;
            out.write_all(&chunk).await.map_err(file_error(path))?;
        }
        out.flush().await.map_err(file_error(path))?;
        Ok(size)
    }

    /// Writes one object from memory.
    pub async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), S3Error> {
        let resp = self.send("PUT", key, &[], body).await?;
        expect_ok(resp, key).await.map(|_| ())
    }

    /// Uploads a file: one PUT up to [`PART_SIZE`], a multipart upload past it (aborted if a
    /// part fails, so the bucket keeps no orphaned parts). Returns the size.
    pub async fn upload(&self, key: &str, path: &Path) -> Result<u64, S3Error> {
        let size = tokio::fs::metadata(path)
            .await
            .map_err(file_error(path))?
            .len();
        if size <= PART_SIZE as u64 {
            let body = tokio::fs::read(path).await.map_err(file_error(path))?;
            self.put(key, body).await?;
            return Ok(size);
        }
        let resp = self
            .send(
                "POST",
                key,
                &[("uploads".into(), String::new())],
                Vec::new(),
            )
            .await?;
        let body = expect_ok(resp, key).await?;
        let upload_id = between(&body, "<UploadId>", "</UploadId>")
            .map(xml_unescape)
            .ok_or_else(|| S3Error::Status {
                status: 200,
                key: key.to_string(),
                body: format!("no UploadId in the answer to CreateMultipartUpload: {body}"),
            })?;
        match self.upload_parts(key, path, &upload_id).await {
            Ok(etags) => {
                let mut xml = String::from("<CompleteMultipartUpload>");
                for (i, etag) in etags.iter().enumerate() {
                    xml.push_str(&format!(
                        "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
                        i + 1,
                        xml_escape(etag)
                    ));
                }
                xml.push_str("</CompleteMultipartUpload>");
                let resp = self
                    .send(
                        "POST",
                        key,
                        &[("uploadId".into(), upload_id)],
                        xml.into_bytes(),
                    )
                    .await?;
                let body = expect_ok(resp, key).await?;
                // S3 may answer 200 with an error document once it has started completing.
                if body.contains("<Error>") {
                    return Err(S3Error::Status {
                        status: 200,
                        key: key.to_string(),
                        body,
                    });
                }
                Ok(size)
            }
            Err(e) => {
                let _ = self
                    .send("DELETE", key, &[("uploadId".into(), upload_id)], Vec::new())
                    .await;
                Err(e)
            }
        }
    }

    async fn upload_parts(
        &self,
        key: &str,
        path: &Path,
        upload_id: &str,
    ) -> Result<Vec<String>, S3Error> {
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(file_error(path))?;
        let mut etags = Vec::new();
        loop {
            let mut part = Vec::with_capacity(PART_SIZE);
            (&mut file)
                .take(PART_SIZE as u64)
                .read_to_end(&mut part)
                .await
                .map_err(file_error(path))?;
            if part.is_empty() {
                break;
            }
            let number = etags.len() + 1;
            let query = [
                ("partNumber".to_string(), number.to_string()),
                ("uploadId".to_string(), upload_id.to_string()),
            ];
            let resp = self.send("PUT", key, &query, part).await?;
            let etag = resp
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            expect_ok(resp, key).await?;
            etags.push(etag.ok_or_else(|| S3Error::Status {
                status: 200,
                key: key.to_string(),
                body: format!("no ETag in the answer to part {number}"),
            })?);
        }
        Ok(etags)
    }

    /// Deletes one object (deleting one that is not there is not an error, as in S3).
    pub async fn delete(&self, key: &str) -> Result<(), S3Error> {
        let resp = self.send("DELETE", key, &[], Vec::new()).await?;
        match resp.status().as_u16() {
            404 => Ok(()),
            _ => expect_ok(resp, key).await.map(|_| ()),
        }
    }

    /// Every key under `prefix` that sorts after `start_after`, in key order (all pages).
    pub async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<String>, S3Error> {
        Ok(self
            .list_objects(prefix, start_after)
            .await?
            .into_iter()
            .map(|o| o.key)
            .collect())
    }

    /// Every object under `prefix` that sorts after `start_after`, with sizes, in key order.
    pub async fn list_objects(
        &self,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<Object>, S3Error> {
        let mut objects = Vec::new();
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
            let resp = self.send("GET", "", &query, Vec::new()).await?;
            let body = expect_ok(resp, &format!("{prefix}*")).await?;
            let mut rest = body.as_str();
            while let Some(i) = rest.find("<Contents>") {
                rest = &rest[i + "<Contents>".len()..];
                let item = &rest[..rest.find("</Contents>").unwrap_or(rest.len())];
                if let Some(k) = between(item, "<Key>", "</Key>") {
                    objects.push(Object {
                        key: xml_unescape(k),
                        size: between(item, "<Size>", "</Size>")
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(0),
                    });
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
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }

    async fn send(
        &self,
        method: &'static str,
        key: &str,
        query: &[(String, String)],
        body: Vec<u8>,
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
        let request = Request {
            method,
            host: &host,
            path: &path,
            canonical_query: &canonical_query,
            payload_sha256: hex::encode(Sha256::digest(&body)),
        };
        let headers = sign(&self.cfg, &request, Utc::now());
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| S3Error::Transport(e.to_string()))?;
        let mut req = self.http.request(method, parsed);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        if !body.is_empty() {
            req = req.body(body);
        }
        req.send().await.map_err(transport)
    }
}

/// The body of a 2xx answer, or the error it is.
async fn expect_ok(resp: reqwest::Response, key: &str) -> Result<String, S3Error> {
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(transport)?;
    match status {
        200..=299 => Ok(body),
        404 => Err(S3Error::NotFound(key.to_string())),
        _ => Err(S3Error::Status {
            status,
            key: key.to_string(),
            body,
        }),
    }
}

/// What is signed of a request.
struct Request<'a> {
    method: &'a str,
    host: &'a str,
    path: &'a str,
    canonical_query: &'a str,
    payload_sha256: String,
}

/// The headers that sign a request (SigV4, service `s3`, payload hash signed).
fn sign(cfg: &BucketConfig, r: &Request, now: DateTime<Utc>) -> Vec<(&'static str, String)> {
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let payload = &r.payload_sha256;
    let canonical_request = format!(
        "{}\n{}\n{}\nhost:{}\nx-amz-content-sha256:{payload}\nx-amz-date:{amz_date}\n\nhost;x-amz-content-sha256;x-amz-date\n{payload}",
        r.method, r.path, r.canonical_query, r.host
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
        ("x-amz-content-sha256", payload.clone()),
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

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
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
