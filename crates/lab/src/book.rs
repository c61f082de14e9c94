//! Genesis from a real book: a position snapshot (`ballast stress SCENARIO --book FILE`, or
//! `book = "FILE"` in the scenario) opened into each path's engine after the population.
//!
//! The layout (JSON; documented in `SCENARIOS.md`, an example in `examples/book/`):
//!
//! ```json
//! { "assets": [{ "symbol": "BTC", "price": 7937.3 }],
//!   "collateral": [{ "asset": "BTC", "init_weight": 0.75, "maint_weight": 0.85 }],
//!   "options": [{ "name": "BTC-P-7000", "underlying": "BTC", "kind": "put",
//!                 "strike": 7000.0, "expiry_hours": 96.0 }],
//!   "vols": [{ "asset": "BTC", "vol": 0.8, "vol_per_drawdown": 2.0 }],
//!   "accounts": [{ "id": "a1", "margin": "portfolio", "collateral": { "USDC": 5000.0, "BTC": 0.2 },
//!                  "borrow_usd": 500.0,
//!                  "perps": [{ "asset": "BTC", "size": 0.5, "entry": 8100.0 }],
//!                  "options": [{ "series": "BTC-P-7000", "size": -1.0, "premium": 120.0 }] }] }
//! ```
//!
//! Every row goes through engine commands (`AddCollateral`, `CreateOptionSeries`,
//! `SetVolSurface`, `OpenAccount`, `SetMarginMode`, `Deposit`, `Fill`, `OptionFill`,
//! `Borrow`). A perp is opened against the market maker at the engine's current price `p` and
//! its unrealized PnL `(p − entry)·size` is credited to (or taken from) the account's quote
//! balance, so the account's equity is the snapshot's whatever the price band. `assets[].price`
//! is the snapshot's mark: it must be within 1 % of the scenario's first price of that asset (a
//! book taken at another time belongs with another scenario). A row that fails validation is an
//! error naming the row and field; a row the engine refuses comes back with the engine's typed
//! [`ballast_engine::Reject`] and the row.

use crate::error::LabError;
use crate::scenario::Scenario;
use crate::units::{pow10, usd, POOL, QUOTE, T0_MS};
use crate::world::House;
use ballast_engine::command::{Command, Envelope};
use ballast_engine::ids::{AccountId, AssetId, OwnerId, SeriesId};
use ballast_engine::num::{Amount, Ratio, Timestamp};
use ballast_engine::state::MarginMode;
use ballast_engine::{Engine, Role};
use ballast_options::portfolio::SurfaceSpec;
use ballast_options::pricing::OptionKind;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A position snapshot (see the module doc).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Book {
    #[serde(default)]
    pub assets: Vec<BookAsset>,
    #[serde(default)]
    pub collateral: Vec<BookCollateral>,
    #[serde(default)]
    pub options: Vec<BookSeries>,
    #[serde(default)]
    pub vols: Vec<BookVol>,
    pub accounts: Vec<BookAccount>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookAsset {
    pub symbol: String,
    pub price: f64,
}

/// A non-quote asset accepted as collateral, with its haircuts (weights in (0, 1]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookCollateral {
    pub asset: String,
    pub init_weight: f64,
    pub maint_weight: f64,
}

/// An option series (European, cash-settled in the quote asset).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookSeries {
    pub name: String,
    pub underlying: String,
    pub kind: BookOptionKind,
    pub strike: f64,
    /// Hours from the snapshot (the scenario's t0) to expiry.
    pub expiry_hours: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookOptionKind {
    Call,
    Put,
}

/// The implied volatility options on `asset` are marked at: a flat surface at `vol` that rises
/// with the underlying's drawdown from its running peak, `vol·(1 + vol_per_drawdown·dd)` (the
/// leverage effect: implied vol up as prices fall; Black 1976, Christie 1982).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookVol {
    pub asset: String,
    pub vol: f64,
    #[serde(default)]
    pub vol_per_drawdown: f64,
}

