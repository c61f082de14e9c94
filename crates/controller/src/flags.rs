//! Attack patterns the controller flags for the guardian (it proposes nothing for them: the
//! engine has no per-account reduce-only switch yet, so the flag names the account, the
//! pattern and the action it recommends, and the guardian decides).
//!
//! - `BothSides` (Mango Markets, 2022-10): one owner holds opposite positions in the same
//!   market, each at least `min_share` of that side's open interest — the setup for pumping the
//!   mark and borrowing against one leg's paper profit.
//! - `DominantSide`: one account holds at least `dominant_share` of one side of a market.
//! - `DivergentCollateral` (Venus/LUNA, 2022-05): an account holds at least `min_share` of all
//!   deposits of an asset whose oracle sources disagree by more than `divergence`.

use ballast_engine::engine::Engine;
use ballast_engine::ids::{AccountId, AssetId, MarketId, OwnerId};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::signals::Signals;

/// Thresholds of the flagging rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlagRules {
    pub min_share: f64,
    pub dominant_share: f64,
    pub divergence: f64,
}

impl Default for FlagRules {
    fn default() -> Self {
        FlagRules {
            min_share: 0.25,
            dominant_share: 0.5,
            divergence: 0.02,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "pattern", rename_all = "snake_case")]
pub enum Pattern {
    BothSides {
        market: MarketId,
        owner: OwnerId,
        long_share: f64,
        short_share: f64,
    },
    DominantSide {
        market: MarketId,
        share: f64,
    },
    DivergentCollateral {
        asset: AssetId,
        share: f64,
        divergence: f64,
    },
}

/// An account the guardian should look at, and what the controller recommends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub account: AccountId,
    pub pattern: Pattern,
    /// Always "reduce_only": close or shrink positions, no new risk.
    pub recommend: &'static str,
}

fn flag(account: usize, pattern: Pattern) -> Flag {
    Flag {
        account: AccountId(account as u32),
        pattern,
        recommend: "reduce_only",
    }
}

/// Position-side flags: dominant accounts and owners on both sides.
fn position_flags(e: &Engine, r: &FlagRules, out: &mut Vec<Flag>) {
    let st = e.state();
    // (market, owner) -> (largest long account, long share, short share).
    let mut sides: BTreeMap<(MarketId, OwnerId), (usize, f64, f64)> = BTreeMap::new();
    for (i, a) in st.accounts.iter().enumerate() {
        for p in &a.positions {
            let Some(mk) = st.markets.get(p.market.idx()) else {
                continue;
            };
            let long = p.size.0 > 0;
            let oi = if long { mk.long_oi.0 } else { mk.short_oi.0 }.max(1) as f64;
            let share = (p.size.0 as f64).abs() / oi;
            if share >= r.dominant_share {
                out.push(flag(
                    i,
                    Pattern::DominantSide {
                        market: p.market,
                        share,
                    },
                ));
            }
            let e = sides.entry((p.market, a.owner)).or_insert((i, 0.0, 0.0));
            if long {
                e.1 += share;
                e.0 = i;
            } else {
                e.2 += share;
            }
        }
    }
    for ((market, owner), (i, long_share, short_share)) in sides {
        if long_share >= r.min_share && short_share >= r.min_share {
            out.push(flag(
                i,
                Pattern::BothSides {
                    market,
                    owner,
                    long_share,
                    short_share,
                },
            ));
        }
    }
}

/// Large holders of a collateral asset whose sources diverge.
fn collateral_flags(e: &Engine, s: &Signals, r: &FlagRules, out: &mut Vec<Flag>) {
    let st = e.state();
    for m in s.markets.iter().filter(|m| m.divergence > r.divergence) {
        let Some(asset) = st.markets.get(m.market.idx()).map(|mk| mk.base) else {
            continue;
        };
        let held = |a: &ballast_engine::state::Account| {
            a.collateral
                .iter()
                .find(|c| c.0 == asset)
                .map_or(0, |c| c.1 .0)
        };
        let total: i128 = st.accounts.iter().map(|a| i128::from(held(a))).sum();
        if total <= 0 {
            continue;
        }
        for (i, a) in st.accounts.iter().enumerate() {
            let share = held(a) as f64 / total as f64;
            if share >= r.min_share && !out.iter().any(|f| f.account.0 as usize == i) {
                let divergence = m.divergence;
                out.push(flag(
                    i,
                    Pattern::DivergentCollateral {
                        asset,
                        share,
                        divergence,
                    },
                ));
            }
        }
    }
}

/// Every flagged account, in rule order.
pub fn flags(e: &Engine, s: &Signals, r: &FlagRules) -> Vec<Flag> {
    let mut out = Vec::new();
    position_flags(e, r, &mut out);
    collateral_flags(e, s, r, &mut out);
    out
}
