//! One Monte Carlo path: its own engine, its own random streams, step by step.
//!
//! Each step is five named phases: [`PriceModel::step`] (exogenous model plus the whale's
//! impact) → [`oracle_phase`] (the engine hears the prices, through the scenario's oracle when it
//! has one) → [`funding_phase`] (every market's funding settled) → with `[controller]`, the
//! controller's governance turn (`controller::Steward::step`) → [`FaultState::step`] (gas,
//! keeper outages) → the agents' turns (whale, lenders, traders: [`take_turn`]) → the
//! liquidation agent's turn (its unwinds moving the model prices with `[liquidity] impact`:
//! `crate::reflexive`) → [`Recorder::end_step`].
//!
//! Streams (the determinism contract): the price stream of path `i` is
//! `ChaCha8Rng::seed_from_u64(seed ^ (i + 1)·0x9E3779B97F4A7C15)` (stream 0) — the derivation of
//! the peer-radCAD Rust reference, so a peer scenario sees the very same shocks; faults (gas,
//! random outages) use ChaCha stream 1 of the same key and a per-path book uses stream 2. A
//! path's result depends only on (scenario, seed, i): never on threads, shards or order. Faults
//! on their own stream keep the price paths identical when faults are switched on or off
//! (common random numbers across scenario variants).

use crate::agent::{Act, Agent, Now, Outcome, Queue, StepContext};
use crate::attack::{Attackers, Spot};
use crate::error::LabError;
use crate::feeds::Feed;
use crate::lenders::Lenders;
use crate::mechanism::LiquidationFactory;
use crate::models::PreparedAsset;
pub use crate::record::{sample_stride, Loss, LossKind, PathResult};
use crate::record::{FundSource, Recorder};
use crate::scenario::Scenario;
use crate::traders::Traders;
use crate::whale::{self, Whale};
use crate::world::{self, House};
use ballast_engine::command::{Command, Envelope};
use ballast_engine::ids::{AccountId, AssetId, MarketId};
use ballast_engine::num::{Round, Timestamp};
use ballast_engine::{Engine, Event, HealthKind};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

pub use crate::math::{path_rng, PATH_MIX};

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

