//! European options as ledger instruments: series listing, volatility surfaces, premium
//! through the ledger, cash settlement at expiry, the standard option margin rule, portfolio
//! margin as an account's choice, and Greeks per account and per pool.
//!
//! Valuation is f64 (Black-Scholes-Merton on spot with r = q = 0, vol read from the asset's
//! surface at `k = ln(K/S)`), converted to the ledger's fixed point rounding against the
//! account. Standard option margin follows Deribit's rule: a short needs its mark plus
//! `max(α − OTM/S, β)·S` per unit (Deribit "Margin for options" documentation; default
//! initial α = 0.15, β = 0.10, maintenance α = β = 0.075, governed per pool in
//! [`crate::option_margin`]); a long counts at mark for maintenance and at
//! zero for initial margin (premium is paid in full). Portfolio margin revalues the whole
//! account with [`ballast_options::portfolio::compute_margin`] (Derive v2 PMRM-style correlated
//! spot × vol shocks).

use super::*;
use crate::ids::SeriesId;
use crate::math::option_cash;
use crate::math::position::PositionUpdate;
use crate::num::{Overflow, MS_PER_YEAR};
use crate::portfolio::PortfolioParams;
use ballast_options::portfolio::{
    compute_margin, BuiltSurface, MarginParams, PortfolioFile, SurfaceSpec, UnderlyingMarket,
};
use ballast_options::pricing::{bsm, BsmParams, Greeks, OptionKind};

/// Greeks of a book on one underlying, per whole unit of the underlying.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct BookGreeks {
    pub asset: AssetId,
    pub delta: f64,
    pub gamma: f64,
    pub vega: f64,
    pub theta: f64,
}

/// An option series to list: the `CreateOptionSeries` command's fields.
#[derive(Debug, Clone, Copy)]
pub(super) struct SeriesListing {
    pub pool: PoolId,
    pub underlying: AssetId,
    pub kind: OptionKind,
    /// Human strike (quote per underlying token).
    pub strike: f64,
    pub expiry: Timestamp,
}

/// An option fill: the `OptionFill` command's fields (`size` > 0: the taker buys).
#[derive(Debug, Clone, Copy)]
pub(super) struct OptionTrade {
    pub series: SeriesId,
    pub taker: AccountId,
    pub maker: AccountId,
    pub size: Amount,
    /// Human premium per underlying token.
    pub premium: f64,
}

/// The scenario book of a portfolio-margin account: its underlyings (spot, ATM vol) and
/// positions in the form [`compute_margin`] revalues, built while [`Engine::margin`] walks the
/// account.
pub(super) struct PortfolioBook {
    file: PortfolioFile,
    /// The pool's governed inputs (spot range, initial factor, correlations).
    inputs: PortfolioParams,
    /// Asset of each underlying in `file.market`, in the same order.
    assets: Vec<AssetId>,
}

/// A raw ratio as a real number.
fn real(r: crate::num::Ratio) -> f64 {
    r.0 as f64 / crate::num::RATIO_SCALE as f64
}

impl PortfolioBook {
    pub(super) fn new(inputs: &PortfolioParams) -> Self {
        let params = MarginParams {
            vol_range_up: real(inputs.vol_range_up),
            vol_range_down: real(inputs.vol_range_down),
            short_option_pct: real(inputs.short_option_pct),
            perp_pct: real(inputs.perp_pct),
            ..MarginParams::default()
        };
        PortfolioBook {
            file: PortfolioFile {
                market: Vec::new(),
                correlation: None,
                positions: Vec::new(),
                params,
            },
            inputs: inputs.clone(),
            assets: Vec::new(),
        }
    }

    /// Adds `asset` as an underlying (once); its spot in human units, `None` without a price.
    fn add_market(&mut self, e: &Engine, asset: AssetId) -> Option<f64> {
        let a = &e.state.assets[asset.idx()];
        let spot = e.human(asset, a.price?);
        if !self.assets.contains(&asset) {
            self.assets.push(asset);
            let atm = a
                .vol_surface
                .as_ref()
                .and_then(|v| v.implied_vol(30.0 / 365.0, 0.0).ok())
                .unwrap_or(0.8);
            self.file.market.push(UnderlyingMarket {
                name: a.symbol.clone(),
                spot,
                vol: atm,
                rate: 0.0,
                carry_yield: 0.0,
                spot_range: real(self.inputs.spot_range),
                oracle_confidence: 0.0,
                surface: None,
            });
        }
        Some(spot)
    }

