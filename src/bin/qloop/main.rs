//! The `qloop` command-line tool: parses the command line and dispatches to one module per
//! command (`state.rs`, `run.rs`, …); what the commands share is in `common.rs`.

use clap::{Parser, Subcommand};
use common::Failure;
use qloop::Error;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

mod common;
mod convert;
mod distributed;
mod draw;
mod entropy;
mod expect;
mod info;
mod lint;
mod minimize;
mod predict;
mod run;
mod state;
mod train;

#[derive(Parser)]
#[command(
    name = "qloop",
    version,
    about = "Simulate and train hybrid variational quantum circuits: states, shots, expectation values, SPSA training"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the state vector before any final measurement as JSON:
    /// {"num_qubits": n, "amplitudes": [[re, im], ...]} in basis-index order.
    State(state::Args),
    /// Sample measurement counts (qubit/classical bit 0 rightmost). Without measurements in the
    /// circuit, every qubit is measured.
    Run(run::Args),
    /// Expectation value of a weighted Pauli sum, exact or estimated from shots.
    Expect(expect::Args),
    /// Minimise an observable's energy over the circuit's weights: SPSA, or L-BFGS, steepest
    /// descent or Adam on exact adjoint gradients, within an evaluation budget.
    Minimize(minimize::Args),
    /// Convert a circuit between OpenQASM 2.0 and qloop JSON (symbolic angles need --bind
    /// for OpenQASM).
    Convert(convert::Args),
    /// Train a hybrid model with SPSA. Without --config: the built-in default (re-uploading
    /// circuit with shot readout and a dense stack, on the embedded Iris data). Writes
    /// DIR/model.json and DIR/loss.svg; Ctrl-C keeps DIR/checkpoint.bin for --resume.
    Train(train::Args),
    /// Evaluate a trained model (model.json) on samples.
    Predict(predict::Args),
    /// Entanglement entropy of the circuit's state (before any final measurement) across a cut.
    Entropy(entropy::Args),
    /// Diagnose an ansatz: gates and parameters that cannot change the measured outcomes,
    /// redundant parameters, entangling capability and per-parameter sensitivity.
    Lint(lint::Args),
    /// Draw a circuit (OpenQASM, qloop JSON, or a trained model.json with its trained angles)
    /// as SVG, standard or Feynman-style, or as Unicode text.
    Draw(draw::Args),
    /// Qubits, classical bits, depth, gate counts and parameters.
    Info(info::Args),
}

fn main() -> ExitCode {
    // Every bad input is an error with its own message; a panic is a bug in qloop.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("qloop: internal error (a bug in qloop, please report it): {info}");
    }));
    let cli = Cli::parse();
    let _mpi = distributed::start();
    let result = distributed::check_ranks()
        .map_err(Failure::from)
        .and_then(
            |()| match distributed::is_root() || cli.command.is_distributed() {
                true => execute(cli.command),
                // Ranks other than 0 take part only in the distributed commands.
                false => Ok(()),
            },
        );
    if !distributed::is_root() {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Interrupted) => ExitCode::from(130),
        Err(Failure::Io(e)) => {
            eprintln!("qloop: error: {e}");
            ExitCode::FAILURE
        }
        Err(Failure::Qloop(e)) => {
            let hint = match &e {
                Error::UnboundParameter { name, .. } => {
                    format!(" (give it with --bind {name}=VALUE)")
                }
                _ => String::new(),
            };
            eprintln!("qloop: error: {e}{hint}");
            ExitCode::FAILURE
        }
    }
}

impl Command {
    /// Commands that run their state over the MPI ranks (`mpirun -n R qloop …`).
    fn is_distributed(&self) -> bool {
        matches!(
            self,
            Command::State(_)
                | Command::Expect(_)
                | Command::Run(_)
                | Command::Entropy(_)
                | Command::Train(_)
        )
    }
}

/// Runs one command with a buffered standard output.
fn execute(command: Command) -> Result<(), Failure> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match command {
        Command::State(args) => state::run(args, &mut out),
        Command::Run(args) => run::run(args, &mut out),
        Command::Expect(args) => expect::run(args, &mut out),
        Command::Minimize(args) => minimize::run(args, &mut out),
        Command::Convert(args) => convert::run(args, &mut out),
        Command::Train(args) => train::run(args, &mut out),
        Command::Predict(args) => predict::run(args, &mut out),
        Command::Entropy(args) => entropy::run(args, &mut out),
        Command::Lint(args) => lint::run(args, &mut out),
        Command::Draw(args) => draw::run(args, &mut out),
        Command::Info(args) => info::run(args, &mut out),
    }?;
    out.flush()?;
    Ok(())
}