/// Each trader account's t0 holdings by instrument (engine value units, ≥ 0): perps'
/// |notional|, options' |mark| + requirement, quote borrowed, non-quote collateral value; index
/// = account − `house.first_trader`. The weights of [`split_bad_debt`] by instrument.
pub fn t0_instruments(eng: &Engine, house: &House) -> Vec<Vec<f64>> {
    use ballast_engine::margin::Contribution as C;
    (house.first_trader..eng.state().accounts.len() as u32)
        .map(|i| {
            let mut w = vec![0.0; 4];
            if let Ok(b) = eng.breakdown(AccountId(i), HealthKind::Maintenance) {
                for l in &b.lines {
                    match l {
                        C::Perp { notional, .. } => w[0] += notional.0.unsigned_abs() as f64,
                        C::Option {
                            mark, requirement, ..
                        } => w[1] += (mark.0.unsigned_abs() + requirement.0.unsigned_abs()) as f64,
                        C::Portfolio {
                            option_marks,
                            requirement,
                        } => {
                            w[1] += (option_marks.0.unsigned_abs() + requirement.0.unsigned_abs())
                                as f64
                        }
                        C::Quote { value, .. } => w[2] += (-value.0).max(0) as f64,
                        C::Collateral { value, .. } => w[3] += value.0.max(0) as f64,
                    }
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
    let c = crate::efficiency::book_capital(eng, house);
    (c.im, c.oi)
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
    /// Builds the liquidation agent of each path.
    pub liquidation: LiquidationFactory,
    /// The position snapshot opened after the population, and its name.
    pub book_file: Option<&'a (crate::book::Book, String)>,
    /// Check conservation through the ledger after every step.
    pub audit: bool,
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
            if let Some(b) = s.book_file {
                crate::book::open(&mut e, s.house, s.scenario, &b.0, &b.1)?;
            }
            let cap = book_capital(&e, s.house);
            Ok((e, cap))
        }
    }
}

/// Where the insurance fund of a scenario's mechanism is held.
pub fn fund_source(sc: &Scenario, house: &House) -> FundSource {
    if sc.protocol.liquidation.mechanism.is_engine() {
        FundSource::Pool(world::POOL)
    } else {
        FundSource::Account(house.fund)
    }
}

/// The world an agent's turn runs in.
#[derive(Clone, Copy)]
pub struct World<'a> {
    pub scenario: &'a Scenario,
    pub house: &'a House,
}

/// The most rounds one agent may take in one step (a guard against a turn that never ends).
const MAX_TURN_ROUNDS: u32 = 1 << 24;

/// One agent's turn: rounds of [`Agent::act`] until it returns nothing; every order is applied
/// to the engine, its answer booked by the recorder and shown to the agent.
pub fn take_turn(
    agent: &mut dyn Agent,
    eng: &mut Engine,
    world: World<'_>,
    now: Now<'_>,
    rec: &mut Recorder,
) -> Result<(), LabError> {
    let house = world.house;
    let queue: Vec<AccountId> = match agent.queue() {
        Queue::None => Vec::new(),
        Queue::ById => eng.below_maintenance(),
        Queue::WorstFirst => eng
            .liquidation_queue()
            .into_iter()
            .map(|e| e.account)
            .collect(),
    }
    .into_iter()
    .filter(|a| !house.is_house(*a))
    .collect();
    let now = Now {
        queue: &queue,
        ..now
    };
    let mut buf: Vec<Event> = Vec::new();
    for round in 0..MAX_TURN_ROUNDS {
        let acts = agent.act(&context(eng, world, now), round)?;
        if acts.is_empty() {
            return Ok(());
        }
        for act in acts {
            let mut order = match act {
                Act::Note(n) => {
                    rec.note(n);
                    continue;
                }
                Act::Send(o) => o,
            };
            if crate::scenario::bridge::holds_deposit(world.scenario, now.step, &order.cmd) {
                // The halted bridge carries nothing: the deposit never reaches the engine.
                rec.m.bridge_held += 1;
                continue;
            }
            buf.clear();
            let env = Envelope {
                by: None,
                time: Timestamp(order.time_ms),
                cmd: order.cmd,
            };
            let answer = eng.apply_into(&env, &mut buf);
            order.cmd = env.cmd;
            let booked = answer.as_ref().map(|_| buf.as_slice());
            rec.order(&order, booked, (now.path, now.step))?;
            let outcome = match &answer {
                Ok(()) => Outcome::Done(&buf),
                Err(r) => Outcome::Refused(r),
            };
            agent.observe(&order, outcome, &context(eng, world, now));
        }
    }
    Err(LabError::Invalid(format!(
        "path {}, step {}: an agent did not end its turn within {MAX_TURN_ROUNDS} rounds",
        now.path, now.step
    )))
}

fn context<'a>(eng: &'a Engine, world: World<'a>, now: Now<'a>) -> StepContext<'a> {
    StepContext {
        engine: eng,
        house: world.house,
        scenario: world.scenario,
        now,
    }
}

/// The exogenous price model of one path: each asset's model state, its price, running peak and
/// this step's log return, drawn from the path's price stream (stream 0).
pub struct PriceModel {
    rng: ChaCha8Rng,
    states: Vec<crate::models::ModelState>,
    needs: Vec<bool>,
    pub prices: Vec<f64>,
    pub peaks: Vec<f64>,
    pub returns: Vec<f64>,
    u: Vec<f64>,
    z: Vec<f64>,
}

impl PriceModel {
    pub fn new(s: &PathSetup<'_>, path: u64) -> PriceModel {
        let prices: Vec<f64> = s.assets.iter().map(|a| a.price0).collect();
        let n = prices.len();
        PriceModel {
            rng: path_rng(s.scenario.seed, path, 0),
            states: s.assets.iter().map(|a| a.model.initial_state()).collect(),
            needs: s.assets.iter().map(|a| a.model.needs_normal()).collect(),
            peaks: prices.clone(),
            prices,
            returns: vec![0.0; n],
            u: vec![0.0; n],
            z: vec![0.0; n],
        }
    }

