//! One Monte Carlo path: its own engine, its own random streams, step by step.
//!
//! Streams (the determinism contract): the price stream of path `i` is
//! `ChaCha8Rng::seed_from_u64(seed ^ (i + 1)·0x9E3779B97F4A7C15)` (stream 0) — the derivation of
//! the peer-radCAD Rust reference, so a peer scenario sees the very same shocks; faults (gas,
//! random outages) use ChaCha stream 1 of the same key and a per-path book uses stream 2. A
//! path's result depends only on (scenario, seed, i): never on threads, shards or order. Faults
//! on their own stream keep the price paths identical when faults are switched on or off
//! (common random numbers across scenario variants).

use crate::error::LabError;
use crate::keeper::{Liquidation, LiquidationFactory, StepContext};
use crate::models::PreparedAsset;
use crate::scenario::Scenario;
use crate::world::{self, House};
use ballast_engine::command::Command;
use ballast_engine::ids::{AccountId, AssetId};
use ballast_engine::num::Round;
use ballast_engine::{Engine, Event, HealthKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};
use serde::{Deserialize, Serialize};

/// Golden-ratio multiplier of the per-path seed (as in the peer Rust reference).
pub const PATH_MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// The random stream `stream` of path `path`.
pub fn path_rng(seed: u64, path: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ (path + 1).wrapping_mul(PATH_MIX));
    if stream != 0 {
        r.set_stream(stream);
    }
    r
}

