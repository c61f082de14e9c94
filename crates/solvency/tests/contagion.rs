//! The contagion map on ledgers built through the engine: shared collateral makes an edge,
//! disjoint pools have none, and a shock to the shared asset costs both pools.

mod common;

use ballast_engine::command::Command;
use ballast_engine::demo::{self, BTC, USDC};
use ballast_engine::error::Role;
use ballast_engine::ids::{AccountId, AssetId, OwnerId, PoolId};
use ballast_engine::num::{Amount, Ratio};
use ballast_engine::Engine;
use ballast_solvency::contagion::{apply_shock, dot, EdgeKind, Graph, NodeRef, Shock};
use common::*;

const SOL: AssetId = AssetId(3);

fn ratio(x: f64) -> Ratio {
    Ratio::from_f64(x).unwrap()
}

/// Demo genesis (pool 0: BTC and ETH collateral) plus pool 1 (BTC collateral, a BTC perp) and
/// pool 2 (SOL collateral only).
fn three_pools() -> Engine {
    let mut e = Engine::new();
    run(&mut e, &demo::genesis(T0));
    let g = Role::Governor;
    let pool = |name: &str| Command::CreatePool {
        role: g,
        name: name.into(),
        quote: USDC,
        params: demo::pool_params(),
    };
    let collateral = |pool, asset| Command::AddCollateral {
        role: g,
        pool: PoolId(pool),
        asset,
        init_weight: ratio(0.8),
        maint_weight: ratio(0.9),
    };
    let cmds = [
        Command::CreateAsset {
            role: g,
            symbol: "SOL".into(),
            decimals: 9,
        },
        Command::SetPrice {
            asset: SOL,
            price: 150.0,
        },
        pool("second"),
        collateral(1, BTC),
        pool("isolated"),
        collateral(2, SOL),
        Command::CreateMarket {
            role: g,
            symbol: "BTC-PERP-2".into(),
            pool: PoolId(1),
            base: BTC,
            params: demo::market_params(),
        },
    ];
    run(&mut e, &cmds.map(|c| at(T0, c)));
    e
}

fn open_in(e: &mut Engine, owner: u32, pool: u16) -> AccountId {
    let id = e.state().next_account();
    let cmd = Command::OpenAccount {
        owner: OwnerId(owner),
        pool: PoolId(pool),
    };
    run(e, &[at(T0, cmd)]);
    id
}

/// A lender and a borrower in `pool`: the borrower posts `collateral` of `asset` and takes
/// `debt` USDC out.
fn lend_and_borrow(e: &mut Engine, pool: u16, asset: AssetId, collateral: i64, debt: Amount) {
    let lender = open_in(e, 100 + pool as u32, pool);
    deposit(e, T0, lender, USDC, demo::usdc(1_000_000).0);
    let borrower = open_in(e, 200 + pool as u32, pool);
    deposit(e, T0, borrower, asset, collateral);
    let cmd = Command::Borrow {
        account: borrower,
        amount: debt,
    };
    run(e, &[at(T0, cmd)]);
}

fn funded() -> Engine {
    let mut e = three_pools();
    let debt = demo::usdc(50_000);
    lend_and_borrow(&mut e, 0, BTC, demo::btc(1.0).0, debt);
    lend_and_borrow(&mut e, 1, BTC, demo::btc(1.0).0, debt);
    lend_and_borrow(&mut e, 2, SOL, 400_000_000_000, demo::usdc(40_000));
    e
}

fn shared_collateral(g: &Graph, a: u16, b: u16) -> Vec<AssetId> {
    g.of_kind(EdgeKind::SharedCollateral)
        .filter(|e| {
            let pair = (e.a, e.b);
            pair == (NodeRef::Pool(PoolId(a)), NodeRef::Pool(PoolId(b)))
                || pair == (NodeRef::Pool(PoolId(b)), NodeRef::Pool(PoolId(a)))
        })
        .filter_map(|e| e.via)
        .collect()
}