    /// The step's shocks: iid normals in asset order (all assets when correlated), then
    /// correlated by the Cholesky factor.
    // Matrix loops read clearest with indices.
    #[allow(clippy::needless_range_loop)]
    fn shocks(&mut self, chol: Option<&[Vec<f64>]>) {
        let n = self.prices.len();
        match chol {
            Some(l) => {
                for x in self.u.iter_mut() {
                    *x = crate::math::std_normal(&mut self.rng);
                }
                for i in 0..n {
                    self.z[i] = (0..=i).map(|k| l[i][k] * self.u[k]).sum();
                }
            }
            None => {
                for i in 0..n {
                    self.z[i] = if self.needs[i] {
                        crate::math::std_normal(&mut self.rng)
                    } else {
                        0.0
                    };
                }
            }
        }
    }

    /// Phase 1: the model's new prices, with the whale's impact on its asset; returns the
    /// step's worst drawdown and whether the whale dumped.
    pub fn step(
        &mut self,
        s: &PathSetup<'_>,
        eng: &Engine,
        whale: Option<&mut Whale>,
        halted: bool,
    ) -> (f64, bool) {
        self.shocks(s.chol);
        let mut whale = whale;
        let (mut dd, mut dumped) = (0.0f64, false);
        for i in 0..self.prices.len() {
            self.returns[i] = s.assets[i]
                .model
                .step(&mut self.states[i], self.z[i], &mut self.rng);
            self.prices[i] *= libm::exp(self.returns[i]);
            self.peaks[i] = self.peaks[i].max(self.prices[i]);
            if let Some(w) = whale.as_deref_mut() {
                let mk = whale::Market {
                    asset: i,
                    price: self.prices[i],
                    peak: self.peaks[i],
                    ret: self.returns[i],
                    chain_halted: halted,
                };
                if let Some(impact) = w.impact(s.scenario, eng, s.house, mk) {
                    dumped = true;
                    self.prices[i] *= 1.0 - impact;
                }
            }
            dd = dd.max(1.0 - self.prices[i] / self.peaks[i]);
        }
        (dd, dumped)
    }
}

/// Phase 2: the engine hears the step's prices (one `SetPrice`, or one `OracleUpdate` of the
/// feed's sources, per asset); returns the prices the agents see.
pub fn oracle_phase(
    eng: &mut Engine,
    sc: &Scenario,
    feed: Option<&mut Feed>,
    prices: &[f64],
    (t, path, step): (i64, u64, u32),
) -> Result<Vec<f64>, LabError> {
    let mut buf = Vec::new();
    let mut feed = feed;
    for (i, &p) in prices.iter().enumerate() {
        let cmd = match feed.as_deref_mut() {
            Some(f) => f.update(sc, i, step, p),
            None => Command::SetPrice {
                asset: AssetId(i as u16 + 1),
                price: p,
            },
        };
        world::apply(eng, &mut buf, t, cmd, path, step)?;
    }
    // With an oracle the agents see the engine's (aggregate) prices, not the model's.
    Ok(match feed {
        Some(_) => (0..prices.len())
            .map(|i| crate::feeds::engine_price(eng, i).unwrap_or(prices[i]))
            .collect(),
        None => prices.to_vec(),
    })
}

/// Phase 2b: every market's funding is settled (`SettleFunding`: the index moves by the
/// mark/index premium over the elapsed time) and the recorder books what the longs paid. A
/// settlement the engine gates (a halted market, an untrusted oracle) waits for a later step.
pub fn funding_phase(eng: &mut Engine, markets: &[MarketId], t: i64, rec: &mut Recorder) {
    let mut buf = Vec::new();
    for &market in markets {
        let m = &eng.state().markets[market.idx()];
        let (before, long_oi) = (m.funding_index, m.long_oi.0);
        let env = Envelope {
            by: None,
            time: Timestamp(t),
            cmd: Command::SettleFunding { market },
        };
        if eng.apply_into(&env, &mut buf).is_ok() {
            let after = eng.state().markets[market.idx()].funding_index;
            rec.funding(before, after, long_oi);
        }
        buf.clear();
    }
}

