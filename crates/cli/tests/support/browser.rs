//! Headless Chromium for page tests, shared by the CLI report test and the serve dashboard
//! test (included with `#[path]`). Needs Debian's Chromium (`/usr/bin/chromium`, or
//! `BALLAST_CHROMIUM`). `.ci/run` installs it and sets `BALLAST_REQUIRE_BROWSER=1`, so in CI a
//! missing browser fails the test; elsewhere the test is skipped with a message.

use std::path::PathBuf;
use std::process::Command;

/// The browser, or None (after checking that CI does not require one).
pub fn chromium() -> Option<PathBuf> {
    let p = std::env::var_os("BALLAST_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var_os("BALLAST_REQUIRE_BROWSER").is_none(),
        "BALLAST_REQUIRE_BROWSER is set but no Chromium at /usr/bin/chromium or BALLAST_CHROMIUM"
    );
    eprintln!("skipped: no Chromium (install Debian's chromium, or set BALLAST_CHROMIUM)");
    None
}

/// Runs headless Chromium on `url` with `extra` flags; returns stdout and stderr.
pub fn headless(bin: &PathBuf, url: &str, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().expect("a temp profile");
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=4000",
            "--window-size=1280,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {:?}", out.status);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Panics on any JavaScript error or error-level message the page sent to the console.
pub fn assert_clean_console(log: &str) {
    for line in log.lines().filter(|l| l.contains("CONSOLE")) {
        assert!(
            !line.contains("Uncaught") && !line.to_lowercase().contains("error"),
            "console: {line}"
        );
    }
}
