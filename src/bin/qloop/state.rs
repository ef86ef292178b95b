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
    /// Amplitudes in single (f32: half the memory, about 1e-6 accuracy) or double precision;
    /// single-precision amplitudes are written as the doubles they equal exactly.
    #[arg(long, default_value = "double")]
    precision: Precision,
}

/// Above this many amplitudes (22 qubits, about 190 MB of JSON), the output size is announced.
const LARGE_OUTPUT: usize = 1 << 22;

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args {
        input,
        output,
        precision,
    } = args;
    let (circuit, program) = load(&input)?;
    #[cfg(feature = "mpi")]
    if precision == Precision::Double {
        if let Some(mut d) = crate::distributed::run(&circuit)? {
            // Gathered on rank 0 only when the whole state fits there.
            qloop::state::check_state_fits(circuit.num_qubits())?;
            return match d.gather() {
                Some(amplitudes) => write_state(circuit.num_qubits(), &amplitudes, output, out),
                None => Ok(()),
            };
        }
    }
    if !crate::distributed::is_root() {
        // Not split over the ranks: rank 0 runs it alone.
        return Ok(());
    }
    #[cfg(not(feature = "mpi"))]
    let _ = circuit;
    let state = match precision {
        Precision::Double => program.statevector(&[], &[])?,
        Precision::Single => single_state(&program)?.to_double(),
    };
    write_state(state.num_qubits(), state.amplitudes(), output, out)
}

/// Writes the amplitudes as the command's JSON, to `output` or `out`.
fn write_state(
    num_qubits: usize,
    amplitudes: &[num_complex::Complex64],
    output: Option<PathBuf>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let len = amplitudes.len();
    if len > LARGE_OUTPUT {
        // About 45 characters per amplitude in shortest round-trip form.
        eprintln!(
            "qloop: note: writing {len} amplitudes as JSON (about {:.1} GB)",
            len as f64 * 45e-9
        );
    }
    let write = |w: &mut dyn Write| -> io::Result<()> {
        write!(w, "{{\"num_qubits\": {}, \"amplitudes\": [", num_qubits)?;
        for (i, a) in amplitudes.iter().enumerate() {
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
