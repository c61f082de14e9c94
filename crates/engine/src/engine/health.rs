//! Margin: the one health computation. [`Engine::margin`] walks an account once — quote
//! balance, collateral, perpetuals, options — and adds up every term a caller can ask for,
//! driven by a [`MarginContext`]: initial or maintenance requirement, an optional tentative
//! change ([`Patch`]), and optionally the line-by-line [`Breakdown`]. Trading and withdrawal
//! checks, liquidation (health, requirement and equity: the liquidation-end view), the loss
//! waterfall's equity, ADL ranking, the risk index's exact checks and the queries all read
//! the same [`Margin`] (after Drift v2's single `MarginCalculation` driven by a
//! `MarginContext`, and Mango v4's health with its `HealthType` init / maint / liquidation-end).

use super::options::PortfolioBook;
use super::*;

/// What a health computation is for.
#[derive(Debug, Clone, Copy)]
pub(super) struct MarginContext<'a> {
    /// Which requirement (and which prices) the health is measured against.
    pub kind: HealthKind,
    /// A tentative change: a new quote balance and one position replaced, added or removed.
    pub patch: Option<&'a Patch>,
    /// Whether to record every contribution (for [`Engine::breakdown`]).
    pub explain: bool,
}

impl<'a> MarginContext<'a> {
    /// The test of new risk: fills that add risk, withdrawals, borrows, transfers out.
    pub fn initial() -> Self {
        MarginContext {
            kind: HealthKind::Initial,
            patch: None,
            explain: false,
        }
    }

    /// Staying open: below zero the account is liquidatable.
    pub fn maintenance() -> Self {
        MarginContext {
            kind: HealthKind::Maintenance,
            ..Self::initial()
        }
    }

    /// What liquidation and the waterfall read: maintenance health together with the
    /// per-position requirement (the liquidation target) and the full equity (bankruptcy).
    pub fn liquidation_end() -> Self {
        Self::maintenance()
    }

    pub fn of(kind: HealthKind) -> Self {
        MarginContext {
            kind,
            ..Self::initial()
        }
    }

    pub fn with_patch(self, patch: &'a Patch) -> Self {
        MarginContext {
            patch: Some(patch),
            ..self
        }
    }

    pub fn with_breakdown(self) -> Self {
        MarginContext {
            explain: true,
            ..self
        }
    }
}

/// Every term of one pass over an account.
#[derive(Debug, Clone, Default)]
pub(super) struct Margin {
    /// Quote balance (at the lending indices) plus haircut collateral.
    pub collateral: Value,
    /// Quote balance plus collateral at full price, where the pool accepts it.
    pub collateral_full: Value,
    /// Perpetual PnL as it counts toward this kind of health, plus option marks as they count.
    pub pnl: Value,
    /// Perpetual PnL in full, plus option marks (under maintenance: every option at its mark).
    pub pnl_full: Value,
    /// The requirement health is measured against: the sum of the positions' requirements in
    /// standard mode, the scenario requirement in portfolio mode.
    pub requirement: Value,
    /// Sum of per-position requirements: every perpetual at its margin rate (in either mode),
    /// options by the standard rule (standard mode only). The liquidation target.
    pub position_requirement: Value,
    /// `collateral + pnl − requirement`.
    pub health: Value,
    /// Option marks in portfolio mode (shown on the breakdown's portfolio line).
    pub option_marks: Value,
    /// The contributions, when the context asked for them.
    pub lines: Vec<Contribution>,
}

impl Margin {
    /// What the account is worth if closed: quote, collateral at full value, PnL, option
    /// marks. Meaningful in a maintenance (liquidation-end) context.
    pub fn equity(&self) -> Result<Value, Overflow> {
        self.collateral_full.checked_add(self.pnl_full)
    }
}

/// An account's positions with a patch applied: in standard mode the patched position keeps
/// its place (or is appended), in portfolio mode it is appended last (the scenario file is
/// built in this order).
fn patched_positions(acct: &Account, patch: Option<&Patch>) -> SmallVec<[Position; 4]> {
    let Some(pt) = patch else {
        return acct.positions.iter().copied().collect();
    };
    let in_place = acct.margin_mode == MarginMode::Standard
        && acct.positions.iter().any(|p| p.market == pt.market);
    let mut out: SmallVec<[Position; 4]> = SmallVec::new();
    for p in &acct.positions {
        match (p.market == pt.market, in_place) {
            (false, _) => out.push(*p),
            (true, true) => out.extend(pt.position),
            (true, false) => {}
        }
    }
    if !in_place {
        out.extend(pt.position);
    }
    out
}