/// What one path produced. Money in quote-native units (1e-6 USD); integers so that
/// aggregates are exact and merge in any order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PathResult {
    pub path: u64,
    /// Shortfall not covered by the insurance fund.
    pub bad_debt: i64,
    /// Lowest insurance-fund balance seen at the end of any step (and at start).
    pub fund_min: i64,
    pub fund_final: i64,
    /// Positions closed by the keeper.
    pub liquidations: u64,
    /// Notional closed, at the oracle price.
    pub liq_volume: i64,
    /// Penalty paid by liquidated accounts to the liquidator.
    pub penalties: i64,
    /// Slippage paid by the liquidator when unwinding.
    pub slippage: i64,
    /// Surplus fees paid into the insurance fund.
    pub fees_to_fund: i64,
    /// Shortfalls paid by the insurance fund.
    pub covered: i64,
    /// (account, step) pairs left open because the keeper was offline.
    pub missed_outage: u64,
    /// Positions left open because closing them would not pay for gas and slippage.
    pub missed_unprofitable: u64,
    /// Liquidation or unwind fills the engine refused.
    pub refused: u64,
    /// Initial-margin requirement of the book at t0.
    pub init_margin: i64,
    /// Open interest (Σ |notional| of trader positions) at t0.
    pub open_interest: i64,
    /// Steps with the keeper offline.
    pub outage_steps: u32,
    /// Worst peak-to-trough fall of any asset over the path (fraction).
    pub max_drawdown: f64,
    /// Highest gas cost seen (USD).
    pub max_gas_usd: f64,
    /// First step that ended with bad debt.
    pub first_bad_step: Option<u32>,
    /// Engine mechanisms: profit given up by auto-deleveraged counterparties (`Deleveraged`).
    #[serde(default)]
    pub adl: i64,
    /// Engine mechanisms: loss spread over the pool's deposits (`LossSocialized`).
    #[serde(default)]
    pub socialized: i64,
    /// Engine mechanisms: loss the engine recognised as uncovered (`BadDebt`, pool `bad_debt`).
    #[serde(default)]
    pub engine_bad_debt: i64,
    #[serde(default)]
    pub auctions_started: u64,
    /// `AuctionReset` events.
    #[serde(default)]
    pub auction_resets: u64,
    /// Auction-steps left needing a reset that nobody may do (`auction_resets = false`).
    #[serde(default)]
    pub auctions_stuck: u64,
    /// Liquidation commands refused as `Reject::Blocked` (oracle or breaker gate).
    #[serde(default)]
    pub blocked: u64,
    /// Steps each breaker scope spent in Normal, Cautious, Halted, Recovering (summed over
    /// the configured scopes).
    #[serde(default)]
    pub breaker_steps: [u64; 4],
    /// Breaker scope-steps observed (the denominator of `breaker_steps`).
    #[serde(default)]
    pub breaker_scope_steps: u64,
    /// Lenders: quote withdrawn in the run, refused withdrawal attempts, and what the lenders
    /// lost (deposits − withdrawn − final balances: their share of socialized loss).
    #[serde(default)]
    pub lender_withdrawn: i64,
    #[serde(default)]
    pub lender_refused: u64,
    #[serde(default)]
    pub lender_loss: i64,
    /// Step at which the whale dumped (if it did).
    #[serde(default)]
    pub whale_dump_step: Option<u32>,
    /// Steps with the chain halted (`[[faults.chain]]`).
    #[serde(default)]
    pub chain_halted_steps: u32,
    /// Liquidation sales pushed past `liquidity.max_sell_usd_per_step`: notional (quote-native)
    /// summed over every step it had to wait.
    #[serde(default)]
    pub deferred_sell: i64,
    /// Negative equity (quote-native, ≥ 0) of accounts still holding positions at the horizon:
    /// losses not yet settled (a sell cap or an outage that outlasts the run), not in `bad_debt`.
    #[serde(default)]
    pub unsettled: i64,
    /// Trader rules (`[agents.traders]`): positions closed by take-profit / stop-loss, adds on
    /// dips, reopens, and trader fills the engine refused.
    #[serde(default)]
    pub trader_closes: u64,
    #[serde(default)]
    pub trader_adds: u64,
    #[serde(default)]
    pub trader_reopens: u64,
    #[serde(default)]
    pub trader_refused: u64,
    /// Model prices of each asset at steps `0, s, 2s, …` (`s` = [`sample_stride`]), recorded
    /// only for the first [`crate::stats::SAMPLE_PATHS`] paths (the report's sample paths).
    #[serde(skip)]
    pub price_samples: Vec<Vec<f64>>,
    /// Most severe breaker mode (index of `feeds::mode_index`) at the end of each step, when
    /// breakers are configured (for the report's breaker timeline).
    #[serde(skip)]
    pub mode_path: Vec<u8>,
    /// Insurance-fund balance at the end of each step (for the per-step series).
    #[serde(skip)]
    pub fund_path: Vec<i64>,
    /// Cumulative bad debt at the end of each step (for the per-step quantile bands).
    #[serde(skip)]
    pub bad_path: Vec<i64>,
    /// Every loss booked, by the bankrupt account that caused it (for attribution): insurance
    /// draws plus the parts of `bad_debt` (ADL, socialized loss, recognised or uncovered debt).
    #[serde(skip)]
    pub losses: Vec<Loss>,
    /// `bad_debt` split over the assets' markets (index = asset; one more slot for losses of
    /// accounts with no t0 position), by each bankrupt account's t0 notional: sums to
    /// `bad_debt` exactly.
    #[serde(skip)]
    pub bad_debt_by_market: Vec<i64>,
}

/// Each trader account's |notional| per asset at the t0 prices (USD), for attributing bad debt
/// to markets; index = account − `house.first_trader`.
pub fn t0_weights(eng: &Engine, house: &House, sc: &Scenario, prices: &[f64]) -> Vec<Vec<f64>> {
    let accounts = &eng.state().accounts;
    (house.first_trader as usize..accounts.len())
        .map(|i| {
            let mut w = vec![0.0; prices.len()];
            for p in &accounts[i].positions {
                if let Some(k) = house.markets.iter().position(|m| *m == p.market) {
                    let dec = f64::from(sc.assets[k].decimals);
                    w[k] += p.size.0.unsigned_abs() as f64 / libm::pow(10.0, dec) * prices[k];
                }
            }
            w
        })
        .collect()
}

