//! Genesis and population: the commands that build a path's engine.
//!
//! Genesis lists a USDC quote asset (6 decimals) and one base asset per scenario asset, creates
//! one pool and one perpetual per asset, sets the first prices and opens three house accounts:
//! the market maker (every trader's counterparty and the liquidator's unwind venue), the
//! liquidator (keeper) and the insurance fund. The population then opens one account per
//! trader, deposits its margin and fills its position against the market maker at the initial
//! price. Everything goes through `Engine::apply_into`; a refusal is an error naming the command.

use crate::error::LabError;
use crate::models::PreparedAsset;
pub use crate::scenario::params::market_params;
use crate::scenario::params::pool_params;
use crate::scenario::{Dist, Scenario};
pub use crate::units::{to_usd, usd, POOL, QUOTE, QUOTE_DECIMALS, T0_MS};
use ballast_engine::command::{Command, Envelope};
use ballast_engine::ids::{AccountId, AssetId, MarketId, OwnerId};
use ballast_engine::num::{Amount, Ratio, Timestamp};
use ballast_engine::{Engine, Event, Role};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

/// The house accounts and markets of a built world.
#[derive(Debug, Clone)]
pub struct House {
    pub maker: AccountId,
    pub liquidator: AccountId,
    pub fund: AccountId,
    /// The competing keepers of `[[keepers]]`, in file order (the first is `liquidator`);
    /// `[liquidator]` without them.
    pub keepers: Vec<AccountId>,
    /// Market of asset `i` is `markets[i]`; its base asset is `AssetId(i + 1)`.
    pub markets: Vec<MarketId>,
    /// First trader account id.
    pub first_trader: u32,
}

impl House {
    pub fn is_house(&self, a: AccountId) -> bool {
        a.0 < self.first_trader
    }
}

/// Applies one command at `t`, mapping a refusal to an error naming it.
pub fn apply(
    eng: &mut Engine,
    buf: &mut Vec<Event>,
    t: i64,
    cmd: Command,
    path: u64,
    step: u32,
) -> Result<(), LabError> {
    buf.clear();
    let env = Envelope {
        by: None,
        time: Timestamp(t),
        cmd,
    };
    eng.apply_into(&env, buf).map_err(|e| LabError::Engine {
        path,
        step,
        what: format!("{:?}", env.cmd),
        reason: e.to_string(),
    })
}

/// Builds the genesis engine (no traders yet) at the prepared assets' first prices.
pub fn genesis(sc: &Scenario, assets: &[PreparedAsset]) -> Result<(Engine, House), LabError> {
    genesis_into(empty_engine(sc), sc, assets)
}

/// The empty engine a scenario starts from: default governance, or the controller's.
pub fn empty_engine(sc: &Scenario) -> Engine {
    sc.controller
        .as_ref()
        .map_or_else(Engine::new, |c| Engine::with_governance(c.governance()))
}

/// [`genesis`] into a given empty engine (e.g. one recording its commands).
pub fn genesis_into(
    mut e: Engine,
    sc: &Scenario,
    assets: &[PreparedAsset],
) -> Result<(Engine, House), LabError> {
    let prices: Vec<f64> = assets.iter().map(|a| a.price0).collect();
    let mut buf = Vec::new();
    let mut buf2 = Vec::new();
    let g = Role::Governor;
    let t = T0_MS;
    let mut ap = |e: &mut Engine, cmd| apply(e, &mut buf, t, cmd, 0, 0);
    ap(
        &mut e,
        Command::CreateAsset {
            role: g,
            symbol: "USDC".into(),
            decimals: QUOTE_DECIMALS,
        },
    )?;
    for a in &sc.assets {
        ap(
            &mut e,
            Command::CreateAsset {
                role: g,
                symbol: a.symbol.clone(),
                decimals: a.decimals,
            },
        )?;
    }
    ap(
        &mut e,
        Command::CreatePool {
            role: g,
            name: "stress".into(),
            quote: QUOTE,
            params: pool_params(sc)?,
        },
    )?;
    let mut markets = Vec::new();
    for (i, a) in sc.assets.iter().enumerate() {
        let asset = AssetId(i as u16 + 1);
        ap(
            &mut e,
            Command::SetPrice {
                asset,
                price: prices[i],
            },
        )
        .map_err(|err| LabError::field(format!("assets[{i}].price"), err.to_string()))?;
        let params = market_params(&a.market.apply(&sc.protocol.market))
            .map_err(|m| LabError::field(format!("assets[{i}].market"), m))?;
        ap(
            &mut e,
            Command::CreateMarket {
                role: g,
                symbol: format!("{}-PERP", a.symbol),
                pool: POOL,
                base: asset,
                params,
            },
        )?;
        markets.push(MarketId(i as u16));
    }
    let engine_liq = sc.protocol.liquidation.mechanism.is_engine();
    if engine_liq {
        // The pool's liquidation parameters must be set before its first account opens.
        ap(
            &mut e,
            Command::ConfigureLiquidation {
                role: g,
                pool: POOL,
                params: crate::scenario::params::liquidation_params(&sc.protocol.liquidation)?,
            },
        )?;
    }
    // Keeper 0 is the liquidator account; the others follow the fund account.
    let extra = sc.keepers.len().saturating_sub(1) as u32;
    let house = House {
        maker: AccountId(0),
        liquidator: AccountId(1),
        fund: AccountId(2),
        keepers: std::iter::once(AccountId(1))
            .chain((0..extra).map(|k| AccountId(3 + k)))
            .collect(),
        markets,
        first_trader: 3 + extra,
    };
    // With an engine mechanism the fund lives in the pool (seeded below), not in the account.
    let fund_account = if engine_liq {
        0.0
    } else {
        sc.protocol.insurance_fund
    };
    let capitals: Vec<f64> = match sc.keepers.split_first() {
        None => vec![sc.liquidity.maker_capital, sc.keeper.capital, fund_account],
        Some((k0, rest)) => [sc.liquidity.maker_capital, k0.capital_usd, fund_account]
            .into_iter()
            .chain(rest.iter().map(|k| k.capital_usd))
            .collect(),
    };
    for (o, amount) in capitals.into_iter().enumerate() {
        ap(
            &mut e,
            Command::OpenAccount {
                // Extra keepers own ids far above the traders' (10 + k).
                owner: OwnerId(if o < 3 { o as u32 } else { 1 << 30 | o as u32 }),
                pool: POOL,
            },
        )?;
        let amount = usd(amount);
        if amount.0 > 0 {
            ap(
                &mut e,
                Command::Deposit {
                    account: AccountId(o as u32),
                    asset: QUOTE,
                    amount,
                },
            )?;
        }
    }
    if engine_liq && sc.protocol.insurance_fund > 0.0 {
        seed_insurance(sc, &mut e, &house, prices[0])?;
    }
    for cmd in crate::feeds::genesis_commands(sc, assets, &house.markets) {
        apply(&mut e, &mut buf2, t, cmd, 0, 0)?;
    }
    for cmd in crate::scenario::attack::listing_commands(sc) {
        apply(&mut e, &mut buf2, t, cmd, 0, 0)?;
    }
    Ok((e, house))
}

