//! `qloop state`: the state vector before any final measurement, as JSON.

use crate::common::*;

/// The arguments of `qloop state`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Above this many amplitudes (22 qubits, about 190 MB of JSON), the output size is announced.
const LARGE_OUTPUT: usize = 1 << 22;

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args { input, output } = args;
    let (_, program) = load(&input)?;
    let state = program.statevector(&[], &[])?;
    let amplitudes = state.amplitudes().len();
    if amplitudes > LARGE_OUTPUT {
        // About 45 characters per amplitude in shortest round-trip form.
        eprintln!(
            "qloop: note: writing {amplitudes} amplitudes as JSON (about {:.1} GB)",
            amplitudes as f64 * 45e-9
        );
    }
    let write = |w: &mut dyn Write| -> io::Result<()> {
        write!(
            w,
            "{{\"num_qubits\": {}, \"amplitudes\": [",
            state.num_qubits()
        )?;
        for (i, a) in state.amplitudes().iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(w, "{sep}[{}, {}]", json_f64(a.re), json_f64(a.im))?;
        }
        writeln!(w, "]}}")
    };
    match output {
        Some(path) => write_file(&path, write)?,
        None => write(out)?,
    }
    Ok(())
}
