//! Scenarios compiled into the binary (`ballast scenarios` lists them) and the lookup that
//! turns a command-line argument into a scenario: an existing file first, then an embedded name.

use crate::error::LabError;
use crate::scenario::Scenario;
use std::path::{Path, PathBuf};

/// `(name, TOML text)` of every embedded scenario; the first is the default.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "gbm-baseline",
        include_str!("../scenarios/gbm-baseline.toml"),
    ),
    ("jump-tail", include_str!("../scenarios/jump-tail.toml")),
    ("march-2020", include_str!("../scenarios/march-2020.toml")),
    (
        "march-2020-keepers",
        include_str!("../scenarios/march-2020-keepers.toml"),
    ),
    (
        "march-2020-keepers-defended",
        include_str!("../scenarios/march-2020-keepers-defended.toml"),
    ),
    (
        "march-2020-venues",
        include_str!("../scenarios/march-2020-venues.toml"),
    ),
    ("peer-radcad", include_str!("../scenarios/peer-radcad.toml")),
    ("luna-2022", include_str!("../scenarios/luna-2022.toml")),
    (
        "luna-2022-frozen-feed",
        include_str!("../scenarios/luna-2022-frozen-feed.toml"),
    ),
    (
        "luna-2022-frozen-feed-defended",
        include_str!("../scenarios/luna-2022-frozen-feed-defended.toml"),
    ),
    ("ftx-2022", include_str!("../scenarios/ftx-2022.toml")),
    (
        "oracle-manipulation-naive",
        include_str!("../scenarios/oracle-manipulation-naive.toml"),
    ),
    (
        "oracle-manipulation-defended",
        include_str!("../scenarios/oracle-manipulation-defended.toml"),
    ),
    (
        "mango-2022-attack-naive",
        include_str!("../scenarios/mango-2022-attack-naive.toml"),
    ),
    (
        "mango-2022-attack-defended",
        include_str!("../scenarios/mango-2022-attack-defended.toml"),
    ),
    (
        "mango-2022-attack-all-venues-defended",
        include_str!("../scenarios/mango-2022-attack-all-venues-defended.toml"),
    ),
    (
        "venus-luna-2022-frozen-feed-attack-naive",
        include_str!("../scenarios/venus-luna-2022-frozen-feed-attack-naive.toml"),
    ),
    (
        "venus-luna-2022-frozen-feed-attack-defended",
        include_str!("../scenarios/venus-luna-2022-frozen-feed-attack-defended.toml"),
    ),
    (
        "crv-2022-squeeze-naive",
        include_str!("../scenarios/crv-2022-squeeze-naive.toml"),
    ),
    (
        "crv-2022-squeeze-defended",
        include_str!("../scenarios/crv-2022-squeeze-defended.toml"),
    ),
    (
        "liquidation-hunt",
        include_str!("../scenarios/liquidation-hunt.toml"),
    ),
    (
        "liquidation-hunt-defended",
        include_str!("../scenarios/liquidation-hunt-defended.toml"),
    ),
    (
        "usdc-depeg-2023",
        include_str!("../scenarios/usdc-depeg-2023.toml"),
    ),
    ("bridge-halt", include_str!("../scenarios/bridge-halt.toml")),
];

/// `(path as scenarios name it, bytes)` of every price CSV an embedded scenario replays: the
/// binary carries them, so a copied `ballast` runs `march-2020` from any folder. A file of
/// the same name next to a scenario file still wins (see `models::load_series`).
pub const EMBEDDED_DATA: &[(&str, &[u8])] = &[
    (
        "data/2020-03_black_thursday_btc_eth_1h.csv",
        include_bytes!("../../../data/2020-03_black_thursday_btc_eth_1h.csv"),
    ),
    (
        "data/2022-05_luna_binance_1h.csv",
        include_bytes!("../../../data/2022-05_luna_binance_1h.csv"),
    ),
    (
        "data/2022-11_ftx_btc_eth_ftt_cccagg_1h.csv",
        include_bytes!("../../../data/2022-11_ftx_btc_eth_ftt_cccagg_1h.csv"),
    ),
];

/// Bytes of an embedded price CSV, by the path a scenario names (`data/…`, `./data/…`).
pub fn data(csv: &str) -> Option<&'static [u8]> {
    let key = csv.trim_start_matches("./");
    EMBEDDED_DATA
        .iter()
        .find(|(n, _)| *n == key)
        .map(|(_, b)| *b)
}

/// The scenario `ballast stress` runs without an argument.
pub const DEFAULT: &str = "gbm-baseline";

/// Text of an embedded scenario.
pub fn get(name: &str) -> Option<&'static str> {
    EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Loads `arg` (a TOML file path or an embedded name) with overrides. Returns the scenario and
/// the folder relative CSV paths are resolved against.
pub fn load(arg: &str, sets: &[String]) -> Result<(Scenario, Option<PathBuf>), LabError> {
    let p = Path::new(arg);
    if p.is_file() {
        let text = std::fs::read_to_string(p).map_err(|source| LabError::Io {
            what: "reading scenario",
            path: p.to_path_buf(),
            source,
        })?;
        let sc = Scenario::from_toml(&text, &p.display().to_string(), sets)?;
        return Ok((sc, p.parent().map(Path::to_path_buf)));
    }
    match get(arg) {
        Some(text) => Ok((
            Scenario::from_toml(text, &format!("embedded:{arg}"), sets)?,
            None,
        )),
        None => {
            // `<base>-controlled`: the base scenario with its `[controller]` table.
            if let Some((base, all)) = crate::scenario::controller::controlled(arg, sets) {
                return load(base, &all);
            }
            let names: Vec<&str> = EMBEDDED.iter().map(|(n, _)| *n).collect();
            let hint = if arg.ends_with(".toml") || arg.contains('/') {
                format!(
                    "file `{arg}` not found; embedded scenarios are {}",
                    names.join(", ")
                )
            } else {
                names.join(", ")
            };
            Err(LabError::UnknownScenario(arg.to_string(), hint))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::ModelSpec;

    /// Every CSV an embedded scenario replays or resamples is carried by the binary.
    #[test]
    fn embedded_scenarios_carry_their_data() {
        let mut seen = 0;
        for (name, _) in EMBEDDED {
            let (sc, _) = load(name, &[]).expect("embedded scenario loads");
            for a in &sc.assets {
                let csv = match &a.model {
                    ModelSpec::Replay { csv, .. } | ModelSpec::Bootstrap { csv, .. } => csv,
                    _ => continue,
                };
                assert!(data(csv).is_some(), "{name}: {csv} is not embedded");
                seen += 1;
            }
        }
        assert!(seen > 0, "no embedded scenario replays a CSV");
    }
}
