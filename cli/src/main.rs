//! `dojang`: the command-line face of the platform.
//!
//! The binary only wires the libraries together: parsing arguments, reading and writing files,
//! printing results. Every rule about credentials lives in the library crates, so what the CLI
//! does, a service or a test can do the same way.

mod bench;
mod credential;
mod demo;
mod identity;
mod issuer;
mod output;
mod registry;
mod serve;
mod setup;
mod tls;
mod up;
mod verify;
mod wallet;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dojang_core::Lang;
use dojang_core::clock::unix_now as now;

#[derive(Parser)]
#[command(name = "dojang", version, about = "Verifiable credentials for public services", long_about = None)]
struct Cli {
    /// Log format for services.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Language of verdicts and errors [default: from DOJANG_LANG, LC_ALL, LC_MESSAGES or
    /// LANG; when none names Korean or English, both are shown].
    #[arg(long, global = true, value_enum)]
    lang: Option<LangArg>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

static LOG_FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

#[derive(Clone, Copy, clap::ValueEnum)]
enum LangArg {
    Ko,
    En,
}

static LANG: std::sync::OnceLock<Option<Lang>> = std::sync::OnceLock::new();

/// The language verdicts and errors are printed in; `None`: both.
pub(crate) fn lang() -> Option<Lang> {
    LANG.get().copied().flatten()
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole platform in one process: registry, the four issuers, the verifier page.
    Up(up::UpArgs),
    /// The three stories end to end: a citizen card at a counter, a job badge at an employer, a
    /// revoked qualification.
    Demo(demo::DemoArgs),
    /// Generate and inspect signing keys.
    #[command(subcommand)]
    Key(identity::KeyCommand),
    /// Show DIDs and DID documents.
    #[command(subcommand)]
    Did(identity::DidCommand),
    /// Issue, present, verify and validate credentials (SD-JWT VC; VCDM 2.0 documents).
    #[command(subcommand)]
    Credential(credential::CredentialCommand),
    /// Run the issuer service; set up issuers and operators; issue in batch; revoke.
    #[command(subcommand)]
    Issuer(issuer::IssuerCommand),
    /// Run and use the registry: the verifiable ledger.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// A citizen's wallet: receive, list, show, present (QR or OpenID4VP), back up.
    Wallet(wallet::WalletArgs),
    /// Run the verifier service: the employer page, challenges, OpenID4VP.
    #[command(subcommand)]
    Verifier(verify::VerifierCommand),
    /// Verify a presented credential offline (QR image or text, SD-JWT VC, Data Integrity).
    Verify(verify::VerifyArgs),
    /// List the credential types this build knows.
    Types,
    /// Measure issuance and verification speed (prints `name: value unit` lines).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    stop_quietly_on_a_closed_pipe();
    let cli = Cli::parse();
    let _ = LOG_FORMAT.set(cli.log_format);
    let _ = LANG.set(match cli.lang {
        Some(LangArg::Ko) => Some(Lang::Ko),
        Some(LangArg::En) => Some(Lang::En),
        None => Lang::from_env(),
    });
    let result = match cli.command {
        Command::Up(args) => up::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Registry(command) => registry::run(command),
        Command::Issuer(command) => issuer::run(command),
        Command::Key(command) => identity::key(command),
        Command::Did(command) => identity::did(command),
        Command::Credential(command) => credential::run(command),
        Command::Wallet(args) => wallet::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Verifier(command) => verify::serve(command),
        Command::Types => credential::types(),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Each message in the chain is `"<Korean> / <English>"` or one language.
            let chain: Vec<String> = e
                .chain()
                .map(|cause| {
                    let text = cause.to_string();
                    lang().map_or(text.clone(), |lang| lang.pick(&text).to_owned())
                })
                .collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::from(2)
        }
    }
}

/// `dojang verify … | head`: when the reader stops early the pipe closes and `println!`
/// panics. Like other command-line tools, stop quietly then, with the status a shell gives a
/// process ended by SIGPIPE (restoring SIGPIPE itself would take `unsafe`).
fn stop_quietly_on_a_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// Starts logging for a long-running service (`RUST_LOG` filters; default `info`).
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match LOG_FORMAT.get().copied().unwrap_or(LogFormat::Text) {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Resolves on Ctrl-C or SIGTERM, for graceful shutdown.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
