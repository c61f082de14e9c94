//! The keepers' step as a race: every round, the earliest action any keeper would take on the
//! engine as it is now (ties to the lower keeper index), and what the step has used so far
//! (resets per auction, takeover rounds per account, slices refused, the sell cap).

use super::crew::Crew;
use super::lot::{Bidder, LotView, Turn};
use crate::agent::{Act, Note, StepContext};
use crate::engine_liq::EngineLiquidator;
use crate::liquidity::Slippage;
use crate::units::{pow10, to_usd, POOL};
use ballast_engine::ids::{AccountId, AuctionId, MarketId};
use ballast_engine::params::LiquidationParams;
use ballast_engine::HealthKind;

/// What a keeper does next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    Start(AccountId),
    /// A bankrupt account to the waterfall.
    Settle(AccountId),
    Reset(AuctionId),
    Take {
        auction: AuctionId,
        q: i64,
        limit: f64,
    },
    Takeover {
        account: AccountId,
        market: MarketId,
        q: i64,
    },
}

type Candidate = (i64, usize, Action);

/// The rules of the race (fixed for the path).
pub struct Ctx<'a> {
    pub lp: &'a LiquidationParams,
    pub crew: &'a Crew,
    pub auction: bool,
    pub resets: bool,
    pub max_resets: u32,
    pub max_rounds: u32,
}

/// The step so far.
#[derive(Debug, Default)]
pub struct Plan {
    /// Time of the last order (engine time never goes back).
    pub clock: i64,
    /// Notional (USD) the machinery may still sell this step.
    pub sell_left: f64,
    /// Accounts settled, refused or given up this step.
    pub handled: Vec<AccountId>,
    rounds: Vec<(AccountId, u32)>,
    resets: Vec<(AuctionId, u32)>,
    shrinks: Vec<(usize, AuctionId, f64)>,
    pub done: bool,
    /// (keeper, account) settlements the engine refused this step.
    pub settle_refused: Vec<(usize, AccountId)>,
}

fn keep_min(best: &mut Option<Candidate>, c: Candidate) {
    if best.is_none_or(|b| (c.0, c.1) < (b.0, b.1)) {
        *best = Some(c);
    }
}

fn count<K: PartialEq + Copy>(v: &[(K, u32)], key: K) -> u32 {
    v.iter().find(|(k, _)| *k == key).map_or(0, |x| x.1)
}

fn bump<K: PartialEq + Copy>(v: &mut Vec<(K, u32)>, key: K, by: u32) {
    match v.iter_mut().find(|(k, _)| *k == key) {
        Some(x) => x.1 = x.1.saturating_add(by),
        None => v.push((key, by)),
    }
}

impl Plan {
    pub fn begin(&mut self, cx: &StepContext<'_>, sell_cap: f64) {
        *self = Plan {
            clock: cx.now.time_ms,
            sell_left: sell_cap,
            ..Plan::default()
        };
    }

    pub fn count_reset(&mut self, a: AuctionId) {
        bump(&mut self.resets, a, 1);
    }

    pub fn give_up_resets(&mut self, a: AuctionId) {
        bump(&mut self.resets, a, u32::MAX);
    }

    pub fn count_round(&mut self, a: AccountId) {
        bump(&mut self.rounds, a, 1);
    }

    fn shrink_of(&self, k: usize, a: AuctionId) -> f64 {
        self.shrinks
            .iter()
            .find(|(j, b, _)| *j == k && *b == a)
            .map_or(1.0, |x| x.2)
    }

    /// A take by `k` on `a` was refused: halve its slices, or drop the lot under `min`.
    pub fn shrink(&mut self, k: usize, a: AuctionId, min: f64) {
        match self.shrinks.iter_mut().find(|(j, b, _)| *j == k && *b == a) {
            Some(x) => x.2 *= 0.5,
            None => self.shrinks.push((k, a, 0.5)),
        }
        if self.shrink_of(k, a) < min {
            if let Some(x) = self.shrinks.iter_mut().find(|(j, b, _)| *j == k && *b == a) {
                x.2 = 0.0;
            }
        }
    }

    /// The earliest action of the step from here, if any keeper has one.
    pub fn next(&self, cx: &StepContext<'_>, c: &Ctx<'_>) -> Option<Candidate> {
        let mut best = None;
        let end = cx.now.time_ms + cx.now.step_ms;
        for &acct in cx.now.queue {
            if let Some(x) = self.account_action(cx, c, acct, end) {
                keep_min(&mut best, x);
            }
        }
        if c.auction {
            for &(_, auction) in &cx.engine.state().pools[POOL.idx()].liquidation.active {
                if let Some(x) = self.lot_action(cx, c, auction, end) {
                    keep_min(&mut best, x);
                }
            }
        }
        best
    }

