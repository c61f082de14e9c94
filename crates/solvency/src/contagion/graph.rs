//! The shared-exposure graph. Nodes are pools, markets and assets; edges are:
//! - `holds`: a pool accepts an asset as collateral (weight: value its accounts hold of it);
//! - `shared_collateral`: two pools accept the same collateral asset (weight: the smaller of
//!   the two pools' holdings of it, the exposure both lose to the same price move);
//! - `shared_owner`: one owner has accounts in both pools (weight: the gross collateral value
//!   of those owners' accounts in the two pools);
//! - `underlying`: a market's base asset (weight: the market's long open interest notional);
//! - `shared_underlying`: two markets on the same base asset, so the same oracle (weight: the
//!   smaller of their open interest notionals).
//!
//! Weights are quote-native units at spot prices, rounded down (they rank exposure, they are
//! not ledger balances). The quote asset is shared by every pool by construction (it is the
//! numeraire) and is not an edge.

use super::ContagionError;
use ballast_engine::ids::{AssetId, MarketId, OwnerId, PoolId};
use ballast_engine::num::VALUE_SCALE;
use ballast_engine::state::State;
use serde::Serialize;
use std::collections::BTreeMap;

/// A node of the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum NodeRef {
    Pool(PoolId),
    Market(MarketId),
    Asset(AssetId),
}

/// What connects two nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    Holds,
    SharedCollateral,
    SharedOwner,
    Underlying,
    SharedUnderlying,
}

impl EdgeKind {
    /// The snake-case name (as in the JSON).
    pub fn name(self) -> &'static str {
        match self {
            EdgeKind::Holds => "holds",
            EdgeKind::SharedCollateral => "shared_collateral",
            EdgeKind::SharedOwner => "shared_owner",
            EdgeKind::Underlying => "underlying",
            EdgeKind::SharedUnderlying => "shared_underlying",
        }
    }
}

/// An undirected edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub kind: EdgeKind,
    pub a: NodeRef,
    pub b: NodeRef,
    /// The asset the exposure runs through, where there is one.
    pub via: Option<AssetId>,
    /// Quote-native units at spot prices.
    #[serde(with = "crate::dec")]
    pub weight: i128,
}

/// Nodes with display names, and edges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Graph {
    pub nodes: Vec<(NodeRef, String)>,
    pub edges: Vec<Edge>,
}

fn overflow(what: &'static str) -> ContagionError {
    ContagionError::Overflow(what)
}

/// Quote-native value of `amount` native units of `asset` at its spot price (0 without one).
pub fn spot_value(st: &State, asset: AssetId, amount: i128) -> Result<i128, ContagionError> {
    let price = st
        .assets
        .get(asset.idx())
        .and_then(|a| a.price)
        .map_or(0, |p| i128::from(p.raw()));
    let v = amount.checked_mul(price).ok_or(overflow("value"))?;
    Ok(v.div_euclid(VALUE_SCALE))
}

/// Value each pool's accounts hold of each collateral asset: `(pool, asset) → value`.
fn holdings(st: &State) -> Result<BTreeMap<(PoolId, AssetId), i128>, ContagionError> {
    let mut out = BTreeMap::new();
    for (p, pool) in st.pools.iter().enumerate() {
        for c in &pool.collateral {
            out.insert((PoolId(p as u16), c.asset), 0i128);
        }
    }
    for a in &st.accounts {
        for (asset, amt) in &a.collateral {
            let v = spot_value(st, *asset, i128::from(amt.0))?;
            let slot = out.entry((a.pool, *asset)).or_insert(0);
            *slot = slot.checked_add(v).ok_or(overflow("holding"))?;
        }
    }
    Ok(out)
}

fn names(st: &State) -> Vec<(NodeRef, String)> {
    let pools = st.pools.iter().enumerate();
    let pools = pools.map(|(i, p)| (NodeRef::Pool(PoolId(i as u16)), p.name.clone()));
    let markets = st.markets.iter().enumerate();
    let markets = markets.map(|(i, m)| (NodeRef::Market(MarketId(i as u16)), m.symbol.clone()));
    let assets = st.assets.iter().enumerate();
    let assets = assets.map(|(i, a)| (NodeRef::Asset(AssetId(i as u16)), a.symbol.clone()));
    pools.chain(markets).chain(assets).collect()
}

