//! Lending: the pool's quote deposit and borrow indices, their accrual, a quote balance's value
//! at them (rounded against the account), interest settlement through the clearing account,
//! the pool's liquidity and caps, and the `borrow` command.

use super::*;

/// Lending state advanced to `now` (pure: returns a new value). An index that no longer fits
/// is an [`Overflow`]: the command that needs it is refused and nothing changes.
pub(crate) fn accrued(
    l: &Lending,
    curve: &rates::RateCurve,
    now: Timestamp,
) -> Result<Lending, Overflow> {
    let dt = now.0.saturating_sub(l.last_accrual.0);
    if dt <= 0 || (l.borrows_scaled == 0 && curve.base.0 == 0) {
        // No borrows and no base rate: indices cannot move; only the clock advances.
        let mut out = l.clone();
        out.last_accrual = out.last_accrual.max(now);
        return Ok(out);
    }
    let deposits = mul_div(l.deposits_scaled, l.deposit_index, INDEX_SCALE, Round::Down)?;
    let borrows = mul_div(l.borrows_scaled, l.borrow_index, INDEX_SCALE, Round::Down)?;
    let u = rates::utilization(borrows, deposits);
    let rb = rates::borrow_rate(curve, u);
    let rs = rates::supply_rate(curve, u, rb);
    let mut out = l.clone();
    out.borrow_index = rates::grow_index(l.borrow_index, rb, dt, Round::Up)?;
    out.deposit_index = rates::grow_index(l.deposit_index, rs, dt, Round::Down)?;
    out.last_accrual = now;
    Ok(out)
}

/// Contribution of a signed balance to the scaled totals at `index` (deposits round down,
/// borrows round up: both against the account).
pub(super) fn scaled_of(amount: Amount, index: i128) -> Result<i128, Overflow> {
    // The floor of the signed quotient rounds deposits down and debts up in magnitude.
    mul_div(amount.0 as i128, INDEX_SCALE, index, Round::Down)
}

/// Current value of a quote balance at the lending indices, rounded against the account. A
/// balance that no longer fits an [`Amount`] is an [`Overflow`], never a clamp.
pub(crate) fn quote_now(q: &QuoteBalance, l: &Lending) -> Result<Amount, Overflow> {
    let a = q.amount.0 as i128;
    if a == 0 || q.index == 0 {
        return Ok(q.amount);
    }
    let current = if a > 0 {
        l.deposit_index
    } else {
        l.borrow_index
    };
    if current == q.index {
        return Ok(q.amount);
    }
    // Deposits round down, debts round up in magnitude: both are floor of the signed value.
    Amount::from_i128(mul_div(a, current, q.index, Round::Down)?)
}

/// Sets a quote balance that is settled at the current indices, keeping the pool's scaled
/// totals exact. Works on copies: on an overflow neither `q` nor `l` has changed.
pub(super) fn set_quote(
    q: &mut QuoteBalance,
    l: &mut Lending,
    new: Amount,
) -> Result<(), Overflow> {
    let (mut dep, mut bor) = (l.deposits_scaled, l.borrows_scaled);
    if q.scaled >= 0 {
        dep = dep.checked_sub(q.scaled).ok_or(Overflow)?;
    } else {
        bor = bor.checked_add(q.scaled).ok_or(Overflow)?;
    }
    let index = if new.0 >= 0 {
        l.deposit_index
    } else {
        l.borrow_index
    };
    let scaled = scaled_of(new, index)?;
    if scaled >= 0 {
        dep = dep.checked_add(scaled).ok_or(Overflow)?;
    } else {
        bor = bor.checked_sub(scaled).ok_or(Overflow)?;
    }
    (l.deposits_scaled, l.borrows_scaled) = (dep, bor);
    q.amount = new;
    q.index = if new.0 == 0 { 0 } else { index };
    q.scaled = scaled;
    Ok(())
}