/// Seeds the engine's insurance fund of the pool with `protocol.insurance_fund` USD. The engine
/// has no "fund the insurance" command: its fund grows only from penalties and from
/// `insurance_fee_share` of trading fees. So the fund house account pays the fund in fees: a
/// round trip in a dedicated `SEED-PERP` market (taker fee 1%, the engine's maximum) of
/// notional `F / (2% · share)` per leg against the market maker, then withdraws what it has
/// left. The seed market holds no position afterwards.
fn seed_insurance(sc: &Scenario, e: &mut Engine, house: &House, px: f64) -> Result<(), LabError> {
    let mut buf = Vec::new();
    let t = T0_MS;
    let g = Role::Governor;
    let f = sc.protocol.insurance_fund;
    let share = sc.protocol.liquidation.insurance_fee_share.unwrap_or(1.0);
    if share <= 0.0 {
        return Err(LabError::field(
            "protocol.liquidation.insurance_fee_share",
            "must be > 0 with an engine mechanism and a positive insurance_fund (the fund is seeded through fees)",
        ));
    }
    let mut mp = ballast_engine::demo::market_params();
    mp.init_margin = Ratio::from_f64(0.01).expect("finite");
    mp.maint_margin = Ratio::from_f64(0.005).expect("finite");
    mp.taker_fee = Ratio::from_f64(0.01).expect("finite");
    mp.maker_fee = Ratio::ZERO;
    mp.imf = Ratio::ZERO;
    let seed_market = MarketId(sc.assets.len() as u16);
    let mut ap = |e: &mut Engine, cmd| apply(e, &mut buf, t, cmd, 0, 0);
    ap(
        e,
        Command::CreateMarket {
            role: g,
            symbol: "SEED-PERP".into(),
            pool: POOL,
            base: AssetId(1),
            params: mp,
        },
    )?;
    let notional = f / (0.02 * share);
    // Margin for the leg plus the fees, on top of what it burns.
    ap(
        e,
        Command::Deposit {
            account: house.fund,
            asset: QUOTE,
            amount: usd(notional * 0.02 + notional * 0.01 + 1.0),
        },
    )?;
    let dec = sc.assets[0].decimals as i32;
    let qty = (notional / px * crate::units::pow10(dec)).round() as i64;
    for size in [qty, -qty] {
        ap(
            e,
            Command::Fill {
                market: seed_market,
                taker: house.fund,
                maker: house.maker,
                size: Amount(size),
                price: px,
            },
        )?;
    }
    let left = crate::units::quote_balance(e, house.fund);
    if left > 0 {
        ap(
            e,
            Command::Withdraw {
                account: house.fund,
                asset: QUOTE,
                amount: Amount(left),
            },
        )?;
    }
    Ok(())
}

