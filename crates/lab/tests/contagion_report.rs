//! The contagion section of the stress report: the summary's `contagion` block is
//! `ballast-solvency`'s graph and shock of path 0's t0 book, row for row (not a second
//! computation), and report.html shows both tables.

use ballast_engine::ids::AssetId;
use ballast_lab::report::contagion::SHOCK_PCT;
use ballast_lab::runner::{self, Prepared, RunConfig};
use ballast_lab::units::to_usd;
use ballast_solvency::contagion::{apply_shock, Graph, Shock};

#[test]
fn the_report_shows_the_solvency_crates_contagion_map() {
    let sets: Vec<String> = vec!["paths=2".into(), "horizon=24".into()];
    let (sc, base) =
        ballast_lab::embedded::load("venus-luna-2022-frozen-feed-attack-defended", &sets)
            .expect("loads");
    let p = Prepared::new(sc, base.as_deref()).expect("prepares");
    let out = runner::run(&p, &RunConfig::default()).expect("runs");
    let v = out.summary.contagion.as_ref().expect("a contagion block");

    let (eng, _) = ballast_lab::path::path_book(&p.setup(), 0).expect("the t0 book");
    let g = Graph::from_state(eng.state()).expect("a graph");
    assert!(!g.edges.is_empty(), "the book has exposure");
    assert_eq!(v.edges.len(), g.edges.len());
    for (row, e) in v.edges.iter().zip(&g.edges) {
        assert_eq!(row.kind, e.kind.name());
        assert_eq!(row.a, g.name(e.a));
        assert_eq!(row.weight_usd, to_usd(e.weight));
    }
    let r = apply_shock(
        &eng,
        Shock {
            asset: AssetId(1),
            pct: SHOCK_PCT,
        },
    )
    .expect("the shock applies");
    assert_eq!(v.losses.len(), r.losses.len());
    for (row, l) in v.losses.iter().zip(&r.losses) {
        assert_eq!(row.loss_usd, to_usd(l.loss));
        assert_eq!(row.below_maintenance_after, l.after.below_maintenance);
    }
    let hit = v.losses.iter().filter(|l| l.loss_usd > 0.0).count();
    println!(
        "{} edges; {hit} of {} nodes lose under {SHOCK_PCT} %",
        v.edges.len(),
        v.losses.len()
    );
    assert!(hit > 0, "a 30 % fall of LUNA costs the 9.5x longs: {v:?}");

    let html = ballast_lab::report::html(&out.summary, &out.aggregate);
    assert!(
        html.contains("Contagion map of the t0 book"),
        "section missing"
    );
    let table_rows = html.matches("<tr>").count();
    assert!(
        table_rows > v.edges.len() + v.losses.len(),
        "both tables: {table_rows} rows"
    );
    for e in &v.edges {
        assert!(html.contains(&format!("<td>{}</td>", e.kind)), "{e:?}");
    }
}