/// Splits the bad-debt bookings of `losses` (all but insurance draws) over markets by the
/// bankrupt account's `weights`, in integers: each share rounded down, the remainder to the
/// largest weight, so the parts sum to the whole exactly. The last slot takes losses of accounts
/// without weights.
pub fn split_bad_debt(
    losses: &[Loss],
    weights: &[Vec<f64>],
    first_trader: u32,
    n: usize,
) -> Vec<i64> {
    let mut out = vec![0i64; n + 1];
    for l in losses.iter().filter(|l| l.kind != LossKind::Insurance) {
        let w = l
            .account
            .0
            .checked_sub(first_trader)
            .and_then(|k| weights.get(k as usize))
            .filter(|w| w.iter().sum::<f64>() > 0.0);
        let Some(w) = w else {
            out[n] += l.amount;
            continue;
        };
        let total: f64 = w.iter().sum();
        let mut given = 0i64;
        for (slot, wi) in out.iter_mut().zip(w) {
            let part = (l.amount as f64 * wi / total).floor() as i64;
            *slot += part;
            given += part;
        }
        let top = (0..w.len())
            .max_by(|a, b| w[*a].total_cmp(&w[*b]))
            .unwrap_or(0);
        out[top] += l.amount - given;
    }
    out
}

/// Where a booked loss landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LossKind {
    /// Paid by the insurance fund.
    Insurance,
    /// Profit taken from auto-deleveraged counterparties.
    Adl,
    /// Spread over the pool's depositors.
    Socialized,
    /// Left uncovered (the engine's recognised bad debt, or the keeper's uncovered shortfall).
    BadDebt,
}

/// One loss booked against the bankrupt account that caused it (quote-native).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loss {
    pub account: AccountId,
    pub kind: LossKind,
    pub amount: i64,
}

/// Steps between recorded sample prices: at most ~200 points per path.
pub fn sample_stride(horizon: u32) -> u32 {
    horizon.div_ceil(200).max(1)
}

/// Σ max(0, −equity) over non-house accounts that still hold a position (equity at oracle:
/// maintenance health + requirement), quote-native.
pub fn unsettled_loss(eng: &Engine, house: &House) -> i64 {
    let mut loss = 0i128;
    for (i, a) in eng.state().accounts.iter().enumerate() {
        if (i as u32) < house.first_trader || a.positions.iter().all(|p| p.size.0 == 0) {
            continue;
        }
        if let Ok(b) = eng.breakdown(AccountId(i as u32), HealthKind::Maintenance) {
            let eq = b.health.0 + b.requirement.0;
            if eq < 0 {
                loss -= eq;
            }
        }
    }
    ballast_engine::num::Value(loss)
        .to_quote(Round::Up)
        .map_or(i64::MAX, |a| a.0)
}

/// Initial margin and open interest of the trader accounts (quote-native).
pub fn book_capital(eng: &Engine, house: &House) -> (i64, i64) {
    let (mut im, mut oi) = (0i128, 0i128);
    for i in house.first_trader..eng.state().accounts.len() as u32 {
        if let Ok(b) = eng.breakdown(AccountId(i), HealthKind::Initial) {
            im += b.requirement.0;
            for l in &b.lines {
                if let ballast_engine::margin::Contribution::Perp { notional, .. } = l {
                    oi += notional.0.abs();
                }
            }
        }
    }
    let q = |v: i128| {
        ballast_engine::num::Value(v)
            .to_quote(Round::Up)
            .map_or(i64::MAX, |a| a.0)
    };
    (q(im), q(oi))
}