    pub(super) fn add_perp(&mut self, e: &Engine, base: AssetId, size: Amount) {
        if self.add_market(e, base).is_some() {
            self.file
                .positions
                .push(ballast_options::portfolio::Position::Perp {
                    underlying: e.state.assets[base.idx()].symbol.clone(),
                    size: e.units(base, size),
                });
        }
    }

    /// Adds an unexpired, unsettled option (settled and expired ones carry no scenario risk:
    /// their value is fixed).
    pub(super) fn add_option(&mut self, e: &Engine, op: &OptionPosition) {
        let s = &e.state.series[op.series.idx()];
        let tau = (s.expiry.0 - e.clock.0) as f64 / MS_PER_YEAR as f64;
        if s.settlement.is_some() || tau <= 0.0 {
            return;
        }
        let Some(spot) = self.add_market(e, s.underlying) else {
            return;
        };
        let strike = e.human(s.underlying, s.strike);
        let vol = e.state.assets[s.underlying.idx()]
            .vol_surface
            .as_ref()
            .and_then(|v| v.implied_vol(tau, libm::log(strike / spot)).ok());
        self.file
            .positions
            .push(ballast_options::portfolio::Position::Option {
                underlying: e.state.assets[s.underlying.idx()].symbol.clone(),
                kind: s.kind,
                strike,
                expiry_years: tau,
                quantity: e.units(s.underlying, op.size),
                vol,
            });
    }

    /// The scenario requirement (× the pool's initial factor for initial health), rounded up;
    /// `None` when it cannot be computed (the caller fails safe).
    pub(super) fn requirement(
        mut self,
        e: &Engine,
        kind: HealthKind,
    ) -> Result<Option<Value>, Overflow> {
        if self.file.positions.is_empty() {
            return Ok(Some(Value::ZERO));
        }
        let n = self.file.market.len();
        if n > 1 {
            let rho = |i: usize, j: usize| self.inputs.rho(self.assets[i], self.assets[j]);
            let matrix = (0..n)
                .map(|i| (0..n).map(|j| rho(i, j)).collect())
                .collect();
            let names = self.file.market.iter().map(|m| m.name.clone()).collect();
            self.file.correlation = Some(ballast_options::portfolio::Correlation {
                underlyings: names,
                matrix,
            });
        }
        let Ok(r) = compute_margin(&self.file) else {
            return Ok(None);
        };
        let factor = if kind == HealthKind::Initial {
            real(self.inputs.initial_factor)
        } else {
            1.0
        };
        // −floor(−x) = ceil(x): the requirement rounds up.
        Ok(Some(
            e.value_from_f64(-(r.requirement * factor))?.checked_neg()?,
        ))
    }
}

/// The breaker action a trade needs: `Trade` when it adds risk, else `ReduceTrade`.
pub(super) fn trade_action(adds_risk: bool) -> Action {
    if adds_risk {
        Action::Trade
    } else {
        Action::ReduceTrade
    }
}

/// Moves an account's position in series `s` by `dlt` for premium cash `cash` (its premium
/// basis moves by the cash and is zero once flat), keeping positions sorted. The one option
/// position update: option fills and option liquidation lots both call it. Returns the old
/// and new sizes; the caller books the cash itself.
pub(super) fn change_option(
    acct: &mut Account,
    s: SeriesId,
    dlt: i64,
    cash: i128,
) -> Result<(i64, i64), Reject> {
    let at = acct.options.iter().position(|o| o.series >= s);
    let old = match at {
        Some(j) if acct.options[j].series == s => acct.options[j],
        _ => OptionPosition {
            series: s,
            size: Amount::ZERO,
            premium: Amount::ZERO,
        },
    };
    let new_size = old.size.checked_add(Amount(dlt))?;
    let premium = if new_size.is_zero() {
        Amount::ZERO
    } else {
        old.premium.checked_add(Amount::from_i128(cash)?)?
    };
    let pos = OptionPosition {
        series: s,
        size: new_size,
        premium,
    };
    match (at, new_size.is_zero()) {
        (Some(j), true) if acct.options[j].series == s => {
            acct.options.remove(j);
        }
        (Some(j), false) if acct.options[j].series == s => acct.options[j] = pos,
        (_, true) => {}
        (j, false) => acct.options.insert(j.unwrap_or(acct.options.len()), pos),
    }
    Ok((old.size.0, new_size.0))
}

