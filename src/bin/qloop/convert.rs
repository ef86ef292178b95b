//! `qloop convert`: a circuit from OpenQASM 2.0 to qloop JSON or back.

use crate::common::*;

/// The arguments of `qloop convert`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Output format.
    #[arg(long, value_enum)]
    to: Format,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args { input, to, output } = args;
    let circuit = load_bound(&input)?;
    let text = match to {
        Format::Qasm => qloop::qasm::export(&circuit)?,
        Format::Json => circuit.to_json() + "\n",
    };
    match output {
        Some(path) => write_file(&path, |w| w.write_all(text.as_bytes()))?,
        None => out.write_all(text.as_bytes())?,
    }
    Ok(())
}

/// The formats a circuit converts to.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Qasm,
    Json,
}
