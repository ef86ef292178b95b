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
    /// With --output: write each MPI rank's block of amplitudes to its own file
    /// (`NAME.rankR.EXT`: `{"num_qubits", "first", "amplitudes"}`, consecutive basis states
    /// from index `first`) and a manifest at the output path (`{"num_qubits", "parts":
    /// [{"file", "first", "count"}]}` in basis order), instead of gathering the state on rank
    /// 0. One process writes one part.
    #[arg(long, requires = "output")]
    per_rank: bool,
}

/// Above this many amplitudes (22 qubits, about 190 MB of JSON), the output size is announced.
const LARGE_OUTPUT: usize = 1 << 22;

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args {
        input,
        output,
        precision,
        per_rank,
    } = args;
    let (circuit, program) = load(&input)?;
    #[cfg(feature = "mpi")]
    if precision == Precision::Double {
        if let Some(mut d) = crate::distributed::run(&circuit)? {
            if let (true, Some(path)) = (per_rank, &output) {
                let n = circuit.num_qubits();
                let mut failed = None;
                let firsts = d.blocks(&mut |rank, first, block| {
                    let part = part_path(path, rank);
                    if let Err(e) = write_part(&part, n, first, block) {
                        failed = Some(e);
                    }
                });
                if let Some(e) = failed {
                    return Err(e);
                }
                let count = 1usize << d.local_qubits();
                return match crate::distributed::is_root() {
                    true => write_manifest(path, n, &firsts, count),
                    false => Ok(()),
                };
            }
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
    if let (true, Some(path)) = (per_rank, &output) {
        let n = state.num_qubits();
        write_part(&part_path(path, 0), n, 0, state.amplitudes())?;
        return write_manifest(path, n, &[0], 1 << n);
    }
    write_state(state.num_qubits(), state.amplitudes(), output, out)
}

/// `NAME.rankR.EXT` beside `output` (`NAME.rankR` without an extension).
fn part_path(output: &Path, rank: usize) -> PathBuf {
    let stem = output
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = match output.extension() {
        Some(ext) => format!("{stem}.rank{rank}.{}", ext.to_string_lossy()),
        None => format!("{stem}.rank{rank}"),
    };
    output.with_file_name(name)
}

/// One rank's part: `{"num_qubits": n, "first": f, "amplitudes": [[re, im], ...]}`.
fn write_part(
    path: &Path,
    num_qubits: usize,
    first: usize,
    amplitudes: &[num_complex::Complex64],
) -> Result<(), Failure> {
    write_file(path, |w: &mut dyn Write| -> io::Result<()> {
        write!(
            w,
            "{{\"num_qubits\": {num_qubits}, \"first\": {first}, \"amplitudes\": ["
        )?;
        for (i, a) in amplitudes.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(w, "{sep}[{}, {}]", json_f64(a.re), json_f64(a.im))?;
        }
        writeln!(w, "]}}")
    })?;
    Ok(())
}

/// The manifest of the parts, in basis order.
fn write_manifest(
    path: &Path,
    num_qubits: usize,
    firsts: &[usize],
    count: usize,
) -> Result<(), Failure> {
    let mut parts: Vec<(usize, usize)> = firsts.iter().copied().enumerate().collect();
    parts.sort_by_key(|&(_, first)| first);
    let parts: Vec<serde_json::Value> = parts
        .into_iter()
        .map(|(rank, first)| {
            let file = part_path(path, rank);
            let name = file
                .file_name()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            serde_json::json!({"file": name, "first": first, "count": count})
        })
        .collect();
    let manifest = serde_json::json!({"num_qubits": num_qubits, "parts": parts});
    write_file(path, |w: &mut dyn Write| writeln!(w, "{manifest}"))?;
    Ok(())
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
