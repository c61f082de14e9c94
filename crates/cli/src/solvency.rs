//! `ballast prove`, `ballast verify` and `ballast contagion`: proof of solvency over a
//! replayed journal (crates/solvency/README.md says what is proven), and the contagion map.

use crate::out::Out;
use anyhow::{bail, Context, Result};
use ballast_engine::ids::{AccountId, AssetId};
use ballast_engine::{journal, Engine};
use ballast_solvency::contagion::{self, apply_shock, Graph, Shock, ShockReport};
use ballast_solvency::{prove, AccountProof, Digest, Secret, Statement};
use clap::Args;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Arguments of `ballast prove`.
#[derive(Args)]
pub struct ProveArgs {
    /// Journal to replay (JSON lines, or a `ballast serve` data directory or journal.db).
    #[arg(long, value_name = "JOURNAL")]
    state: PathBuf,
    /// Directory for roots.json and the proofs.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The prover's secret (≥ 32 bytes, never published); salts derive from it. Without it a
    /// fixed public demo secret is used and the salts hide nothing.
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// Write only this account's proof (proof-N.json) instead of proofs.jsonl for all.
    #[arg(long, value_name = "N")]
    account: Option<u32>,
}

/// Arguments of `ballast verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// A published root (64 hex digits), or a roots.json file; repeat for several assets.
    #[arg(long = "root", value_name = "R", required = true)]
    roots: Vec<String>,
    /// An account's proof file (proof-N.json, or one line of proofs.jsonl).
    #[arg(long, value_name = "FILE")]
    proof: PathBuf,
}

/// Arguments of `ballast contagion`.
#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct ContagionArgs {
    /// Journal to replay (JSON lines, or a `ballast serve` data directory or journal.db).
    #[arg(long, value_name = "JOURNAL")]
    state: PathBuf,
    /// Price shock, `ASSET=PCT%` (symbol or id), e.g. `BTC=-30%`.
    #[arg(long, value_name = "ASSET=PCT%")]
    shock: Option<String>,
    /// One JSON object (graph and shock) instead of tables.
    #[arg(long)]
    json: bool,
    /// Also write the graph (with the shock's losses) as Graphviz DOT.
    #[arg(long, value_name = "FILE")]
    dot: Option<PathBuf>,
}

/// Public, fixed: used only when no secret file is given (demo runs).
const DEMO_SECRET: &[u8] = b"ballast demo secret: public, for demonstrations only";

