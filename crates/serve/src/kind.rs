//! The name of each command type (its JSON `type` tag), for metrics labels and refusals.

use ballast_engine::Command;

/// The `type` tag of a command, without serializing it (the engine's [`Command::kind`]).
pub fn kind(cmd: &Command) -> &'static str {
    cmd.kind()
}