/// Margin model of a book account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookMargin {
    #[default]
    Standard,
    Portfolio,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookAccount {
    pub id: String,
    #[serde(default)]
    pub margin: BookMargin,
    /// Whole tokens per asset symbol (`USDC` is the quote asset).
    #[serde(default)]
    pub collateral: BTreeMap<String, f64>,
    /// Quote borrowed against the collateral (USD), at the pool's kinked rate.
    #[serde(default)]
    pub borrow_usd: f64,
    #[serde(default)]
    pub perps: Vec<BookPerp>,
    #[serde(default)]
    pub options: Vec<BookOption>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookPerp {
    pub asset: String,
    /// Base tokens, signed (negative: short).
    pub size: f64,
    pub entry: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookOption {
    pub series: String,
    /// Underlying units, signed (negative: written).
    pub size: f64,
    /// Premium per underlying unit (USD) the position was entered at.
    pub premium: f64,
}

/// The quote asset's symbol in books.
pub const QUOTE_SYMBOL: &str = "USDC";

fn bad(origin: &str, row: impl Into<String>, message: impl Into<String>) -> LabError {
    LabError::Book {
        origin: origin.to_string(),
        row: row.into(),
        message: message.into(),
    }
}

impl Book {
    /// Parses a JSON book; a syntax or schema error names the line and column.
    pub fn from_json(text: &str, origin: &str) -> Result<Book, LabError> {
        serde_json::from_str(text)
            .map_err(|e| bad(origin, format!("line {}", e.line()), e.to_string()))
    }

    /// Reads a book file: `.csv` in the row layout of [`Book::from_csv`], anything else JSON.
    pub fn read(path: &std::path::Path) -> Result<Book, LabError> {
        let text = std::fs::read_to_string(path).map_err(|source| LabError::Io {
            what: "reading the book",
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            Book::from_csv(&text, &origin)
        } else {
            Book::from_json(&text, &origin)
        }
    }

    /// A CSV book: header `account,kind,asset,size,price,margin`, one row per holding; `kind`
    /// is `collateral` (size = tokens), `borrow` (size = USD), `perp` (size = base tokens,
    /// price = entry) or `option` (asset = series name, size = underlying units, price =
    /// premium). A CSV book carries accounts only: collateral haircuts, option series and vols
    /// need the JSON layout. Errors name the line.
    pub fn from_csv(text: &str, origin: &str) -> Result<Book, LabError> {
        let mut book = Book::default();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let header = lines.next().map(|(_, l)| l.trim()).unwrap_or_default();
        if header != "account,kind,asset,size,price,margin" {
            return Err(bad(
                origin,
                "line 1",
                "header must be `account,kind,asset,size,price,margin`",
            ));
        }
        for (no, line) in lines {
            let row = format!("line {}", no + 1);
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            let [account, kind, asset, size, price, margin] = f[..] else {
                return Err(bad(origin, row, "needs 6 fields"));
            };
            let num = |name: &str, s: &str| -> Result<f64, LabError> {
                if s.is_empty() {
                    return Ok(0.0);
                }
                s.parse::<f64>().map_err(|_| {
                    bad(
                        origin,
                        format!("{row}.{name}"),
                        format!("not a number: `{s}`"),
                    )
                })
            };
            let (size, price) = (num("size", size)?, num("price", price)?);
            let k = *index.entry(account.to_string()).or_insert_with(|| {
                book.accounts.push(BookAccount {
                    id: account.to_string(),
                    margin: BookMargin::Standard,
                    collateral: BTreeMap::new(),
                    borrow_usd: 0.0,
                    perps: Vec::new(),
                    options: Vec::new(),
                });
                book.accounts.len() - 1
            });
            let a = &mut book.accounts[k];
            match margin {
                "" | "standard" => {}
                "portfolio" => a.margin = BookMargin::Portfolio,
                m => {
                    return Err(bad(
                        origin,
                        format!("{row}.margin"),
                        format!("`{m}`: standard or portfolio"),
                    ))
                }
            }
            match kind {
                "collateral" => *a.collateral.entry(asset.to_string()).or_default() += size,
                "borrow" => a.borrow_usd += size,
                "perp" => a.perps.push(BookPerp {
                    asset: asset.to_string(),
                    size,
                    entry: price,
                }),
                "option" => a.options.push(BookOption {
                    series: asset.to_string(),
                    size,
                    premium: price,
                }),
                k => {
                    return Err(bad(
                        origin,
                        format!("{row}.kind"),
                        format!("`{k}`: collateral, borrow, perp or option"),
                    ))
                }
            }
        }
        Ok(book)
    }
}

/// Where the book's rows land: asset ids by symbol, series ids by name.
struct Names<'a> {
    sc: &'a Scenario,
    series: BTreeMap<String, (SeriesId, usize)>,
}

impl Names<'_> {
    /// The lab's asset index and engine id of `symbol` (`None` for the quote asset).
    fn asset(
        &self,
        origin: &str,
        row: &str,
        symbol: &str,
    ) -> Result<Option<(usize, AssetId)>, LabError> {
        if symbol == QUOTE_SYMBOL {
            return Ok(None);
        }
        self.sc
            .assets
            .iter()
            .position(|a| a.symbol == symbol)
            .map(|i| Some((i, AssetId(i as u16 + 1))))
            .ok_or_else(|| {
                let known: Vec<&str> = self.sc.assets.iter().map(|a| a.symbol.as_str()).collect();
                bad(
                    origin,
                    row,
                    format!(
                        "no asset `{symbol}` (the scenario has {QUOTE_SYMBOL}, {})",
                        known.join(", ")
                    ),
                )
            })
    }
}

/// Opens `book` into `eng` (after the population): listings, then every account.
pub fn open(
    eng: &mut Engine,
    house: &House,
    sc: &Scenario,
    book: &Book,
    origin: &str,
) -> Result<(), LabError> {
    let mut names = Names {
        sc,
        series: BTreeMap::new(),
    };
    let mut tx = Tx {
        eng,
        origin,
        buf: Vec::new(),
    };
    listings(&mut tx, &mut names, book)?;
    for (k, a) in book.accounts.iter().enumerate() {
        open_account(
            &mut tx,
            house,
            &names,
            a,
            &format!("accounts[{k}] (id `{}`)", a.id),
        )?;
    }
    Ok(())
}

/// Applies book commands at t0; a refusal is the engine's typed rejection with the row.
struct Tx<'a> {
    eng: &'a mut Engine,
    origin: &'a str,
    buf: Vec<ballast_engine::Event>,
}

