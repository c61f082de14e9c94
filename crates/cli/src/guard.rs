//! Guards for long-running commands that write output folders or start worker threads: an
//! interrupt handler that removes half-written output folders, and a cap on `--threads`.

use std::sync::Once;

/// Exit status of a process ended by SIGINT (128 + 2, the shell convention).
const INTERRUPTED: i32 = 130;

/// Installs (once) a Ctrl-C / SIGINT / SIGTERM handler that removes the lab's temporary output
/// folders (`.DIR.tmp-PID`) and exits with status 130. Ctrl-C ends a process without running
/// destructors, so the staging folder's own cleanup would never run. Not installed for `serve`,
/// which handles its signals itself.
pub fn clean_on_interrupt() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            for p in ballast_lab::runner::remove_staging_folders() {
                eprintln!("interrupted: removed {}", p.display());
            }
            std::process::exit(INTERRUPTED);
        });
        if let Err(e) = installed {
            eprintln!("warning: no interrupt handler ({e}); Ctrl-C may leave a .tmp folder");
        }
    });
}

/// `--threads`: 0 stays 0 (one per core); a request above the machine's cores is capped to the
/// core count with a warning on stderr (more threads than cores only thrash).
pub fn threads(requested: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    cap_threads(requested, cores, &mut std::io::stderr())
}

fn cap_threads(requested: usize, cores: usize, warn: &mut dyn std::io::Write) -> usize {
    if requested <= cores {
        return requested;
    }
    // A failed warning is no reason to fail the run.
    let _ = writeln!(
        warn,
        "warning: --threads {requested} is more than the {cores} cores here; using {cores}"
    );
    cores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_above_the_cores_are_capped_with_a_warning() {
        let mut w = Vec::new();
        assert_eq!(cap_threads(100_000, 2, &mut w), 2);
        let text = String::from_utf8(w).expect("utf-8");
        assert!(
            text.contains("--threads 100000") && text.contains("using 2"),
            "{text}"
        );
        let mut quiet = Vec::new();
        assert_eq!(cap_threads(2, 2, &mut quiet), 2);
        assert_eq!(cap_threads(0, 2, &mut quiet), 0);
        assert!(quiet.is_empty());
    }
}
