//! Human-readable tables and event descriptions, and the JSON form of a replay.

use crate::json;
use crate::out::Out;
use anyhow::Result;
use ballast_engine::command::Envelope;
use ballast_engine::event::Event;
use ballast_engine::journal::Replay;
use ballast_engine::num::{Amount, Price, Value};
use ballast_engine::state::State;
use ballast_engine::{Engine, HealthKind};
use serde::Serialize;

fn dec(st: &State, a: ballast_engine::ids::AssetId) -> u8 {
    st.assets.get(a.idx()).map(|x| x.decimals).unwrap_or(0)
}
fn sym(st: &State, a: ballast_engine::ids::AssetId) -> String {
    st.assets
        .get(a.idx())
        .map(|x| x.symbol.clone())
        .unwrap_or_else(|| a.to_string())
}
fn quote_dec(st: &State) -> u8 {
    st.numeraire.map(|n| dec(st, n)).unwrap_or(6)
}
fn amt(st: &State, a: ballast_engine::ids::AssetId, x: Amount) -> String {
    let d = dec(st, a);
    format!(
        "{:.*}",
        (d as usize).min(6),
        x.0 as f64 / ballast_engine::num::pow10(d as i32)
    )
}
fn usd(st: &State, v: Value) -> String {
    format!("{:.2}", v.to_human(quote_dec(st)))
}
fn px(st: &State, base: ballast_engine::ids::AssetId, p: Price) -> String {
    format!("{:.2}", p.to_human(dec(st, base), quote_dec(st)))
}
fn mkt(st: &State, m: ballast_engine::ids::MarketId) -> String {
    st.markets
        .get(m.idx())
        .map(|x| x.symbol.clone())
        .unwrap_or_else(|| m.to_string())
}
fn q(st: &State, x: Amount) -> String {
    match st.numeraire {
        Some(n) => amt(st, n, x),
        None => x.to_string(),
    }
}