/// Everything a path needs that is the same for all paths.
pub struct PathSetup<'a> {
    pub scenario: &'a Scenario,
    pub assets: &'a [PreparedAsset],
    pub chol: Option<&'a [Vec<f64>]>,
    pub genesis: &'a Engine,
    pub house: &'a House,
    /// The shared book (when not resampled per path) and its (initial margin, OI).
    pub book: Option<&'a (Engine, (i64, i64))>,
    /// Builds the liquidation mechanism of each path.
    pub liquidation: LiquidationFactory,
}

/// The book path `path` starts from (t0, before any price move) and its (initial margin, OI):
/// the shared book, or one populated from the path's stream 2 when resampled per path.
pub fn path_book(s: &PathSetup<'_>, path: u64) -> Result<(Engine, (i64, i64)), LabError> {
    match s.book {
        Some((e, cap)) => Ok((e.clone(), *cap)),
        None => {
            let prices: Vec<f64> = s.assets.iter().map(|a| a.price0).collect();
            let mut e = s.genesis.clone();
            let mut prng = path_rng(s.scenario.seed, path, 2);
            world::populate(s.scenario, &mut e, s.house, &prices, &mut prng, path)?;
            let cap = book_capital(&e, s.house);
            Ok((e, cap))
        }
    }
}

/// Runs path `path` to the horizon.
// Matrix and per-asset loops read clearest with indices.
#[allow(clippy::needless_range_loop)]
pub fn run_path(s: &PathSetup<'_>, path: u64) -> Result<PathResult, LabError> {
    run_path_engine(s, path).map(|(r, _)| r)
}