    /// Whether keeper `k` acts for `incentive` USD (tip + chip): a bidder always does (the lot
    /// may pay it later), a keeper without capital only when the incentive pays its gas and
    /// threshold.
    fn willing(c: &Ctx<'_>, k: usize, incentive: f64, gas: f64) -> bool {
        let s = &c.crew.members[k].spec;
        s.capital_usd > 0.0 || incentive - gas >= s.min_profit_usd
    }

    /// `tip + chip × value` the fund would pay for a start or reset of a lot worth `value`.
    fn incentive(cx: &StepContext<'_>, c: &Ctx<'_>, value: f64) -> f64 {
        let fund = to_usd(cx.engine.state().pools[POOL.idx()].insurance_fund.0 as i128);
        let tip = to_usd(c.lp.auction_tip as i128);
        (tip + c.lp.auction_chip.to_f64() * value).min(fund.max(0.0))
    }

    /// `action` by the first keeper to arrive among those `ready`, if before `end`.
    fn first_to_arrive(
        &self,
        cx: &StepContext<'_>,
        c: &Ctx<'_>,
        end: i64,
        ready: impl Fn(usize) -> bool,
        action: Action,
    ) -> Option<Candidate> {
        (0..c.crew.members.len())
            .filter(|&k| ready(k))
            .map(|k| (c.crew.arrival(k, cx, self.clock), k, action))
            .filter(|x| x.0 < end)
            .min_by_key(|x| (x.0, x.1))
    }

    /// The earliest action on a queued account: settle, start its auction, or take over.
    fn account_action(
        &self,
        cx: &StepContext<'_>,
        c: &Ctx<'_>,
        acct: AccountId,
        end: i64,
    ) -> Option<Candidate> {
        if self.handled.contains(&acct) {
            return None;
        }
        let eng = cx.engine;
        let gas = cx.now.gas_usd;
        let n = c.crew.members.len();
        if EngineLiquidator::equity(eng, acct) < 0 {
            // The waterfall hands the keeper what is left: the one with the most free margin
            // that has not been refused yet (a protocol duty, no profit rule).
            let k = (0..n)
                .filter(|&k| c.crew.members[k].online && !self.settle_refused.contains(&(k, acct)))
                .max_by(|a, b| {
                    c.crew
                        .free_margin(*a, cx)
                        .total_cmp(&c.crew.free_margin(*b, cx))
                })?;
            let at = c.crew.arrival(k, cx, self.clock);
            return (at < end).then_some((at, k, Action::Settle(acct)));
        }
        if c.auction {
            let running = eng.state().pools[POOL.idx()]
                .liquidation
                .active
                .binary_search_by_key(&acct, |(a, _)| *a)
                .is_ok();
            if running {
                return None;
            }
            let (m, size) = EngineLiquidator::largest_lot(cx, acct)?;
            let value = self.notional(cx, m, size);
            let inc = Self::incentive(cx, c, value);
            let ready = |k| c.crew.can_act(k, gas) && Self::willing(c, k, inc, gas);
            return self.first_to_arrive(cx, c, end, ready, Action::Start(acct));
        }
        self.takeover(cx, c, acct, end)
    }

    fn notional(&self, cx: &StepContext<'_>, m: MarketId, size: i64) -> f64 {
        let dec = cx.scenario.assets[m.idx()].decimals;
        size.unsigned_abs() as f64 / pow10(i32::from(dec)) * cx.now.prices[m.idx()]
    }

    /// The first keeper to arrive for whom taking over `acct`'s largest lot pays.
    fn takeover(
        &self,
        cx: &StepContext<'_>,
        c: &Ctx<'_>,
        acct: AccountId,
        end: i64,
    ) -> Option<Candidate> {
        let eng = cx.engine;
        let healthy = eng
            .health(acct, HealthKind::Maintenance)
            .map_or(true, |h| h.0 >= 0);
        if healthy || count(&self.rounds, acct) >= c.max_rounds {
            return None;
        }
        let (m, size) = EngineLiquidator::largest_lot(cx, acct)?;
        let px = cx.now.prices[m.idx()];
        let scale = pow10(i32::from(cx.scenario.assets[m.idx()].decimals));
        let im = eng.state().markets[m.idx()].params.init_margin.to_f64();
        let reward = c.lp.penalty.to_f64() * c.lp.liquidator_share.to_f64();
        let slip = Slippage::new(cx.scenario);
        let gas = cx.now.gas_usd;
        let mut best = None;
        for k in 0..c.crew.members.len() {
            if !c.crew.can_act(k, gas) {
                continue;
            }
            // It carries the slice at `im` less the concession it is paid.
            let free = c.crew.free_margin(k, cx) * super::lot::MARGIN_USE;
            let per_unit = (px * (im - reward)).max(px * 1e-6);
            let human = (free / per_unit)
                .min(self.sell_left.max(0.0) / px)
                .min(size.unsigned_abs() as f64 / scale);
            let q = (human * scale) as i64;
            let notional = q as f64 / scale * px;
            let s = slip.fraction(notional, cx.now.returns[m.idx()]);
            let profit = notional * (reward - s) - gas;
            if q <= 0 || profit < c.crew.members[k].spec.min_profit_usd {
                continue;
            }
            let at = c.crew.arrival(k, cx, self.clock);
            let sq = if size > 0 { q } else { -q };
            let action = Action::Takeover {
                account: acct,
                market: m,
                q: sq.abs(),
            };
            if at < end {
                keep_min(&mut best, (at, k, action));
            }
        }
        best
    }

