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
    let request = crate::entropy::EntropyRequest {
        subsystem: subsystem.as_deref(),
        base,
        renyi,
        profile: profile || plot.is_some(),
        plot: plot.as_deref(),
        json,
    };
    #[cfg(feature = "mpi")]
    if precision == Precision::Double {
        let circuit = load_fully_bound(&input)?;
        if let Some(mut d) = crate::distributed::run(&circuit)? {
            // Every rank takes part in the reductions; rank 0 prints and draws.
            let root = crate::distributed::is_root();
            let request = crate::entropy::EntropyRequest {
                plot: request.plot.filter(|_| root),
                ..request
            };
            let mut sink = std::io::sink();
            let out: &mut dyn Write = if root { out } else { &mut sink };
            crate::entropy::entropy(&mut d, &request, out)?;
            return Ok(());
        }
    }
    if !crate::distributed::is_root() {
        // Not split over the ranks: rank 0 runs it alone.
        return Ok(());
    }
    let (_, program) = load(&input)?;
    let mut state = match precision {
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
    crate::entropy::entropy(&mut state, &request, out)?;
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

/// A state whose cuts have entropies: one process's, or one distributed over MPI ranks.
pub trait Cuts {
    fn num_qubits(&self) -> usize;
    fn von_neumann(&mut self, a: &[usize], base: LogBase) -> Result<f64, Error>;
    fn renyi(&mut self, a: &[usize], alpha: f64, base: LogBase) -> Result<f64, Error>;
}

impl Cuts for StateVector {
    fn num_qubits(&self) -> usize {
        StateVector::num_qubits(self)
    }
    fn von_neumann(&mut self, a: &[usize], base: LogBase) -> Result<f64, Error> {
        self.entanglement().von_neumann(a, base)
    }
    fn renyi(&mut self, a: &[usize], alpha: f64, base: LogBase) -> Result<f64, Error> {
        self.entanglement().renyi(a, alpha, base)
    }
}

impl<C: qloop::dist::Cluster> Cuts for qloop::dist::DistributedState<C> {
    fn num_qubits(&self) -> usize {
        qloop::dist::DistributedState::num_qubits(self)
    }
    fn von_neumann(&mut self, a: &[usize], base: LogBase) -> Result<f64, Error> {
        Ok(self.spectrum(a)?.von_neumann(base))
    }
    fn renyi(&mut self, a: &[usize], alpha: f64, base: LogBase) -> Result<f64, Error> {
        self.spectrum(a)?.renyi(alpha, base)
    }
}

pub fn entropy(
    state: &mut dyn Cuts,
    request: &EntropyRequest,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let n = state.num_qubits();
    let subsystem = match request.subsystem {
        Some(text) => parse_qubits(text)?,
        None => half_cut(n),
    };
    let base = request.base;
    let value = state.von_neumann(&subsystem, base)?;
    let renyi = match request.renyi {
        Some(alpha) => Some((alpha, state.renyi(&subsystem, alpha, base)?)),
        None => None,
    };
    let profile = if request.profile {
        Some(
            (1..n)
                .map(|k| state.von_neumann(&(0..k).collect::<Vec<_>>(), base))
                .collect::<Result<Vec<f64>, Error>>()?,
        )
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
