//! A price shock applied through the engine: the engine is cloned, the shocked price goes in
//! as the command the ledger would see (`SetPrice`, or `OracleUpdate` from every source when
//! the asset has a multi-source oracle), and each pool's and market's accounts are revalued by
//! the engine ([`Engine::breakdown`] at maintenance). The loss at a node is the growth of its
//! accounts' bad debt (Σ of negative equities), which is what the waterfall would have to
//! absorb if those accounts were closed at the shocked price.

use super::{ContagionError, NodeRef};
use crate::claims::quote_equity;
use ballast_engine::command::{Command, Envelope, SourceQuote};
use ballast_engine::ids::{AccountId, AssetId, MarketId, PoolId};
use ballast_engine::margin::Contribution;
use ballast_engine::num::VALUE_SCALE;
use ballast_engine::{Engine, HealthKind};
use serde::Serialize;

/// A relative price move of one asset, in percent (`-30.0` is a 30% drop).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Shock {
    pub asset: AssetId,
    pub pct: f64,
}

/// Valuation of a set of accounts, quote-native units (rounded up: losses are not understated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub accounts: usize,
    /// Accounts with maintenance health below zero.
    pub below_maintenance: usize,
    /// Σ of negative maintenance health.
    #[serde(with = "crate::dec")]
    pub shortfall: i128,
    /// Σ of negative equity (collateral at spot, no haircut, plus quote equity).
    #[serde(with = "crate::dec")]
    pub bad_debt: i128,
}

/// Before and after the shock at one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeLoss {
    pub node: NodeRef,
    pub before: Tally,
    pub after: Tally,
    /// `after.bad_debt − before.bad_debt`.
    #[serde(with = "crate::dec")]
    pub loss: i128,
}

/// What a shock did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShockReport {
    pub shock: Shock,
    pub price_before: f64,
    pub price_after: f64,
    pub losses: Vec<NodeLoss>,
}

/// `max(0, −v)` in quote-native units, rounded up.
fn negative_part(v: i128) -> i128 {
    if v >= 0 {
        return 0;
    }
    let m = v.unsigned_abs();
    let s = VALUE_SCALE.unsigned_abs();
    // |v| ≤ 2^127, so the quotient (and the rounding step) fits an i128.
    i128::try_from(m.div_ceil(s)).unwrap_or(i128::MAX)
}

fn add(t: &mut Tally, health: i128, equity: i128) -> Result<(), ContagionError> {
    let over = || ContagionError::Overflow("loss tally");
    t.accounts += 1;
    t.below_maintenance += usize::from(health < 0);
    t.shortfall = t
        .shortfall
        .checked_add(negative_part(health))
        .ok_or_else(over)?;
    t.bad_debt = t
        .bad_debt
        .checked_add(negative_part(equity))
        .ok_or_else(over)?;
    Ok(())
}

/// Maintenance health and equity of one account, as the engine values it.
fn value_account(engine: &Engine, id: AccountId) -> Result<(i128, i128), ContagionError> {
    let b = engine
        .breakdown(id, HealthKind::Maintenance)
        .map_err(|reject| ContagionError::Valuation {
            account: id,
            reject,
        })?;
    let mut equity = quote_equity(&b).ok_or(ContagionError::Overflow("equity"))?;
    for line in &b.lines {
        if let Contribution::Collateral { value, .. } = line {
            equity = equity
                .checked_add(value.0)
                .ok_or(ContagionError::Overflow("equity"))?;
        }
    }
    Ok((b.health.0, equity))
}

/// Tallies of every pool and every market (accounts with a position in it).
pub fn tally(engine: &Engine) -> Result<Vec<(NodeRef, Tally)>, ContagionError> {
    let st = engine.state();
    let mut pools = vec![Tally::default(); st.pools.len()];
    let mut markets = vec![Tally::default(); st.markets.len()];
    for (i, a) in st.accounts.iter().enumerate() {
        let (health, equity) = value_account(engine, AccountId(i as u32))?;
        add(&mut pools[a.pool.idx()], health, equity)?;
        for p in &a.positions {
            add(&mut markets[p.market.idx()], health, equity)?;
        }
    }
    let pools = pools.into_iter().enumerate();
    let pools = pools.map(|(i, t)| (NodeRef::Pool(PoolId(i as u16)), t));
    let markets = markets.into_iter().enumerate();
    let markets = markets.map(|(i, t)| (NodeRef::Market(MarketId(i as u16)), t));
    Ok(pools.chain(markets).collect())
}

/// The command that moves `shock.asset` to its shocked price, and the prices before/after.
fn shocked_command(engine: &Engine, shock: Shock) -> Result<(Command, f64, f64), ContagionError> {
    let st = engine.state();
    let asset = shock.asset;
    let a = st
        .assets
        .get(asset.idx())
        .ok_or(ContagionError::UnknownAsset(asset))?;
    let price = a.price.ok_or(ContagionError::NoPrice(asset))?;
    let quote = st
        .numeraire
        .and_then(|n| st.assets.get(n.idx()))
        .ok_or(ContagionError::NoPrice(asset))?;
    let before = price.to_human(a.decimals, quote.decimals);
    let after = before * (1.0 + shock.pct / 100.0);
    if !shock.pct.is_finite() || shock.pct <= -100.0 || !after.is_finite() {
        return Err(ContagionError::BadShock { pct: shock.pct });
    }
    let cmd = match &a.oracle {
        Some(feed) => Command::OracleUpdate {
            asset,
            quotes: feed
                .aggregator
                .source_ids()
                .map(|s| SourceQuote {
                    source: s.0,
                    price: after,
                    confidence: after * 1e-4,
                })
                .collect(),
        },
        None => Command::SetPrice {
            asset,
            price: after,
        },
    };
    Ok((cmd, before, after))
}

/// Applies `shock` to a clone of `engine` and reports the loss at every pool and market.
pub fn apply_shock(engine: &Engine, shock: Shock) -> Result<ShockReport, ContagionError> {
    let (cmd, price_before, price_after) = shocked_command(engine, shock)?;
    let before = tally(engine)?;
    let mut shocked = engine.clone();
    let env = Envelope {
        by: None,
        time: engine.state().time,
        cmd,
    };
    shocked
        .apply(&env)
        .map_err(|reject| ContagionError::Refused {
            asset: shock.asset,
            reject,
        })?;
    let old = engine.state().assets[shock.asset.idx()].price;
    if shock.pct != 0.0 && shocked.state().assets[shock.asset.idx()].price == old {
        return Err(ContagionError::NotApplied(shock.asset));
    }
    let after = tally(&shocked)?;
    let mut losses = Vec::with_capacity(before.len());
    for ((node, b), (_, a)) in before.into_iter().zip(after) {
        let loss = a
            .bad_debt
            .checked_sub(b.bad_debt)
            .ok_or(ContagionError::Overflow("loss"))?;
        losses.push(NodeLoss {
            node,
            before: b,
            after: a,
            loss,
        });
    }
    Ok(ShockReport {
        shock,
        price_before,
        price_after,
        losses,
    })
}