/// One line a person can follow.
pub fn describe(st: &State, e: &Event) -> String {
    use Event::*;
    match e {
        AssetCreated {
            asset,
            symbol,
            decimals,
        } => format!("listed {symbol} as {asset} ({decimals} decimals)"),
        PoolCreated { pool, name, quote } => {
            format!("created {pool} '{name}' settling in {}", sym(st, *quote))
        }
        CollateralAdded {
            pool,
            asset,
            init_weight,
            maint_weight,
        } => {
            format!("{pool} accepts {} as collateral (weights init {init_weight}, maint {maint_weight})", sym(st, *asset))
        }
        MarketCreated {
            market,
            symbol,
            pool,
            ..
        } => format!("created {market} {symbol} in {pool}"),
        AccountOpened {
            account,
            owner,
            pool,
        } => format!("opened {account} for {owner} in {pool}"),
        Deposited {
            account,
            asset,
            amount,
        } => format!(
            "{account} deposited {} {}",
            amt(st, *asset, *amount),
            sym(st, *asset)
        ),
        Withdrawn {
            account,
            asset,
            amount,
        } => format!(
            "{account} withdrew {} {}",
            amt(st, *asset, *amount),
            sym(st, *asset)
        ),
        Borrowed { account, amount } => format!("{account} borrowed {} (quote)", q(st, *amount)),
        Transferred {
            from,
            to,
            asset,
            amount,
        } => format!(
            "{from} → {to}: {} {}",
            amt(st, *asset, *amount),
            sym(st, *asset)
        ),
        PriceUpdated { asset, price } => {
            format!("price {} = {}", sym(st, *asset), px(st, *asset, *price))
        }
        Filled {
            market,
            taker,
            maker,
            size,
            price,
            notional,
            taker_fee,
            maker_fee,
        } => {
            let base = st.markets[market.idx()].base;
            let side = if size.0 > 0 { "buys from" } else { "sells to" };
            format!(
                "{} fill: {taker} {side} {maker}: {} {} @ {} (notional {}, fees taker {} maker {})",
                mkt(st, *market),
                amt(st, base, Amount(size.0.abs())),
                sym(st, base),
                px(st, base, *price),
                q(st, *notional),
                q(st, *taker_fee),
                q(st, *maker_fee)
            )
        }
        PnlRealized {
            account,
            market,
            amount,
        } => format!(
            "{account} realized {} on {}",
            q(st, *amount),
            mkt(st, *market)
        ),
        FundingUpdated { market, rate, .. } => format!(
            "{} funding rate {:.5}%/h",
            mkt(st, *market),
            rate.to_f64() * 100.0
        ),
        FundingSettled {
            account,
            market,
            amount,
        } => format!(
            "{account} funding {} on {}",
            q(st, *amount),
            mkt(st, *market)
        ),
        InterestSettled { account, amount } => format!("{account} interest {}", q(st, *amount)),
        ParamProposed {
            proposal,
            key,
            value,
            eta,
        } => format!(
            "{proposal}: set {key} to {}, executable at {eta}",
            key.format_value(*value)
        ),
        ParamExecuted {
            proposal,
            key,
            old,
            new,
        } => format!(
            "{proposal} executed: {key} {} → {}",
            key.format_value(*old),
            key.format_value(*new)
        ),
        ProposalCancelled { proposal } => format!("{proposal} cancelled"),
        CommandProposed {
            proposal,
            command,
            eta,
        } => format!("{proposal}: {}, executable at {eta}", command.kind()),
        ProposalExecuted { proposal } => format!("{proposal} executed"),
        RolesSealed { holders } => format!("role registry sealed with {} principals", holders.len()),
        RoleGranted { principal, grant } => format!("{principal} granted {grant}"),
        RoleRevoked { principal, grant } => format!("{principal} revoked {grant}"),
        Paused { scope } => format!("paused {scope}"),
        Unpaused { scope } => format!("unpaused {scope}"),
        OracleConfigured { asset, sources } => {
            format!(
                "{} now priced by a {sources}-source oracle",
                sym(st, *asset)
            )
        }
        OracleUpdated {
            asset,
            price,
            status,
            stable,
        } => format!(
            "oracle {}: {} ({status:?}), stable {}",
            sym(st, *asset),
            price
                .map(|p| px(st, *asset, p))
                .unwrap_or_else(|| "-".into()),
            stable
                .map(|p| px(st, *asset, p))
                .unwrap_or_else(|| "-".into())
        ),
        BreakerConfigured { scope } => format!("circuit breaker installed on {scope}"),
        BreakerTransition {
            scope,
            from,
            to,
            cause,
        } => {
            format!("breaker {scope}: {from:?} → {to:?} ({cause})")
        }
        DebtAgainstHaltedMarket {
            account,
            market,
            debt,
            gains,
        } => format!(
            "{account} owes {} (quote) against {} of gains in halted {}",
            q(st, *debt),
            usd(st, *gains),
            mkt(st, *market)
        ),
        VolMarginConfigured { market } => {
            format!("{} margin now follows volatility", mkt(st, *market))
        }
        VolMarginUpdated { market, addon } => {
            format!(
                "{} volatility add-on now {:.3}% of notional",
                mkt(st, *market),
                addon.to_f64() * 100.0
            )
        }
        SeriesCreated { series, symbol } => format!("listed option {series} {symbol}"),
        VolSurfaceSet { asset } => format!("new volatility surface for {}", sym(st, *asset)),
        OptionFilled {
            series,
            taker,
            maker,
            size,
            premium,
            fee,
        } => {
            let s = &st.series[series.idx()];
            let side = if size.0 > 0 { "buys from" } else { "sells to" };
            format!(
                "{} fill: {taker} {side} {maker}: {} {} (premium {}, fee {})",
                s.symbol,
                amt(st, s.underlying, Amount(size.0.abs())),
                sym(st, s.underlying),
                q(st, *premium),
                q(st, *fee)
            )
        }
        SeriesExpired { series, settlement } => {
            let s = &st.series[series.idx()];
            format!(
                "{} expired; settles at {}",
                s.symbol,
                px(st, s.underlying, *settlement)
            )
        }
        OptionSettled {
            account,
            series,
            amount,
        } => {
            format!(
                "{account} settled {}: {}",
                st.series[series.idx()].symbol,
                q(st, *amount)
            )
        }
        MarginModeSet { account, mode } => format!("{account} now on {mode:?} margin"),
        ChainStatusChanged { halted } => {
            format!(
                "chain {}",
                if *halted {
                    "halted"
                } else {
                    "producing blocks"
                }
            )
        }
        LiquidationConfigured { pool } => format!("set the liquidation parameters of {pool}"),
        InsuranceFunded { pool, amount } => {
            format!("{pool} insurance fund +{} from trading fees", q(st, *amount))
        }
        Liquidated {
            account,
            liquidator,
            lot,
            size,
            price,
            penalty,
            to_liquidator,
            to_insurance,
            health_before,
            health_after,
        } => format!(
            "{liquidator} took over {} of {account} at oracle {}; penalty {} ({} to the liquidator, {} to insurance); maintenance health {} -> {}",
            lot_amt(st, *lot, *size),
            px(st, lot_base(st, *lot), *price),
            q(st, *penalty),
            q(st, *to_liquidator),
            q(st, *to_insurance),
            usd(st, *health_before),
            usd(st, *health_after)
        ),
        AuctionStarted {
            auction,
            account,
            lot,
            size,
            top,
            keeper,
            incentive,
        } => format!(
            "{keeper} started {auction}: {} of {account}, starting at {}; keeper paid {} from insurance",
            lot_amt(st, *lot, *size),
            px(st, lot_base(st, *lot), *top),
            q(st, *incentive)
        ),
        AuctionTaken {
            auction,
            bidder,
            size,
            paid,
            penalty,
            remaining,
            at_mark,
        } => {
            let lot = st.auctions.get(auction.idx()).map(|a| a.lot);
            let (s, r) = match lot {
                Some(l) => (lot_amt(st, l, *size), lot_amt(st, l, *remaining)),
                None => (size.to_string(), remaining.to_string()),
            };
            let verb = if size.0 < 0 { "received" } else { "paid" };
            let of_mark = match at_mark.0 {
                0 => String::new(),
                m => format!(" ({:.1} % of its value at the engine price)", 100.0 * paid.0 as f64 / m as f64),
            };
            format!(
                "{bidder} bought {s} from {auction} and {verb} {}{of_mark}; penalty {} to insurance; {r} left",
                q(st, *paid),
                q(st, *penalty)
            )
        }
        AuctionReset {
            auction,
            keeper,
            top,
            incentive,
        } => {
            let base = st
                .auctions
                .get(auction.idx())
                .map(|a| lot_base(st, a.lot));
            let top = match base {
                Some(b) => px(st, b, *top),
                None => format!("{top:?}"),
            };
            format!(
                "{keeper} reset {auction} (too old or too cheap) to start at {top}; keeper paid {}",
                q(st, *incentive)
            )
        }
        AuctionEnded {
            auction,
            completed,
        } => {
            if *completed {
                format!("{auction} sold out")
            } else {
                format!("{auction} cancelled")
            }
        }
        AuctionBreakerSet { pool, level } => format!(
            "{pool} auction breaker at level {level} ({})",
            match level {
                0 => "auctions run",
                1 => "no new auctions",
                2 => "no new auctions, no resets",
                _ => "auctions frozen",
            }
        ),
        Bankrupt { account, deficit } => {
            format!("{account} is bankrupt: equity -{}", q(st, *deficit))
        }
        InsuranceDrawn {
            pool,
            account,
            amount,
        } => format!(
            "waterfall 1/3: {pool} insurance fund covered {} of {account}'s loss",
            q(st, *amount)
        ),
        Deleveraged {
            account,
            bankrupt,
            market,
            size,
            haircut,
        } => format!(
            "waterfall 2/3: auto-deleveraged {} {} of {account} against bankrupt {bankrupt}, giving up {} of profit",
            amt(st, st.markets.get(market.idx()).map(|m| m.base).unwrap_or_default(), *size),
            mkt(st, *market),
            q(st, *haircut)
        ),
        LossSocialized {
            pool,
            account,
            amount,
            ..
        } => format!(
            "waterfall 3/3: {} of {account}'s loss shared by {pool}'s depositors",
            q(st, *amount)
        ),
        BadDebt {
            pool,
            account,
            amount,
        } => format!(
            "{pool} recognised {} of bad debt from {account} (nothing left to cover it)",
            q(st, *amount)
        ),
        ShutdownStarted { pool } => {
            format!("EMERGENCY SHUTDOWN of {pool}: frozen; only claims from now on")
        }
        SettlementPrice { pool, asset, price } => format!(
            "{pool} settles {} at {}",
            sym(st, *asset),
            px(st, *asset, *price)
        ),
        PositionSettled {
            account,
            market,
            size,
            pnl,
        } => format!(
            "closed {account}'s {} {} at the settlement price: PnL {}",
            amt(st, st.markets.get(market.idx()).map(|m| m.base).unwrap_or_default(), *size),
            mkt(st, *market),
            q(st, *pnl)
        ),
        Skimmed {
            account,
            asset,
            amount,
            debt,
        } => format!(
            "took {} {} from {account} to cover {} of its debt",
            amt(st, *asset, *amount),
            sym(st, *asset),
            q(st, *debt)
        ),
        ClaimFixed {
            account,
            quote,
            haircut,
        } => format!(
            "{account} may claim {} (after a {} haircut)",
            q(st, *quote),
            q(st, *haircut)
        ),
        BasketShare {
            account,
            asset,
            amount,
        } => format!(
            "{account} receives {} {} from the settlement basket",
            amt(st, *asset, *amount),
            sym(st, *asset)
        ),
        Claimed {
            account,
            asset,
            amount,
        } => format!(
            "{account} claimed {} {}",
            amt(st, *asset, *amount),
            sym(st, *asset)
        ),
    }
}

