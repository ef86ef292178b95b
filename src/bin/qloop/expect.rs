//! `qloop expect`: expectation value of a weighted Pauli sum, exact or estimated from shots,
//! of any circuit: unitary, dynamic or noisy (`--noise`, `--method`).

use crate::common::*;
use qloop::noise::{expectation, Expectation, Method, NoiseModel};
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
    /// Statevector: estimate from this many shots per measurement group, with a standard
    /// error. Trajectories: the number of trajectories (required). Density: exact, refused.
    #[arg(long)]
    shots: Option<usize>,
    /// Seed of the sampler (with --shots); a random seed is chosen and reported if absent.
    #[arg(long)]
    seed: Option<u64>,
    /// Noise model (TOML, the form in docs/conventions.md).
    #[arg(long, value_name = "FILE.toml")]
    noise: Option<PathBuf>,
    /// auto, statevector, density or trajectories (auto: statevector for unitary noiseless
    /// circuits, otherwise density without --shots and trajectories with them).
    #[arg(long, default_value = "auto")]
    method: Method,
    /// Print {"value": x, "method": m} (plus "stderr", "shots" and "seed" for estimates).
    #[arg(long)]
    json: bool,
    /// Amplitudes in single (f32: half the memory, about 1e-6 accuracy) or double precision.
    #[arg(long, default_value = "double")]
    precision: Precision,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args {
        input,
        observable,
        shots,
        seed,
        noise,
        method,
        json,
        precision,
    } = args;
    let circuit = load_fully_bound(&input)?;
    let observable: PauliSum = observable.parse()?;
    let model = noise.as_deref().map(NoiseModel::load).transpose()?;
    #[cfg(feature = "mpi")]
    if precision == Precision::Double
        && shots.is_none()
        && model.as_ref().is_none_or(|m| m.is_empty())
        && matches!(method, Method::Auto | Method::Statevector)
    {
        if let Some(mut d) = crate::distributed::run(&circuit)? {
            let value = d.expectation(&observable)?;
            if crate::distributed::is_root() {
                match json {
                    true => writeln!(
                        out,
                        "{}",
                        serde_json::json!({ "value": value, "method": Method::Statevector })
                    )?,
                    false => writeln!(out, "{value}")?,
                }
            }
            return Ok(());
        }
    }
    if !crate::distributed::is_root() {
        // Not split over the ranks: rank 0 runs it alone.
        return Ok(());
    }
    let seed = seed_or_random(seed);
    let e = match precision {
        Precision::Double => {
            expectation(&circuit, model.as_ref(), &observable, method, shots, seed)?
        }
        Precision::Single => {
            observable.check_width(circuit.num_qubits())?;
            let noisy = model.as_ref().is_some_and(|m| !m.is_empty());
            check_single(&circuit, noisy, method)?;
            let state = single_state(&circuit.compile()?)?;
            let (value, stderr) = match shots {
                None => (observable.expectation(&state)?, None),
                // Estimates rotate a copy of the state per measurement group: in double.
                Some(s) => {
                    let e = observable.estimate(&state.to_double(), s, seed)?;
                    (e.value, Some(e.stderr))
                }
            };
            Expectation {
                value,
                stderr,
                method: Method::Statevector,
            }
        }
    };
    let noisy = model.as_ref().is_some_and(|m| !m.is_empty()) || circuit.is_dynamic();
    match (e.stderr, shots) {
        (None, _) => {
            if json {
                let v = serde_json::json!({ "value": e.value, "method": e.method });
                writeln!(out, "{v}")?;
            } else if noisy {
                writeln!(out, "{} (exact, method {})", e.value, e.method)?;
            } else {
                writeln!(out, "{}", e.value)?;
            }
        }
        (Some(stderr), shots) => {
            let shots = shots.unwrap_or(0);
            if json {
                let v = serde_json::json!({"value": e.value, "stderr": stderr, "shots": shots, "seed": seed, "method": e.method});
                writeln!(out, "{v}")?;
            } else if e.method == Method::Trajectories {
                writeln!(
                    out,
                    "{} ± {stderr} ({shots} trajectories, seed {seed}, method trajectories)",
                    e.value
                )?;
            } else {
                writeln!(
                    out,
                    "{} ± {stderr} ({shots} shots per group, seed {seed})",
                    e.value
                )?;
            }
        }
    }
    Ok(())
}
