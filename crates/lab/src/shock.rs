//! Shock ladders: "what happens right now if ETH drops 10 %?", answered by the engine.
//!
//! Each rung starts from the scenario's t0 book (the engine a stress path starts from,
//! [`crate::path::path_book`] of path 0), moves the chosen assets' prices at once by the rung's
//! shock through the same price commands a stress path sends, and then lets the scenario's own
//! liquidation mechanism ([`crate::keeper::Liquidation`]: the keeper, or the engine's takeover
//! / auctions with its insurance fund, ADL and socialized loss) work for `settle_steps` steps
//! at the shocked prices, exactly as a stress path whose price series is that one jump would.
//!
//! Per rung, measured on the engine right after the shock (before anyone liquidates):
//! - **accounts liquidatable**: trader accounts in the engine's liquidation queue (maintenance
//!   health below zero);
//! - **collateral at risk**: their weighted collateral at the shocked prices (Chaos Labs'
//!   "collateral at risk by price drop");
//! - **liquidations at risk** (Gauntlet's LaR): the notional of their positions at the shocked
//!   prices, i.e. what the liquidation machinery has to move (valued at the shocked prices, it
//!   can shrink at a deeper shock even as more accounts join);
//!
//! and after the settle steps: liquidations done and their volume, bad debt, insurance-fund
//! draws, ADL haircuts and socialized loss (the path metrics of [`crate::path::PathResult`]).
//!
//! A volatility shock (`vol_shock`, e.g. +0.5) makes the liquidity model see that much more
//! volatility on the shock step (thinner depth, more slippage on every unwind; see
//! [`crate::keeper::Slippage`]); prices and margins are unchanged by it. Gas follows the
//! scenario's gas model without its noise: `base · exp(x)`, `x` jumping by `crash_beta · |r|`
//! on the shock and mean-reverting after it.

use crate::agent::Now;
use crate::attribution::{self, Attribution, Exposure};
use crate::error::LabError;
use crate::path::{
    fund_source, funding_phase, oracle_phase, path_book, path_rng, take_turn, World,
};
use crate::record::Recorder;
use crate::runner::Prepared;
use crate::world::{self, House, T0_MS};
use ballast_engine::ids::AccountId;
use ballast_engine::margin::Contribution;
use ballast_engine::num::{Round, Value};
use ballast_engine::{Engine, HealthKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What to shock.
#[derive(Debug, Clone, PartialEq)]
pub struct ShockSpec {
    /// Instantaneous price moves as fractions (−0.10 is a 10 % drop), each above −1.
    pub rungs: Vec<f64>,
    /// Symbols of the assets to move (empty: every asset).
    pub assets: Vec<String>,
    /// Extra volatility the liquidity model sees on the shock step (0.5 = +50 %).
    pub vol_shock: f64,
    /// Steps the liquidation mechanism works at the shocked prices (≥ 1).
    pub settle_steps: u32,
}

/// One rung of the ladder (money in USD).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rung {
    pub shock: f64,
    pub accounts_liquidatable: u64,
    pub collateral_at_risk_usd: f64,
    pub liquidations_at_risk_usd: f64,
    pub liquidations: u64,
    pub liquidated_volume_usd: f64,
    pub bad_debt_usd: f64,
    pub insurance_draw_usd: f64,
    pub adl_usd: f64,
    pub socialized_usd: f64,
    /// Who the insurance draws and `bad_debt_usd` came from (accounts, markets, collateral).
    pub attribution: Attribution,
}

/// A whole ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ladder {
    pub scenario: String,
    pub mechanism: String,
    /// Trader accounts in the t0 book.
    pub accounts: u64,
    /// Assets moved.
    pub assets: Vec<String>,
    pub vol_shock: f64,
    pub settle_steps: u32,
    /// Insurance fund at t0, USD.
    pub fund0_usd: f64,
    pub rungs: Vec<Rung>,
}

/// Runs every rung of `spec` on the t0 book of `prep`.
pub fn ladder(prep: &Prepared, spec: &ShockSpec) -> Result<Ladder, LabError> {
    let sc = &prep.scenario;
    let mask = asset_mask(prep, &spec.assets)?;
    if spec.settle_steps == 0 {
        return Err(LabError::NoSettleSteps);
    }
    if let Some(bad) = spec.rungs.iter().find(|r| !(r.is_finite() && **r > -1.0)) {
        return Err(LabError::ShockTooDeep { value: bad * 100.0 });
    }
    let setup = prep.setup();
    let (book, _) = path_book(&setup, 0)?;
    let fund0 = fund_source(sc, &prep.house).balance(&book);
    let rungs = spec
        .rungs
        .iter()
        .map(|&shock| run_rung(prep, &book, &mask, shock, spec))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Ladder {
        scenario: sc.name.clone(),
        mechanism: sc.protocol.liquidation.mechanism.name().to_string(),
        accounts: (book.state().accounts.len() as u64)
            .saturating_sub(u64::from(prep.house.first_trader)),
        assets: sc
            .assets
            .iter()
            .zip(&mask)
            .filter(|(_, on)| **on)
            .map(|(a, _)| a.symbol.clone())
            .collect(),
        vol_shock: spec.vol_shock,
        settle_steps: spec.settle_steps,
        fund0_usd: world::to_usd(i128::from(fund0)),
        rungs,
    })
}

