//! Index of liquidation prices: finds every account below maintenance after a price update
//! without recomputing every account.
//!
//! At fixed funding and interest indices an account's maintenance health is linear in each
//! asset price: `health ≈ C + Σ_a k_a · P_a` (collateral adds `amount × weight`, a perpetual
//! adds `size − |size| × rate`; the size-dependent rate does not depend on price). An account
//! exposed to a single asset therefore has one liquidation price: below it (k > 0) or above it
//! (k < 0) the account is liquidatable. Those accounts sit in per-asset ordered sets keyed by
//! that price, so a query is a range scan over the accounts past their threshold. Accounts
//! exposed to several assets are kept in a small list and checked exactly on every query.
//!
//! The key is padded so the index returns a superset: by the rounding slack of each term, and
//! by debt interest of up to [`INTEREST_TOLERANCE`] (beyond that the whole index is rebuilt).
//! A funding-index move, a price appearing for the first time and a risk-parameter change also
//! trigger a rebuild. Every candidate is confirmed with the exact health, so the answer equals
//! [`Engine::below_maintenance_scan`] (a property test checks this).

use crate::engine::{quote_now, unsettled_funding, Engine};
use crate::ids::{AccountId, MarketId};
use crate::margin::HealthKind;
use crate::num::{Value, RATIO_SCALE, VALUE_SCALE};
use crate::rates::INDEX_SCALE;
use crate::state::Lending;
use std::collections::{BTreeMap, BTreeSet};

/// Relative debt growth tolerated before the index is rebuilt (1 bp).
pub const INTEREST_TOLERANCE_BPS: i128 = 1;
/// The same tolerance as a fraction, for docs.
pub const INTEREST_TOLERANCE: f64 = 1e-4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Entry {
    /// Not liquidatable at any price of the assets it holds.
    #[default]
    Safe,
    /// Possibly liquidatable while the asset price is strictly below the key; surely while it is
    /// strictly below the second key.
    Down(u16, i64, i64),
    /// Possibly liquidatable while the asset price is strictly above the key; surely while it is
    /// strictly above the second key.
    Up(u16, i64, i64),
    /// Possibly liquidatable regardless of prices (no price exposure, health near or below
    /// zero); surely when the flag is set (no rounding or interest can bring it back).
    Always(bool),
    /// Exposed to several assets: checked exactly on every query.
    Multi,
}

/// The derived index. Not part of the state hash: it is rebuilt identically on replay.
#[derive(Debug, Clone, Default)]
pub struct RiskIndex {
    entries: Vec<Entry>,
    dirty: Vec<u32>,
    is_dirty: Vec<bool>,
    /// Per asset: (key, account) → sure key.
    down: Vec<BTreeMap<(i64, u32), i64>>,
    up: Vec<BTreeMap<(i64, u32), i64>>,
    /// Account → sure flag.
    always: BTreeMap<u32, bool>,
    multi: BTreeSet<u32>,
    rebuild: bool,
    /// Borrow index of each pool when the index was last rebuilt.
    borrow_base: Vec<i128>,
    /// Which assets had a price at the last rebuild.
    priced: Vec<bool>,
    /// Engine time of the last full rebuild.
    built_at: crate::num::Timestamp,
    /// Scratch buffers reused across queries (a query runs once per price update in the lab).
    /// `None`: the pool's interest no longer accrues within the ledger's types.
    lends: Vec<Option<Lending>>,
    cand: Vec<u32>,
    sure: Vec<u32>,
}

/// Price exposures of an account's linear health form: up to four assets with their
/// coefficient; more assets, or a coefficient that does not fit, mark it `overflowed`.
#[derive(Default)]
struct Exposures {
    ks: [(u16, i128); 4],
    n: usize,
    overflowed: bool,
}

