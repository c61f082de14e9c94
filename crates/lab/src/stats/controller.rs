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
}
