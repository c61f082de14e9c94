//! Attackers of a scenario (`[[agents.attackers]]`): plain data and its validation; the agents
//! that play them live in `attack`.
//!
//! Every attacker has a strategy, the capital it brings (USD, everything it spends: margin,
//! spot bought on venues, collateral), a start step, a target asset and the oracle sources
//! (venues) it trades on. Errors name the field (`agents.attackers[0].capital_usd`).

use super::Scenario;
use crate::error::LabError;
use serde::{Deserialize, Serialize};

/// What the attacker does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Mango Markets, Oct 2022: two accounts take both sides of a perp at the fair price, the
    /// attacker buys spot on the venues it can move (the oracle's sources), borrows against the
    /// long's paper profit and walks away.
    OraclePump,
    /// Venus Protocol, May 2022: buy the asset at market while an oracle source is frozen above
    /// it, deposit it as collateral, borrow the quote asset against the frozen price, walk away.
    FrozenFeedBorrow,
    /// CRV, Nov 2022 (the squeeze of A. Eisenberg's CRV short on Aave): the attacker goes long
    /// a perp of a thin asset, buys spot into the thin venues the oracle reads (paying the
    /// impact), so that the shorts are liquidated, their forced buying (`[liquidity] impact`)
    /// lifts the price further, and it closes its long at the top and withdraws.
    Squeeze,
    /// Liquidation hunting: the `squeeze` played on the engine's own view of the book. It reads
    /// the shorts' liquidation prices from their maintenance health, aims its pump at the
    /// cluster that liquidates the most short notional per unit of spot cost (at most `pump`),
    /// and profits from its long as the cascade runs.
    LiquidationHunt,
}

/// The protocol's listing of the asset a `frozen_feed_borrow` attacker deposits: collateral
/// weights of the pool (`AddCollateral`; Venus listed LUNA with a 0.55 collateral factor).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listing {
    pub init_weight: f64,
    pub maint_weight: f64,
}

/// One `[[agents.attackers]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackerSpec {
    pub strategy: Strategy,
    /// Everything the attacker brings, USD: the margin of its accounts plus its spot budget.
    pub capital_usd: f64,
    /// Perp notional of each of its two accounts at the fair price, USD (`oracle_pump`).
    #[serde(default)]
    pub size_usd: f64,
    /// Step at which it opens its position (the pump starts on the next step); ≥ 1, and past
    /// the horizon it never acts.
    pub start_step: u32,
    /// Target asset (default: the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// Oracle sources (venues) it buys spot on (default: all of them; without an `[oracle]`,
    /// the one price the engine hears is venue 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venues: Option<Vec<u32>>,
    /// Multiple of the fair price it pushes each venue's quote to (`oracle_pump`).
    #[serde(default = "unit")]
    pub pump: f64,
    /// Steps over which the pump is reached (linearly in the venue's √price, 1 = at once).
    #[serde(default = "one")]
    pub ramp_steps: u32,
    /// Steps it holds the pump while borrowing, after the ramp.
    #[serde(default = "one")]
    pub hold_steps: u32,
    /// Quote reserve of each venue's constant-product pool, USD (default `liquidity.depth_usd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue_depth_usd: Option<f64>,
    /// Gas per transaction it sends, USD (default: the step's gas price, `faults.gas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_usd: Option<f64>,
    /// Margin of each account as a multiple of the initial requirement (default 1.05).
    #[serde(default = "margin_buffer")]
    pub margin_buffer: f64,
    /// `frozen_feed_borrow`: how the pool lists the asset it deposits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<Listing>,
}

fn one() -> u32 {
    1
}

fn unit() -> f64 {
    1.0
}

fn margin_buffer() -> f64 {
    1.05
}

impl AttackerSpec {
    /// Index of the target asset (validated: the symbol exists).
    pub fn asset_index(&self, sc: &Scenario) -> usize {
        self.asset
            .as_ref()
            .and_then(|a| sc.assets.iter().position(|x| &x.symbol == a))
            .unwrap_or(0)
    }

