//! Genesis from a real book: the example book (`scripts/gen-book`, 3,000 accounts with perps,
//! borrows against BTC, written puts, portfolio-margin accounts) through the March 2020 crash
//! replay, value conserved through the ledger at every step, and option, borrow and
//! collateral losses each counted; bad rows named, engine refusals typed.

use ballast_lab::book::Book;
use ballast_lab::embedded;
use ballast_lab::runner::Prepared;
use ballast_lab::LabError;
use std::path::PathBuf;

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/book/march-2020-book.json")
}

fn load(book: &str, sets: &[&str]) -> Result<Prepared, LabError> {
    let mut all: Vec<String> = vec![
        "population.accounts=0".into(),
        "population.resample_per_path=false".into(),
        format!("book={}", toml_str(book)),
    ];
    all.extend(sets.iter().map(|s| s.to_string()));
    let (sc, base) = embedded::load("march-2020", &all)?;
    Prepared::new(sc, base.as_deref())
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Writes `text` as a book file and returns its path.
fn temp_book(tag: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ballast-book-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join("book.json");
    std::fs::write(&p, text).expect("written");
    p.display().to_string()
}

#[test]
fn the_example_book_through_the_crash_conserves_value_and_counts_each_loss() {
    let p = load(example().to_str().expect("utf-8"), &["paths=2"])
        .expect("the example book opens")
        .with_audit();
    let st = p.book.as_ref().expect("shared book").0.state();
    let accounts = st.accounts.len() as u32 - p.house.first_trader;
    assert_eq!(accounts, 3000);
    assert_eq!(st.series.len(), 2, "two put series listed");
    // Every path: conservation checked by the runner after each step (audit), then the losses.
    let (r, eng) = p.run_path_engine(0).expect("a conserving path");
    assert!(eng.conservation_gaps().iter().all(|(_, g)| *g == 0));
    assert!(r.bad_debt > 0, "the crash leaves bad debt: {r:?}");
    let parts = [
        r.bad_debt_perp,
        r.bad_debt_option,
        r.bad_debt_borrow,
        r.bad_debt_collateral,
        r.bad_debt_unheld,
    ];
    assert_eq!(parts.iter().sum::<i64>(), r.bad_debt, "{parts:?}");
    assert!(r.bad_debt_option > 0, "option losses counted: {parts:?}");
    assert!(r.bad_debt_borrow > 0, "borrow losses counted: {parts:?}");
    assert!(
        r.bad_debt_collateral > 0,
        "collateral losses counted: {parts:?}"
    );
    assert!(r.liquidations > 0);
}

#[test]
fn a_bad_row_is_named_and_an_engine_refusal_comes_back_typed() {
    let one = |acct: &str| {
        format!(
            r#"{{"collateral":[{{"asset":"BTC","init_weight":0.75,"maint_weight":0.85}}],
               "accounts":[{{"id":"ok","collateral":{{"USDC":1000.0}}}},{acct}]}}"#
        )
    };
    // Validation: the row and the field.
    let bad = temp_book(
        "field",
        &one(
            r#"{"id":"x","collateral":{"USDC":100.0},"perps":[{"asset":"DOGE","size":1,"entry":1}]}"#,
        ),
    );
    let e = load(&bad, &[]).err().expect("refused").to_string();
    assert!(
        e.contains("accounts[1] (id `x`).perps[0].asset") && e.contains("DOGE"),
        "{e}"
    );
    let bad = temp_book("unknown", r#"{"accounts":[{"id":"x","colateral":{}}]}"#);
    let e = load(&bad, &[]).err().expect("refused").to_string();
    assert!(e.contains("colateral"), "{e}");
    // The engine's own rule: borrowing more than the haircut collateral allows.
    let over = temp_book(
        "engine",
        &one(r#"{"id":"greedy","collateral":{"BTC":1.0},"borrow_usd":7000.0}"#),
    );
    match load(&over, &[]) {
        Err(LabError::BookRejected { row, reject, .. }) => {
            assert!(
                row.contains("accounts[1] (id `greedy`).borrow_usd"),
                "{row}"
            );
            // A typed rejection, not a string.
            let _: &ballast_engine::Reject = &reject;
        }
        Err(e) => panic!("expected the engine's rejection, got {e}"),
        Ok(_) => panic!("an over-borrow was accepted"),
    }
    // Within the haircut (0.75 × 7,937 USD) it opens.
    let fine = temp_book(
        "fine",
        &one(r#"{"id":"modest","collateral":{"BTC":1.0},"borrow_usd":3000.0}"#),
    );
    assert!(load(&fine, &[]).is_ok());
}

#[test]
fn a_csv_book_reads_like_its_json() {
    let csv = "account,kind,asset,size,price,margin\n\
               a,collateral,USDC,5000,,\n\
               a,perp,BTC,0.5,8000,\n\
               b,collateral,BTC,1.0,,portfolio\n\
               b,borrow,USDC,1000,,\n";
    let book = Book::from_csv(csv, "inline").expect("reads");
    assert_eq!(book.accounts.len(), 2);
    assert_eq!(book.accounts[0].perps[0].entry, 8000.0);
    assert_eq!(book.accounts[1].borrow_usd, 1000.0);
    let e = Book::from_csv(
        "account,kind,asset,size,price,margin\na,perp,BTC,x,1,\n",
        "inline",
    )
    .expect_err("refused")
    .to_string();
    assert!(e.contains("line 2.size"), "{e}");
}
