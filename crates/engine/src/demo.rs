//! Embedded demo journal and synthetic books. The demo is what `ballast demo` applies; the
//! synthetic books feed benchmarks and property tests. Deterministic: no randomness beyond a
//! small fixed-seed generator.

use crate::command::{Command, Envelope, Scope, SourceQuote};
use crate::error::Role;
use crate::ids::{AccountId, AssetId, MarketId, OwnerId, PoolId};
use crate::num::{Amount, Ratio, Timestamp};
use crate::params::{MarketField, MarketParams, ParamKey, PoolParams};
use crate::rates::RateCurve;
use ballast_oracle::aggregate::{AggregatorConfig, SourceId, SourceSpec};
use ballast_oracle::smooth::StablePriceConfig;

pub const USDC: AssetId = AssetId(0);
pub const BTC: AssetId = AssetId(1);
pub const ETH: AssetId = AssetId(2);
pub const POOL: PoolId = PoolId(0);
pub const BTC_PERP: MarketId = MarketId(0);
pub const ETH_PERP: MarketId = MarketId(1);

/// Whole USDC in native units.
pub const fn usdc(x: i64) -> Amount {
    Amount(x * 1_000_000)
}
/// Whole BTC in native units (8 decimals).
pub const fn btc(x: f64) -> Amount {
    Amount((x * 1e8) as i64)
}

fn r(x: f64) -> Ratio {
    Ratio::from_f64(x).expect("finite")
}

/// Default market parameters (BTC-like): 10% initial, 5% maintenance, Drift-style size premium.
pub fn market_params() -> MarketParams {
    MarketParams {
        init_margin: r(0.10),
        maint_margin: r(0.05),
        imf: r(0.0005),
        taker_fee: r(0.0005),
        maker_fee: r(0.0002),
        price_band: r(0.05),
        funding_cap: r(0.0075),
        max_open_interest: Amount(i64::MAX),
        max_account_oi_share: Ratio::ONE,
        liquidation_window_ms: 60_000,
        max_liquidation_per_window: Amount(i64::MAX),
    }
}

/// Default pool parameters: Aave v3-like USDC curve.
pub fn pool_params() -> PoolParams {
    PoolParams {
        curve: RateCurve {
            base: r(0.0),
            slope1: r(0.04),
            slope2: r(0.60),
            optimal_utilization: r(0.90),
            reserve_factor: r(0.10),
        },
        supply_cap: usdc(1_000_000_000_000),
        borrow_cap: usdc(500_000_000_000),
        max_position_notional: usdc(100_000_000_000),
        max_account_value: usdc(1_000_000_000_000),
        option_fee: r(0.0003),
        option_fee_cap: r(0.125),
    }
}

/// Commands that list USDC, BTC, ETH, one pool with BTC/ETH collateral and two perps, and
/// set first prices.
pub fn genesis(t: i64) -> Vec<Envelope> {
    let g = Role::Governor;
    let c = |cmd| Envelope {
        by: None,
        time: Timestamp(t),
        cmd,
    };
    vec![
        c(Command::CreateAsset {
            role: g,
            symbol: "USDC".into(),
            decimals: 6,
        }),
        c(Command::CreateAsset {
            role: g,
            symbol: "BTC".into(),
            decimals: 8,
        }),
        c(Command::CreateAsset {
            role: g,
            symbol: "ETH".into(),
            decimals: 9,
        }),
        c(Command::CreatePool {
            role: g,
            name: "main".into(),
            quote: USDC,
            params: pool_params(),
        }),
        c(Command::AddCollateral {
            role: g,
            pool: POOL,
            asset: BTC,
            init_weight: r(0.80),
            maint_weight: r(0.90),
        }),
        c(Command::AddCollateral {
            role: g,
            pool: POOL,
            asset: ETH,
            init_weight: r(0.75),
            maint_weight: r(0.85),
        }),
        c(Command::SetPrice {
            asset: BTC,
            price: 65_000.0,
        }),
        c(Command::SetPrice {
            asset: ETH,
            price: 3_000.0,
        }),
        c(Command::CreateMarket {
            role: g,
            symbol: "BTC-PERP".into(),
            pool: POOL,
            base: BTC,
            params: market_params(),
        }),
        c(Command::CreateMarket {
            role: g,
            symbol: "ETH-PERP".into(),
            pool: POOL,
            base: ETH,
            params: market_params(),
        }),
    ]
}

/// The built-in demo: a lender, two traders, a market maker, a price drop, funding, a
/// rejected over-withdrawal and a time-locked parameter change.
pub fn journal() -> Vec<Envelope> {
    let t0 = 1_700_000_000_000i64;
    let mut s = Script { j: genesis(t0), t0 };
    open_and_fund(&mut s);
    trade(&mut s);
    price_drop(&mut s);
    refusal(&mut s);
    governance(&mut s);
    oracle(&mut s);
    s.j
}

