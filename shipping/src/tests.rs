//! Shipping and fetching through a shared directory (`file://`); the S3 path is the same code
//! over another `ObjectStore`, exercised end to end by the bastion's e2e_shared_recordings.

use std::io::Write;

use sha2::{Digest, Sha256};

use crate::{SealedObject, Shared, Shipper};

fn setup() -> (tempfile::TempDir, Shared, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("shared");
    std::fs::create_dir(&store).unwrap();
    let shared = Shared::open(&format!("file://{}", store.display())).unwrap();
    let rec = dir.path().join("7-alice-web1.cast");
    (dir, shared, rec)
}

fn append(path: &std::path::Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn seal_of(path: &std::path::Path) -> SealedObject {
    let data = std::fs::read(path).unwrap();
    SealedObject {
        size: data.len() as u64,
        sha256: hex::encode(Sha256::digest(&data)),
    }
}

#[tokio::test]
async fn whole_lines_ship_while_live_and_the_sealed_file_comes_back_identical() {
    let (dir, shared, rec) = setup();
    let shipper = Shipper::new(shared.clone());
    append(&rec, "{\"version\": 2}\n[0.1, \"o\", \"hel");
    assert_eq!(
        shipper.ship_new(&rec).await.unwrap(),
        15,
        "only the whole line"
    );
    assert_eq!(shipper.ship_new(&rec).await.unwrap(), 0, "nothing new");
    append(&rec, "lo\"]\n[0.2, \"o\", \"x\"]\n");
    assert!(shipper.ship_new(&rec).await.unwrap() > 0);

    // While live, another node reads what was shipped: whole lines, no seal yet.
    let copy = dir.path().join("copy.cast");
    let live = shared
        .fetch("7-alice-web1.cast", &copy)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.sealed, None);
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&rec).unwrap());

    append(&rec, "[0.3, \"o\", \"torn at the end");
    let seal = seal_of(&rec);
    shipper.seal(&rec, &seal).await.unwrap();
    let done = shared
        .fetch("7-alice-web1.cast", &copy)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.sealed, Some(seal));
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&rec).unwrap());
    assert_eq!(shipper.failures(), 0);
}

#[tokio::test]
async fn a_restarted_node_resumes_after_the_chunks_already_shipped() {
    let (dir, shared, rec) = setup();
    append(&rec, "line one\nline two\n");
    Shipper::new(shared.clone()).ship_new(&rec).await.unwrap();
    append(&rec, "line three\n");
    // A new shipper (the node restarted) ships only the new line, as the next chunk.
    let again = Shipper::new(shared.clone());
    assert_eq!(again.ship_new(&rec).await.unwrap(), 11);
    again.seal(&rec, &seal_of(&rec)).await.unwrap();
    let copy = dir.path().join("copy.cast");
    shared
        .fetch("7-alice-web1.cast", &copy)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        "line one\nline two\nline three\n"
    );
}

#[tokio::test]
async fn chunks_that_do_not_match_their_seal_are_refused_and_unknown_names_are_none() {
    let (dir, shared, rec) = setup();
    append(&rec, "a\nb\n");
    let shipper = Shipper::new(shared.clone());
    shipper
        .seal(
            &rec,
            &SealedObject {
                size: 4,
                sha256: "00".repeat(32),
            },
        )
        .await
        .unwrap();
    let copy = dir.path().join("copy.cast");
    let err = shared
        .fetch("7-alice-web1.cast", &copy)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("the seal says 4 bytes"), "{err}");
    assert!(!copy.exists(), "a refused fetch leaves no file");
    assert_eq!(shared.fetch("nope.cast", &copy).await.unwrap(), None);
}

#[test]
fn urls_name_what_is_wrong() {
    let e = Shared::open("ftp://x/y").err().unwrap().to_string();
    assert!(e.contains("use s3:// or file://"), "{e}");
    let e = Shared::open("file:///no/such/dir/here")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("the directory must exist"), "{e}");
}