fn intrinsic(kind: OptionKind, spot: f64, strike: f64) -> f64 {
    match kind {
        OptionKind::Call => (spot - strike).max(0.0),
        OptionKind::Put => (strike - spot).max(0.0),
    }
}

impl Engine {
    fn series(&self, s: SeriesId) -> Result<&OptionSeries, Reject> {
        self.state
            .series
            .get(s.idx())
            .ok_or(Reject::UnknownSeries(s))
    }

    fn human(&self, asset: AssetId, p: Price) -> f64 {
        p.to_human(
            self.state.assets[asset.idx()].decimals,
            self.quote_decimals(),
        )
    }

    /// Whole units of an amount of `asset`.
    pub(super) fn units(&self, asset: AssetId, a: Amount) -> f64 {
        a.0 as f64 / crate::num::pow10(i32::from(self.state.assets[asset.idx()].decimals))
    }

    /// A float risk estimate (whole quote units) as a ledger value, rounded down. A value that
    /// is not finite or beyond ±1e36 raw steps is an [`Overflow`], never a clamp.
    pub(super) fn value_from_f64(&self, x: f64) -> Result<Value, Overflow> {
        let scale =
            crate::num::pow10(i32::from(self.quote_decimals())) * crate::num::VALUE_SCALE as f64;
        let v = (x * scale).floor();
        if v.is_finite() && v.abs() <= 1e36 {
            // In range: the float-to-integer conversion is exact for an integral float.
            Ok(Value(v as i128))
        } else {
            Err(Overflow)
        }
    }

    /// Per-unit model price and Greeks of a series at `now` (expired: intrinsic, no Greeks).
    pub(crate) fn series_greeks(&self, s: &OptionSeries, now: Timestamp) -> Greeks {
        let strike = self.human(s.underlying, s.strike);
        if let Some(p) = s.settlement {
            return Greeks {
                price: intrinsic(s.kind, self.human(s.underlying, p), strike),
                ..Greeks::default()
            };
        }
        let Some(spot) = self.state.assets[s.underlying.idx()]
            .price
            .map(|p| self.human(s.underlying, p))
        else {
            return Greeks::default();
        };
        let tau = (s.expiry.0 - now.0) as f64 / MS_PER_YEAR as f64;
        if tau <= 0.0 {
            return Greeks {
                price: intrinsic(s.kind, spot, strike),
                ..Greeks::default()
            };
        }
        let vol = self.state.assets[s.underlying.idx()]
            .vol_surface
            .as_ref()
            .and_then(|v| v.implied_vol(tau, libm::log(strike / spot)).ok());
        match vol.and_then(|vol| BsmParams::new(spot, strike, tau, 0.0, 0.0, vol).ok()) {
            Some(p) => bsm(s.kind, &p).unwrap_or(Greeks {
                price: intrinsic(s.kind, spot, strike),
                ..Greeks::default()
            }),
            // No surface: intrinsic value (the short rule below still charges its add-on).
            None => Greeks {
                price: intrinsic(s.kind, spot, strike),
                ..Greeks::default()
            },
        }
    }