/// Which assets move: the named ones (case-insensitive), or all.
fn asset_mask(prep: &Prepared, names: &[String]) -> Result<Vec<bool>, LabError> {
    let symbols: Vec<&str> = prep
        .scenario
        .assets
        .iter()
        .map(|a| a.symbol.as_str())
        .collect();
    if names.is_empty() {
        return Ok(vec![true; symbols.len()]);
    }
    let mut mask = vec![false; symbols.len()];
    for n in names {
        let i = symbols
            .iter()
            .position(|s| s.eq_ignore_ascii_case(n))
            .ok_or_else(|| LabError::UnknownAsset {
                asset: n.clone(),
                scenario: prep.scenario.name.clone(),
                known: symbols.join(", "),
            })?;
        mask[i] = true;
    }
    Ok(mask)
}

/// Trader accounts below maintenance, their weighted collateral and their positions' notional
/// (engine value units).
fn at_risk(eng: &mut Engine, house: &House) -> (u64, i128, i128) {
    let queue: Vec<_> = eng
        .liquidation_queue()
        .into_iter()
        .filter(|e| !house.is_house(e.account))
        .collect();
    let (mut collateral, mut notional) = (0i128, 0i128);
    for e in &queue {
        if let Ok(b) = eng.breakdown(e.account, HealthKind::Maintenance) {
            collateral += b.collateral.0.max(0);
            for l in &b.lines {
                if let Contribution::Perp { notional: v, .. } = l {
                    notional += v.0.abs();
                }
            }
        }
    }
    (queue.len() as u64, collateral, notional)
}

fn value_usd(v: i128) -> f64 {
    Value(v)
        .to_quote(Round::Down)
        .map_or(f64::INFINITY, |a| world::to_usd(i128::from(a.0)))
}

/// One rung: shock, measure, settle.
fn run_rung(
    prep: &Prepared,
    book: &Engine,
    mask: &[bool],
    shock: f64,
    spec: &ShockSpec,
) -> Result<Rung, LabError> {
    let sc = &prep.scenario;
    let house = &prep.house;
    let mut eng = book.clone();
    let p0: Vec<f64> = prep.assets.iter().map(|a| a.price0).collect();
    // The same arithmetic as a stress step: price · exp(log return).
    let jump: Vec<f64> = mask
        .iter()
        .map(|&on| if on { libm::log1p(shock) } else { 0.0 })
        .collect();
    let prices: Vec<f64> = p0
        .iter()
        .zip(&jump)
        .map(|(p, r)| p * libm::exp(*r))
        .collect();
    let step_ms = (sc.step_hours * 3_600_000.0).round().max(1.0) as i64;
    let mut feed = sc
        .oracle
        .as_ref()
        .map(|_| crate::feeds::Feed::new(&prep.assets, path_rng(sc.seed, 0, 3)));
    let mut keeper = (prep.liquidation)(sc);
    let capital = (0, 0);
    let mut rec = Recorder::new(0, &eng, fund_source(sc, house), capital);
    let mut gas_x = 0.0f64;
    let mut measured = None;
    let world = World {
        scenario: sc,
        house,
    };
    for step in 1..=spec.settle_steps {
        let t = T0_MS + i64::from(step) * step_ms;
        let seen = oracle_phase(&mut eng, sc, feed.as_mut(), &prices, (t, 0, step))?;
        if sc.protocol.settle_funding {
            funding_phase(&mut eng, &house.markets, t, &mut rec);
        }
        if measured.is_none() {
            measured = Some((at_risk(&mut eng, house), exposures(&eng, house)));
        }
        let r: Vec<f64> = if step == 1 {
            jump.clone()
        } else {
            vec![0.0; jump.len()]
        };
        let gas_usd = gas(sc, &mut gas_x, &r);
        let felt: Vec<f64> = r.iter().map(|x| x * (1.0 + spec.vol_shock)).collect();
        let now = Now {
            path: 0,
            step,
            time_ms: t,
            step_ms,
            prices: &seen,
            model_prices: &prices,
            peaks: &p0,
            returns: &felt,
            keeper_online: true,
            chain_halted: false,
            gas_usd,
            queue: &[],
        };
        take_turn(keeper.as_mut(), &mut eng, world, now, &mut rec)?;
    }
    let m = rec.m;
    let ((liquidatable, collateral, notional), exposed) = measured.unwrap_or_default();
    let exposure_of = |id| exposed.get(&id).cloned().unwrap_or_default();
    let usd = |x: i64| world::to_usd(i128::from(x));
    Ok(Rung {
        shock,
        accounts_liquidatable: liquidatable,
        collateral_at_risk_usd: value_usd(collateral),
        liquidations_at_risk_usd: value_usd(notional),
        liquidations: m.liquidations,
        liquidated_volume_usd: usd(m.liq_volume),
        bad_debt_usd: usd(m.bad_debt),
        insurance_draw_usd: usd(m.covered),
        adl_usd: usd(m.adl),
        socialized_usd: usd(m.socialized),
        attribution: attribution::attribute(&m.losses, &exposure_of),
    })
}

