//! `qloop run`: seeded measurement counts, keyed as Qiskit keys them.

use crate::common::*;
use qloop::Counts;

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
    /// Print {"shots": N, "seed": S, "counts": {...}}.
    #[arg(long)]
    json: bool,
    /// Also draw the counts as a bar chart (SVG) at this path (the 64 most frequent).
    #[arg(long, value_name = "SVG")]
    plot: Option<PathBuf>,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args {
        input,
        shots,
        seed,
        json,
        plot,
    } = args;
    let (_, program) = load(&input)?;
    let state = program.statevector(&[], &[])?;
    let seed = seed_or_random(seed);
    let counts = Counts::sample(
        &state,
        program.measurements(),
        program.num_clbits(),
        shots,
        seed,
    )?;
    if json {
        let value =
            serde_json::json!({"shots": counts.shots, "seed": seed, "counts": counts.counts});
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "{shots} shots, seed {seed}")?;
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