/// Infrastructure faults of one path (stream 1): the gas-price process and keeper outages.
pub struct FaultState {
    rng: ChaCha8Rng,
    gas_x: f64,
    in_outage: bool,
    p_start: f64,
    p_end: f64,
    /// Chain status (halted, congestion) last sent to the engine.
    chain: (bool, f64),
}

/// What the faults are this step.
#[derive(Debug, Clone, Copy, Default)]
pub struct FaultStep {
    pub gas_usd: f64,
    pub outage: bool,
}

impl FaultState {
    pub fn new(sc: &Scenario, path: u64) -> FaultState {
        let outage = &sc.faults.keeper_outage;
        let h = sc.step_hours;
        FaultState {
            rng: path_rng(sc.seed, path, 1),
            gas_x: 0.0,
            in_outage: false,
            p_start: 1.0 - libm::exp(-outage.rate_per_day * h / 24.0),
            p_end: 1.0 - libm::exp(-h / outage.mean_hours),
            chain: (false, 0.0),
        }
    }

    /// Chain faults: the engine hears of a halt or congestion at the window edges. Returns
    /// whether the chain is halted this step.
    pub fn chain_phase(
        &mut self,
        eng: &mut Engine,
        sc: &Scenario,
        (t, path, step): (i64, u64, u32),
    ) -> Result<bool, LabError> {
        if !sc.faults.chain.is_empty() {
            let now = sc.faults.chain_at(step);
            if now != self.chain {
                self.chain = now;
                let cmd = Command::ChainStatus {
                    halted: now.0,
                    congestion: now.1,
                };
                world::apply(eng, &mut Vec::new(), t, cmd, path, step)?;
            }
        }
        Ok(self.chain.0)
    }

    /// Phase 3: this step's gas cost (mean-reverting log process that jumps with a crash) and
    /// keeper outage (random two-state process, or a scheduled window).
    pub fn step(&mut self, sc: &Scenario, returns: &[f64], step: u32) -> FaultStep {
        let h = sc.step_hours;
        let mut gas_usd = 0.0;
        if let Some(g) = &sc.faults.gas {
            let r_min = returns.iter().cloned().fold(0.0f64, f64::min);
            let zg: f64 = if g.sigma > 0.0 {
                crate::math::std_normal(&mut self.rng)
            } else {
                0.0
            };
            self.gas_x = self.gas_x * (1.0 - (g.mean_reversion * h).min(1.0))
                + g.sigma * h.sqrt() * zg
                + g.crash_beta * (-r_min).max(0.0);
            gas_usd = g.base_usd * libm::exp(self.gas_x);
        }
        let outage = &sc.faults.keeper_outage;
        if outage.rate_per_day > 0.0 {
            let x = Uniform::new(0.0, 1.0).expect("valid").sample(&mut self.rng);
            self.in_outage = if self.in_outage {
                x >= self.p_end
            } else {
                x < self.p_start
            };
        }
        let windowed = outage.windows.iter().any(|w| w[0] <= step && step < w[1]);
        FaultStep {
            gas_usd,
            outage: self.in_outage || windowed,
        }
    }
}

/// The agents of one path, in the order they act each step; the liquidation agent goes last.
pub struct Agents {
    pub whale: Option<Whale>,
    pub attackers: Option<Attackers>,
    pub lenders: Option<Lenders>,
    pub traders: Option<Traders>,
    pub liquidation: Box<dyn Agent>,
}

impl Agents {
    pub fn new(s: &PathSetup<'_>, eng: &Engine, path: u64) -> Agents {
        let sc = s.scenario;
        Agents {
            whale: Whale::new(sc),
            attackers: Attackers::new(sc),
            lenders: Lenders::new(sc, s.house),
            traders: sc
                .agents
                .traders
                .as_ref()
                .map(|_| Traders::new(sc, eng, s.house, path_rng(sc.seed, path, 4))),
            liquidation: (s.liquidation)(sc),
        }
    }
}

