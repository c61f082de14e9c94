//! CLI hygiene for a newcomer: output folders checked before any work, no temporary folder left
//! behind by Ctrl-C, `--threads` capped with a warning, a copied binary that runs embedded
//! historical replays from an empty folder, and a peer benchmark that needs nothing outside the
//! repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ballast");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ballast-hygiene-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch folder");
    d
}

fn leftovers(parent: &Path) -> Vec<String> {
    std::fs::read_dir(parent)
        .expect("listable")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[test]
fn compare_out_nonempty_fails_before_running_and_names_the_path() {
    let d = scratch("compare-nonempty");
    let out = d.join("taken");
    std::fs::create_dir_all(&out).expect("folder");
    std::fs::write(out.join("keep.txt"), "mine").expect("file");
    let t = Instant::now();
    // 200,000 paths of two scenarios would take minutes: an early refusal takes milliseconds.
    let r = Command::new(BIN)
        .args([
            "stress",
            "--compare",
            "gbm-baseline",
            "jump-tail",
            "--paths",
            "200000",
        ])
        .arg("--out")
        .arg(&out)
        .current_dir(ROOT)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success());
    assert!(err.contains(&out.display().to_string()), "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "ran before refusing: {:?}",
        t.elapsed()
    );
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt"))
            .ok()
            .as_deref(),
        Some("mine")
    );
}

#[test]
fn sigint_during_out_leaves_no_folder() {
    let d = scratch("sigint");
    let out = d.join("run");
    let mut child = Command::new(BIN)
        .args([
            "stress",
            "gbm-baseline",
            "--paths",
            "1000000",
            "--threads",
            "1",
            "--json",
        ])
        .arg("--out")
        .arg(&out)
        .current_dir(ROOT)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while leftovers(&d).is_empty() {
        assert!(Instant::now() < deadline, "no staging folder appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let it write some rows, then interrupt it as Ctrl-C would.
    std::thread::sleep(Duration::from_millis(300));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let status = child.wait().expect("exits");
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert!(leftovers(&d).is_empty(), "left {:?}", leftovers(&d));
    assert!(!out.exists());
}

#[test]
fn threads_above_the_core_count_are_capped_with_a_warning() {
    let r = Command::new(BIN)
        .args(["stress", "--paths", "4", "--threads", "100000", "--json"])
        .current_dir(ROOT)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{err}");
    assert!(err.contains("warning: --threads 100000"), "{err}");
}

#[test]
fn embedded_replay_runs_from_a_copied_binary_in_an_empty_folder() {
    let d = scratch("copied-binary");
    let bin = d.join("ballast");
    std::fs::copy(BIN, &bin).expect("copy the binary");
    for name in ["march-2020", "luna-2022", "ftx-2022"] {
        let r = Command::new(&bin)
            .args(["stress", name, "--paths", "2", "--json"])
            .current_dir(&d)
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(r.status.success(), "{name}: {err}");
        let v: serde_json::Value = serde_json::from_slice(&r.stdout).expect("JSON summary");
        assert_eq!(v["scenario"], name);
        assert_eq!(v["paths"], 2);
    }
}

#[test]
fn peer_benchmark_needs_nothing_outside_the_repository() {
    let script =
        std::fs::read_to_string(Path::new(ROOT).join("bench/peer-radcad.sh")).expect("script");
    assert!(
        !script.contains("../shared"),
        "the script reaches outside the repo"
    );
    for f in ["radcad_liquidation_bench.py", "SOURCE.md"] {
        assert!(
            Path::new(ROOT).join("bench/peer-radcad").join(f).is_file(),
            "bench/peer-radcad/{f} is not vendored"
        );
    }
}
