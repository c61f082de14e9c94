//! The keepers of one path and what each has left this step: online or not (its own ChaCha
//! stream, its offline windows, the global outage), its arrival time in the step, its gas
//! budget, and the auction incentives it earned on each lot (which enter its profit).

use crate::agent::StepContext;
use crate::math::path_rng;
use crate::scenario::keepers::KeeperSpec;
use crate::scenario::Scenario;
use ballast_engine::ids::{AccountId, AuctionId};
use ballast_engine::HealthKind;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

/// First ChaCha stream of the keepers: keeper `k` draws its online schedule from stream
/// `KEEPER_STREAM + k` of the path's key (prices 0, faults 1, book 2, feed 3, traders 4).
pub const KEEPER_STREAM: u64 = 0x4B45_0000;

/// One keeper of a path.
pub struct Member {
    pub spec: KeeperSpec,
    pub account: AccountId,
    rng: ChaCha8Rng,
    /// Online in the current step.
    pub online: bool,
    /// Gas it may still spend this step, USD.
    pub gas_left: f64,
}

/// All keepers of a path.
pub struct Crew {
    pub members: Vec<Member>,
    /// (keeper, auction, USD): incentives earned less gas spent on a lot this step.
    credit: Vec<(usize, AuctionId, f64)>,
}

impl Crew {
    /// The `[[keepers]]` of the scenario, on the house's keeper accounts.
    pub fn new(sc: &Scenario, accounts: &[AccountId], path: u64) -> Crew {
        let members = sc
            .keepers
            .iter()
            .zip(accounts)
            .enumerate()
            .map(|(k, (spec, &account))| Member {
                spec: spec.clone(),
                account,
                rng: path_rng(sc.seed, path, KEEPER_STREAM + k as u64),
                online: false,
                gas_left: 0.0,
            })
            .collect();
        Crew {
            members,
            credit: Vec::new(),
        }
    }

    /// A new step: each keeper draws whether it is online (one draw per keeper per step,
    /// whatever happens, so the streams stay aligned across scenario variants) and gets its
    /// gas budget back.
    pub fn begin_step(&mut self, cx: &StepContext<'_>) {
        let u01 = Uniform::new(0.0, 1.0).expect("valid");
        let step = cx.now.step;
        for m in &mut self.members {
            let draw: f64 = u01.sample(&mut m.rng);
            let window = m
                .spec
                .offline_windows
                .iter()
                .any(|w| w[0] <= step && step < w[1]);
            m.online = cx.now.keeper_online && !window && draw < m.spec.online_probability;
            m.gas_left = m.spec.gas_budget_usd.unwrap_or(f64::INFINITY);
        }
        self.credit.clear();
    }

    /// Earliest time keeper `k` can act: its latency into the step, not before `clock`.
    pub fn arrival(&self, k: usize, cx: &StepContext<'_>, clock: i64) -> i64 {
        clock.max(cx.now.time_ms + i64::from(self.members[k].spec.latency_ms))
    }

    /// Keeper `k` is online and its budget pays one more action at this step's gas.
    pub fn can_act(&self, k: usize, gas: f64) -> bool {
        let m = &self.members[k];
        m.online && m.gas_left >= gas
    }

    /// Keeper `k` spent `gas` on an action on `auction` (if any).
    pub fn spend(&mut self, k: usize, gas: f64, auction: Option<AuctionId>) {
        self.members[k].gas_left -= gas;
        if let Some(a) = auction {
            self.add_credit(k, a, -gas);
        }
    }

    /// Keeper `k` earned `usd` on `auction` (tip + chip of a start or reset).
    pub fn add_credit(&mut self, k: usize, auction: AuctionId, usd: f64) {
        match self
            .credit
            .iter_mut()
            .find(|(j, a, _)| *j == k && *a == auction)
        {
            Some(c) => c.2 += usd,
            None => self.credit.push((k, auction, usd)),
        }
    }

    /// What keeper `k` already made (or lost) on `auction` this step, USD.
    pub fn credit(&self, k: usize, auction: AuctionId) -> f64 {
        self.credit
            .iter()
            .find(|(j, a, _)| *j == k && *a == auction)
            .map_or(0.0, |c| c.2)
    }

    /// Keeper `k`'s free initial margin now, USD (what further slices it can carry).
    pub fn free_margin(&self, k: usize, cx: &StepContext<'_>) -> f64 {
        cx.engine
            .health(self.members[k].account, HealthKind::Initial)
            .ok()
            .and_then(|v| v.to_quote(ballast_engine::num::Round::Down).ok())
            .map_or(0.0, |a| crate::units::to_usd(a.0 as i128))
    }

    /// The keeper index of an engine account.
    pub fn index_of(&self, account: AccountId) -> Option<usize> {
        self.members.iter().position(|m| m.account == account)
    }
}