/// Runs path `path` to the horizon.
pub fn run_path(s: &PathSetup<'_>, path: u64) -> Result<PathResult, LabError> {
    run_path_engine(s, path).map(|(r, _)| r)
}

/// As [`run_path`], also returning the path's final engine (for audits and tests).
pub fn run_path_engine(s: &PathSetup<'_>, path: u64) -> Result<(PathResult, Engine), LabError> {
    let sc = s.scenario;
    let (mut eng, capital) = path_book(s, path)?;
    let mut model = PriceModel::new(s, path);
    let weights = t0_weights(&eng, s.house, sc, &model.prices);
    let instruments = t0_instruments(&eng, s.house);
    let mut faults = FaultState::new(sc, path);
    let mut agents = Agents::new(s, &eng, path);
    let mut steward = crate::controller::Steward::new(sc);
    let mut rec = Recorder::new(path, &eng, fund_source(sc, s.house), capital);
    let mut numeraire =
        crate::numeraire::Numeraire::start(sc, &eng, s.house, rec.fund(&eng)).map(|(n, t)| {
            rec.m.depeg = t;
            n
        });
    let mut feed = sc
        .oracle
        .as_ref()
        .map(|_| Feed::new(s.assets, path_rng(sc.seed, path, 3)));
    let sample = path < crate::stats::SAMPLE_PATHS;
    let stride = sample_stride(sc.horizon);
    if sample {
        rec.m.price_samples.push(model.prices.clone());
    }
    let step_ms = (sc.step_hours * 3_600_000.0).round().max(1.0) as i64;
    let decimals: Vec<u8> = sc.assets.iter().map(|a| a.decimals).collect();
    let health_stride = crate::step_record::health_stride(sc.horizon);
    rec.sample_headroom(&eng);
    let mut flow = crate::reflexive::Flow::new(model.prices.len());
    for step in 1..=sc.horizon {
        let t = world::T0_MS + step as i64 * step_ms;
        let halted = faults.chain_phase(&mut eng, sc, (t, path, step))?;
        let (dd, dumped) = model.step(s, &eng, agents.whale.as_mut(), halted);
        rec.prices(step, dd, dumped, halted);
        if let Some(a) = agents.attackers.as_mut() {
            let spot = Spot {
                scenario: sc,
                step,
                fair: &model.prices,
                gas_usd: sc.faults.gas.as_ref().map_or(0.0, |g| g.base_usd),
            };
            a.venue_phase(&spot, feed.as_mut());
        }
        // Without an oracle the engine hears one price per asset: the venue an attacker moves.
        let heard = match (&agents.attackers, &feed) {
            (Some(a), None) => a.heard(&model.prices),
            _ => model.prices.clone(),
        };
        // A de-pegging numeraire: the USDC-margined engine hears USD prices ÷ USD per USDC.
        let heard = match &numeraire {
            Some(n) => n.engine_prices(&heard, step),
            None => heard,
        };
        let seen = oracle_phase(&mut eng, sc, feed.as_mut(), &heard, (t, path, step))?;
        if sc.protocol.settle_funding {
            funding_phase(&mut eng, &s.house.markets, t, &mut rec);
        }
        if let Some(c) = steward.as_mut() {
            c.step(&mut eng, (t, path, step), &mut rec.m.controller)?;
        }
        if let Some(b) = s.book_file {
            for cmd in crate::book::vol_commands(&b.0, sc, &model.prices, &model.peaks) {
                world::apply(&mut eng, &mut Vec::new(), t, cmd, path, step)?;
            }
        }
        if sample && step % stride == 0 {
            rec.m.price_samples.push(model.prices.clone());
            if let (0, Some(f)) = (path, &feed) {
                rec.mark_oracle(&eng, f, step, &model.prices);
            }
        }
        let f = faults.step(sc, &model.returns, step);
        rec.faults(f.gas_usd, f.outage);
        // A halted chain takes no transaction: the keeper is offline with it.
        let now = Now {
            path,
            step,
            time_ms: t,
            step_ms,
            prices: &seen,
            model_prices: &model.prices,
            peaks: &model.peaks,
            returns: &model.returns,
            keeper_online: !(f.outage || halted),
            chain_halted: halted,
            gas_usd: f.gas_usd,
            queue: &[],
        };
        let world = World {
            scenario: sc,
            house: s.house,
        };
        agents_phase(&mut agents, &mut eng, world, now, &mut rec)?;
        let mut counted = flow.count(agents.liquidation.as_mut());
        take_turn(&mut counted, &mut eng, world, now, &mut rec)?;
        flow.move_prices(sc, &mut model.prices, &model.returns);
        rec.end_step(&eng, step);
        if crate::efficiency::EfficiencyTally::samples_at(step, sc.horizon) {
            rec.m.efficiency.sample(&eng, s.house);
        }
        if let Some(n) = numeraire.as_mut() {
            let now = crate::numeraire::StepEnd {
                engine: &eng,
                house: s.house,
                step,
                fund: rec.fund(&eng),
                bad_debt: rec.m.bad_debt,
            };
            n.end_step(now, &mut rec.m.depeg);
        }
        if step % health_stride == 0 {
            rec.sample_health(&eng);
        }
        if agents.attackers.is_some() {
            rec.mark_attack(&eng, &model.prices, &decimals);
        }
        if s.audit {
            audit(&eng, path, step)?;
        }
    }
    let mut m = rec.m;
    if let Some(c) = &steward {
        c.close(&mut m.controller, &m.attack, eng.state().accounts.len());
    }
    m.unsettled = unsettled_loss(&eng, s.house);
    if let [perp, option, borrow, collateral, unheld] =
        split_bad_debt(&m.losses, &instruments, s.house.first_trader, 4)[..]
    {
        (m.bad_debt_perp, m.bad_debt_option, m.bad_debt_borrow) = (perp, option, borrow);
        (m.bad_debt_collateral, m.bad_debt_unheld) = (collateral, unheld);
    }
    m.bad_debt_by_market = split_bad_debt(
        &m.losses,
        &weights,
        s.house.first_trader,
        model.prices.len(),
    );
    if let (Some(l), Some(lenders)) = (&sc.agents.lenders, &agents.lenders) {
        m.lender_loss =
            world::usd(l.deposit_usd).0 * l.count as i64 - m.lender_withdrawn - lenders.left(&eng);
    }
    if let Some(a) = &agents.attackers {
        // The protocol's loss: insurance drawn + bad debt (ADL, socialized, recognised,
        // uncovered) + negative equity still open.
        let booked = m.covered + m.bad_debt + m.unsettled;
        let own: i64 = m
            .losses
            .iter()
            .filter(|l| m.attack.accounts.contains(&l.account))
            .map(|l| l.amount)
            .sum();
        m.attack.attackers = a.len() as u32;
        crate::attack::close(&mut m.attack, (booked, own), &eng, sc, &model.prices);
    }
    Ok((m, eng))
}

