//! `qloop expect`: expectation value of a weighted Pauli sum, exact or estimated from shots.

use crate::common::*;
use qloop::pauli::Estimate;
use qloop::PauliSum;

/// The arguments of `qloop expect`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Qiskit labels ("-1.05*II + 0.39*IZ + 0.18*XX", rightmost letter = qubit 0) or
    /// sparse form ("0.5*Z0*Z3 + X2").
    #[arg(long, allow_hyphen_values = true)]
    observable: String,
    /// Estimate from this many shots per measurement group, with a standard error.
    #[arg(long)]
    shots: Option<usize>,
    /// Seed of the sampler (with --shots); a random seed is chosen and reported if absent.
    #[arg(long)]
    seed: Option<u64>,
    /// Print {"value": x} (plus "stderr" and "seed" with --shots).
    #[arg(long)]
    json: bool,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args {
        input,
        observable,
        shots,
        seed,
        json,
    } = args;
    let (_, program) = load(&input)?;
    let observable: PauliSum = observable.parse()?;
    observable.check_width(program.num_qubits())?;
    let state = program.statevector(&[], &[])?;
    match shots {
        None => {
            let value = observable.expectation(&state)?;
            if json {
                writeln!(out, "{}", serde_json::json!({ "value": value }))?;
            } else {
                writeln!(out, "{value}")?;
            }
        }
        Some(shots) => {
            let seed = seed_or_random(seed);
            let Estimate { value, stderr } = observable.estimate(&state, shots, seed)?;
            if json {
                let v = serde_json::json!({"value": value, "stderr": stderr, "shots": shots, "seed": seed});
                writeln!(out, "{v}")?;
            } else {
                writeln!(
                    out,
                    "{value} ± {stderr} ({shots} shots per group, seed {seed})"
                )?;
            }
        }
    }
    Ok(())
}