    /// Standard-mode terms of one option position: its counted mark (longs at zero for initial
    /// health) and its requirement (shorts: the Deribit add-on; none once settled).
    pub(crate) fn option_line(
        &self,
        op: &OptionPosition,
        kind: HealthKind,
    ) -> Result<(Value, Value), Overflow> {
        let s = &self.state.series[op.series.idx()];
        let g = self.series_greeks(s, self.clock);
        let units = self.units(s.underlying, op.size);
        if op.size.0 > 0 {
            let mark = if kind == HealthKind::Maintenance {
                self.value_from_f64(units * g.price)?
            } else {
                Value::ZERO
            };
            return Ok((mark, Value::ZERO));
        }
        let mark = self.value_from_f64(units * g.price)?;
        let mut add_on = 0.0;
        if s.settlement.is_none() {
            if let Some(spot) = self.state.assets[s.underlying.idx()]
                .price
                .map(|p| self.human(s.underlying, p))
            {
                let strike = self.human(s.underlying, s.strike);
                let otm = match s.kind {
                    OptionKind::Call => (strike - spot).max(0.0),
                    OptionKind::Put => (spot - strike).max(0.0),
                };
                let c = &self.state.pools[s.pool.idx()].option_margin;
                let (alpha, beta) = match kind {
                    HealthKind::Initial => (real(c.init_alpha), real(c.init_beta)),
                    HealthKind::Maintenance => (real(c.maint_alpha), real(c.maint_beta)),
                };
                add_on = (alpha - otm / spot).max(beta) * spot;
            }
        }
        // −floor(−x) = ceil(x): the requirement rounds up.
        let req = self.value_from_f64(units * add_on)?.checked_neg()?;
        Ok((mark, req))
    }

    /// Signed model value of one option position, rounded down.
    pub(crate) fn option_marks_of(&self, op: &OptionPosition) -> Result<Value, Overflow> {
        let s = &self.state.series[op.series.idx()];
        let price = self.series_greeks(s, self.clock).price;
        self.value_from_f64(self.units(s.underlying, op.size) * price)
    }

    /// Model mark of one option of series `s` per underlying native unit, as a [`Price`] (a
    /// liquidation takes the lot over at it). A mark below the fixed-point resolution (a
    /// worthless option) is the smallest price, one raw step.
    pub(crate) fn option_unit_mark(&self, id: SeriesId) -> Result<Price, Reject> {
        let s = &self.state.series[id.idx()];
        let mark = self.series_greeks(s, self.clock).price;
        let dec = self.state.assets[s.underlying.idx()].decimals;
        match Price::from_human(mark, dec, self.quote_decimals()) {
            Ok(p) => Ok(p),
            Err(crate::num::PriceError::TooSmall | crate::num::PriceError::NotPositive) => {
                Ok(Price::from_raw(1).expect("1 > 0"))
            }
            Err(reason) => Err(Reject::InvalidPrice {
                asset: s.underlying,
                reason,
            }),
        }
    }

    /// Premium and taker fee of an option fill, in quote-native units (fixed point; a premium
    /// that is not a representable price is refused, a zero premium costs nothing).
    fn option_cash(
        &self,
        (id, s): (SeriesId, &OptionSeries),
        size: Amount,
        premium: f64,
        spot: Price,
    ) -> Result<(Amount, Amount), Reject> {
        let (bd, qd) = (
            self.state.assets[s.underlying.idx()].decimals,
            self.quote_decimals(),
        );
        let total = if premium == 0.0 {
            Amount::ZERO
        } else {
            let p = Price::from_human(premium, bd, qd).map_err(|_| Reject::InvalidPremium(id))?;
            option_cash::premium(size, p)?
        };
        let pp = &self.state.pools[s.pool.idx()].params;
        let fee = option_cash::taker_fee(size, spot, total, pp.option_fee, pp.option_fee_cap)?;
        Ok((total, fee))
    }

    // ----- commands --------------------------------------------------------------------------