/// The demo journal being written: commands at offsets from `t0`.
struct Script {
    j: Vec<Envelope>,
    t0: i64,
}

impl Script {
    fn at(&mut self, dt: i64, cmd: Command) {
        self.j.push(Envelope {
            by: None,
            time: Timestamp(self.t0 + dt),
            cmd,
        })
    }
}

/// The demo's accounts and its hour.
const LENDER: AccountId = AccountId(0);
const ALICE: AccountId = AccountId(1);
const BOB: AccountId = AccountId(2);
const MM: AccountId = AccountId(3);
const H: i64 = 3_600_000;

/// Demo journal: Four accounts open and fund: a LENDER, Alice, Bob (BTC collateral), a market maker.
fn open_and_fund(s: &mut Script) {
    for o in 0..4 {
        s.at(
            0,
            Command::OpenAccount {
                owner: OwnerId(o),
                pool: POOL,
            },
        );
    }
    s.at(
        60_000,
        Command::Deposit {
            account: LENDER,
            asset: USDC,
            amount: usdc(1_000_000),
        },
    );
    s.at(
        60_000,
        Command::Deposit {
            account: ALICE,
            asset: USDC,
            amount: usdc(20_000),
        },
    );
    s.at(
        60_000,
        Command::Deposit {
            account: BOB,
            asset: BTC,
            amount: btc(2.0),
        },
    );
    s.at(
        60_000,
        Command::Deposit {
            account: MM,
            asset: USDC,
            amount: usdc(500_000),
        },
    );
}

/// Demo journal: Alice goes 5x long BTC; Bob borrows USDC against BTC and shorts ETH.
fn trade(s: &mut Script) {
    // Alice goes 5x long BTC; Bob borrows USDC against BTC and shorts ETH.
    s.at(
        120_000,
        Command::Fill {
            market: BTC_PERP,
            taker: ALICE,
            maker: MM,
            size: btc(1.5),
            price: 65_050.0,
        },
    );
    s.at(
        180_000,
        Command::Borrow {
            account: BOB,
            amount: usdc(30_000),
        },
    );
    s.at(
        240_000,
        Command::Fill {
            market: ETH_PERP,
            taker: BOB,
            maker: MM,
            size: Amount(-10_000_000_000),
            price: 2_999.0,
        },
    );
}

/// Demo journal: An hour later BTC is down 8%, ETH 5%; mark trades above index; funding settles.
fn price_drop(s: &mut Script) {
    // An hour later BTC is down 8%, ETH 5%; mark trades above index; funding settles.
    s.at(
        H,
        Command::SetPrice {
            asset: BTC,
            price: 59_800.0,
        },
    );
    s.at(
        H,
        Command::SetPrice {
            asset: ETH,
            price: 2_850.0,
        },
    );
    s.at(
        H + 60_000,
        Command::Fill {
            market: BTC_PERP,
            taker: MM,
            maker: ALICE,
            size: btc(0.5),
            price: 59_900.0,
        },
    );
    s.at(2 * H, Command::SettleFunding { market: BTC_PERP });
    s.at(2 * H, Command::SettleFunding { market: ETH_PERP });
}

/// Demo journal: Alice tries to take out more than her free collateral: rejected, nothing changes.
fn refusal(s: &mut Script) {
    // Alice tries to take out more than her free collateral: rejected, nothing changes.
    s.at(
        2 * H + 1,
        Command::Withdraw {
            account: ALICE,
            asset: USDC,
            amount: usdc(8_000),
        },
    );
    s.at(
        2 * H + 2,
        Command::Withdraw {
            account: ALICE,
            asset: USDC,
            amount: usdc(1_000),
        },
    );
}

/// Demo journal: Governance raises BTC maintenance margin within its step, after the 24 H timelock.
fn governance(s: &mut Script) {
    // Governance raises BTC maintenance margin within its step, after the 24 H timelock.
    let key = ParamKey::Market {
        market: BTC_PERP,
        field: MarketField::MaintMargin,
    };
    s.at(
        2 * H + 3,
        Command::Propose {
            role: Role::Governor,
            key,
            value: r(0.06).0,
        },
    );
    s.at(
        3 * H,
        Command::Execute {
            role: Role::Governor,
            proposal: crate::ids::ProposalId(0),
        },
    );
    s.at(
        27 * H,
        Command::Execute {
            role: Role::Governor,
            proposal: crate::ids::ProposalId(0),
        },
    );
    s.at(
        27 * H,
        Command::Pause {
            role: Role::Guardian,
            scope: Scope::Market(ETH_PERP),
        },
    );
    s.at(
        27 * H + 1,
        Command::Fill {
            market: ETH_PERP,
            taker: BOB,
            maker: MM,
            size: Amount(1_000_000_000),
            price: 2_850.0,
        },
    );
    s.at(
        27 * H + 2,
        Command::Deposit {
            account: BOB,
            asset: USDC,
            amount: usdc(5_000),
        },
    );
}

