//! `ballast serve --genesis BOOK`: the server starts from the lab's t0 book (the repo's example
//! March 2020 book opened into the `march-2020` scenario's listings), with the same state hash
//! the stress lab starts its paths from, and every book account in it.

use ballast_lab::embedded;
use ballast_lab::path::path_book;
use ballast_lab::runner::Prepared;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command as Proc};
use std::time::{Duration, Instant};

const BOOK: &str = "examples/book/march-2020-book.json";

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        // The child may already be gone; a kill of a dead child is not an error here.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

/// The lab's t0 book for the same scenario and book: (state hash, accounts).
fn lab_t0(root: &str) -> (String, usize) {
    let book = std::fs::canonicalize(format!("{root}/{BOOK}")).unwrap();
    let sets = vec![
        "population.accounts=0".to_string(),
        "population.resample_per_path=true".to_string(),
        format!(
            "book={}",
            serde_json::to_string(&book.display().to_string()).unwrap()
        ),
    ];
    let (sc, base) = embedded::load("march-2020", &sets).unwrap();
    let prep = Prepared::new(sc, base.as_deref()).unwrap();
    let (e, _) = path_book(&prep.setup(), 0).unwrap();
    (e.state_hash(), e.state().accounts.len())
}

#[test]
fn serve_starts_from_the_labs_book() {
    let dir = tempfile::tempdir().unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Server(
        Proc::new(env!("CARGO_BIN_EXE_ballast"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--genesis")
            .arg(format!("{root}/{BOOK}"))
            .arg("--data")
            .arg(dir.path().join("data"))
            .spawn()
            .expect("server starts"),
    );
    let t0 = Instant::now();
    let summary = loop {
        if let Some(s) = get(port, "/v1/summary") {
            break s;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "server not up");
        std::thread::sleep(Duration::from_millis(100));
    };
    let v: serde_json::Value = serde_json::from_str(&summary).unwrap();
    let (hash, accounts) = lab_t0(root);
    assert_eq!(v["state_hash"].as_str(), Some(hash.as_str()), "{summary}");
    assert_eq!(v["accounts"].as_u64(), Some(accounts as u64));
    let book: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{root}/{BOOK}")).unwrap()).unwrap();
    let in_book = book["accounts"].as_array().unwrap().len();
    assert!(
        accounts > in_book && in_book >= 1_000,
        "every book account plus the house: {accounts} vs {in_book}"
    );
}

#[test]
fn a_missing_book_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Proc::new(env!("CARGO_BIN_EXE_ballast"))
        .args(["serve", "--listen", "127.0.0.1:0", "--genesis"])
        .arg(dir.path().join("nope.json"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nope.json") && err.contains("no such book"),
        "{err}"
    );
}