fn lot_base(st: &State, lot: ballast_engine::state::Lot) -> ballast_engine::ids::AssetId {
    match lot {
        ballast_engine::state::Lot::Perp(m) => {
            st.markets.get(m.idx()).map(|x| x.base).unwrap_or_default()
        }
        ballast_engine::state::Lot::Collateral(a) => a,
        ballast_engine::state::Lot::Option(s) => st
            .series
            .get(s.idx())
            .map(|x| x.underlying)
            .unwrap_or_default(),
    }
}

fn lot_amt(st: &State, lot: ballast_engine::state::Lot, size: Amount) -> String {
    match lot {
        ballast_engine::state::Lot::Perp(m) => {
            format!("{} {}", amt(st, lot_base(st, lot), size), mkt(st, m))
        }
        ballast_engine::state::Lot::Collateral(a) => {
            format!("{} {}", amt(st, a, size), sym(st, a))
        }
        ballast_engine::state::Lot::Option(s) => {
            let name = st.series.get(s.idx()).map_or("?", |x| x.symbol.as_str());
            format!("{} {name}", amt(st, lot_base(st, lot), size))
        }
    }
}

/// Applies journal lines to `engine` as they arrive (nothing is held but the engine itself and
/// the refusals), calling `on_event` with the state after each accepted command and each of its
/// events. Stops at the first unreadable or malformed line. The returned [`Replay`] has no
/// `events`: they went to `on_event`.
pub fn replay_stream<I, F>(engine: &mut Engine, lines: I, mut on_event: F) -> Result<Replay>
where
    I: IntoIterator<Item = Result<(usize, Envelope)>>,
    F: FnMut(&State, usize, &Event) -> Result<()>,
{
    let mut r = Replay::default();
    let mut buf = Vec::new();
    for item in lines {
        let (line, env) = item?;
        buf.clear();
        match engine.apply_into(&env, &mut buf) {
            Ok(()) => {
                r.applied += 1;
                for e in &buf {
                    on_event(engine.state(), line, e)?;
                }
            }
            Err(e) => r.rejected.push((line, e)),
        }
    }
    Ok(r)
}