/// Replays a journal into a fresh engine; refused commands replay as refusals.
fn load(path: &Path) -> Result<Engine> {
    let reader: Box<dyn std::io::BufRead> = if ballast_serve::export::is_database(path) {
        let text = ballast_serve::export::journal_text(path)?;
        Box::new(std::io::Cursor::new(text.into_bytes()))
    } else {
        let f = std::fs::File::open(path)
            .with_context(|| format!("reading journal {}", path.display()))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut engine = Engine::new();
    for line in journal::lines(reader) {
        let (_, env) = line.with_context(|| format!("in {}", path.display()))?;
        // A journal may record refusals; they replay as the same refusals.
        let _ = engine.apply(&env);
    }
    Ok(engine)
}

/// `v` native units as an exact decimal with `decimals` places.
fn units(v: i128, decimals: u8) -> String {
    ballast_solvency::dec::human(v, decimals)
}

fn secret(file: Option<&Path>) -> Result<Secret> {
    let bytes = match file {
        Some(f) => std::fs::read(f).with_context(|| format!("reading secret {}", f.display()))?,
        None => {
            eprintln!(
                "warning: no --secret-file: using the public demo secret (salts hide nothing)"
            );
            DEMO_SECRET.to_vec()
        }
    };
    Ok(Secret::new(&bytes)?)
}

fn write_json<T: serde::Serialize>(path: &Path, v: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(v)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// `ballast prove`.
pub fn prove_cmd(w: &mut Out, a: ProveArgs) -> Result<()> {
    let engine = load(&a.state)?;
    let s = prove(&engine, &secret(a.secret_file.as_deref())?)?;
    // An unknown account is refused before anything is written.
    let single = a
        .account
        .map(|n| s.account_proof(AccountId(n)))
        .transpose()?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let statement = s.statement();
    write_json(&a.out.join("roots.json"), &statement)?;
    let written = match single {
        Some(proof) => {
            let path = a.out.join(format!("proof-{}.json", proof.account));
            write_json(&path, &proof)?;
            path
        }
        None => write_all_proofs(&s, &a.out.join("proofs.jsonl"))?,
    };
    print_statement(w, &statement, s.accounts())?;
    outln!(
        w,
        "\nwrote {} and {}",
        a.out.join("roots.json").display(),
        written.display()
    );
    Ok(())
}

/// Every account's proof, one JSON object per line.
fn write_all_proofs(s: &ballast_solvency::Solvency, path: &Path) -> Result<PathBuf> {
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut f = BufWriter::new(f);
    for i in 0..s.accounts() as u32 {
        serde_json::to_writer(&mut f, &s.account_proof(AccountId(i))?)?;
        f.write_all(b"\n")?;
    }
    f.flush()?;
    Ok(path.to_path_buf())
}

fn print_statement(w: &mut Out, st: &Statement, accounts: usize) -> Result<()> {
    outln!(w, "proof of solvency over {accounts} accounts\n");
    outln!(
        w,
        "{:<6} {:>22} {:>22} {:>18}  {:<9} root",
        "asset",
        "liabilities",
        "held",
        "receivables",
        "status"
    );
    for p in &st.assets {
        let s = &p.statement;
        let status = match s.check_solvent() {
            Err(_) => "INSOLVENT",
            Ok(()) if s.fully_reserved() => "reserved",
            Ok(()) => "covered",
        };
        let d = s.decimals;
        outln!(
            w,
            "{:<6} {:>22} {:>22} {:>18}  {:<9} {}",
            s.symbol,
            units(s.liabilities, d),
            units(s.held, d),
            units(s.receivables, d),
            status,
            p.root
        );
    }
    outln!(
        w,
        "\nreserved: liabilities ≤ held; covered: ≤ held + receivables (debts owed to the ledger)"
    );
    Ok(())
}

/// The roots named on the command line: hex digests, or roots.json files.
fn roots(args: &[String]) -> Result<Vec<Digest>> {
    let mut out = Vec::new();
    for r in args {
        if let Some(d) = Digest::from_hex(r) {
            out.push(d);
            continue;
        }
        let text = std::fs::read_to_string(r).with_context(|| {
            format!("--root {r:?} is neither 64 hex digits nor a readable file")
        })?;
        let st: Statement =
            serde_json::from_str(&text).with_context(|| format!("reading statement {r}"))?;
        out.extend(st.roots().with_context(|| format!("in statement {r}"))?);
    }
    Ok(out)
}

/// `ballast verify`.
pub fn verify_cmd(w: &mut Out, a: VerifyArgs) -> Result<()> {
    let roots = roots(&a.roots)?;
    let text = std::fs::read_to_string(&a.proof)
        .with_context(|| format!("reading proof {}", a.proof.display()))?;
    let proof: AccountProof = serde_json::from_str(text.trim())
        .with_context(|| format!("reading proof {}", a.proof.display()))?;
    let ok = proof
        .verify(&roots)
        .with_context(|| format!("proof of account {} does not verify", proof.account))?;
    for (v, p) in ok.iter().zip(&proof.proofs) {
        let d = p.statement.decimals;
        outln!(
            w,
            "account {} {}: liability {} is included in root {}",
            proof.account,
            v.symbol,
            units(v.liability, d),
            v.root
        );
        outln!(
            w,
            "  total liabilities {} ≤ held {} + receivables {}",
            units(v.liabilities, d),
            units(v.held, d),
            units(v.receivables, d)
        );
    }
    outln!(w, "OK: {} asset proof(s) verified", ok.len());
    Ok(())
}

/// Parses `ASSET=PCT%` against the ledger's asset symbols (or numeric ids).
fn parse_shock(engine: &Engine, s: &str) -> Result<Shock> {
    let Some((name, pct)) = s.split_once('=') else {
        bail!("--shock {s:?}: expected ASSET=PCT%, e.g. BTC=-30%");
    };
    let assets = &engine.state().assets;
    let asset = match assets
        .iter()
        .position(|a| a.symbol.eq_ignore_ascii_case(name.trim()))
    {
        Some(i) => AssetId(i as u16),
        None => match name.trim().parse::<u16>() {
            Ok(id) => AssetId(id),
            Err(_) => bail!("--shock: no asset {name:?} in the ledger"),
        },
    };
    let pct: f64 = pct
        .trim()
        .trim_end_matches('%')
        .parse()
        .with_context(|| format!("--shock {s:?}: {pct:?} is not a percentage"))?;
    Ok(Shock { asset, pct })
}

/// `ballast contagion`.
pub fn contagion_cmd(w: &mut Out, a: ContagionArgs) -> Result<()> {
    let engine = load(&a.state)?;
    let graph = Graph::from_state(engine.state())?;
    let report = match &a.shock {
        Some(s) => Some(apply_shock(&engine, parse_shock(&engine, s)?)?),
        None => None,
    };
    if let Some(path) = &a.dot {
        std::fs::write(
            path,
            contagion::dot::to_dot(&graph, report.as_ref(), quote_decimals(&engine)),
        )
        .with_context(|| format!("writing {}", path.display()))?;
    }
    if a.json {
        #[derive(serde::Serialize)]
        struct Doc<'a> {
            graph: &'a Graph,
            shock: Option<&'a ShockReport>,
        }
        serde_json::to_writer(
            &mut *w,
            &Doc {
                graph: &graph,
                shock: report.as_ref(),
            },
        )?;
        outln!(w);
        return Ok(());
    }
    let qd = quote_decimals(&engine);
    print_edges(w, &graph, qd)?;
    if let Some(r) = &report {
        print_losses(w, &graph, r, qd)?;
    }
    Ok(())
}

fn quote_decimals(engine: &Engine) -> u8 {
    let st = engine.state();
    st.numeraire
        .and_then(|n| st.assets.get(n.idx()))
        .map_or(0, |a| a.decimals)
}

fn print_edges(w: &mut Out, g: &Graph, qd: u8) -> Result<()> {
    outln!(
        w,
        "{:<18} {:<14} {:<14} {:<6} {:>22}",
        "edge",
        "a",
        "b",
        "via",
        "weight (quote)"
    );
    for e in &g.edges {
        let via = e.via.map_or("-".to_string(), |v| {
            g.name(contagion::NodeRef::Asset(v)).to_string()
        });
        outln!(
            w,
            "{:<18} {:<14} {:<14} {:<6} {:>22}",
            e.kind.name(),
            g.name(e.a),
            g.name(e.b),
            via,
            units(e.weight, qd)
        );
    }
    Ok(())
}

fn print_losses(w: &mut Out, g: &Graph, r: &ShockReport, qd: u8) -> Result<()> {
    let name = g.name(contagion::NodeRef::Asset(r.shock.asset));
    outln!(
        w,
        "\nshock {name} {:+}%: {} -> {} (applied through the engine)\n",
        r.shock.pct,
        r.price_before,
        r.price_after
    );
    outln!(
        w,
        "{:<14} {:>8} {:>13} {:>20} {:>20} {:>20}",
        "node",
        "accounts",
        "below maint",
        "bad debt before",
        "bad debt after",
        "loss"
    );
    for l in &r.losses {
        let below = format!(
            "{} -> {}",
            l.before.below_maintenance, l.after.below_maintenance
        );
        outln!(
            w,
            "{:<14} {:>8} {:>13} {:>20} {:>20} {:>20}",
            g.name(l.node),
            l.after.accounts,
            below,
            units(l.before.bad_debt, qd),
            units(l.after.bad_debt, qd),
            units(l.loss, qd)
        );
    }
    Ok(())
}