    /// The venues it trades on: the listed oracle sources, or all `n` of them.
    pub fn venue_list(&self, n: u32) -> Vec<u32> {
        self.venues.clone().unwrap_or_else(|| (0..n).collect())
    }

    /// Depth (quote reserve, USD) of each venue it moves.
    pub fn depth(&self, sc: &Scenario) -> f64 {
        self.venue_depth_usd
            .or(sc.liquidity.depth_usd)
            .unwrap_or(f64::INFINITY)
    }

    /// Perp accounts it opens: both sides for `oracle_pump`, one long for `squeeze`.
    pub fn perp_accounts(&self) -> u32 {
        match self.strategy {
            Strategy::OraclePump => 2,
            Strategy::Squeeze | Strategy::LiquidationHunt => 1,
            Strategy::FrozenFeedBorrow => 0,
        }
    }

    /// Margin of each of its two accounts, USD: notional × (initial rate + taker fee) × buffer
    /// (`oracle_pump`; 0 for strategies without a perp).
    pub fn margin_usd(&self, sc: &Scenario) -> f64 {
        if self.perp_accounts() == 0 {
            return 0.0;
        }
        let m = sc.assets[self.asset_index(sc)]
            .market
            .apply(&sc.protocol.market);
        self.size_usd * (m.init_margin + m.taker_fee.max(m.maker_fee)) * self.margin_buffer
    }
}

/// Checks of every attacker; errors name the field.
pub fn validate(sc: &Scenario) -> Result<(), LabError> {
    for (i, a) in sc.agents.attackers.iter().enumerate() {
        validate_one(sc, a, &format!("agents.attackers[{i}]"))?;
    }
    Ok(())
}

fn validate_one(sc: &Scenario, a: &AttackerSpec, at: &str) -> Result<(), LabError> {
    let f = |name: &str, msg: String| LabError::field(format!("{at}.{name}"), msg);
    let positive = |name: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(f(name, format!("must be > 0 (got {v})")))
        }
    };
    positive("capital_usd", a.capital_usd)?;
    match a.strategy {
        Strategy::OraclePump | Strategy::Squeeze | Strategy::LiquidationHunt => {
            positive("size_usd", a.size_usd)?
        }
        Strategy::FrozenFeedBorrow => validate_listing(sc, a, at)?,
    }
    if !(a.pump.is_finite() && a.pump >= 1.0) {
        return Err(f("pump", format!("must be >= 1 (got {})", a.pump)));
    }
    if !(a.margin_buffer.is_finite() && a.margin_buffer >= 1.0) {
        return Err(f(
            "margin_buffer",
            format!("must be >= 1 (got {})", a.margin_buffer),
        ));
    }
    if a.perp_accounts() == 1 && a.hold_steps == 0 {
        return Err(f(
            "hold_steps",
            "a squeeze closes its long on the last held step: at least 1".into(),
        ));
    }
    if a.ramp_steps == 0 {
        return Err(f("ramp_steps", "must be at least 1".into()));
    }
    // Past the horizon it never acts (as a fault window past it never opens): a shorter
    // `--set horizon=…` still runs the scenario.
    if a.start_step == 0 {
        return Err(f(
            "start_step",
            "must be at least 1 (step 0 is genesis)".into(),
        ));
    }
    if let Some(s) = &a.asset {
        if !sc.assets.iter().any(|x| &x.symbol == s) {
            return Err(f("asset", format!("no asset `{s}`")));
        }
    }
    if let Some(d) = a.venue_depth_usd {
        positive("venue_depth_usd", d)?;
    } else if sc.liquidity.depth_usd.is_none() {
        return Err(f(
            "venue_depth_usd",
            "needed when liquidity.depth_usd is not set (the venues' depth prices the pump)".into(),
        ));
    }
    if let Some(g) = a.gas_usd {
        if !(g.is_finite() && g >= 0.0) {
            return Err(f("gas_usd", format!("must be >= 0 (got {g})")));
        }
    }
    if a.perp_accounts() > 0 {
        validate_venues(sc, a, at)?;
    }
    let need = f64::from(a.perp_accounts()) * a.margin_usd(sc);
    if a.capital_usd < need {
        return Err(f(
            "capital_usd",
            format!(
                "{} does not cover the margin of its accounts ({need:.2} USD)",
                a.capital_usd
            ),
        ));
    }
    Ok(())
}

