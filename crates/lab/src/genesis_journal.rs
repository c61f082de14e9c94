//! A scenario's t0 book as an engine journal: the commands the lab applies to build path 0's
//! book (listings, oracles and breakers, the population, the position snapshot), recorded by the
//! engine as it accepts them. `ballast serve --genesis BOOK` starts from it, so the service runs
//! the same book the stress lab stresses. Replayed on an empty engine, the journal must give the
//! lab's own t0 state hash; that is checked here, so a book the journal cannot rebuild (a
//! scenario whose governance is set outside commands, e.g. `[controller]`) is an error, not a
//! silent difference.

use crate::error::LabError;
use crate::path::path_book;
use crate::runner::Prepared;
use crate::world;
use ballast_engine::command::Envelope;
use ballast_engine::Engine;

/// The journal that rebuilds path `path`'s t0 book from an empty engine.
pub fn t0_journal(prep: &Prepared, path: u64) -> Result<Vec<Envelope>, LabError> {
    let sc = &prep.scenario;
    if sc.controller.is_some() {
        return Err(LabError::field(
            "controller",
            "the controller's governance settings are not commands, so its book cannot be a journal",
        ));
    }
    let mut empty = world::empty_engine(sc);
    empty.start_tape();
    let (taped, _house) = world::genesis_into(empty, sc, &prep.assets)?;
    let mut setup = prep.setup();
    setup.genesis = &taped;
    if sc.population.resample_per_path {
        setup.book = None;
    } else {
        // The shared book is populated from the master seed, not path 0's stream: rebuild it
        // the way `Prepared::new` does, on the recording engine.
        return Err(LabError::field(
            "population.resample_per_path",
            "a book shared by every path (false) is not supported as a journal; set it to true",
        ));
    }
    let (mut book, _) = path_book(&setup, path)?;
    let tape = book.take_tape();
    let mut replay = Engine::new();
    for (i, env) in tape.iter().enumerate() {
        replay.apply(env).map_err(|e| LabError::Engine {
            path,
            step: 0,
            what: format!("genesis journal line {}: {:?}", i + 1, env.cmd),
            reason: e.to_string(),
        })?;
    }
    if replay.state_hash() != book.state_hash() {
        return Err(LabError::Invalid(format!(
            "the genesis journal of `{}` replays to {} but the lab's t0 book is {}",
            sc.name,
            replay.state_hash(),
            book.state_hash()
        )));
    }
    Ok(tape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_rebuilds_the_labs_t0_book() {
        let sets = [
            "population.accounts=20".to_string(),
            "population.resample_per_path=true".to_string(),
        ];
        let (sc, dir) = crate::embedded::load("march-2020", &sets).unwrap();
        let prep = Prepared::new(sc, dir.as_deref()).unwrap();
        let tape = t0_journal(&prep, 0).unwrap();
        let (lab, _) = path_book(&prep.setup(), 0).unwrap();
        let mut e = Engine::new();
        for env in &tape {
            e.apply(env).unwrap();
        }
        assert_eq!(e.state_hash(), lab.state_hash());
        assert_eq!(e.state().accounts.len(), lab.state().accounts.len());
        assert!(lab.state().accounts.len() >= 20, "the population is in it");
    }

    #[test]
    fn a_controller_scenario_is_refused_naming_the_field() {
        let (sc, dir) =
            crate::embedded::load("oracle-manipulation-defended-controlled", &[]).unwrap();
        let prep = Prepared::new(sc, dir.as_deref()).unwrap();
        let e = t0_journal(&prep, 0).unwrap_err().to_string();
        assert!(e.contains("controller"), "{e}");
    }
}