/// Value conservation through the ledger (`Engine::conservation_gaps`): an error naming the
/// first asset whose balances no longer add up.
pub fn audit(eng: &Engine, path: u64, step: u32) -> Result<(), LabError> {
    match eng.conservation_gaps().into_iter().find(|(_, g)| *g != 0) {
        None => Ok(()),
        Some((asset, gap)) => Err(LabError::Conservation {
            path,
            step,
            asset: asset.0,
            gap,
        }),
    }
}

/// Phase 4: the whale, the attackers, the lenders and the traders take their turns, in that
/// order.
fn agents_phase(
    agents: &mut Agents,
    eng: &mut Engine,
    world: World<'_>,
    now: Now<'_>,
    rec: &mut Recorder,
) -> Result<(), LabError> {
    if let Some(w) = agents.whale.as_mut() {
        take_turn(w, eng, world, now, rec)?;
    }
    if let Some(a) = agents.attackers.as_mut() {
        crate::attack::each_turn(a, |x| take_turn(x, eng, world, now, rec))?;
    }
    if let Some(l) = agents.lenders.as_mut() {
        take_turn(l, eng, world, now, rec)?;
    }
    if let Some(t) = agents.traders.as_mut() {
        take_turn(t, eng, world, now, rec)?;
    }
    Ok(())
}