/// A `frozen_feed_borrow` attacker deposits a listed, non-quote asset.
fn validate_listing(sc: &Scenario, a: &AttackerSpec, at: &str) -> Result<(), LabError> {
    let Some(l) = a.listing else {
        return Err(LabError::field(
            format!("{at}.listing"),
            "frozen_feed_borrow needs the pool's listing of its asset ({ init_weight, maint_weight })",
        ));
    };
    let unit = |name: &str, v: f64| {
        if v.is_finite() && v > 0.0 && v <= 1.0 {
            Ok(())
        } else {
            Err(LabError::field(
                format!("{at}.listing.{name}"),
                format!("must be within (0, 1] (got {v})"),
            ))
        }
    };
    unit("init_weight", l.init_weight)?;
    unit("maint_weight", l.maint_weight)?;
    if l.init_weight > l.maint_weight {
        return Err(LabError::field(
            format!("{at}.listing.init_weight"),
            "must be <= maint_weight",
        ));
    }
    if sc
        .agents
        .attackers
        .iter()
        .filter(|x| x.listing.is_some() && x.asset_index(sc) == a.asset_index(sc))
        .count()
        > 1
    {
        return Err(LabError::field(
            format!("{at}.listing"),
            "the asset is listed by another attacker entry already",
        ));
    }
    Ok(())
}

/// Genesis commands of the attackers' listings: each listed asset accepted as collateral in
/// the pool with its weights.
pub fn listing_commands(sc: &Scenario) -> Vec<ballast_engine::command::Command> {
    use ballast_engine::num::Ratio;
    let w = |x: f64| Ratio::from_f64(x).unwrap_or(Ratio::ONE);
    sc.agents
        .attackers
        .iter()
        .filter_map(|a| a.listing.map(|l| (a.asset_index(sc), l)))
        .map(|(i, l)| {
            // A remote asset's weights carry the bridge haircut (`scenario::bridge`).
            let k = super::bridge::remote(sc, &sc.assets[i].symbol).map_or(1.0, |b| b.factor());
            ballast_engine::command::Command::AddCollateral {
                role: ballast_engine::Role::Governor,
                pool: crate::units::POOL,
                asset: ballast_engine::ids::AssetId(i as u16 + 1),
                init_weight: w(l.init_weight * k),
                maint_weight: w(l.maint_weight * k),
            }
        })
        .collect()
}

/// The venues must be sources of the scenario's oracle.
fn validate_venues(sc: &Scenario, a: &AttackerSpec, at: &str) -> Result<(), LabError> {
    let Some(o) = &sc.oracle else {
        // No oracle: the engine hears one price per asset, the one venue it can move.
        return match a.venues.as_deref() {
            None | Some([0]) => Ok(()),
            Some(_) => Err(LabError::field(
                format!("{at}.venues"),
                "without an [oracle] the only venue is 0 (the price the engine hears)",
            )),
        };
    };
    let Some(n) = o.sources.count() else {
        return Err(LabError::field(
            format!("{at}.venues"),
            "not with oracle.sources = \"csv\" (replayed venues do not respond to trades)",
        ));
    };
    let list = a.venue_list(n);
    if list.is_empty() {
        return Err(LabError::field(
            format!("{at}.venues"),
            "at least one venue",
        ));
    }
    for (k, v) in list.iter().enumerate() {
        if *v >= n || list[..k].contains(v) {
            return Err(LabError::field(
                format!("{at}.venues[{k}]"),
                format!("no venue {v}, or listed twice (oracle sources are 0..{n})"),
            ));
        }
    }
    Ok(())
}
