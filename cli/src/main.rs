//! `dojang`: the command-line face of the platform.
//!
//! The binary only wires the libraries together: parsing arguments, reading and writing files,
//! printing results. Every rule about credentials lives in the library crates, so what the CLI
//! does, a service or a test can do the same way.

mod bench;
mod credential;
mod identity;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "dojang", version, about = "Verifiable credentials for public services", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate and inspect signing keys.
    #[command(subcommand)]
    Key(identity::KeyCommand),
    /// Show DIDs and DID documents.
    #[command(subcommand)]
    Did(identity::DidCommand),
    /// Issue, present and verify SD-JWT VC credentials.
    #[command(subcommand)]
    Credential(credential::CredentialCommand),
    /// List the credential types this build knows.
    Types,
    /// Measure issuance and verification speed (prints `name: value unit` lines).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Key(command) => identity::key(command),
        Command::Did(command) => identity::did(command),
        Command::Credential(command) => credential::run(command),
        Command::Types => credential::types(),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The current time as Unix seconds.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