    /// The earliest take or reset of an active auction.
    fn lot_action(
        &self,
        cx: &StepContext<'_>,
        c: &Ctx<'_>,
        auction: AuctionId,
        end: i64,
    ) -> Option<Candidate> {
        let lot = LotView::of(cx, auction)?;
        let account = cx.engine.state().auctions[auction.idx()].account;
        let recovered = cx
            .engine
            .health(account, HealthKind::Maintenance)
            .is_ok_and(|h| h.0 >= 0);
        if recovered {
            // Back above maintenance: `RedoAuction` ends it (a duty of the first keeper online).
            if count(&self.resets, auction) >= c.max_resets {
                return None;
            }
            return self.first_to_arrive(
                cx,
                c,
                end,
                |k| c.crew.members[k].online,
                Action::Reset(auction),
            );
        }
        let gas = cx.now.gas_usd;
        let px = cx.now.prices[lot.ai];
        let im = cx.engine.state().markets[lot.market.idx()]
            .params
            .init_margin
            .to_f64();
        let slip = Slippage::new(cx.scenario);
        let mut best = None;
        for k in 0..c.crew.members.len() {
            let shrink = self.shrink_of(k, auction);
            if !c.crew.can_act(k, gas) || shrink == 0.0 {
                continue;
            }
            let spec = &c.crew.members[k].spec;
            // A keeper without capital never bids (it only kicks for the incentive).
            let bids = spec.capital_usd > 0.0;
            let b = Bidder {
                free_usd: c.crew.free_margin(k, cx),
                init_margin: im,
                gas,
                sell_left: self.sell_left,
                needs: if bids {
                    spec.min_profit_usd - c.crew.credit(k, auction)
                } else {
                    f64::INFINITY
                },
                shrink,
            };
            let from = c.crew.arrival(k, cx, self.clock).max(lot.start);
            let Some((at, turn)) = lot.first_event(cx, c.lp, &b, (from, end)) else {
                continue;
            };
            let action = match turn {
                Turn::Take => {
                    let unit = lot.unit(c.lp, at);
                    let (q, _) = lot.slice(cx, &b, unit, &slip);
                    let limit = if lot.sign > 0.0 {
                        unit * (1.0 + 1e-6) + px * 1e-6
                    } else {
                        (unit * (1.0 - 1e-6)).max(px * 1e-6)
                    };
                    Action::Take { auction, q, limit }
                }
                Turn::Reset => {
                    let value =
                        lot.q as f64 / pow10(i32::from(cx.scenario.assets[lot.ai].decimals)) * px;
                    let inc = Self::incentive(cx, c, value);
                    if !c.resets
                        || count(&self.resets, auction) >= c.max_resets
                        || !Self::willing(c, k, inc, gas)
                    {
                        continue;
                    }
                    Action::Reset(auction)
                }
            };
            keep_min(&mut best, (at, k, action));
        }
        best
    }

    /// Notes for the queued accounts nobody acted on and the auctions left stuck.
    pub fn missed(&self, cx: &StepContext<'_>, c: &Ctx<'_>, anyone: bool) -> Vec<Act> {
        let auction = c.auction;
        let active = &cx.engine.state().pools[POOL.idx()].liquidation.active;
        let mut acts = Vec::new();
        for &acct in cx.now.queue {
            let acted = self.handled.contains(&acct)
                || count(&self.rounds, acct) > 0
                || (auction && active.binary_search_by_key(&acct, |(a, _)| *a).is_ok());
            if acted {
                continue;
            }
            acts.push(Act::Note(if anyone {
                Note::MissedUnprofitable
            } else {
                Note::MissedOutage(1)
            }));
        }
        // Without resets, an auction stale by the end of the step stays stuck.
        if auction && !c.resets {
            let end = cx.now.time_ms + cx.now.step_ms - 1;
            let stuck = active
                .iter()
                .filter(|(_, a)| LotView::of(cx, *a).is_some_and(|l| l.stale(c.lp, end)))
                .count();
            acts.extend((0..stuck).map(|_| Act::Note(Note::AuctionStuck)));
        }
        acts
    }
}
