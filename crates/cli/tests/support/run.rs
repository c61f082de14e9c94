//! Runs the `ballast` binary from the repository root (so relative paths such as `data/…`
//! resolve as in README) and returns (success, stdout, stderr). Shared by the CLI test files
//! through `#[path]`.

use std::process::Command;

pub fn ballast(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ballast"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