impl Exposures {
    fn add(&mut self, asset: u16, k: i128) {
        if let Some(e) = self.ks[..self.n].iter_mut().find(|e| e.0 == asset) {
            match e.1.checked_add(k) {
                Some(v) => e.1 = v,
                None => self.overflowed = true,
            }
            return;
        }
        if self.n == self.ks.len() {
            self.overflowed = true;
            return;
        }
        self.ks[self.n] = (asset, k);
        self.n += 1;
    }
}

/// The index entry of a linear health form `c + k·P` bounded by `[c_lo, c_hi]`: safe, always
/// (surely or possibly) liquidatable, or liquidatable past a price in one direction.
fn classify(c_lo: i128, c_hi: i128, ks: &Exposures) -> Entry {
    let c = c_lo;
    let clamp = |x: i128| x.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    let exposures: Vec<(u16, i128)> = ks.ks[..ks.n].iter().copied().filter(|e| e.1 != 0).collect();
    if exposures.len() > 1 {
        return Entry::Multi;
    }
    match exposures.first() {
        None => {
            if c < 0 {
                Entry::Always(c_hi < 0)
            } else {
                Entry::Safe
            }
        }
        Some(&(a, k)) if k > 0 => {
            if c >= 0 {
                Entry::Safe
            } else {
                // Possibly liquidatable iff P < -c_lo / k; surely iff P < -c_hi / k.
                let key = crate::num::div_round(-c, k, crate::num::Round::Up);
                let sure = crate::num::div_round(-c_hi, k, crate::num::Round::Down);
                Entry::Down(a, clamp(key), clamp(sure))
            }
        }
        Some(&(a, k)) => {
            // Possibly liquidatable iff P > c_lo / |k|; surely iff P > c_hi / |k|.
            let key = crate::num::div_round(c, -k, crate::num::Round::Down);
            let sure = crate::num::div_round(c_hi, -k, crate::num::Round::Up);
            Entry::Up(a, clamp(key), clamp(sure))
        }
    }
}

impl RiskIndex {
    pub(crate) fn resize_assets(&mut self, n: usize) {
        self.down.resize_with(n, BTreeMap::new);
        self.up.resize_with(n, BTreeMap::new);
        self.priced.resize(n, false);
    }
    pub(crate) fn resize_accounts(&mut self, n: usize) {
        self.entries.resize(n, Entry::Safe);
        self.is_dirty.resize(n, false);
    }
    /// The account changed: re-key it at the next query.
    #[inline]
    pub(crate) fn touch(&mut self, a: AccountId) {
        let i = a.idx();
        if !self.is_dirty[i] {
            self.is_dirty[i] = true;
            self.dirty.push(a.0);
        }
    }
    pub(crate) fn funding_moved(&mut self, _m: MarketId) {
        self.rebuild = true;
    }
    pub(crate) fn invalidate_all(&mut self) {
        self.rebuild = true;
    }

    fn remove(&mut self, i: u32) {
        match std::mem::take(&mut self.entries[i as usize]) {
            Entry::Safe => {}
            Entry::Down(a, k, _) => {
                self.down[a as usize].remove(&(k, i));
            }
            Entry::Up(a, k, _) => {
                self.up[a as usize].remove(&(k, i));
            }
            Entry::Always(_) => {
                self.always.remove(&i);
            }
            Entry::Multi => {
                self.multi.remove(&i);
            }
        }
    }

    fn insert(&mut self, i: u32, e: Entry) {
        match e {
            Entry::Safe => {}
            Entry::Down(a, k, sure) => {
                self.down[a as usize].insert((k, i), sure);
            }
            Entry::Up(a, k, sure) => {
                self.up[a as usize].insert((k, i), sure);
            }
            Entry::Always(sure) => {
                self.always.insert(i, sure);
            }
            Entry::Multi => {
                self.multi.insert(i);
            }
        }
        self.entries[i as usize] = e;
    }