impl Tx<'_> {
    fn apply(&mut self, row: &str, cmd: Command) -> Result<(), LabError> {
        self.buf.clear();
        let env = Envelope {
            by: None,
            time: Timestamp(T0_MS),
            cmd,
        };
        self.eng
            .apply_into(&env, &mut self.buf)
            .map_err(|reject| LabError::BookRejected {
                origin: self.origin.to_string(),
                row: row.to_string(),
                what: format!("{:?}", env.cmd),
                reject: Box::new(reject),
            })
    }
}

fn ratio(origin: &str, row: &str, x: f64) -> Result<Ratio, LabError> {
    Ratio::from_f64(x)
        .filter(|_| x > 0.0 && x <= 1.0)
        .ok_or_else(|| bad(origin, row, format!("must be in (0, 1] (got {x})")))
}

/// Snapshot prices, collateral listings, option series and their first vol surfaces.
fn listings(tx: &mut Tx<'_>, names: &mut Names<'_>, book: &Book) -> Result<(), LabError> {
    let origin = tx.origin;
    for (k, a) in book.assets.iter().enumerate() {
        let row = format!("assets[{k}]");
        let Some((i, id)) = names.asset(origin, &format!("{row}.symbol"), &a.symbol)? else {
            return Err(bad(
                origin,
                format!("{row}.symbol"),
                "the quote asset has no price",
            ));
        };
        let p0 = crate::feeds::engine_price(tx.eng, i).unwrap_or(f64::NAN);
        if !(a.price.is_finite() && a.price > 0.0 && (a.price / p0 - 1.0).abs() <= 0.01) {
            return Err(bad(
                origin,
                format!("{row}.price"),
                format!(
                    "{} is not within 1% of the scenario's first {} price {p0} (asset {id})",
                    a.price, a.symbol
                ),
            ));
        }
    }
    for (k, c) in book.collateral.iter().enumerate() {
        let row = format!("collateral[{k}]");
        let Some((_, asset)) = names.asset(origin, &format!("{row}.asset"), &c.asset)? else {
            return Err(bad(
                origin,
                format!("{row}.asset"),
                "the quote asset is always collateral",
            ));
        };
        let cmd = Command::AddCollateral {
            role: Role::Governor,
            pool: POOL,
            asset,
            init_weight: ratio(origin, &format!("{row}.init_weight"), c.init_weight)?,
            maint_weight: ratio(origin, &format!("{row}.maint_weight"), c.maint_weight)?,
        };
        tx.apply(&row, cmd)?;
    }
    for (k, s) in book.options.iter().enumerate() {
        let row = format!("options[{k}]");
        let Some((i, underlying)) =
            names.asset(origin, &format!("{row}.underlying"), &s.underlying)?
        else {
            return Err(bad(
                origin,
                format!("{row}.underlying"),
                "options on the quote asset",
            ));
        };
        if !(s.strike.is_finite() && s.strike > 0.0) {
            return Err(bad(origin, format!("{row}.strike"), "must be > 0"));
        }
        if !(s.expiry_hours.is_finite() && s.expiry_hours > 0.0) {
            return Err(bad(origin, format!("{row}.expiry_hours"), "must be > 0"));
        }
        if names.series.contains_key(&s.name) {
            return Err(bad(
                origin,
                format!("{row}.name"),
                format!("`{}` listed twice", s.name),
            ));
        }
        let id = SeriesId(tx.eng.state().series.len() as u32);
        let cmd = Command::CreateOptionSeries {
            role: Role::Governor,
            pool: POOL,
            underlying,
            kind: match s.kind {
                BookOptionKind::Call => OptionKind::Call,
                BookOptionKind::Put => OptionKind::Put,
            },
            strike: s.strike,
            expiry: Timestamp(T0_MS + (s.expiry_hours * 3_600_000.0).round() as i64),
        };
        tx.apply(&row, cmd)?;
        names.series.insert(s.name.clone(), (id, i));
    }
    for (k, v) in book.vols.iter().enumerate() {
        let row = format!("vols[{k}]");
        let Some((_, asset)) = names.asset(origin, &format!("{row}.asset"), &v.asset)? else {
            return Err(bad(
                origin,
                format!("{row}.asset"),
                "no options on the quote asset",
            ));
        };
        let ok = v.vol.is_finite() && v.vol > 0.0;
        if !(ok && v.vol_per_drawdown.is_finite() && v.vol_per_drawdown >= 0.0) {
            return Err(bad(
                origin,
                row,
                "vol must be > 0 and vol_per_drawdown >= 0",
            ));
        }
        tx.apply(
            &row,
            Command::SetVolSurface {
                asset,
                surface: flat_surface(v.vol),
            },
        )?;
    }
    Ok(())
}

