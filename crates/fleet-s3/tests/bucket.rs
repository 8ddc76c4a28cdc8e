//! The S3 client against a real S3 server on loopback (s3s-fs): put, get, list with sizes,
//! delete, streamed download, and a multipart upload of a file larger than one part.

use fleet_s3::{Bucket, PART_SIZE, S3Error};
use fleet_testkit::s3::S3Server;

#[tokio::test]
async fn objects_round_trip_and_large_files_go_in_parts() {
    let s3 = S3Server::start("backups", "fleet").await;
    let bucket = Bucket::new(s3.config.clone()).expect("bucket");

    bucket
        .put("fleet/a b+c.txt", b"hello".to_vec())
        .await
        .expect("put");
    assert_eq!(bucket.get("fleet/a b+c.txt").await.expect("get"), b"hello");
    let e = bucket.get("fleet/missing").await.expect_err("missing");
    assert!(matches!(e, S3Error::NotFound(_)), "{e}");

    // a file of two and a bit parts, with a pattern that shows misordered parts
    let dir = std::env::temp_dir().join(format!("fleet-s3-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let big = dir.join("big.bin");
    let len = 2 * PART_SIZE + 12_345;
    let data: Vec<u8> = (0..len).map(|i| ((i / 4096) % 251) as u8).collect();
    std::fs::write(&big, &data).expect("write");
    let size = bucket
        .upload("fleet/big.bin", &big)
        .await
        .expect("multipart upload");
    assert_eq!(size, len as u64);
    let back = dir.join("back.bin");
    assert_eq!(
        bucket
            .download("fleet/big.bin", &back)
            .await
            .expect("download"),
        len as u64
    );
    assert!(
        std::fs::read(&back).expect("read") == data,
        "the parts came back in order"
    );

    let listed = bucket.list_objects("fleet/", None).await.expect("list");
    let summary: Vec<(&str, u64)> = listed.iter().map(|o| (o.key.as_str(), o.size)).collect();
    assert_eq!(
        summary,
        vec![("fleet/a b+c.txt", 5), ("fleet/big.bin", len as u64)]
    );

    bucket.delete("fleet/big.bin").await.expect("delete");
    bucket
        .delete("fleet/big.bin")
        .await
        .expect("deleting twice is fine");
    assert_eq!(
        bucket.list("fleet/", None).await.expect("list"),
        vec!["fleet/a b+c.txt"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
