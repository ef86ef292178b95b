//! `qloop lint`: the gates and parameters of an ansatz that cannot change what is measured.

use crate::common::*;

/// The arguments of `qloop lint`.
#[derive(clap::Args)]
pub struct Args {
    /// Circuit file: OpenQASM 2.0, or qloop JSON.
    file: PathBuf,
    /// Random parameter points for the numerical checks.
    #[arg(long, default_value_t = 16)]
    samples: usize,
    /// Seed of the random points.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args {
        file,
        samples,
        seed,
        json,
    } = args;
    let circuit = Circuit::load(&file)?;
    let options = qloop::lint::Options { samples, seed };
    let report = qloop::lint::lint(&circuit, &options)?;
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string(&report).map_err(io::Error::other)?
        )?;
    } else {
        write!(out, "{}: {report}", file.display())?;
    }
    Ok(())
}