impl Engine {
    /// The one health computation: every term of `acct` (possibly a tentative copy) with its
    /// pool's lending at `lend`, as `ctx` asks.
    pub(super) fn margin(
        &self,
        acct: &Account,
        lend: &Lending,
        ctx: MarginContext<'_>,
    ) -> Result<Margin, Overflow> {
        let mut m = Margin::default();
        let quote = ctx.patch.map_or(&acct.quote, |p| &p.quote);
        let q = quote_now(quote, lend)?;
        m.collateral = Value::from_quote(q);
        m.collateral_full = m.collateral;
        if ctx.explain {
            m.lines.push(Contribution::Quote {
                amount: q,
                value: m.collateral,
            });
        }
        self.collateral_terms(acct, &mut m, ctx)?;
        let mut book = (acct.margin_mode == MarginMode::Portfolio)
            .then(|| PortfolioBook::new(&self.state.pools[acct.pool.idx()].portfolio));
        for p in &patched_positions(acct, ctx.patch) {
            self.perp_terms(p, &mut m, ctx, book.as_mut())?;
        }
        for op in &acct.options {
            self.option_terms(op, &mut m, ctx, book.as_mut())?;
        }
        match book {
            None => {
                m.requirement = m.position_requirement;
                m.health = m
                    .collateral
                    .checked_add(m.pnl)?
                    .checked_sub(m.requirement)?;
            }
            Some(book) => {
                let counted = m.collateral.checked_add(m.pnl)?;
                match book.requirement(self, ctx.kind)? {
                    Some(req) => {
                        m.requirement = req;
                        m.health = counted.checked_sub(req)?;
                    }
                    // Fail safe: an account whose risk cannot be computed counts as insolvent.
                    None => {
                        m.health = Value(-(1i128 << 100));
                        m.requirement = counted.checked_sub(m.health)?;
                    }
                }
                if ctx.explain {
                    m.lines.push(Contribution::Portfolio {
                        option_marks: m.option_marks,
                        requirement: m.requirement,
                    });
                }
            }
        }
        Ok(m)
    }

    /// Collateral balances: haircut for health, in full for equity (only where the pool
    /// accepts the asset and it has a price).
    fn collateral_terms(
        &self,
        acct: &Account,
        m: &mut Margin,
        ctx: MarginContext<'_>,
    ) -> Result<(), Overflow> {
        let pool = &self.state.pools[acct.pool.idx()];
        for (asset, amt) in &acct.collateral {
            let price = self.price_for(*asset, ctx.kind, true);
            let (value, weight, weighted) = match (price, self.collateral_params(pool, *asset)) {
                (Some(p), Some(cp)) => {
                    let w = match ctx.kind {
                        HealthKind::Initial => cp.init_weight,
                        HealthKind::Maintenance => cp.maint_weight,
                    };
                    let v = amt.value(p);
                    (v, w, margin::collateral_weighted(v, w)?)
                }
                _ => (Value::ZERO, Ratio::ZERO, Value::ZERO),
            };
            m.collateral.add_assign(weighted)?;
            m.collateral_full.add_assign(value)?;
            if ctx.explain {
                m.lines.push(Contribution::Collateral {
                    asset: *asset,
                    amount: *amt,
                    value,
                    weight,
                    weighted,
                });
            }
        }
        Ok(())
    }

    /// Unrealized PnL of a perpetual at `price`: its cost basis, its notional and its unsettled
    /// funding (the one definition: health, equity and ADL ranking use it).
    pub(crate) fn perp_pnl(&self, p: &Position, price: Price) -> Result<Value, Overflow> {
        let m = &self.state.markets[p.market.idx()];
        Value::sum([
            Value::from_quote(p.quote),
            p.size.value(price),
            unsettled_funding(p, m)?,
        ])
    }

