//! Durability and recovery against a real server on an ephemeral loopback port: an
//! acknowledged command survives a restart, a torn tail is dropped, a damaged middle row
//! refuses to start, snapshots restore the same state, and the export replays to the hash.

mod common;
use ballast_engine::{journal, Engine};
use common::*;
use rusqlite::params;

#[tokio::test]
async fn acknowledged_commands_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let data = dir.path().join("data");
    let (srv, base) = start(config(&data, &g)).await;
    let (seq0, _) = state_hash(&base).await;
    let cmds: Vec<_> = (0..10)
        .map(|i| deposit(T + i, 1 + (i as u32 % 4), 100))
        .collect();
    for c in &cmds {
        let (s, body) = post(&base, None, c).await;
        assert_eq!(s, 200, "{body}");
    }
    let (seq, hash) = state_hash(&base).await;
    assert_eq!(seq, seq0 + 10);
    let envs: Vec<_> = cmds.iter().map(env_of).collect();
    assert_eq!(
        hash,
        replay_hash(&envs),
        "server state equals an in-process replay"
    );
    srv.shutdown().await.unwrap();

    // Restart on the same data (the genesis is not applied twice).
    let (srv, base) = start(config(&data, &g)).await;
    assert_eq!(state_hash(&base).await, (seq, hash.clone()));
    let (s, body) = post(&base, None, &deposit(T + 50, 1, 1)).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["seq"].as_u64(), Some(seq + 1));
    srv.shutdown().await.unwrap();
}

fn db(data: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(data.join("journal.db")).unwrap()
}

#[tokio::test]
async fn a_torn_tail_row_is_dropped_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let data = dir.path().join("data");
    let (srv, base) = start(config(&data, &g)).await;
    post(&base, None, &deposit(T, 1, 5)).await;
    let (seq, hash) = state_hash(&base).await;
    srv.shutdown().await.unwrap();

    // A partial row after the last acknowledged one: half a command, a checksum that fails.
    let line = journal::to_line(&env_of(&deposit(T + 1, 2, 7)));
    db(&data)
        .execute(
            "INSERT INTO batches (first_seq, last_seq, times, commands, events, state_hash, checksum) VALUES (?1, ?1, ?2, ?3, '[]', NULL, 'x')",
            params![seq as i64 + 1, (T + 1).to_string(), &line[..line.len() / 2]],
        )
        .unwrap();

    let (srv, base) = start(config(&data, &g)).await;
    assert_eq!(
        state_hash(&base).await,
        (seq, hash),
        "the torn row is not applied"
    );
    let n: i64 = db(&data)
        .query_row(
            "SELECT COUNT(*) FROM batches WHERE last_seq > ?1",
            [seq as i64],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0, "the torn row is deleted");
    let (s, body) = post(&base, None, &deposit(T + 2, 2, 7)).await;
    assert_eq!((s, body["seq"].as_u64()), (200, Some(seq + 1)));
    srv.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_damaged_row_before_good_rows_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let data = dir.path().join("data");
    let (srv, base) = start(config(&data, &g)).await;
    post(&base, None, &deposit(T, 1, 5)).await;
    srv.shutdown().await.unwrap();
    db(&data)
        .execute("UPDATE batches SET commands = replace(commands, '\"amount\":', '\"amount\":9') WHERE first_seq = (SELECT MIN(first_seq) FROM batches)", [])
        .unwrap();
    let err = match ballast_serve::start(config(&data, &g)).await {
        Ok(_) => panic!("a damaged journal must not start"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("corrupt"), "{err}");
    // One row per page: the intact rows after the damage are on later pages, and still found.
    let mut store = ballast_serve::store::Store::open(&data, true).unwrap();
    let paged = ballast_serve::recovery::recover_paged(&mut store, 1);
    assert!(
        paged.is_err(),
        "paged recovery must refuse the damaged journal too"
    );
}

#[tokio::test]
async fn a_journal_whose_hash_disagrees_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let data = dir.path().join("data");
    let (srv, base) = start(config(&data, &g)).await;
    post(&base, None, &deposit(T, 1, 5)).await;
    srv.shutdown().await.unwrap();
    db(&data)
        .execute(
            "UPDATE batches SET state_hash = 'beef' WHERE first_seq = (SELECT MAX(first_seq) FROM batches)",
            [],
        )
        .unwrap();
    let err = match ballast_serve::start(config(&data, &g)).await {
        Ok(_) => panic!("a hash mismatch must not start"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("state hash"), "{err}");
}

