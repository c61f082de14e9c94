//! `ballast-serve`: the server alone (the same as `ballast serve`), for process-level tests
//! that kill it with SIGKILL.

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "ballast-serve",
    about = "The Ballast engine over HTTP with a durable journal"
)]
struct Cli {
    #[command(flatten)]
    args: ballast_serve::ServeArgs,
}

#[tokio::main]
async fn main() {
    if let Err(e) = ballast_serve::serve_cli(Cli::parse().args).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