    pub(super) fn create_series(
        &mut self,
        now: Timestamp,
        listing: &SeriesListing,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let SeriesListing {
            pool,
            underlying,
            kind,
            strike,
            expiry,
        } = *listing;
        let p = self.pool(pool)?;
        let a = self.asset(underlying)?;
        if p.quote == underlying {
            return Err(Reject::InvalidParams(crate::params::InvariantError::Rule(
                "an option's underlying cannot be the quote asset",
            )));
        }
        let strike_p =
            Price::from_human(strike, a.decimals, self.quote_decimals()).map_err(|reason| {
                Reject::InvalidPrice {
                    asset: underlying,
                    reason,
                }
            })?;
        if expiry <= now {
            return Err(Reject::ExpiryNotInFuture { expiry, now });
        }
        let id = SeriesId(self.state.series.len() as u32);
        let tag = match kind {
            OptionKind::Call => "C",
            OptionKind::Put => "P",
        };
        let symbol = format!(
            "{}-{}-{}-{}",
            a.symbol,
            &expiry.to_string()[..10],
            strike,
            tag
        );
        self.state.series.push(OptionSeries {
            symbol: symbol.clone(),
            pool,
            underlying,
            kind,
            strike: strike_p,
            expiry,
            settlement: None,
            long_oi: Amount::ZERO,
            clearing: Amount::ZERO,
        });
        out.push(Event::SeriesCreated { series: id, symbol });
        Ok(())
    }

    pub(super) fn set_vol_surface(
        &mut self,
        asset: AssetId,
        surface: &SurfaceSpec,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        self.asset(asset)?;
        let built = BuiltSurface::build(surface).map_err(Reject::Options)?;
        self.state.assets[asset.idx()].vol_surface = Some(Box::new(built));
        // Option marks moved: accounts holding options are re-checked exactly on every query.
        out.push(Event::VolSurfaceSet { asset });
        Ok(())
    }

    pub(super) fn option_fill(
        &mut self,
        now: Timestamp,
        trade: &OptionTrade,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let OptionTrade {
            series,
            taker,
            maker,
            size,
            premium,
        } = *trade;
        let (s, spot) = self.option_fill_checks(now, trade)?;
        // Premium and fee in fixed point (crate::math::option_cash): the buyer pays the
        // rounded-up premium and the seller receives the same number; the taker fee is the
        // pool's governed share of notional, capped at a share of the premium (Deribit).
        let (total, fee) = self.option_cash((series, &s), size, premium, spot)?;
        let p = &self.state.pools[s.pool.idx()];
        let mut l = accrued(&p.lending, &p.params.curve, now)?;
        let fee_account = p.fee_account.checked_add(fee)?;
        let mut accts = [self.account(taker)?.clone(), self.account(maker)?.clone()];
        let ids = [taker, maker];
        // Buyer (positive delta) pays the premium; the taker pays the fee.
        let paid = if size.0 > 0 { -total.0 } else { total.0 } as i128;
        let legs = [(size.0, paid, fee.0), (-size.0, -paid, 0)];
        let mut long_oi = s.long_oi.0 as i128;
        let mut increases = [false; 2];
        let mut events = Vec::new();
        for i in 0..2 {
            let a = &mut accts[i];
            let d = settle_interest(&mut a.quote, &mut l)?;
            if d.0 != 0 {
                events.push(Event::InterestSettled {
                    account: ids[i],
                    amount: d,
                });
            }
            let (delta, cash, fee_i) = legs[i];
            let (old, new) = change_option(a, series, delta, cash)?;
            let booked = Amount::from_i128(cash)?.checked_sub(Amount(fee_i))?;
            add_quote(&mut a.quote, &mut l, booked.0)?;
            long_oi += new.max(0) as i128 - old.max(0) as i128;
            increases[i] = PositionUpdate::classify(old, new).adds_risk();
        }
        for i in 0..2 {
            let action = trade_action(increases[i]);
            self.gate_account(now, &accts[i], Some(s.underlying), action)?;
            if increases[i] {
                self.require_health(ids[i], &accts[i], &l, HealthKind::Initial)?;
            }
        }
        let long_oi = Amount::from_i128(long_oi)?;
        let [ta, ka] = accts;
        self.state.accounts[taker.idx()] = ta;
        self.state.accounts[maker.idx()] = ka;
        let p = &mut self.state.pools[s.pool.idx()];
        p.lending = l;
        p.fee_account = fee_account;
        self.state.series[series.idx()].long_oi = long_oi;
        self.risk.touch(taker);
        self.risk.touch(maker);
        out.extend(events);
        out.push(Event::OptionFilled {
            series,
            taker,
            maker,
            size,
            premium: total,
            fee,
        });
        Ok(())
    }