/// Pool-asset and pool-pool collateral edges.
fn collateral_edges(st: &State, out: &mut Vec<Edge>) -> Result<(), ContagionError> {
    let held = holdings(st)?;
    for (&(pool, asset), &weight) in &held {
        out.push(Edge {
            kind: EdgeKind::Holds,
            a: NodeRef::Pool(pool),
            b: NodeRef::Asset(asset),
            via: Some(asset),
            weight,
        });
    }
    for (&(p, asset), &w) in &held {
        for (&(q, other), &v) in held.range((p, asset)..) {
            if other == asset && q > p {
                out.push(Edge {
                    kind: EdgeKind::SharedCollateral,
                    a: NodeRef::Pool(p),
                    b: NodeRef::Pool(q),
                    via: Some(asset),
                    weight: w.min(v),
                });
            }
        }
    }
    Ok(())
}

/// Gross value of each owner's accounts per pool: quote deposits plus collateral at spot.
fn owner_values(st: &State) -> Result<BTreeMap<(OwnerId, PoolId), i128>, ContagionError> {
    let mut out = BTreeMap::new();
    for a in &st.accounts {
        let mut v = i128::from(a.quote.amount.0.max(0));
        for (asset, amt) in &a.collateral {
            let c = spot_value(st, *asset, i128::from(amt.0))?;
            v = v.checked_add(c).ok_or(overflow("owner value"))?;
        }
        let slot = out.entry((a.owner, a.pool)).or_insert(0i128);
        *slot = slot.checked_add(v).ok_or(overflow("owner value"))?;
    }
    Ok(out)
}

/// Pool-pool edges through owners with accounts in both.
fn owner_edges(st: &State, out: &mut Vec<Edge>) -> Result<(), ContagionError> {
    let values = owner_values(st)?;
    let mut pairs: BTreeMap<(PoolId, PoolId), i128> = BTreeMap::new();
    let mut by_owner: BTreeMap<OwnerId, Vec<(PoolId, i128)>> = BTreeMap::new();
    for (&(owner, pool), &v) in &values {
        by_owner.entry(owner).or_default().push((pool, v));
    }
    for pools in by_owner.values() {
        for (i, &(p, vp)) in pools.iter().enumerate() {
            for &(q, vq) in &pools[i + 1..] {
                let w = vp.checked_add(vq).ok_or(overflow("owner edge"))?;
                let slot = pairs.entry((p, q)).or_insert(0);
                *slot = slot.checked_add(w).ok_or(overflow("owner edge"))?;
            }
        }
    }
    out.extend(pairs.into_iter().map(|((p, q), weight)| Edge {
        kind: EdgeKind::SharedOwner,
        a: NodeRef::Pool(p),
        b: NodeRef::Pool(q),
        via: None,
        weight,
    }));
    Ok(())
}

/// Market-asset and market-market edges through a shared base asset (and so its oracle).
fn market_edges(st: &State, out: &mut Vec<Edge>) -> Result<(), ContagionError> {
    let mut oi = Vec::with_capacity(st.markets.len());
    for (i, m) in st.markets.iter().enumerate() {
        let w = spot_value(st, m.base, i128::from(m.long_oi.0))?;
        oi.push(w);
        out.push(Edge {
            kind: EdgeKind::Underlying,
            a: NodeRef::Market(MarketId(i as u16)),
            b: NodeRef::Asset(m.base),
            via: Some(m.base),
            weight: w,
        });
    }
    for (i, m) in st.markets.iter().enumerate() {
        for (j, n) in st.markets.iter().enumerate().skip(i + 1) {
            if m.base == n.base {
                out.push(Edge {
                    kind: EdgeKind::SharedUnderlying,
                    a: NodeRef::Market(MarketId(i as u16)),
                    b: NodeRef::Market(MarketId(j as u16)),
                    via: Some(m.base),
                    weight: oi[i].min(oi[j]),
                });
            }
        }
    }
    Ok(())
}

impl Graph {
    /// The shared-exposure graph of a ledger state.
    pub fn from_state(st: &State) -> Result<Graph, ContagionError> {
        let mut edges = Vec::new();
        collateral_edges(st, &mut edges)?;
        owner_edges(st, &mut edges)?;
        market_edges(st, &mut edges)?;
        Ok(Graph {
            nodes: names(st),
            edges,
        })
    }

    /// Display name of a node.
    pub fn name(&self, n: NodeRef) -> &str {
        self.nodes
            .iter()
            .find(|(r, _)| *r == n)
            .map_or("?", |(_, s)| s.as_str())
    }

    /// Edges of one kind.
    pub fn of_kind(&self, kind: EdgeKind) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |e| e.kind == kind)
    }
}