    /// One perpetual: PnL (counted and in full) and its requirement. Standard mode values it
    /// at the kind's price (stable-price bound for initial); portfolio mode at the oracle and
    /// adds it to the scenario book.
    fn perp_terms(
        &self,
        p: &Position,
        m: &mut Margin,
        ctx: MarginContext<'_>,
        book: Option<&mut PortfolioBook>,
    ) -> Result<(), Overflow> {
        let mk = &self.state.markets[p.market.idx()];
        let base = &self.state.assets[mk.base.idx()];
        let price = match book {
            None => self.price_for(mk.base, ctx.kind, p.size.0 > 0),
            Some(_) => base.price,
        };
        // A position can only exist once its base asset has a price.
        let Some(price) = price else {
            return Ok(());
        };
        let notional = p.size.value(price);
        let pnl = self.perp_pnl(p, price)?;
        let counted = self.counted_pnl(mk, pnl, ctx.kind);
        let rate = self.rate(mk, p.size, ctx.kind, base.decimals);
        let requirement = margin::position_requirement(notional, rate)?;
        m.pnl.add_assign(counted)?;
        m.pnl_full.add_assign(pnl)?;
        m.position_requirement.add_assign(requirement)?;
        let standard = book.is_none();
        if let Some(book) = book {
            book.add_perp(self, mk.base, p.size);
        }
        if ctx.explain {
            m.lines.push(Contribution::Perp {
                market: p.market,
                size: p.size,
                notional,
                unrealized_pnl: counted,
                rate,
                requirement: if standard { requirement } else { Value::ZERO },
            });
        }
        Ok(())
    }

    /// One option: in standard mode its counted mark and the short-option requirement; in
    /// portfolio mode its mark, and the scenario book gets the position.
    fn option_terms(
        &self,
        op: &OptionPosition,
        m: &mut Margin,
        ctx: MarginContext<'_>,
        book: Option<&mut PortfolioBook>,
    ) -> Result<(), Overflow> {
        let Some(book) = book else {
            let (mark, requirement) = self.option_line(op, ctx.kind)?;
            m.pnl.add_assign(mark)?;
            m.pnl_full.add_assign(mark)?;
            m.position_requirement.add_assign(requirement)?;
            if ctx.explain {
                m.lines.push(Contribution::Option {
                    series: op.series,
                    size: op.size,
                    mark,
                    requirement,
                });
            }
            return Ok(());
        };
        let mark = self.option_marks_of(op)?;
        m.pnl.add_assign(mark)?;
        m.pnl_full.add_assign(mark)?;
        m.option_marks.add_assign(mark)?;
        book.add_option(self, op);
        Ok(())
    }

    /// Health of `acct` (possibly a tentative copy) with its pool's lending at `lend`.
    pub(crate) fn health_of(
        &self,
        acct: &Account,
        lend: &Lending,
        kind: HealthKind,
    ) -> Result<Value, Overflow> {
        Ok(self.margin(acct, lend, MarginContext::of(kind))?.health)
    }

    /// Health of `acct` as it would be with `patch` applied, without copying the account.
    pub(super) fn health_patched(
        &self,
        acct: &Account,
        patch: &Patch,
        lend: &Lending,
        kind: HealthKind,
    ) -> Result<Value, Overflow> {
        let ctx = MarginContext::of(kind).with_patch(patch);
        Ok(self.margin(acct, lend, ctx)?.health)
    }

    /// Margin rate of a position: size premium, volatility add-on, breaker multiplier.
    pub(crate) fn rate(&self, m: &Market, size: Amount, kind: HealthKind, decimals: u8) -> Ratio {
        // The volatility add-on raises both requirements (capped at 100% of notional).
        let addon = m.vol_margin.as_ref().map_or(0, |v| v.addon.0);
        let with_addon = |r: Ratio| Ratio((r.0 + addon).min(crate::num::RATIO_SCALE));
        match kind {
            HealthKind::Initial => {
                let base = with_addon(margin::size_adjusted_rate(
                    m.params.init_margin,
                    m.params.imf,
                    size,
                    decimals,
                ));
                if m.breaker.is_none() {
                    return base;
                }
                // A Cautious breaker raises margin for new risk.
                let scaled = div_round(
                    base.0 as i128 * self.margin_multiplier(m).0 as i128,
                    crate::num::RATIO_SCALE as i128,
                    Round::Up,
                );
                Ratio(scaled.min(crate::num::RATIO_SCALE as i128) as i64)
            }
            HealthKind::Maintenance => with_addon(margin::size_adjusted_rate(
                m.params.maint_margin,
                m.params.imf,
                size,
                decimals,
            )),
        }
    }

    pub(super) fn require_health(
        &self,
        id: AccountId,
        acct: &Account,
        lend: &Lending,
        kind: HealthKind,
    ) -> Result<(), Reject> {
        let h = self.health_of(acct, lend, kind)?;
        if h.0 < 0 {
            return Err(Reject::InsufficientMargin {
                account: id,
                kind,
                health: h,
            });
        }
        Ok(())
    }
}