    /// Computes the padded linear form of an account's maintenance health and its entry.
    /// An account whose linear form does not fit the index's integers is checked exactly on
    /// every query ([`Entry::Multi`]), so an overflow can only cost speed, never miss an account.
    fn entry_for(engine: &Engine, i: u32, lend: Option<&Lending>) -> Entry {
        let st = engine.state();
        let acct = &st.accounts[i as usize];
        // Options make health non-linear in price (and in time): check those exactly.
        if !acct.options.is_empty() || acct.margin_mode == crate::state::MarginMode::Portfolio {
            return Entry::Multi;
        }
        lend.and_then(|l| Self::linear_entry(engine, acct, l))
            .unwrap_or(Entry::Multi)
    }

    /// The padded linear form of a perp/collateral account's maintenance health and its entry;
    /// `None` when a term does not fit.
    fn linear_entry(
        engine: &Engine,
        acct: &crate::state::Account,
        lend: &Lending,
    ) -> Option<Entry> {
        let st = engine.state();
        let pool = &st.pools[acct.pool.idx()];
        let rs = RATIO_SCALE as i128;
        let vr = VALUE_SCALE * rs;
        let q = quote_now(&acct.quote, lend).ok()?;
        let mut c: i128 = (q.0 as i128).checked_mul(vr)?;
        // Interest up to the tolerance moves health down (debt) or up (deposits) before a rebuild.
        let drift = ((q.0 as i128).abs() * INTEREST_TOLERANCE_BPS)
            .div_euclid(10_000)
            .checked_mul(vr)?
            .checked_add(vr)?;
        let (mut pad_lo, pad_hi) = if q.0 < 0 { (drift, 0) } else { (0, drift) };
        let mut terms = 1i128;
        let mut ks = Exposures::default();
        for (asset, amt) in &acct.collateral {
            let Some(cp) = engine.collateral_params(pool, *asset) else {
                continue;
            };
            if st.assets[asset.idx()].price.is_none() {
                continue;
            }
            terms += 1;
            ks.add(asset.0, amt.0 as i128 * cp.maint_weight.0 as i128);
        }
        for p in &acct.positions {
            let m = &st.markets[p.market.idx()];
            let dec = st.assets[m.base.idx()].decimals;
            let rate = engine.rate(m, p.size, HealthKind::Maintenance, dec);
            let cash = (p.quote.0 as i128 * VALUE_SCALE)
                .checked_add(unsettled_funding(p, m).ok()?.0)?
                .checked_mul(rs)?;
            c = c.checked_add(cash)?;
            terms += 2;
            // |size| × rate ≤ |size| × 1.0, so k fits whenever size × 1.0 does.
            let k = p.size.0 as i128 * rs - (p.size.0 as i128).abs() * rate.0 as i128;
            ks.add(m.base.0, k);
        }
        // The exact health rounds every term against the account, so it is at most the linear
        // form and at least the linear form minus one raw unit per term.
        pad_lo = pad_lo.checked_add(terms * rs)?;
        let (c_lo, c_hi) = (c.checked_sub(pad_lo)?, c.checked_add(pad_hi)?);
        if ks.overflowed {
            return Some(Entry::Multi);
        }
        Some(classify(c_lo, c_hi, &ks))
    }

    /// Whether the whole index must be rebuilt: a flagged change, a pool appearing, a price
    /// appearing, or debt interest beyond the tolerance since the last rebuild (`lends` is the
    /// lending state the query will use, so interest growth is always seen).
    fn needs_rebuild(&self, engine: &Engine, lends: &[Option<Lending>]) -> bool {
        if self.rebuild {
            return true;
        }
        let st = engine.state();
        if self.borrow_base.len() != st.pools.len() {
            return true;
        }
        for (l, base) in lends.iter().zip(&self.borrow_base) {
            let Some(l) = l else { return true };
            let grown = (l.borrow_index - base).checked_mul(10_000);
            if grown.is_none_or(|g| g > base.saturating_mul(INTEREST_TOLERANCE_BPS)) {
                return true;
            }
        }
        // A maintenance weight still ramping when the index was built has moved since.
        let ramping = st
            .pools
            .iter()
            .flat_map(|p| &p.maint_ramps)
            .any(|r| r.end > self.built_at);
        ramping
            || st
                .assets
                .iter()
                .zip(&self.priced)
                .any(|(a, was)| a.price.is_some() != *was)
    }

