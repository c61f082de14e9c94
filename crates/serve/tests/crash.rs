//! Crash recovery of the real binary: a loader streams batches of commands to `ballast-serve`
//! on a loopback port, the process is killed with SIGKILL at a random moment, garbage is
//! appended to the WAL (a torn write), and the restarted server must hold every acknowledged
//! command, nothing half-applied, and the state hash of an in-process replay of what it holds.
//! Three rounds with different kill points on the same data directory.

mod common;
use ballast_engine::{demo, Envelope};
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(data: &std::path::Path, genesis: &std::path::Path) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ballast-serve"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--snapshot-every",
            "700",
            "--data",
        ])
        .arg(data)
        .arg("--genesis")
        .arg(genesis)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("ballast-serve starts");
    let out = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .filter(|u| u.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (Server(child), url)
}

fn seed() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_points_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let data = dir.path().join("data");
    let stream = demo::command_stream(TRADERS, 200_000, 10, 11);
    let batches: Vec<&[Envelope]> = stream.chunks(50).collect();
    let mut committed = 0usize; // batches known to be in the journal
    let mut rng = seed();
    eprintln!("crash test seed {rng}");
    for round in 0..3 {
        let (mut srv, base) = spawn(&data, &g);
        let (seq_start, _) = state_hash(&base).await;
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let kill_after = Duration::from_millis(100 + rng % 700);
        let loader = {
            let base = base.clone();
            let todo: Vec<Vec<Envelope>> =
                batches[committed..].iter().map(|b| b.to_vec()).collect();
            tokio::spawn(async move {
                let mut acked = 0usize;
                let mut last_seq = 0u64;
                for b in todo {
                    let r = client()
                        .post(format!("{base}/v1/commands"))
                        .json(&b)
                        .send()
                        .await;
                    let Ok(r) = r else { break };
                    let Ok(v) = r.json::<serde_json::Value>().await else {
                        break;
                    };
                    if let Some(s) = v["results"]
                        .as_array()
                        .and_then(|r| r.iter().filter_map(|x| x["seq"].as_u64()).max())
                    {
                        last_seq = s;
                    }
                    acked += 1;
                }
                (acked, last_seq)
            })
        };
        tokio::time::sleep(kill_after).await;
        srv.0.kill().unwrap();
        srv.0.wait().unwrap();
        let (acked, last_acked_seq) = loader.await.unwrap();
        assert!(
            acked < batches.len() - committed,
            "the kill came before the end of the burst"
        );
        // A torn write: garbage after the last WAL frame.
        let wal = data.join("journal.db-wal");
        if wal.exists() {
            let mut f = std::fs::OpenOptions::new().append(true).open(&wal).unwrap();
            f.write_all(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9])
                .unwrap();
        }
        let (srv2, base) = spawn(&data, &g);
        let (seq, hash) = state_hash(&base).await;
        assert!(
            seq >= last_acked_seq,
            "round {round}: acknowledged seq {last_acked_seq} lost (recovered {seq})"
        );
        assert!(seq >= seq_start);
        // The journal holds whole batches: the acknowledged ones, perhaps one more whose answer
        // the kill cut off; never part of one.
        let upto = |n: usize| -> Vec<Envelope> {
            batches[..n]
                .iter()
                .flat_map(|b| b.iter().cloned())
                .collect()
        };
        let with_acked = replay_hash(&upto(committed + acked));
        let with_inflight = replay_hash(&upto((committed + acked + 1).min(batches.len())));
        if hash == with_acked {
            committed += acked;
        } else if hash == with_inflight {
            committed += acked + 1;
        } else {
            panic!("round {round}: recovered state {hash} at seq {seq} is not a replay of whole acknowledged batches ({acked} acked)");
        }
        eprintln!("round {round}: killed after {kill_after:?}, {acked} batches acked, recovered seq {seq}");
        drop(srv2);
    }
    assert!(committed > 0);
}