/// As [`run_path`], also returning the path's final engine (for audits and tests).
// Matrix and per-asset loops read clearest with indices.
#[allow(clippy::needless_range_loop)]
pub fn run_path_engine(s: &PathSetup<'_>, path: u64) -> Result<(PathResult, Engine), LabError> {
    let sc = s.scenario;
    let house = s.house;
    let n = s.assets.len();
    let mut prices: Vec<f64> = s.assets.iter().map(|a| a.price0).collect();
    let (mut eng, (im, oi)) = path_book(s, path)?;
    let weights = t0_weights(&eng, house, sc, &prices);
    let mut rng = path_rng(sc.seed, path, 0);
    let mut frng = path_rng(sc.seed, path, 1);
    let mut states: Vec<_> = s.assets.iter().map(|a| a.model.initial_state()).collect();
    let needs: Vec<bool> = s.assets.iter().map(|a| a.model.needs_normal()).collect();
    let mut keeper: Box<dyn Liquidation> = (s.liquidation)(sc);
    let fund0 = keeper.fund(&eng, house);
    let mut m = PathResult {
        path,
        fund_min: fund0,
        init_margin: im,
        open_interest: oi,
        ..Default::default()
    };
    let step_ms = (sc.step_hours * 3_600_000.0).round().max(1.0) as i64;
    let h = sc.step_hours;
    let mut u = vec![0.0; n];
    let mut z = vec![0.0; n];
    let mut r = vec![0.0; n];
    let mut peak = prices.clone();
    let mut buf: Vec<Event> = Vec::new();
    let (mut gas_x, mut in_outage) = (0.0f64, false);
    let u01 = Uniform::new(0.0, 1.0).expect("valid");
    let outage = &sc.faults.keeper_outage;
    let p_start = 1.0 - (-outage.rate_per_day * h / 24.0).exp();
    let p_end = 1.0 - (-h / outage.mean_hours).exp();
    let mut feed = sc
        .oracle
        .as_ref()
        .map(|_| crate::feeds::Feed::new(&prices, path_rng(sc.seed, path, 3)));
    let mut seen = prices.clone();
    let whale_asset = sc.whale_asset();
    let mut lender_out = vec![false; sc.agents.lenders.as_ref().map_or(0, |l| l.count as usize)];
    let sample = path < crate::stats::SAMPLE_PATHS;
    let stride = sample_stride(sc.horizon);
    if sample {
        m.price_samples.push(prices.clone());
    }
    let mut chain = (false, 0.0f64);
    let mut traders = sc
        .agents
        .traders
        .as_ref()
        .map(|_| crate::traders::Traders::new(sc, &eng, house, path_rng(sc.seed, path, 4)));
    for step in 1..=sc.horizon {
        let t = world::T0_MS + step as i64 * step_ms;
        // Chain faults: the engine hears of a halt or congestion at the window edges.
        if !sc.faults.chain.is_empty() {
            let now = sc.faults.chain_at(step);
            if now != chain {
                chain = now;
                let cmd = Command::ChainStatus {
                    halted: now.0,
                    congestion: now.1,
                };
                world::apply(&mut eng, &mut buf, t, cmd, path, step)?;
            }
        }
        let halted = chain.0;
        if halted {
            m.chain_halted_steps += 1;
        }
        // Shocks: iid normals in asset order (all assets when correlated), then correlate.
        match s.chol {
            Some(l) => {
                for x in u.iter_mut() {
                    *x = StandardNormal.sample(&mut rng);
                }
                for i in 0..n {
                    z[i] = (0..=i).map(|k| l[i][k] * u[k]).sum();
                }
            }
            None => {
                for i in 0..n {
                    z[i] = if needs[i] {
                        StandardNormal.sample(&mut rng)
                    } else {
                        0.0
                    };
                }
            }
        }
        for i in 0..n {
            r[i] = s.assets[i].model.step(&mut states[i], z[i], &mut rng);
            prices[i] *= r[i].exp();
            peak[i] = peak[i].max(prices[i]);
            // The whale dumps into the book's depth: a permanent impact on this asset's price.
            let mut dump: Option<i64> = None;
            if let (Some(w), Some(wa)) = (&sc.agents.whale, whale_asset) {
                if wa == i
                    && !halted
                    && m.whale_dump_step.is_none()
                    && 1.0 - prices[i] / peak[i] >= w.dump_drawdown
                {
                    m.whale_dump_step = Some(step);
                    let id = world::whale_account(sc, house);
                    let size = eng.state().accounts[id.idx()]
                        .positions
                        .iter()
                        .find(|p| p.market == house.markets[i])
                        .map_or(0, |p| p.size.0);
                    if size != 0 {
                        let notional = size.unsigned_abs() as f64
                            / 10f64.powi(sc.assets[i].decimals as i32)
                            * prices[i];
                        let depth = sc.liquidity.depth_usd.unwrap_or(f64::INFINITY)
                            / (1.0 + sc.liquidity.vol_sensitivity * r[i].abs() / 0.01);
                        let impact = (0.01 * notional / depth).min(w.max_impact);
                        prices[i] *= 1.0 - impact;
                        dump = Some(size);
                    }
                }
            }
            m.max_drawdown = m.max_drawdown.max(1.0 - prices[i] / peak[i]);
            let cmd = match feed.as_mut() {
                Some(f) => f.update(sc, i, step, prices[i]),
                None => Command::SetPrice {
                    asset: AssetId(i as u16 + 1),
                    price: prices[i],
                },
            };
            world::apply(&mut eng, &mut buf, t, cmd, path, step)?;
            if let Some(size) = dump {
                let px = crate::feeds::engine_price(&eng, i).unwrap_or(prices[i]);
                let sell = Command::Fill {
                    market: house.markets[i],
                    taker: world::whale_account(sc, house),
                    maker: house.maker,
                    size: ballast_engine::num::Amount(-size),
                    price: px,
                };
                if world::apply(&mut eng, &mut buf, t, sell, path, step).is_err() {
                    m.refused += 1;
                }
            }
        }
        if sample && step % stride == 0 {
            m.price_samples.push(prices.clone());
        }
        // With an oracle the keeper sees the engine's (aggregate) prices, not the model's.
        if feed.is_some() {
            for i in 0..n {
                seen[i] = crate::feeds::engine_price(&eng, i).unwrap_or(prices[i]);
            }
        }
        // Faults.
        let mut gas_usd = 0.0;
        if let Some(g) = &sc.faults.gas {
            let r_min = r.iter().cloned().fold(0.0f64, f64::min);
            let zg: f64 = if g.sigma > 0.0 {
                StandardNormal.sample(&mut frng)
            } else {
                0.0
            };
            gas_x = gas_x * (1.0 - (g.mean_reversion * h).min(1.0))
                + g.sigma * h.sqrt() * zg
                + g.crash_beta * (-r_min).max(0.0);
            gas_usd = g.base_usd * gas_x.exp();
            m.max_gas_usd = m.max_gas_usd.max(gas_usd);
        }
        if outage.rate_per_day > 0.0 {
            let x = u01.sample(&mut frng);
            in_outage = if in_outage { x >= p_end } else { x < p_start };
        }
        let windowed = outage.windows.iter().any(|w| w[0] <= step && step < w[1]);
        if in_outage || windowed {
            m.outage_steps += 1;
        }
        // A halted chain takes no transaction: the keeper is offline with it.
        let online = !(in_outage || windowed || halted);
        // Lenders run once the stress is visible (and the chain takes transactions).
        if let (Some(l), false) = (&sc.agents.lenders, halted) {
            let dd = (0..n)
                .map(|i| 1.0 - prices[i] / peak[i])
                .fold(0.0, f64::max);
            if dd >= l.withdraw_drawdown {
                let first = world::first_lender(sc, house);
                for k in 0..l.count {
                    let id = AccountId(first + k);
                    if lender_out[k as usize] {
                        continue;
                    }
                    let bal = crate::keeper::KeeperLiquidator::balance(&eng, id);
                    if bal <= 0 {
                        lender_out[k as usize] = true;
                        continue;
                    }
                    let cmd = Command::Withdraw {
                        account: id,
                        asset: world::QUOTE,
                        amount: ballast_engine::num::Amount(bal),
                    };
                    if world::apply(&mut eng, &mut buf, t, cmd, path, step).is_ok() {
                        m.lender_withdrawn += bal;
                        lender_out[k as usize] = true;
                    } else {
                        m.lender_refused += 1;
                    }
                }
            }
        }
        // Traders act on their rules before the liquidation machinery (not while halted).
        if let (Some(tr), false) = (traders.as_mut(), halted) {
            tr.on_step(sc, &mut eng, house, &mut buf, t, path, step, &mut m)?;
        }
        let cx = StepContext {
            path,
            step,
            time_ms: t,
            prices: if feed.is_some() { &seen } else { &prices },
            returns: &r,
            keeper_online: online,
            gas_usd,
            step_ms,
        };
        keeper.on_step(&mut eng, house, &cx, &mut m)?;
        if let Some(worst) = crate::feeds::record_modes(&eng, &mut m) {
            m.mode_path.push(worst);
        }
        let fund = keeper.fund(&eng, house);
        m.fund_min = m.fund_min.min(fund);
        m.fund_final = fund;
        m.fund_path.push(fund);
        m.bad_path.push(m.bad_debt);
        if m.bad_debt > 0 && m.first_bad_step.is_none() {
            m.first_bad_step = Some(step);
        }
    }
    m.unsettled = unsettled_loss(&eng, house);
    m.bad_debt_by_market = split_bad_debt(&m.losses, &weights, house.first_trader, n);
    if let Some(l) = &sc.agents.lenders {
        let first = world::first_lender(sc, house);
        let left: i64 = (0..l.count)
            .map(|k| crate::keeper::KeeperLiquidator::balance(&eng, AccountId(first + k)))
            .sum();
        m.lender_loss = world::usd(l.deposit_usd).0 * l.count as i64 - m.lender_withdrawn - left;
    }
    Ok((m, eng))
}
