//! Pure math of the clearing engine: functions over the fixed-point newtypes that change no
//! state (Drift v2 keeps the same split: `math/` computes, `controller/` mutates). The handlers
//! in [`crate::engine`] call these and commit the results.

pub mod option_cash;
pub mod position;