    fn refresh(&mut self, engine: &Engine) {
        let st = engine.state();
        self.lends.clear();
        self.lends.extend(
            (0..st.pools.len()).map(|p| engine.lending_now(crate::ids::PoolId(p as u16)).ok()),
        );
        let lends = std::mem::take(&mut self.lends);
        self.refresh_with(engine, &lends);
        self.lends = lends;
    }

    fn refresh_with(&mut self, engine: &Engine, lends: &[Option<Lending>]) {
        let st = engine.state();
        if self.needs_rebuild(engine, lends) {
            for s in self.down.iter_mut().chain(self.up.iter_mut()) {
                s.clear();
            }
            self.always.clear();
            self.multi.clear();
            self.entries.iter_mut().for_each(|e| *e = Entry::Safe);
            for i in 0..st.accounts.len() as u32 {
                let e = Self::entry_for(
                    engine,
                    i,
                    lends[st.accounts[i as usize].pool.idx()].as_ref(),
                );
                self.insert(i, e);
            }
            for &d in &self.dirty {
                self.is_dirty[d as usize] = false;
            }
            self.dirty.clear();
            self.borrow_base = lends
                .iter()
                .map(|l| l.as_ref().map_or(i128::MAX, |l| l.borrow_index))
                .collect();
            self.priced = st.assets.iter().map(|a| a.price.is_some()).collect();
            self.built_at = st.time;
            self.rebuild = false;
            let _ = INDEX_SCALE;
            return;
        }
        let dirty = std::mem::take(&mut self.dirty);
        for &i in &dirty {
            self.is_dirty[i as usize] = false;
            self.remove(i);
            let e = Self::entry_for(
                engine,
                i,
                lends[st.accounts[i as usize].pool.idx()].as_ref(),
            );
            self.insert(i, e);
        }
        self.dirty = dirty;
        self.dirty.clear();
    }

    pub(crate) fn below_maintenance(&mut self, engine: &Engine) -> Vec<AccountId> {
        self.refresh(engine);
        let st = engine.state();
        let mut cand = std::mem::take(&mut self.cand);
        let mut sure = std::mem::take(&mut self.sure);
        cand.clear();
        sure.clear();
        for (a, asset) in st.assets.iter().enumerate() {
            let Some(p) = asset.price else { continue };
            let p = p.raw();
            for (&(_, i), &s) in self.down[a].range((p.saturating_add(1), 0)..) {
                if p < s {
                    sure.push(i)
                } else {
                    cand.push(i)
                }
            }
            for (&(_, i), &s) in self.up[a].range(..(p, 0)) {
                if p > s {
                    sure.push(i)
                } else {
                    cand.push(i)
                }
            }
        }
        for (&i, &is_sure) in &self.always {
            if is_sure {
                sure.push(i)
            } else {
                cand.push(i)
            }
        }
        cand.extend(self.multi.iter().copied());
        cand.sort_unstable();
        cand.dedup();
        let lends = &self.lends;
        cand.retain(|&i| {
            let a = &st.accounts[i as usize];
            engine.maintenance_or_worst(a, lends[a.pool.idx()].as_ref()) < Value::ZERO
        });
        // An account is in one set only, so the two lists are disjoint.
        sure.extend_from_slice(&cand);
        sure.sort_unstable();
        let out = sure.iter().map(|&i| AccountId(i)).collect();
        self.cand = cand;
        self.sure = sure;
        out
    }
}