    /// The checks of an option fill before any cash moves: parties, size, an open series, a
    /// valid premium, nothing paused, a spot price and a surface. Returns the series and spot.
    fn option_fill_checks(
        &self,
        now: Timestamp,
        trade: &OptionTrade,
    ) -> Result<(OptionSeries, Price), Reject> {
        let series = trade.series;
        let s = self.series(series)?.clone();
        let (t0, k0) = (self.account(trade.taker)?, self.account(trade.maker)?);
        if trade.taker == trade.maker {
            return Err(Reject::SelfTrade);
        }
        for (id, a) in [(trade.taker, t0), (trade.maker, k0)] {
            if a.pool != s.pool {
                return Err(Reject::WrongPool {
                    account: id,
                    expected: s.pool,
                    actual: a.pool,
                });
            }
        }
        if trade.size.0 == 0 {
            return Err(Reject::ZeroSize);
        }
        if trade.size.0 == i64::MIN {
            return Err(Reject::Overflow);
        }
        if now >= s.expiry || s.settlement.is_some() {
            return Err(Reject::SeriesExpired(series));
        }
        if !(trade.premium.is_finite() && trade.premium >= 0.0) {
            return Err(Reject::InvalidPremium(series));
        }
        self.check_not_paused(s.pool, None)?;
        let spot = self.state.assets[s.underlying.idx()]
            .price
            .ok_or(Reject::NoPrice(s.underlying))?;
        if self.state.assets[s.underlying.idx()].vol_surface.is_none() {
            return Err(Reject::NoVolSurface(s.underlying));
        }
        Ok((s, spot))
    }

    /// Fixes the settlement price at or after expiry from the underlying's price (which must
    /// be usable for settlement under the oracle's validity rules).
    pub(super) fn expire_series(
        &mut self,
        now: Timestamp,
        series: SeriesId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let s = self.series(series)?;
        if now < s.expiry {
            return Err(Reject::SeriesNotExpired {
                series,
                expiry: s.expiry,
            });
        }
        if s.settlement.is_some() {
            return Err(Reject::SeriesExpired(series));
        }
        let price = self.state.assets[s.underlying.idx()]
            .price
            .ok_or(Reject::NoPrice(s.underlying))?;
        self.oracle_allows(now, s.underlying, Action::SettleFunding)?;
        self.state.series[series.idx()].settlement = Some(price);
        self.risk.invalidate_all();
        out.push(Event::SeriesExpired {
            series,
            settlement: price,
        });
        Ok(())
    }

    /// Pays out an account's positions in settled series through each series' clearing
    /// account (longs receive rounded down, shorts pay rounded up).
    pub(super) fn settle_options(
        &mut self,
        now: Timestamp,
        account: AccountId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let a0 = self.account(account)?.clone();
        let p = &self.state.pools[a0.pool.idx()];
        let mut l = accrued(&p.lending, &p.params.curve, now)?;
        let mut a = a0.clone();
        let mut evs = Vec::new();
        let d = settle_interest(&mut a.quote, &mut l)?;
        if d.0 != 0 {
            evs.push(Event::InterestSettled { account, amount: d });
        }
        let mut clearing: Vec<(SeriesId, i64)> = Vec::new();
        let mut delta: i64 = 0;
        let mut kept = Vec::with_capacity(a.options.len());
        for op in &a.options {
            let s = &self.state.series[op.series.idx()];
            let Some(settle) = s.settlement else {
                kept.push(*op);
                continue;
            };
            let amount = option_cash::payoff(s.kind, op.size, settle, s.strike)?;
            delta = delta.checked_add(amount.0).ok_or(Overflow)?;
            clearing.push((op.series, amount.0));
            evs.push(Event::OptionSettled {
                account,
                series: op.series,
                amount,
            });
        }
        a.options = kept.into();
        if clearing.is_empty() {
            return Err(Reject::NothingToSettle(account));
        }
        add_quote(&mut a.quote, &mut l, delta)?;
        let mut series_updates = Vec::new();
        for (sid, amount) in &clearing {
            let s = &self.state.series[sid.idx()];
            let size = a0
                .options
                .iter()
                .find(|o| o.series == *sid)
                .map(|o| o.size.0)
                .unwrap_or(0);
            let c = s.clearing.checked_sub(Amount(*amount))?;
            let oi = s.long_oi.checked_sub(Amount(size.max(0)))?;
            series_updates.push((*sid, c, oi));
        }
        for (sid, c, oi) in series_updates {
            self.state.series[sid.idx()].clearing = c;
            self.state.series[sid.idx()].long_oi = oi;
        }
        self.state.pools[a0.pool.idx()].lending = l;
        self.state.accounts[account.idx()] = a;
        self.risk.touch(account);
        out.extend(evs);
        Ok(())
    }