/// Brings a quote balance to the current indices; interest flows through the clearing account.
#[must_use = "interest moved through the clearing account: book it and emit InterestSettled"]
pub(super) fn settle_interest(q: &mut QuoteBalance, l: &mut Lending) -> Result<Amount, Overflow> {
    if q.amount.0 == 0
        || q.index
            == if q.amount.0 > 0 {
                l.deposit_index
            } else {
                l.borrow_index
            }
    {
        return Ok(Amount::ZERO);
    }
    let now = quote_now(q, l)?;
    let delta = now.checked_sub(q.amount)?;
    let clearing = l.interest_clearing.checked_sub(delta)?;
    set_quote(q, l, now)?;
    l.interest_clearing = clearing;
    Ok(delta)
}

/// Adds `delta` to a settled quote balance.
pub(super) fn add_quote(q: &mut QuoteBalance, l: &mut Lending, delta: i64) -> Result<(), Reject> {
    let new = q.amount.0.checked_add(delta).ok_or(Reject::Overflow)?;
    set_quote(q, l, Amount(new))?;
    Ok(())
}

impl Engine {
    /// Lending of `pool` advanced to the engine's current time without changing state.
    pub(crate) fn lending_now(&self, pool: PoolId) -> Result<Lending, Overflow> {
        let p = &self.state.pools[pool.idx()];
        accrued(&p.lending, &p.params.curve, self.state.time)
    }

    /// Quote deposits of a pool at its current index (rounded down), checked.
    pub(super) fn total_deposits(l: &Lending) -> Result<i128, Overflow> {
        mul_div(l.deposits_scaled, l.deposit_index, INDEX_SCALE, Round::Down)
    }
    /// Quote borrows of a pool at its current index (rounded up), checked.
    pub(super) fn total_borrows(l: &Lending) -> Result<i128, Overflow> {
        mul_div(l.borrows_scaled, l.borrow_index, INDEX_SCALE, Round::Up)
    }

    pub(super) fn settle_all_interest(
        &self,
        id: AccountId,
        acct: &mut Account,
        l: &mut Lending,
        out: &mut Vec<Event>,
    ) -> Result<(), Overflow> {
        let d = settle_interest(&mut acct.quote, l)?;
        if d.0 != 0 {
            out.push(Event::InterestSettled {
                account: id,
                amount: d,
            });
        }
        Ok(())
    }

    /// Refuses taking `amount` of quote out of a pool whose deposits are lent out.
    pub(super) fn require_liquidity(
        pool: PoolId,
        l: &Lending,
        amount: Amount,
    ) -> Result<(), Reject> {
        let available = Self::total_deposits(l)? - Self::total_borrows(l)?;
        if available < amount.0 as i128 {
            return Err(Reject::InsufficientLiquidity {
                pool,
                available: Amount(i64::try_from(available.max(0)).unwrap_or(i64::MAX)),
                wanted: amount,
            });
        }
        Ok(())
    }

    /// Borrows the pool's quote asset against the account's collateral and takes it out.
    pub(super) fn borrow(
        &mut self,
        now: Timestamp,
        id: AccountId,
        amount: Amount,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        positive(amount)?;
        let acct0 = self.account(id)?;
        let pool_id = acct0.pool;
        self.check_not_paused(pool_id, None)?;
        let p = &self.state.pools[pool_id.idx()];
        let mut l = accrued(&p.lending, &p.params.curve, now)?;
        let mut acct = acct0.clone();
        let mut ev = Vec::new();
        self.settle_all_interest(id, &mut acct, &mut l, &mut ev)?;
        Self::require_liquidity(pool_id, &l, amount)?;
        add_quote(&mut acct.quote, &mut l, -amount.0)?;
        if Self::total_borrows(&l)? > p.params.borrow_cap.0 as i128 {
            return Err(Reject::BorrowCapExceeded {
                pool: pool_id,
                cap: p.params.borrow_cap,
            });
        }
        self.require_health(id, &acct, &l, HealthKind::Initial)?;
        self.gate_account(now, acct0, None, Action::Borrow)?;
        let quote = p.quote;
        self.commit_take_out(now, id, acct, l, quote, amount)?;
        out.extend(ev);
        out.push(Event::Borrowed {
            account: id,
            amount,
        });
        Ok(())
    }
}