#[test]
fn pools_sharing_a_collateral_asset_have_an_edge() {
    let e = funded();
    let g = Graph::from_state(e.state()).unwrap();
    assert_eq!(shared_collateral(&g, 0, 1), vec![BTC]);
    let edge = g.of_kind(EdgeKind::SharedCollateral).next().unwrap();
    // Each pool holds 1 BTC at 65,000: the edge weighs one pool's holding.
    let one_btc = ballast_solvency::contagion::graph::spot_value(e.state(), BTC, 100_000_000);
    assert_eq!(edge.weight, one_btc.unwrap());
    // Two BTC markets in different pools share their underlying (and its oracle).
    assert_eq!(g.of_kind(EdgeKind::SharedUnderlying).count(), 1);
    let text = dot::to_dot(&g, None, 6);
    assert!(text.contains("pool0 -- pool1"), "{text}");
}

#[test]
fn isolated_pools_with_disjoint_assets_have_no_edge() {
    let e = funded();
    let g = Graph::from_state(e.state()).unwrap();
    assert!(shared_collateral(&g, 0, 2).is_empty());
    assert!(shared_collateral(&g, 1, 2).is_empty());
    let touches_2 = |n: NodeRef| n == NodeRef::Pool(PoolId(2));
    let pool_pool = g.edges.iter().filter(|e| e.kind != EdgeKind::Holds);
    assert_eq!(
        pool_pool
            .filter(|e| touches_2(e.a) || touches_2(e.b))
            .count(),
        0
    );
    // One owner with accounts in pools 0 and 2 links them.
    let mut e = e;
    let a = open_in(&mut e, 7, 0);
    let b = open_in(&mut e, 7, 2);
    deposit(&mut e, T0, a, USDC, 5_000_000);
    deposit(&mut e, T0, b, USDC, 3_000_000);
    let g = Graph::from_state(e.state()).unwrap();
    let owner: Vec<_> = g.of_kind(EdgeKind::SharedOwner).collect();
    assert_eq!(owner.len(), 1);
    assert_eq!(
        (owner[0].a, owner[0].b),
        (NodeRef::Pool(PoolId(0)), NodeRef::Pool(PoolId(2)))
    );
    assert_eq!(owner[0].weight, 8_000_000);
}

#[test]
fn a_shock_to_the_shared_asset_costs_both_pools() {
    let e = funded();
    let r = apply_shock(
        &e,
        Shock {
            asset: BTC,
            pct: -50.0,
        },
    )
    .unwrap();
    let loss = |p: u16| {
        r.losses
            .iter()
            .find(|l| l.node == NodeRef::Pool(PoolId(p)))
            .unwrap()
            .clone()
    };
    // Debt 50,000 USDC against 1 BTC now at 32,500: each BTC pool is short 17,500.
    let btc_after = ballast_solvency::contagion::graph::spot_value(
        &{
            let mut s = e.clone();
            run(
                &mut s,
                &[at(
                    T0,
                    Command::SetPrice {
                        asset: BTC,
                        price: r.price_after,
                    },
                )],
            );
            s.state().clone()
        },
        BTC,
        100_000_000,
    )
    .unwrap();
    let expected = demo::usdc(50_000).0 as i128 - btc_after;
    assert!(expected > 0);
    for p in [0, 1] {
        let l = loss(p);
        assert_eq!(l.before.bad_debt, 0);
        assert_eq!(l.loss, expected, "pool {p}");
        assert_eq!(l.after.below_maintenance, 1);
    }
    assert_eq!(loss(2).loss, 0);
    assert_eq!(loss(2).after, loss(2).before);
    // The engine itself was not touched.
    assert_eq!(
        e.state().assets[BTC.idx()].price,
        funded().state().assets[BTC.idx()].price
    );
    // A small shock costs nothing: the loss comes from the engine's valuation, not a formula.
    let mild = apply_shock(
        &e,
        Shock {
            asset: BTC,
            pct: -5.0,
        },
    )
    .unwrap();
    assert!(mild.losses.iter().all(|l| l.loss == 0));
}