    pub(super) fn set_margin_mode(
        &mut self,
        now: Timestamp,
        account: AccountId,
        mode: MarginMode,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let a0 = self.account(account)?;
        let p = &self.state.pools[a0.pool.idx()];
        let l = accrued(&p.lending, &p.params.curve, now)?;
        let mut a = a0.clone();
        a.margin_mode = mode;
        // Switching must not open risk: initial margin must hold under the new mode.
        self.require_health(account, &a, &l, HealthKind::Initial)?;
        self.state.accounts[account.idx()].margin_mode = mode;
        self.risk.touch(account);
        out.push(Event::MarginModeSet { account, mode });
        Ok(())
    }

    // ----- Greeks -----------------------------------------------------------------------------

    /// Delta, gamma, vega (per 1.00 vol) and theta (per year) of an account per underlying,
    /// perps included (delta = size in whole units).
    pub fn account_greeks(&self, account: AccountId) -> Result<Vec<BookGreeks>, Reject> {
        let a = self.account(account)?;
        let mut out: Vec<BookGreeks> = Vec::new();
        let mut add =
            |asset: AssetId, g: BookGreeks| match out.iter_mut().find(|x| x.asset == asset) {
                Some(x) => {
                    x.delta += g.delta;
                    x.gamma += g.gamma;
                    x.vega += g.vega;
                    x.theta += g.theta;
                }
                None => out.push(g),
            };
        for p in &a.positions {
            let base = self.state.markets[p.market.idx()].base;
            add(
                base,
                BookGreeks {
                    asset: base,
                    delta: self.units(base, p.size),
                    ..BookGreeks::default()
                },
            );
        }
        for op in &a.options {
            let s = &self.state.series[op.series.idx()];
            let g = self.series_greeks(s, self.clock);
            let u = self.units(s.underlying, op.size);
            add(
                s.underlying,
                BookGreeks {
                    asset: s.underlying,
                    delta: u * g.delta,
                    gamma: u * g.gamma,
                    vega: u * g.vega,
                    theta: u * g.theta,
                },
            );
        }
        out.sort_by_key(|g| g.asset);
        Ok(out)
    }

    /// Gross long-side Greeks of a pool per underlying (every long is some account's short, so
    /// the net over all accounts is zero): Σ series long OI × per-unit Greeks, plus perp long
    /// OI as delta. Cost is proportional to series and markets, not accounts.
    pub fn pool_greeks(&self, pool: PoolId) -> Result<Vec<BookGreeks>, Reject> {
        self.pool(pool)?;
        let mut out: Vec<BookGreeks> = Vec::new();
        let mut add = |g: BookGreeks| match out.iter_mut().find(|x| x.asset == g.asset) {
            Some(x) => {
                x.delta += g.delta;
                x.gamma += g.gamma;
                x.vega += g.vega;
                x.theta += g.theta;
            }
            None => out.push(g),
        };
        for m in self.state.markets.iter().filter(|m| m.pool == pool) {
            add(BookGreeks {
                asset: m.base,
                delta: self.units(m.base, m.long_oi),
                ..BookGreeks::default()
            });
        }
        for s in self.state.series.iter().filter(|s| s.pool == pool) {
            let g = self.series_greeks(s, self.clock);
            let u = self.units(s.underlying, s.long_oi);
            add(BookGreeks {
                asset: s.underlying,
                delta: u * g.delta,
                gamma: u * g.gamma,
                vega: u * g.vega,
                theta: u * g.theta,
            });
        }
        out.sort_by_key(|g| g.asset);
        Ok(out)
    }
}