/// Replays `lines` and prints the text report; with `events`, every event in words as it
/// happens, then the counts, refusals, account table, pools and state hash.
pub fn print_replay<I>(w: &mut Out, engine: &mut Engine, lines: I, events: bool) -> Result<()>
where
    I: IntoIterator<Item = Result<(usize, Envelope)>>,
{
    if events {
        outln!(w, "events:");
    }
    let r = replay_stream(engine, lines, |st, line, e| {
        if events {
            outln!(w, "  line {line:>4}  {}", describe(st, e));
        }
        Ok(())
    })?;
    if events {
        outln!(w);
    }
    let st = engine.state();
    outln!(
        w,
        "applied {} commands, rejected {}",
        r.applied,
        r.rejected.len()
    );
    for (line, e) in &r.rejected {
        outln!(w, "  line {line:>4}  rejected: {e}");
    }
    outln!(w);
    print_accounts(w, engine)?;
    outln!(w);
    for (i, p) in st.pools.iter().enumerate() {
        outln!(
            w,
            "pool#{i} '{}': insurance {}  fees {}  interest reserve {}  bad debt {}{}",
            p.name,
            q(st, p.insurance_fund),
            q(st, p.fee_account),
            q(st, p.lending.interest_clearing),
            q(st, p.bad_debt),
            if p.paused { "  [paused]" } else { "" }
        );
    }
    outln!(w, "state hash {}", engine.state_hash());
    Ok(())
}