/// A flat implied-vol surface (two expiries × two moneyness nodes at `vol`).
pub fn flat_surface(vol: f64) -> SurfaceSpec {
    SurfaceSpec::Grid {
        expiries: vec![1.0 / 365.0, 2.0],
        log_moneyness: vec![-2.0, 2.0],
        vols: vec![vec![vol; 2]; 2],
    }
}

/// Base-native units of `x` whole tokens of asset `i`.
fn units(sc: &Scenario, i: usize, x: f64) -> i64 {
    (x * pow10(i32::from(sc.assets[i].decimals))).round() as i64
}

fn open_account(
    tx: &mut Tx<'_>,
    house: &House,
    names: &Names<'_>,
    a: &BookAccount,
    row: &str,
) -> Result<(), LabError> {
    let (origin, sc) = (tx.origin, names.sc);
    let id = AccountId(tx.eng.state().accounts.len() as u32);
    tx.apply(
        row,
        Command::OpenAccount {
            owner: OwnerId(id.0),
            pool: POOL,
        },
    )?;
    if a.margin == BookMargin::Portfolio {
        tx.apply(
            row,
            Command::SetMarginMode {
                account: id,
                mode: MarginMode::Portfolio,
            },
        )?;
    }
    for (sym, &x) in &a.collateral {
        let at = format!("{row}.collateral.{sym}");
        if !(x.is_finite() && x >= 0.0) {
            return Err(bad(origin, at, format!("must be >= 0 (got {x})")));
        }
        let (asset, amount) = match names.asset(origin, &at, sym)? {
            None => (QUOTE, usd(x)),
            Some((i, asset)) => (asset, Amount(units(sc, i, x))),
        };
        if amount.0 > 0 {
            tx.apply(
                &at,
                Command::Deposit {
                    account: id,
                    asset,
                    amount,
                },
            )?;
        }
    }
    for (k, p) in a.perps.iter().enumerate() {
        let at = format!("{row}.perps[{k}]");
        let Some((i, _)) = names.asset(origin, &format!("{at}.asset"), &p.asset)? else {
            return Err(bad(
                origin,
                format!("{at}.asset"),
                "no perpetual on the quote asset",
            ));
        };
        if !(p.size.is_finite() && p.size != 0.0) {
            return Err(bad(
                origin,
                format!("{at}.size"),
                "must be a non-zero number",
            ));
        }
        if !(p.entry.is_finite() && p.entry > 0.0) {
            return Err(bad(origin, format!("{at}.entry"), "must be > 0"));
        }
        let px = crate::feeds::engine_price(tx.eng, i).unwrap_or(p.entry);
        let fill = Command::Fill {
            market: house.markets[i],
            taker: id,
            maker: house.maker,
            size: Amount(units(sc, i, p.size)),
            price: px,
        };
        tx.apply(&at, fill)?;
        // The snapshot's unrealized PnL at the opening price, settled into the quote balance.
        let pnl = usd((px - p.entry) * p.size);
        if pnl.0 > 0 {
            tx.apply(
                &at,
                Command::Deposit {
                    account: id,
                    asset: QUOTE,
                    amount: pnl,
                },
            )?;
        } else if pnl.0 < 0 {
            tx.apply(
                &at,
                Command::Withdraw {
                    account: id,
                    asset: QUOTE,
                    amount: Amount(-pnl.0),
                },
            )?;
        }
    }
    for (k, o) in a.options.iter().enumerate() {
        let at = format!("{row}.options[{k}]");
        let &(series, i) = names.series.get(&o.series).ok_or_else(|| {
            bad(
                origin,
                format!("{at}.series"),
                format!("no series `{}` in options", o.series),
            )
        })?;
        if !(o.size.is_finite() && o.size != 0.0) {
            return Err(bad(
                origin,
                format!("{at}.size"),
                "must be a non-zero number",
            ));
        }
        if !(o.premium.is_finite() && o.premium >= 0.0) {
            return Err(bad(origin, format!("{at}.premium"), "must be >= 0"));
        }
        let fill = Command::OptionFill {
            series,
            taker: id,
            maker: house.maker,
            size: Amount(units(sc, i, o.size)),
            premium: o.premium,
        };
        tx.apply(&at, fill)?;
    }
    if a.borrow_usd != 0.0 {
        let at = format!("{row}.borrow_usd");
        if !(a.borrow_usd.is_finite() && a.borrow_usd > 0.0) {
            return Err(bad(origin, at, "must be > 0"));
        }
        tx.apply(
            &at,
            Command::Borrow {
                account: id,
                amount: usd(a.borrow_usd),
            },
        )?;
    }
    Ok(())
}

/// Each step's vol surfaces: options on `asset` are marked at `vol·(1 + vol_per_drawdown·dd)`.
pub fn vol_commands(book: &Book, sc: &Scenario, prices: &[f64], peaks: &[f64]) -> Vec<Command> {
    book.vols
        .iter()
        .filter_map(|v| {
            let i = sc.assets.iter().position(|a| a.symbol == v.asset)?;
            let dd = (1.0 - prices[i] / peaks[i]).max(0.0);
            Some(Command::SetVolSurface {
                asset: AssetId(i as u16 + 1),
                surface: flat_surface(v.vol * (1.0 + v.vol_per_drawdown * dd)),
            })
        })
        .collect()
}
