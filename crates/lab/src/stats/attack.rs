//! Cost and profit of attack over a stress run, mergeable: per path the attacker's net profit
//! (every cost in it, `attack::tally`), the protocol's loss and what the attacker took out;
//! the summary's P(attack profitable) with its Wilson interval and the means with theirs.

use super::{wilson, Moments, USD};
use crate::attack::tally::AttackTally;
use serde::{Deserialize, Serialize};

/// The mergeable part (paths with at least one attacker).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackAgg {
    pub paths: u64,
    /// Paths on which the attack made money (net profit > 0).
    pub profitable: u64,
    pub pnl: Moments,
    pub protocol_loss: Moments,
    /// The part booked against the attackers' own accounts.
    #[serde(default)]
    pub own_loss: Moments,
    pub taken: Moments,
    /// Spot impact paid: quote spent on the venues − that spot at the final fair price.
    pub spot_impact: Moments,
    pub gas: Moments,
}

impl AttackAgg {
    pub fn add(&mut self, t: &AttackTally) {
        if t.attackers == 0 {
            return;
        }
        self.paths += 1;
        self.profitable += u64::from(t.pnl > 0);
        self.pnl.add(t.pnl, USD);
        self.protocol_loss.add(t.protocol_loss, USD);
        self.own_loss.add(t.own_loss, USD);
        self.taken.add(t.taken, USD);
        self.spot_impact.add(t.spot_spent - t.spot_value, USD);
        self.gas.add(t.gas, USD);
    }

    pub fn merge(&mut self, o: &AttackAgg) {
        self.paths += o.paths;
        self.profitable += o.profitable;
        self.pnl.merge(&o.pnl);
        self.protocol_loss.merge(&o.protocol_loss);
        self.own_loss.merge(&o.own_loss);
        self.taken.merge(&o.taken);
        self.spot_impact.merge(&o.spot_impact);
        self.gas.merge(&o.gas);
    }

    /// The summary block (`None` without attackers).
    pub fn summary(&self) -> Option<AttackSummary> {
        if self.paths == 0 {
            return None;
        }
        let n = self.paths;
        let ci = |m: &Moments| {
            let (mean, h) = m.mean_ci(n, USD);
            (mean, [mean - h, mean + h])
        };
        let (profit_mean, profit_mean_ci95) = ci(&self.pnl);
        let (loss_mean, loss_ci) = ci(&self.protocol_loss);
        Some(AttackSummary {
            paths: n,
            p_profitable: self.profitable as f64 / n as f64,
            p_profitable_ci95: wilson(self.profitable, n),
            profit_mean,
            profit_mean_ci95,
            protocol_loss_mean: loss_mean,
            protocol_loss_mean_ci95: [loss_ci[0].max(0.0), loss_ci[1]],
            own_loss_mean: ci(&self.own_loss).0,
            taken_mean: ci(&self.taken).0,
            spot_impact_mean: ci(&self.spot_impact).0,
            gas_mean: ci(&self.gas).0,
            profit_per_loss: if loss_mean > 0.0 {
                profit_mean / loss_mean
            } else {
                0.0
            },
        })
    }
}

/// Cost and profit of attack (`[[agents.attackers]]`), USD per path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackSummary {
    pub paths: u64,
    /// Probability that the attack makes money, net of every cost.
    pub p_profitable: f64,
    pub p_profitable_ci95: [f64; 2],
    /// The attacker's net profit (negative: what the attempt cost it).
    pub profit_mean: f64,
    pub profit_mean_ci95: [f64; 2],
    /// Insurance drawn + bad debt + unsettled loss (less ADL between the attacker's accounts).
    pub protocol_loss_mean: f64,
    pub protocol_loss_mean_ci95: [f64; 2],
    /// The part of the protocol loss booked against the attackers' own accounts (their
    /// bankruptcies and unpaid debt; the rest is what other accounts' failures cost).
    pub own_loss_mean: f64,
    /// Quote the attacker borrowed or withdrew.
    pub taken_mean: f64,
    /// What buying spot cost it beyond the final value of the spot it still holds off the
    /// engine (its impact for `oracle_pump`; the whole purchase for `frozen_feed_borrow`, whose
    /// spot goes into its account and is in its equity instead).
    pub spot_impact_mean: f64,
    pub gas_mean: f64,
    /// Mean profit / mean protocol loss (0 when the protocol lost nothing).
    pub profit_per_loss: f64,
}

impl AttackSummary {
    /// The summary table's rows.
    pub fn rows(&self, mut row: impl FnMut(&str, String)) {
        let money = super::group_thousands;
        let pct = |x: f64| format!("{:.2}%", x * 100.0);
        let ci = |x: String, [lo, hi]: [String; 2], rest: String| {
            format!("{x}  (95% CI {lo} – {hi}){rest}")
        };
        let p = self.p_profitable_ci95.map(pct);
        row(
            "P(attack profitable)",
            ci(pct(self.p_profitable), p, String::new()),
        );
        let rest = format!(
            ", took out {} USD, spot net cost {} USD, gas {} USD",
            money(self.taken_mean),
            money(self.spot_impact_mean),
            money(self.gas_mean)
        );
        let p = self.profit_mean_ci95.map(money);
        row(
            "attacker profit / path",
            ci(money(self.profit_mean) + " USD", p, rest),
        );
        let rest = format!(
            ", {} USD on its own accounts, attacker profit / loss {:.3}",
            money(self.own_loss_mean),
            self.profit_per_loss
        );
        let p = self.protocol_loss_mean_ci95.map(money);
        row(
            "protocol loss / path",
            ci(money(self.protocol_loss_mean) + " USD", p, rest),
        );
    }
}