/// Every trader account's exposure at the engine's current (shocked) prices.
fn exposures(eng: &Engine, house: &House) -> BTreeMap<AccountId, Exposure> {
    (house.first_trader..eng.state().accounts.len() as u32)
        .map(AccountId)
        .filter(|id| !eng.state().accounts[id.idx()].positions.is_empty())
        .map(|id| (id, attribution::exposure(eng, id)))
        .collect()
}

/// The scenario's gas model without its noise (the lab's `x ← x·(1 − κh) + β·max(0, −r_min)`,
/// gas = `base·exp(x)`); 0 without a gas model.
fn gas(sc: &crate::scenario::Scenario, x: &mut f64, r: &[f64]) -> f64 {
    let Some(g) = &sc.faults.gas else {
        return 0.0;
    };
    let r_min = r.iter().copied().fold(0.0f64, f64::min);
    *x = *x * (1.0 - (g.mean_reversion * sc.step_hours).min(1.0)) + g.crash_beta * (-r_min);
    g.base_usd * libm::exp(*x)
}

impl Ladder {
    /// The ladder as a terminal table.
    pub fn table(&self) -> String {
        let money = crate::stats::group_thousands;
        let mut s = format!(
            "shock ladder: {} ({}; {} accounts; moving {}; vol shock {:+.0}%; {} settle steps; insurance fund {} USD)\n",
            self.scenario,
            self.mechanism,
            self.accounts,
            self.assets.join(", "),
            self.vol_shock * 100.0,
            self.settle_steps,
            money(self.fund0_usd)
        );
        s.push_str(&format!(
            "{:>7} {:>8} {:>16} {:>16} {:>6} {:>14} {:>14} {:>14} {:>12} {:>12}\n",
            "shock",
            "liq.able",
            "collat. at risk",
            "LaR",
            "liqs",
            "liq. volume",
            "bad debt",
            "insurance draw",
            "ADL",
            "socialized"
        ));
        for r in &self.rungs {
            s.push_str(&format!(
                "{:>6.1}% {:>8} {:>16} {:>16} {:>6} {:>14} {:>14} {:>14} {:>12} {:>12}\n",
                r.shock * 100.0,
                r.accounts_liquidatable,
                money(r.collateral_at_risk_usd),
                money(r.liquidations_at_risk_usd),
                r.liquidations,
                money(r.liquidated_volume_usd),
                money(r.bad_debt_usd),
                money(r.insurance_draw_usd),
                money(r.adl_usd),
                money(r.socialized_usd)
            ));
        }
        if let Some(r) = self
            .rungs
            .iter()
            .filter(|r| r.attribution.total_usd > 0.0)
            .max_by(|a, b| a.attribution.total_usd.total_cmp(&b.attribution.total_usd))
        {
            s.push_str(&attribution_table(r));
        }
        s.push_str("(USD at the shocked prices; liq.able, collateral at risk and LaR (liquidations at risk: notional of the liquidatable accounts' positions) right after the shock, the rest after the settle steps)\n");
        s
    }
}

/// The top contributors of one rung's losses (insurance draws + bad debt).
fn attribution_table(r: &Rung) -> String {
    let a = &r.attribution;
    let mut s = format!(
        "\nwho the {:.1}% rung's {} USD of losses (insurance draws + bad debt) came from:\n",
        r.shock * 100.0,
        crate::stats::group_thousands(a.total_usd)
    );
    for (what, v) in [
        ("accounts", &a.accounts),
        ("markets", &a.markets),
        ("collateral", &a.collateral),
    ] {
        let top: Vec<String> = v
            .iter()
            .take(5)
            .map(|x| format!("{} {:.1}%", x.name, x.share * 100.0))
            .collect();
        s.push_str(&format!("  {what:<10} {}\n", top.join(", ")));
    }
    s
}
