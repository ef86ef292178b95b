//! `qloop run`: seeded measurement counts, keyed as Qiskit keys them, of any circuit: unitary,
//! dynamic (mid-circuit measurement, reset, `if`) or noisy.

use crate::common::*;
use qloop::noise::{sample_counts, Method, NoiseModel};

/// The arguments of `qloop run`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Number of shots.
    #[arg(long)]
    shots: usize,
    /// Seed of the sampler; a random seed is chosen and reported if absent.
    #[arg(long)]
    seed: Option<u64>,
    /// Noise model (TOML, the form in docs/conventions.md).
    #[arg(long, value_name = "FILE.toml")]
    noise: Option<PathBuf>,
    /// auto, statevector, density or trajectories (auto: statevector for unitary noiseless
    /// circuits, density for small noisy ones, trajectories otherwise; the choice is reported).
    #[arg(long, default_value = "auto")]
    method: Method,
    /// Print {"shots": N, "seed": S, "method": M, "counts": {...}}.
    #[arg(long)]
    json: bool,
    /// Also draw the counts as a bar chart (SVG) at this path (the 64 most frequent).
    #[arg(long, value_name = "SVG")]
    plot: Option<PathBuf>,
    /// Amplitudes in single (f32: half the memory, about 1e-6 accuracy) or double precision.
    #[arg(long, default_value = "double")]
    precision: Precision,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args {
        input,
        shots,
        seed,
        noise,
        method,
        json,
        plot,
        precision,
    } = args;
    let circuit = load_fully_bound(&input)?;
    let model = noise.as_deref().map(NoiseModel::load).transpose()?;
    let seed = crate::distributed::agree(seed_or_random(seed));
    #[cfg(feature = "mpi")]
    if precision == Precision::Double
        && model.as_ref().is_none_or(|m| m.is_empty())
        && matches!(method, Method::Auto | Method::Statevector)
    {
        if let Some(mut d) = crate::distributed::run(&circuit)? {
            let program = circuit.compile()?;
            let counts = d.sample(program.measurements(), program.num_clbits(), shots, seed)?;
            return match counts {
                Some(counts) => report(&counts, seed, Method::Statevector, json, plot, out),
                None => Ok(()),
            };
        }
    }
    if !crate::distributed::is_root() {
        // Not split over the ranks: rank 0 runs it alone.
        return Ok(());
    }
    let (counts, method) = match precision {
        Precision::Double => sample_counts(&circuit, model.as_ref(), method, shots, seed)?,
        Precision::Single => {
            let noisy = model.as_ref().is_some_and(|m| !m.is_empty());
            // Measurements at the end only (a dynamic circuit is refused): sample the state.
            check_single(&circuit, noisy, method)?;
            let program = circuit.compile()?;
            let state = single_state(&program)?;
            let counts = qloop::Counts::sample(
                &state,
                program.measurements(),
                program.num_clbits(),
                shots,
                seed,
            )?;
            (counts, Method::Statevector)
        }
    };
    report(&counts, seed, method, json, plot, out)
}

/// Prints the counts (and draws them, with `--plot`).
fn report(
    counts: &qloop::Counts,
    seed: u64,
    method: Method,
    json: bool,
    plot: Option<PathBuf>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let shots = counts.shots;
    if json {
        let value = serde_json::json!({
            "shots": counts.shots,
            "seed": seed,
            "method": method,
            "counts": counts.counts,
        });
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "{shots} shots, seed {seed}, method {method}")?;
        let width = counts.counts.keys().map(String::len).max().unwrap_or(0);
        for (key, count) in &counts.counts {
            writeln!(out, "{key:>width$}  {count}")?;
        }
    }
    if let Some(path) = plot {
        qloop::plot::counts_histogram(&path, &counts.counts, counts.shots, 64)?;
    }
    Ok(())
}
