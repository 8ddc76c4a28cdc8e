//! A real S3 server on loopback for tests (s3s-fs: the S3 protocol over a temporary folder,
//! in-process), so the fuel feed and backups talk to S3 as they do in production.

use std::path::PathBuf;

use fleet_core::config::BucketConfig;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

pub const ACCESS_KEY: &str = "fleet-test";
pub const SECRET_KEY: &str = "fleet-test-secret";

/// A running server: its root folder (one sub-folder per bucket) and the config that reaches
/// `bucket` under `prefix`. The server lives as long as the test's runtime.
pub struct S3Server {
    pub root: PathBuf,
    pub config: BucketConfig,
}

impl S3Server {
    /// Starts a server with `bucket` created and empty.
    pub async fn start(bucket: &str, prefix: &str) -> Self {
        let root = std::env::temp_dir().join(format!(
            "fleet-s3-{}-{}",
            std::process::id(),
            fleet_store::cluster::random_hex(6).expect("random")
        ));
        std::fs::create_dir_all(root.join(bucket)).expect("bucket folder");
        let fs = s3s_fs::FileSystem::new(&root).expect("s3s-fs");
        let mut b = s3s::service::S3ServiceBuilder::new(fs);
        b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = b.build();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
        Self {
            root,
            config: BucketConfig {
                endpoint: format!("http://{addr}"),
                region: "us-east-1".into(),
                bucket: bucket.into(),
                prefix: prefix.into(),
                access_key: ACCESS_KEY.into(),
                secret_key: SECRET_KEY.into(),
            },
        }
    }

    /// The folder holding the bucket's objects.
    pub fn bucket_dir(&self) -> PathBuf {
        self.root.join(&self.config.bucket)
    }
}