#[tokio::test]
async fn snapshots_restore_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let data = dir.path().join("data");
    let mut c = config(&data, &g);
    c.snapshot_every = 3;
    let (srv, base) = start(c.clone()).await;
    for i in 0..8 {
        let (s, body) = post(&base, None, &deposit(T + i, 1, 1)).await;
        assert_eq!(s, 200, "{body}");
    }
    let before = state_hash(&base).await;
    srv.shutdown().await.unwrap();
    let snaps: i64 = db(&data)
        .query_row("SELECT COUNT(*) FROM snapshots", [], |r| r.get(0))
        .unwrap();
    assert!(snaps >= 2, "snapshots were taken: {snaps}");
    // Recovery starts from the newest snapshot and replays only the rows after it.
    let mut store = ballast_serve::store::Store::open(&data, true).unwrap();
    let rec = ballast_serve::recovery::recover(&mut store).unwrap();
    let snap = rec.snapshot.expect("recovered from a snapshot");
    assert_eq!(rec.replayed as i64, before.0 as i64 - snap);
    assert_eq!(rec.engine.state_hash(), before.1);
    // Read two rows at a time, recovery reaches the same state with the same work.
    let paged = ballast_serve::recovery::recover_paged(&mut store, 2).unwrap();
    assert_eq!(paged.engine.state_hash(), before.1);
    assert_eq!(
        (paged.snapshot, paged.replayed),
        (rec.snapshot, rec.replayed)
    );
    assert_eq!(paged.hash_checked_at, rec.hash_checked_at);
    drop((store, rec, paged));
    let (srv, base) = start(c).await;
    assert_eq!(state_hash(&base).await, before);
    srv.shutdown().await.unwrap();
}

#[test]
fn engine_from_a_saved_state_continues_identically() {
    let book = ballast_engine::demo::synthetic_book(20, 3);
    let stream = ballast_engine::demo::command_stream(20, 500, 10, 5);
    let mut live = Engine::new();
    for e in &book {
        live.apply(e).unwrap();
    }
    let saved = serde_json::to_string(live.state()).unwrap();
    let mut resumed = Engine::from_state(serde_json::from_str(&saved).unwrap());
    assert_eq!(resumed.state_hash(), live.state_hash());
    for e in &stream {
        assert_eq!(live.apply(e).is_ok(), resumed.apply(e).is_ok());
        assert_eq!(live.below_maintenance(), resumed.below_maintenance());
    }
    assert_eq!(resumed.state_hash(), live.state_hash());
}

#[tokio::test]
async fn export_replays_to_the_server_hash() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let data = dir.path().join("data");
    let (srv, base) = start(config(&data, &g)).await;
    post(&base, None, &deposit(T, 3, 5)).await;
    let (_, hash) = state_hash(&base).await;
    let mut out = Vec::new();
    let done = ballast_serve::export::export(&data, &mut out).unwrap();
    srv.shutdown().await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut e = Engine::new();
    let r = journal::replay(&mut e, &journal::parse(&text).unwrap(), false);
    assert_eq!((r.applied, r.rejected.len()), (done.lines, 0));
    assert_eq!(e.state_hash(), hash);
}

#[tokio::test]
async fn a_missing_row_before_good_rows_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let data = dir.path().join("data");
    let (srv, base) = start(config(&data, &g)).await;
    post(&base, None, &deposit(T, 1, 5)).await;
    srv.shutdown().await.unwrap();
    let n = db(&data)
        .execute("DELETE FROM batches WHERE first_seq = 1", [])
        .unwrap();
    assert_eq!(n, 1);
    let err = match ballast_serve::start(config(&data, &g)).await {
        Ok(_) => panic!("a journal with a gap must not start"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("corrupt"), "{err}");
}

#[tokio::test]
async fn a_format_1_journal_is_migrated_and_recovers_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // A format-1 database: one `commands` row per command, the hash on the last good row, and
    // a torn row after it.
    let book = ballast_engine::demo::synthetic_book(TRADERS, 7);
    let mut e = Engine::new();
    let conn = db(&data);
    conn.execute_batch("CREATE TABLE commands (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, command TEXT NOT NULL, events TEXT NOT NULL, state_hash TEXT, checksum TEXT NOT NULL);").unwrap();
    for env in &book {
        if e.apply(env).is_err() {
            continue;
        }
        let seq = e.state().seq as i64;
        let line = journal::to_line(env);
        let sum = ballast_serve::migrate::v1_checksum(seq, &line, "[]");
        conn.execute(
            "INSERT INTO commands VALUES (?1, ?2, ?3, '[]', NULL, ?4)",
            params![seq, env.time.0, line, sum],
        )
        .unwrap();
    }
    let last = e.state().seq as i64;
    conn.execute(
        "UPDATE commands SET state_hash = ?1 WHERE seq = ?2",
        params![e.state_hash(), last],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO commands VALUES (?1, 0, '{\"time\":', '[]', NULL, 'x')",
        params![last + 1],
    )
    .unwrap();
    drop(conn);
    // No genesis: the state can only come from the migrated rows.
    let mut c = config(&data, &g);
    c.genesis = None;
    let (srv, base) = start(c).await;
    assert_eq!(state_hash(&base).await, (last as u64, e.state_hash()));
    srv.shutdown().await.unwrap();
    let (tables, rows): (i64, i64) = db(&data)
        .query_row(
            "SELECT (SELECT COUNT(*) FROM sqlite_master WHERE name = 'commands'), (SELECT SUM(last_seq - first_seq + 1) FROM batches)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((tables, rows), (0, last), "migrated, torn row dropped");
}