#[test]
fn bad_shocks_are_refused() {
    let e = funded();
    use ballast_solvency::contagion::ContagionError as E;
    let err = apply_shock(
        &e,
        Shock {
            asset: BTC,
            pct: -100.0,
        },
    )
    .unwrap_err();
    assert!(matches!(err, E::BadShock { .. }));
    let err = apply_shock(
        &e,
        Shock {
            asset: AssetId(99),
            pct: -10.0,
        },
    )
    .unwrap_err();
    assert_eq!(err, E::UnknownAsset(AssetId(99)));
    let err = apply_shock(
        &e,
        Shock {
            asset: USDC,
            pct: -10.0,
        },
    )
    .unwrap_err();
    assert!(matches!(err, E::NoPrice(_) | E::Refused { .. }), "{err}");
}

#[test]
fn the_demo_journal_replays_and_its_shock_spares_the_isolated_pool() {
    let mut e = Engine::new();
    run(&mut e, &ballast_solvency::contagion::demo::journal());
    let g = Graph::from_state(e.state()).unwrap();
    assert_eq!(shared_collateral(&g, 0, 1), vec![BTC]);
    assert!(shared_collateral(&g, 0, 2).is_empty());
    assert_eq!(g.of_kind(EdgeKind::SharedOwner).count(), 1);
    let r = apply_shock(
        &e,
        Shock {
            asset: BTC,
            pct: -50.0,
        },
    )
    .unwrap();
    let loss = |p: u16| {
        let n = NodeRef::Pool(PoolId(p));
        r.losses.iter().find(|l| l.node == n).unwrap().loss
    };
    assert!(loss(1) > 0 && loss(0) > loss(1), "{:?}", r.losses);
    let perp = r
        .losses
        .iter()
        .find(|l| l.node == NodeRef::Market(demo::BTC_PERP))
        .unwrap();
    assert!(perp.loss > 0 && perp.after.accounts == 2, "{perp:?}");
    assert_eq!(loss(2), 0);
    // An ETH shock reaches only the pool that accepts ETH.
    let r = apply_shock(
        &e,
        Shock {
            asset: demo::ETH,
            pct: -40.0,
        },
    )
    .unwrap();
    let loss = |p: u16| {
        let n = NodeRef::Pool(PoolId(p));
        r.losses.iter().find(|l| l.node == n).unwrap().loss
    };
    assert!(loss(0) > 0);
    assert_eq!((loss(1), loss(2)), (0, 0));
}

/// An asset behind a multi-source oracle is shocked through `OracleUpdate` from every source.
#[test]
fn an_oracle_priced_asset_is_shocked_through_its_oracle() {
    use ballast_oracle::aggregate::{AggregatorConfig, SourceId, SourceSpec};
    use ballast_oracle::smooth::StablePriceConfig;
    let mut e = funded();
    let sources = (0..3)
        .map(|i| SourceSpec {
            id: SourceId(i),
            weight: 1.0,
        })
        .collect();
    let configure = Command::ConfigureOracle {
        role: Role::Governor,
        asset: BTC,
        sources,
        config: AggregatorConfig::default(),
        stable: StablePriceConfig::default(),
    };
    let quotes = (0..3)
        .map(|s| ballast_engine::command::SourceQuote {
            source: s,
            price: 65_000.0,
            confidence: 6.5,
        })
        .collect();
    run(
        &mut e,
        &[
            at(T0 + 1, configure),
            at(T0 + 1, Command::OracleUpdate { asset: BTC, quotes }),
        ],
    );
    assert!(e.state().assets[BTC.idx()].oracle.is_some());
    // `SetPrice` is refused for this asset now, so the shock must go through the oracle.
    let set = at(
        T0 + 1,
        Command::SetPrice {
            asset: BTC,
            price: 1.0,
        },
    );
    assert!(e.clone().apply(&set).is_err());
    let r = apply_shock(
        &e,
        Shock {
            asset: BTC,
            pct: -50.0,
        },
    )
    .unwrap();
    let loss = |p: u16| {
        r.losses
            .iter()
            .find(|l| l.node == NodeRef::Pool(PoolId(p)))
            .unwrap()
            .loss
    };
    assert!(loss(0) > 0 && loss(0) == loss(1), "{:?}", r.losses);
    assert_eq!(loss(2), 0);
}
