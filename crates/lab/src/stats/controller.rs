//! What the controller did over a stress run (`[controller]`), mergeable: the per-path
//! [`ControllerTally`] counts summed over paths (`on` becomes the number of controlled paths),
//! and the summary table's rows.

use crate::controller::ControllerTally;

/// Adds `o` into `t`, field by field (exact in any order).
pub fn merge(t: &mut ControllerTally, o: &ControllerTally) {
    let ControllerTally {
        on,
        decisions,
        proposed,
        refused,
        executed,
        maint_margin,
        init_margin,
        oi_cap,
        collateral_weight,
        other,
        execute_refused,
        flagged,
        flagged_attackers,
        attacker_flag_paths,
        attacker_flag_step_sum,
        out_of_bounds,
        exit_paths,
        exit_step_sum,
        flagged_before_exit,
        flagged_before_last_exit,
        ordinary_accounts,
    } = o;
    t.on += on;
    t.decisions += decisions;
    t.proposed += proposed;
    t.refused += refused;
    t.executed += executed;
    t.maint_margin += maint_margin;
    t.init_margin += init_margin;
    t.oi_cap += oi_cap;
    t.collateral_weight += collateral_weight;
    t.other += other;
    t.execute_refused += execute_refused;
    t.flagged += flagged;
    t.flagged_attackers += flagged_attackers;
    t.attacker_flag_paths += attacker_flag_paths;
    t.attacker_flag_step_sum += attacker_flag_step_sum;
    t.out_of_bounds += out_of_bounds;
    t.exit_paths += exit_paths;
    t.exit_step_sum += exit_step_sum;
    t.flagged_before_exit += flagged_before_exit;
    t.flagged_before_last_exit += flagged_before_last_exit;
    t.ordinary_accounts += ordinary_accounts;
}

/// Flagged accounts that are not an attacker's, over all such accounts (0 without any).
pub fn false_positive_rate(t: &ControllerTally) -> f64 {
    let ordinary = t.flagged.saturating_sub(t.flagged_attackers);
    ordinary as f64 / t.ordinary_accounts.max(1) as f64
}

/// The summary block: the totals (`None` without a controller).
pub fn summary(t: &ControllerTally) -> Option<ControllerTally> {
    (!t.is_off()).then(|| t.clone())
}

/// The summary table's rows.
pub fn rows(t: &ControllerTally, mut row: impl FnMut(&str, String)) {
    let n = t.on.max(1) as f64;
    row(
        "controller moves / path",
        format!(
            "{:.2} executed of {:.2} proposed ({:.2} refused in the dry run, {:.2} at execution)",
            t.executed as f64 / n,
            t.proposed as f64 / n,
            t.refused as f64 / n,
            t.execute_refused as f64 / n
        ),
    );
    row(
        "controller moves by key",
        format!(
            "maint {} · init {} · OI cap {} · collateral weight {} · other {}; out of bounds {}",
            t.maint_margin, t.init_margin, t.oi_cap, t.collateral_weight, t.other, t.out_of_bounds
        ),
    );
    let first = t.attacker_flag_step_sum as f64 / t.attacker_flag_paths.max(1) as f64;
    row(
        "controller flags / path",
        format!(
            "{:.2} accounts ({:.2} attackers; an attacker flagged on {} paths, first at step {:.1} on average)",
            t.flagged as f64 / n,
            t.flagged_attackers as f64 / n,
            t.attacker_flag_paths,
            first
        ),
    );
    if t.exit_paths > 0 {
        row(
            "controller flags before the attack's exit",
            format!(
                "{} of {} paths before the first borrow/withdrawal (mean step {:.1}), {} before the last; false positives {:.4} of {} ordinary accounts",
                t.flagged_before_exit,
                t.exit_paths,
                t.exit_step_sum as f64 / t.exit_paths as f64,
                t.flagged_before_last_exit,
                false_positive_rate(t),
                t.ordinary_accounts
            ),
        );
    }
}