pub(crate) fn sample(d: &Dist, rng: &mut ChaCha8Rng) -> f64 {
    match d {
        Dist::Fixed { value } => *value,
        Dist::Uniform { min, max } => {
            if max > min {
                Uniform::new(*min, *max).expect("min < max").sample(rng)
            } else {
                *min
            }
        }
        Dist::LogNormal { median, sigma, max } => {
            let z: f64 = crate::math::std_normal(rng);
            let v = median * libm::exp(sigma * z);
            max.map_or(v, |m| v.min(m))
        }
    }
}

/// The whale's account (after the traders), when the scenario has one.
pub fn whale_account(sc: &Scenario, house: &House) -> AccountId {
    AccountId(house.first_trader + sc.population.accounts)
}

/// The first lender account (after the traders and the whale).
pub fn first_lender(sc: &Scenario, house: &House) -> u32 {
    house.first_trader + sc.population.accounts + u32::from(sc.agents.whale.is_some())
}

/// Opens the population's accounts and positions. Draw order per account: margin, leverage,
/// then side (only if `long_fraction < 1`), then asset (only with several assets) — so a
/// one-asset all-long book equals the peer-radCAD reference book draw for draw.
pub fn populate(
    sc: &Scenario,
    eng: &mut Engine,
    house: &House,
    prices: &[f64],
    rng: &mut ChaCha8Rng,
    path: u64,
) -> Result<(), LabError> {
    let pop = &sc.population;
    let mut buf = Vec::new();
    let t = T0_MS;
    let n_assets = sc.assets.len();
    let weights: Vec<f64> = pop
        .asset_weights
        .clone()
        .unwrap_or_else(|| vec![1.0; n_assets]);
    let total: f64 = weights.iter().sum();
    let u01 = Uniform::new(0.0, 1.0).expect("valid");
    for k in 0..pop.accounts {
        let margin = sample(&pop.margin, rng);
        let lev = sample(&pop.leverage, rng);
        let long = if pop.long_fraction < 1.0 {
            u01.sample(rng) < pop.long_fraction
        } else {
            true
        };
        let ai = if n_assets > 1 {
            let u = u01.sample(rng) * total;
            let mut acc = 0.0;
            weights
                .iter()
                .position(|w| {
                    acc += w;
                    u < acc
                })
                .unwrap_or(n_assets - 1)
        } else {
            0
        };
        let id = AccountId(house.first_trader + k);
        apply(
            eng,
            &mut buf,
            t,
            Command::OpenAccount {
                owner: OwnerId(10 + k),
                pool: POOL,
            },
            path,
            0,
        )?;
        let m = usd(margin);
        if m.0 <= 0 {
            continue;
        }
        apply(
            eng,
            &mut buf,
            t,
            Command::Deposit {
                account: id,
                asset: QUOTE,
                amount: m,
            },
            path,
            0,
        )?;
        let dec = sc.assets[ai].decimals as i32;
        let qty = (margin * lev / prices[ai] * crate::units::pow10(dec)).floor() as i64;
        if qty <= 0 {
            continue;
        }
        apply(
            eng,
            &mut buf,
            t,
            Command::Fill {
                market: house.markets[ai],
                taker: id,
                maker: house.maker,
                size: Amount(if long { qty } else { -qty }),
                price: prices[ai],
            },
            path,
            0,
        )
        .map_err(|e| {
            LabError::field(
                "population",
                format!(
                    "opening trader {k} ({margin:.2} USD at {lev:.2}× on {}): {e}",
                    sc.assets[ai].symbol
                ),
            )
        })?;
    }
    if let (Some(w), Some(ai)) = (&sc.agents.whale, sc.whale_asset()) {
        // The whale opens last (no random draw: the traders' book is unchanged by it).
        let id = whale_account(sc, house);
        let open = |e: &mut Engine, buf: &mut Vec<Event>, cmd| apply(e, buf, t, cmd, path, 0);
        open(
            eng,
            &mut buf,
            Command::OpenAccount {
                owner: OwnerId(10 + pop.accounts),
                pool: POOL,
            },
        )?;
        open(
            eng,
            &mut buf,
            Command::Deposit {
                account: id,
                asset: QUOTE,
                amount: usd(w.notional_usd / w.leverage),
            },
        )?;
        let dec = sc.assets[ai].decimals as i32;
        let qty = (w.notional_usd / prices[ai] * crate::units::pow10(dec)).floor() as i64;
        open(
            eng,
            &mut buf,
            Command::Fill {
                market: house.markets[ai],
                taker: id,
                maker: house.maker,
                size: Amount(qty),
                price: prices[ai],
            },
        )
        .map_err(|e| LabError::field("agents.whale", e.to_string()))?;
    }
    if let Some(l) = &sc.agents.lenders {
        let first = first_lender(sc, house);
        for k in 0..l.count {
            let id = AccountId(first + k);
            apply(
                eng,
                &mut buf,
                t,
                Command::OpenAccount {
                    owner: OwnerId(first + 10 + k),
                    pool: POOL,
                },
                path,
                0,
            )?;
            apply(
                eng,
                &mut buf,
                t,
                Command::Deposit {
                    account: id,
                    asset: QUOTE,
                    amount: usd(l.deposit_usd),
                },
                path,
                0,
            )?;
        }
    }
    Ok(())
}
