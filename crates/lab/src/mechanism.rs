//! The choice of liquidation mechanism: which agent takes the liquidation phase of a path.

use crate::agent::Agent;
use crate::scenario::Scenario;

/// Builds one path's liquidation agent from the scenario.
pub type LiquidationFactory = fn(&Scenario) -> Box<dyn Agent>;

/// The scenario's mechanism: the competing keepers of `[[keepers]]`
/// ([`crate::keepers::KeeperMarket`]), else the engine's own liquidation with one keeper
/// ([`crate::engine_liq::EngineLiquidator`], the default) or the keeper agent (`keeper_fill`).
pub fn keeper_factory(sc: &Scenario) -> Box<dyn Agent> {
    if !sc.keepers.is_empty() {
        Box::new(crate::keepers::KeeperMarket::new(sc))
    } else if sc.protocol.liquidation.mechanism.is_engine() {
        Box::new(crate::engine_liq::EngineLiquidator::new(sc))
    } else {
        Box::new(crate::keeper::KeeperLiquidator::new(sc))
    }
}