/// `ConfigureOracle` for `asset` with `n` equally weighted sources (ids 0..n) and the default
/// aggregation and stable-price settings.
pub fn equal_sources_oracle(asset: AssetId, n: u32) -> Command {
    Command::ConfigureOracle {
        role: Role::Governor,
        asset,
        sources: (0..n)
            .map(|i| SourceSpec {
                id: SourceId(i),
                weight: 1.0,
            })
            .collect(),
        config: AggregatorConfig::default(),
        stable: StablePriceConfig::default(),
    }
}

/// Demo journal: ETH moves behind a three-source oracle; a pumped venue is dropped and a borrow only it would support is refused.
fn oracle(s: &mut Script) {
    // ETH moves behind a three-source oracle. One venue is pumped ×25: the aggregate stays
    // with the honest median and drops that venue (a minority is not divergence, so one thin
    // venue cannot halt ETH at will). Bob asks for a loan only the pumped price would support,
    // and is refused at the honest price.
    s.at(27 * H + 3, equal_sources_oracle(ETH, 3));
    let quotes = |prices: [f64; 3]| {
        prices
            .iter()
            .enumerate()
            .map(|(i, &price)| SourceQuote {
                source: i as u32,
                price,
                confidence: price * 1e-4,
            })
            .collect::<Vec<_>>()
    };
    s.at(
        27 * H + 60_000,
        Command::OracleUpdate {
            asset: ETH,
            quotes: quotes([2_851.0, 2_849.5, 2_850.2]),
        },
    );
    s.at(
        27 * H + 120_000,
        Command::OracleUpdate {
            asset: ETH,
            quotes: quotes([2_852.0, 2_850.0, 71_250.0]),
        },
    );
    s.at(
        27 * H + 120_001,
        Command::Borrow {
            account: BOB,
            amount: usdc(150_000),
        },
    );
}

/// SplitMix64: a tiny deterministic generator for synthetic books (not for the lab's paths,
/// which use ChaCha streams).
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);
impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A book of `n` traders (plus one market maker, account 0) each with USDC margin and a BTC-PERP
/// position at 2–9× leverage, half long and half short, all opened at 65,000.
pub fn synthetic_book(n: usize, seed: u64) -> Vec<Envelope> {
    let t = 1_700_000_000_000i64;
    let mut j = genesis(t);
    let mut rng = SplitMix(seed);
    let c = |cmd| Envelope {
        by: None,
        time: Timestamp(t + 1),
        cmd,
    };
    j.push(c(Command::OpenAccount {
        owner: OwnerId(0),
        pool: POOL,
    }));
    j.push(c(Command::Deposit {
        account: AccountId(0),
        asset: USDC,
        amount: usdc(1_000_000_000),
    }));
    for i in 1..=n as u32 {
        j.push(c(Command::OpenAccount {
            owner: OwnerId(i),
            pool: POOL,
        }));
        let margin = 1_000 + (rng.unit() * 9_000.0) as i64;
        j.push(c(Command::Deposit {
            account: AccountId(i),
            asset: USDC,
            amount: usdc(margin),
        }));
        let lev = 2.0 + rng.unit() * 7.0;
        let size = btc(margin as f64 * lev / 65_000.0);
        let size = if i % 2 == 0 { size } else { Amount(-size.0) };
        j.push(c(Command::Fill {
            market: BTC_PERP,
            taker: AccountId(i),
            maker: AccountId(0),
            size,
            price: 65_000.0,
        }));
    }
    j
}

/// A stream of `n` commands against a [`synthetic_book`] of `traders` accounts: fills of small
/// size between random traders and the market maker, with a BTC price update every
/// `price_every` commands (a random walk well inside the fill band).
pub fn command_stream(traders: usize, n: usize, price_every: usize, seed: u64) -> Vec<Envelope> {
    let mut rng = SplitMix(seed ^ 0xA5A5);
    let t0 = 1_700_000_000_000i64 + 10;
    let mut price = 65_000.0f64;
    (0..n)
        .map(|i| {
            let time = Timestamp(t0 + i as i64);
            if price_every > 0 && i % price_every == price_every - 1 {
                price *= 1.0 + (rng.unit() - 0.5) * 0.001;
                price = price.clamp(63_000.0, 67_000.0);
                Envelope {
                    by: None,
                    time,
                    cmd: Command::SetPrice { asset: BTC, price },
                }
            } else {
                let taker = AccountId(1 + (rng.next_u64() % traders as u64) as u32);
                let size = Amount(((rng.next_u64() % 1_000) as i64 + 1) * 100);
                let size = if rng.next_u64() & 1 == 0 {
                    size
                } else {
                    Amount(-size.0)
                };
                let px = price * (1.0 + (rng.unit() - 0.5) * 0.002);
                Envelope {
                    by: None,
                    time,
                    cmd: Command::Fill {
                        market: BTC_PERP,
                        taker,
                        maker: AccountId(0),
                        size,
                        price: px,
                    },
                }
            }
        })
        .collect()
}
