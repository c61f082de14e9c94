//! Coverage tallies for property tests: each case counts what it reached, the test prints the
//! totals and asserts a minimum for each, so a generator that drifts away from a region (or
//! into rejecting everything) fails instead of passing vacuously. Shared by the property tests
//! of several crates (`#[path]`-included).
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;

#[derive(Default, Debug)]
pub struct Tally(RefCell<BTreeMap<&'static str, u64>>);

impl Tally {
    /// Counts one `what`.
    pub fn hit(&self, what: &'static str) {
        self.add(what, 1);
    }

    /// Counts one `what` when `reached`.
    pub fn hit_if(&self, reached: bool, what: &'static str) {
        self.add(what, u64::from(reached));
    }

    pub fn add(&self, what: &'static str, n: u64) {
        *self.0.borrow_mut().entry(what).or_default() += n;
    }

    pub fn get(&self, what: &str) -> u64 {
        self.0.borrow().get(what).copied().unwrap_or(0)
    }

    /// Prints the tally of `test` and asserts each `(what, minimum)`.
    pub fn check(&self, test: &str, minimums: &[(&str, u64)]) {
        eprintln!("coverage of {test}: {:?}", self.0.borrow());
        for (what, min) in minimums {
            let n = self.get(what);
            assert!(n >= *min, "{test}: {what} reached {n} times (< {min})");
        }
    }
}