/// The account table: balances, collateral, positions, uPnL and both healths.
pub fn print_accounts(w: &mut Out, engine: &Engine) -> Result<()> {
    let st = engine.state();
    outln!(
        w,
        "{:<8} {:<8} {:>14} {:<22} {:<26} {:>12} {:>12} {:>12}",
        "account",
        "owner",
        "quote",
        "collateral",
        "positions",
        "uPnL",
        "init health",
        "maint health"
    );
    for (i, a) in st.accounts.iter().enumerate() {
        let id = ballast_engine::ids::AccountId(i as u32);
        let coll: Vec<String> = a
            .collateral
            .iter()
            .map(|(x, v)| format!("{} {}", amt(st, *x, *v), sym(st, *x)))
            .collect();
        let pos: Vec<String> = a
            .positions
            .iter()
            .map(|p| {
                format!(
                    "{} {}",
                    mkt(st, p.market),
                    amt(st, st.markets[p.market.idx()].base, p.size)
                )
            })
            .collect();
        let b = engine
            .breakdown(id, HealthKind::Maintenance)
            .expect("known account");
        let hi = engine
            .health(id, HealthKind::Initial)
            .expect("known account");
        outln!(
            w,
            "{:<8} {:<8} {:>14} {:<22} {:<26} {:>12} {:>12} {:>12}",
            id.to_string(),
            a.owner.to_string(),
            q(st, a.quote.amount),
            if coll.is_empty() {
                "-".into()
            } else {
                coll.join(", ")
            },
            if pos.is_empty() {
                "-".into()
            } else {
                pos.join(", ")
            },
            usd(st, b.unrealized_pnl),
            usd(st, hi),
            usd(st, b.health)
        );
    }
    Ok(())
}

/// One event of `replay --json`, with the journal line that caused it.
#[derive(Serialize)]
struct EventLine<'a> {
    line: usize,
    event: &'a Event,
}

/// One refused command of `replay --json`.
#[derive(Serialize)]
struct Refusal {
    line: usize,
    error: String,
}

/// One account of `replay --json`; healths in human quote units.
#[derive(Serialize)]
struct AccountJson<'a> {
    account: usize,
    owner: &'a ballast_engine::ids::OwnerId,
    quote: Amount,
    collateral: &'a [(ballast_engine::ids::AssetId, Amount)],
    positions: &'a [ballast_engine::state::Position],
    init_health: Option<f64>,
    maint_health: Option<f64>,
}

/// Replays `lines` and writes one JSON object, streaming: `{"events":[…],"applied":n,
/// "rejected":[{"line","error"}…],"accounts":[…],"state_hash":"…"}`. Events are written as
/// each command is applied, so memory does not grow with the journal (only refusals are kept);
/// `i128` values are decimal strings ([`crate::json`]).
pub fn replay_json<I>(w: &mut Out, engine: &mut Engine, lines: I) -> Result<()>
where
    I: IntoIterator<Item = Result<(usize, Envelope)>>,
{
    out!(w, "{{\"events\":[");
    let mut first = true;
    let r = replay_stream(engine, lines, |_, line, event| {
        if !std::mem::take(&mut first) {
            out!(w, ",");
        }
        json::write(w, &EventLine { line, event })?;
        Ok(())
    })?;
    out!(w, "],\"applied\":{},\"rejected\":", r.applied);
    let refusals: Vec<Refusal> = r
        .rejected
        .iter()
        .map(|(line, e)| Refusal {
            line: *line,
            error: e.to_string(),
        })
        .collect();
    json::write(w, &refusals)?;
    let st = engine.state();
    let human = |v: ballast_engine::num::Value| v.to_human(quote_dec(st));
    let accounts: Vec<AccountJson> = st
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let id = ballast_engine::ids::AccountId(i as u32);
            AccountJson {
                account: i,
                owner: &a.owner,
                quote: a.quote.amount,
                collateral: &a.collateral[..],
                positions: &a.positions[..],
                init_health: engine.health(id, HealthKind::Initial).ok().map(human),
                maint_health: engine.health(id, HealthKind::Maintenance).ok().map(human),
            }
        })
        .collect();
    out!(w, ",\"accounts\":");
    json::write(w, &accounts)?;
    outln!(w, ",\"state_hash\":\"{}\"}}", engine.state_hash());
    Ok(())
}
