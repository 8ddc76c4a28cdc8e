//! The managed local cluster's whole lifecycle, for real: create, start, connect, restart with
//! the same data, stop, and the errors a user sees.

use fleet_store::cluster::{ClusterStatus, LocalCluster, PgInstall};
use sqlx::Connection;

fn temp_home(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fleet-cluster-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    // As root the server runs as `postgres`, which must be able to enter this folder.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

#[tokio::test]
async fn create_start_stop_restart_keeps_data() {
    let home = temp_home("lifecycle");
    let install = PgInstall::discover(None).expect("Postgres with PostGIS and pgRouting installed");
    let cluster = LocalCluster::new(install, &home).expect("cluster");
    let _cleanup = Cleanup(cluster.clone(), home.clone());
    assert_eq!(cluster.status().expect("status"), ClusterStatus::NotCreated);

    assert!(
        cluster.start().await.expect("first start"),
        "the first start starts the server"
    );
    let ClusterStatus::Running { port } = cluster.status().expect("status") else {
        panic!("not running after start")
    };
    assert!(
        !cluster.start().await.expect("second start"),
        "a running cluster is reused, not restarted"
    );

    let url = cluster.url("fleet").expect("url");
    assert!(
        url.starts_with("postgres://fleet:") && url.contains(&format!("@127.0.0.1:{port}/fleet")),
        "{url}"
    );
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .expect("connect with the printed URL");
    sqlx::query("CREATE EXTENSION postgis")
        .execute(&mut conn)
        .await
        .expect("postgis available");
    sqlx::query("CREATE EXTENSION pgrouting")
        .execute(&mut conn)
        .await
        .expect("pgrouting available");
    sqlx::raw_sql("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
        .execute(&mut conn)
        .await
        .expect("write");
    conn.close().await.expect("close");

    // The password is required over TCP: a wrong one is refused.
    let wrong = url.replacen("fleet:", "fleet:wrong", 1);
    assert!(
        sqlx::PgConnection::connect(&wrong).await.is_err(),
        "a wrong password must be refused"
    );

    assert!(cluster.stop().expect("stop"));
    assert_eq!(cluster.status().expect("status"), ClusterStatus::Stopped);
    assert!(
        !cluster.stop().expect("stop again"),
        "stopping a stopped cluster is a no-op"
    );

    assert!(cluster.start().await.expect("restart"));
    let mut conn = sqlx::PgConnection::connect(&cluster.url("fleet").expect("url"))
        .await
        .expect("reconnect");
    let v: i32 = sqlx::query_scalar("SELECT v FROM kept")
        .fetch_one(&mut conn)
        .await
        .expect("data survives a restart");
    assert_eq!(v, 42);
    conn.close().await.expect("close");

    // cluster.json holds the password: only its owner may read it.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(cluster.root().join("cluster.json"))
        .expect("cluster.json")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o077,
        0,
        "cluster.json must not be readable by others"
    );

    cluster.destroy().expect("destroy");
    assert!(!home.join("pg").exists());
}

/// Stops and removes the cluster even when an assertion fails.
struct Cleanup(LocalCluster, std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = self.0.destroy();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

#[test]
fn a_folder_without_postgres_binaries_is_explained() {
    let empty = temp_home("nobin");
    let err = PgInstall::discover(Some(&empty)).expect_err("no binaries there");
    let msg = err.to_string();
    assert!(
        msg.contains("initdb") && msg.contains("apt-get install"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&empty);
}
