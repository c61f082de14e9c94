//! `ballast feed`: replays price CSVs into a running `ballast serve` as `oracle_update`
//! commands, one per (bar close time, base asset), each carrying every listed venue's close as
//! one source's quote (confidence: half the bar's range). Bars are merged by close time with the
//! same streaming k-way merge as `ballast oracle`, and posted in batches; the command time is
//! the bar's close, so the server's engine sees the history at its own timestamps.

use crate::oracle::{scan, Merge};
use crate::out::Out;
use anyhow::{bail, Context, Result};
use ballast_data::{BadBarPolicy, PriceRow, ReadOptions};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct FeedArgs {
    /// Price CSV(s) in the layout of `data/`.
    #[arg(long, required = true, value_name = "FILE")]
    pub csv: Vec<PathBuf>,
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Bearer token of an `oracle` principal (default: `BALLAST_TOKEN`; none for an open server).
    #[arg(long)]
    pub token: Option<String>,
    /// Venues in source-id order: the n-th venue is source n of each asset's oracle.
    #[arg(long, value_delimiter = ',', required = true)]
    pub sources: Vec<String>,
    /// Commands per request.
    #[arg(long, default_value_t = 200)]
    pub batch: usize,
    /// Wait this long after each request (ms): replays a file at a watchable speed (0 = as
    /// fast as the server acknowledges).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub pace_ms: u64,
}

/// What the feeder sent and what the server said.
#[derive(Debug, Default)]
struct Tally {
    sent: usize,
    accepted: usize,
    refused: usize,
    first_refusal: Option<String>,
}

pub fn feed(w: &mut Out, a: FeedArgs) -> Result<()> {
    if a.pace_ms > 60_000 {
        bail!("--pace-ms must be at most 60000, got {}", a.pace_ms);
    }
    if a.batch == 0 || a.batch > 10_000 {
        bail!("--batch must be in 1..=10000, got {}", a.batch);
    }
    let token = a
        .token
        .clone()
        .or_else(|| std::env::var("BALLAST_TOKEN").ok());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::new();
    let assets = rt.block_on(asset_ids(&client, &a.url))?;
    let opts = ReadOptions {
        allow_gaps: true,
        bad_bars: BadBarPolicy::Drop,
    };
    let scans = a
        .csv
        .iter()
        .map(|f| scan(f, opts).with_context(|| format!("reading {}", f.display())))
        .collect::<Result<Vec<_>>>()?;
    let mut merged = Merge::open(&a.csv, &scans, opts)?;
    let post = |cmds: &mut Vec<Value>, tally: &mut Tally| -> Result<()> {
        if cmds.is_empty() {
            return Ok(());
        }
        let body = Value::Array(std::mem::take(cmds));
        rt.block_on(post_batch(&client, &a.url, token.as_deref(), &body, tally))?;
        if a.pace_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(a.pace_ms));
        }
        Ok(())
    };
    let (mut tally, mut pending, mut group) = (Tally::default(), Vec::new(), Vec::new());
    let mut at = None;
    while let Some(bar) = merged.next_bar()? {
        if at.is_some_and(|t| t != bar.close_ms()) {
            pending.extend(commands(&group, &assets, &a.sources)?);
            group.clear();
            if pending.len() >= a.batch {
                post(&mut pending, &mut tally)?;
            }
        }
        at = Some(bar.close_ms());
        group.push(bar);
    }
    pending.extend(commands(&group, &assets, &a.sources)?);
    post(&mut pending, &mut tally)?;
    outln!(
        w,
        "fed {} oracle updates: {} accepted, {} refused{}",
        tally.sent,
        tally.accepted,
        tally.refused,
        tally
            .first_refusal
            .map(|r| format!(" (first: {r})"))
            .unwrap_or_default()
    );
    if tally.refused > 0 {
        bail!("{} oracle updates were refused", tally.refused);
    }
    Ok(())
}

/// Asset symbol → id, from the server's `/v1/oracles`.
async fn asset_ids(client: &reqwest::Client, url: &str) -> Result<BTreeMap<String, u64>> {
    let v: Value = client
        .get(format!("{url}/v1/oracles"))
        .send()
        .await
        .with_context(|| format!("GET {url}/v1/oracles"))?
        .error_for_status()?
        .json()
        .await?;
    let mut ids = BTreeMap::new();
    for a in v["assets"].as_array().into_iter().flatten() {
        if let (Some(s), Some(id)) = (a["symbol"].as_str(), a["asset"].as_u64()) {
            ids.insert(s.to_string(), id);
        }
    }
    Ok(ids)
}

/// One `oracle_update` per base asset of the bars that closed at one instant.
fn commands(
    bars: &[PriceRow],
    assets: &BTreeMap<String, u64>,
    sources: &[String],
) -> Result<Vec<Value>> {
    let mut by_asset: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for b in bars {
        let base = ballast_data::base_asset(&b.symbol);
        let Some(source) = sources.iter().position(|v| *v == b.venue) else {
            bail!(
                "venue {:?} (line {}) is not in --sources {}",
                b.venue,
                b.line,
                sources.join(",")
            );
        };
        by_asset.entry(base).or_default().push(json!({
            "source": source,
            "price": b.close,
            "confidence": (b.high - b.low) / 2.0,
        }));
    }
    let time = bars.first().map_or(0, |b| b.close_ms());
    by_asset
        .into_iter()
        .map(|(sym, quotes)| {
            let asset = assets
                .get(&sym)
                .with_context(|| format!("the server lists no asset {sym}"))?;
            Ok(json!({"time": time, "cmd": {"type": "oracle_update", "asset": asset, "quotes": quotes}}))
        })
        .collect()
}

async fn post_batch(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
    tally: &mut Tally,
) -> Result<()> {
    let mut rq = client.post(format!("{url}/v1/commands")).json(body);
    if let Some(t) = token {
        rq = rq.bearer_auth(t);
    }
    let resp = rq
        .send()
        .await
        .with_context(|| format!("POST {url}/v1/commands"))?;
    let status = resp.status();
    let v: Value = resp.json().await.context("reading the server's answer")?;
    if !status.is_success() {
        bail!("the server refused the batch ({status}): {v}");
    }
    tally.sent += body.as_array().map_or(0, Vec::len);
    tally.accepted += v["accepted"].as_u64().unwrap_or(0) as usize;
    let refused = v["refused"].as_u64().unwrap_or(0) as usize;
    tally.refused += refused;
    if refused > 0 && tally.first_refusal.is_none() {
        tally.first_refusal = v["results"]
            .as_array()
            .and_then(|r| r.iter().find(|x| x.get("error").is_some()))
            .map(|x| x["error"].to_string());
    }
    Ok(())
}
