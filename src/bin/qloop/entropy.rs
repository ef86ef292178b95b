//! `qloop entropy`: the entanglement entropy of a circuit's state across a cut.

use crate::common::*;

/// The arguments of `qloop entropy`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// The subsystem A as comma-separated qubits (any qubits, any order); default: the
    /// first ⌊n/2⌋ qubits.
    #[arg(long, value_name = "Q1,Q2,...")]
    subsystem: Option<String>,
    /// Logarithm base: e (nats) or 2 (bits).
    #[arg(long, default_value = "e")]
    base: qloop::entropy::LogBase,
    /// Also the Rényi entropy of this order (≥ 0; 1 is von Neumann, inf the min-entropy).
    #[arg(long, value_name = "ALPHA", allow_hyphen_values = true)]
    renyi: Option<f64>,
    /// Also the entropy across every cut of the chain, {0..k-1} | {k..n-1}.
    #[arg(long)]
    profile: bool,
    /// Draw the profile as an SVG plot at this path (implies --profile).
    #[arg(long, value_name = "SVG")]
    plot: Option<PathBuf>,
    /// Print {"entropy": x, "base": "e", "subsystem": [..]} plus the extras asked for.
    #[arg(long)]
    json: bool,
    /// Run the circuit in single (f32) or double precision; the entropy is computed in double
    /// from the single-precision amplitudes (about 1e-6 accuracy).
    #[arg(long, default_value = "double")]
    precision: Precision,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args {
        input,
        subsystem,
        base,
        renyi,
        profile,
        plot,
        json,
        precision,
    } = args;
    let (_, program) = load(&input)?;
    let state = match precision {
        Precision::Double => program.statevector(&[], &[])?,
        Precision::Single => {
            // Rounding leaves the norm within ~1e-7 of 1; the entropy is of the normalized
            // state.
            let mut state = single_state(&program)?.to_double();
            let scale = state.norm_sqr().sqrt().recip();
            state.amplitudes_mut().iter_mut().for_each(|a| *a *= scale);
            state
        }
    };
    let request = crate::entropy::EntropyRequest {
        subsystem: subsystem.as_deref(),
        base,
        renyi,
        profile: profile || plot.is_some(),
        plot: plot.as_deref(),
        json,
    };
    crate::entropy::entropy(&state, &request, out)?;
    Ok(())
}

use qloop::entropy::{half_cut, LogBase};
use qloop::{Error, StateVector};
use std::io::Write;
use std::path::Path;

/// What `qloop entropy` was asked for.
pub struct EntropyRequest<'a> {
    pub subsystem: Option<&'a str>,
    pub base: LogBase,
    pub renyi: Option<f64>,
    pub profile: bool,
    pub plot: Option<&'a Path>,
    pub json: bool,
}

/// Parses `"0,2,5"`; an empty list is passed on (and refused by the library with its reason).
fn parse_qubits(text: &str) -> Result<Vec<usize>, Error> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<usize>().map_err(|_| Error::Shape {
                context: "--subsystem".into(),
                message: format!("'{t}' is not a qubit index (expected e.g. 0,2,5)"),
            })
        })
        .collect()
}

pub fn entropy(
    state: &StateVector,
    request: &EntropyRequest,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let n = state.num_qubits();
    let subsystem = match request.subsystem {
        Some(text) => parse_qubits(text)?,
        None => half_cut(n),
    };
    let base = request.base;
    let e = state.entanglement();
    let value = e.von_neumann(&subsystem, base)?;
    let renyi = match request.renyi {
        Some(alpha) => Some((alpha, e.renyi(&subsystem, alpha, base)?)),
        None => None,
    };
    let profile = if request.profile {
        Some(e.profile(base)?)
    } else {
        None
    };
    if let (Some(path), Some(values)) = (request.plot, &profile) {
        qloop::plot::entropy_profile(path, values, base)?;
    }
    if request.json {
        let mut v = serde_json::json!({
            "entropy": value,
            "base": base.name(),
            "subsystem": subsystem,
        });
        if let Some((alpha, r)) = renyi {
            let alpha = serde_json::Number::from_f64(alpha)
                .map_or_else(|| serde_json::json!("inf"), serde_json::Value::Number);
            v["renyi"] = serde_json::json!({"alpha": alpha, "value": r});
        }
        if let Some(p) = &profile {
            v["profile"] = serde_json::json!(p);
        }
        writeln!(out, "{v}")?;
    } else {
        let list: Vec<String> = subsystem.iter().map(|q| q.to_string()).collect();
        writeln!(
            out,
            "S(A) = {value:.12} {} (von Neumann, log base {}), A = {{{}}} of {n} qubits",
            base.unit(),
            base.name(),
            list.join(", ")
        )?;
        if let Some((alpha, r)) = renyi {
            writeln!(out, "S_{alpha}(A) = {r:.12} {} (Rényi)", base.unit())?;
        }
        if let Some(p) = &profile {
            writeln!(out, "cut          S ({})", base.unit())?;
            for (k, s) in p.iter().enumerate() {
                writeln!(out, "{:<12} {s:.12}", format!("0..{k} | {}..", k + 1))?;
            }
        }
    }
    Ok(())
}
