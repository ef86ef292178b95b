//! `qloop draw`: a circuit, or a trained model with its angles, as SVG or Unicode text.

use crate::common::*;

/// The arguments of `qloop draw`.
#[derive(clap::Args)]
pub struct Args {
    /// Circuit file, or the model.json written by `qloop train`.
    file: PathBuf,
    /// Bind a symbolic parameter: NAME=VALUE (repeatable).
    #[arg(long = "bind", value_name = "NAME=VALUE", value_parser = parse_binding)]
    bindings: Vec<(String, f64)>,
    /// Diagram style.
    #[arg(long, value_enum, default_value = "standard")]
    style: DrawStyle,
    /// Output format.
    #[arg(long, value_enum, default_value = "svg")]
    format: DrawFormat,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Fold after this many columns.
    #[arg(long, value_name = "N")]
    fold: Option<usize>,
    /// Colour theme (SVG).
    #[arg(long, default_value = "light")]
    theme: qloop::draw::Theme,
    /// Draw a colour band of the measured probabilities (for a model with --input: its
    /// output activations) above the diagram.
    #[arg(long)]
    activations: bool,
    /// Print the entanglement entropy of each cut between the world-lines (Feynman style).
    #[arg(long)]
    entropy: bool,
    /// For a model.json: one sample (raw features, comma-separated) to bind the inputs.
    #[arg(long, value_name = "X1,X2,...", allow_hyphen_values = true)]
    input: Option<String>,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args {
        file,
        bindings,
        style,
        format,
        output,
        fold,
        theme,
        activations,
        entropy,
        input,
    } = args;
    let request = crate::draw::DrawRequest {
        file,
        bindings,
        view: match style {
            DrawStyle::Standard => qloop::draw::View::Standard,
            DrawStyle::Feynman => qloop::draw::View::Feynman,
        },
        text: matches!(format, DrawFormat::Text),
        output,
        fold,
        theme,
        activations,
        entropy,
        input,
    };
    crate::draw::draw(&request, out)?;
    Ok(())
}

use qloop::draw::{Activations, Style, Theme, View};
use qloop::entropy::LogBase;
use qloop::train::experiment::SavedModel;
use qloop::{Circuit, Error};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `qloop draw` was asked for.
pub struct DrawRequest {
    pub file: PathBuf,
    pub bindings: Vec<(String, f64)>,
    pub view: View,
    pub text: bool,
    pub output: Option<PathBuf>,
    pub fold: Option<usize>,
    pub theme: Theme,
    pub activations: bool,
    pub entropy: bool,
    pub input: Option<String>,
}

/// A trained model's file (model.json) rather than a circuit.
fn is_model_file(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .map(|t| t.trim_start().starts_with('{') && t.contains("\"qloop_version\""))
        .unwrap_or(false)
}

fn bind_named(circuit: &Circuit, bindings: &[(String, f64)]) -> Circuit {
    circuit.bind(|p| bindings.iter().find(|(n, _)| *n == p.name).map(|b| b.1))
}

/// The circuit to draw, and for models the class names and a function of the bound circuit
/// giving the output activations.
fn load(request: &DrawRequest) -> Result<(Circuit, Option<Activations>), Failure> {
    if !is_model_file(&request.file) {
        if request.input.is_some() {
            return Err(Error::Shape {
                context: "--input".into(),
                message: "a sample can only be given when drawing a trained model (model.json)"
                    .into(),
            }
            .into());
        }
        let circuit = Circuit::load(&request.file)?;
        return Ok((bind_named(&circuit, &request.bindings), None));
    }
    let saved = SavedModel::load(&request.file)?;
    let mut circuit = saved.trained_circuit();
    let mut outputs = None;
    if let Some(text) = &request.input {
        let raw: Vec<f64> = crate::common::parse_sample(text, "--input")?;
        let width = saved.scaler.min.len();
        if raw.len() != width {
            return Err(Error::Shape {
                context: "--input".into(),
                message: format!("the model takes {width} features, got {}", raw.len()),
            }
            .into());
        }
        let scaled = saved.scaler.transform_row(&raw)?;
        let names = saved.model.program().layout().inputs.clone();
        circuit = circuit.bind(|p| names.iter().position(|n| *n == p.name).map(|k| scaled[k]));
        let sample = ndarray::Array2::from_shape_vec((1, raw.len()), raw).expect("one row");
        let probabilities = saved.predict(&sample)?;
        outputs = Some(Activations {
            title: format!("model output for input {text}"),
            labels: saved.classes.clone(),
            values: probabilities.row(0).to_vec(),
        });
    }
    Ok((bind_named(&circuit, &request.bindings), outputs))
}

/// The measured distribution as an activation band: one cell per outcome of the measured
/// qubits (all qubits if none is measured), or per-qubit P(1) beyond 64 outcomes.
fn probability_band(circuit: &Circuit) -> Result<Activations, Failure> {
    let state = unbound_checked(circuit)?.statevector(&[], &[])?;
    let mut measured: Vec<usize> = circuit.measurements().iter().map(|m| m.0).collect();
    if measured.is_empty() {
        measured = (0..circuit.num_qubits()).collect();
    }
    if measured.len() <= 6 {
        let values = state.marginal_probabilities(&measured)?;
        let labels = (0..values.len())
            .map(|j| {
                (0..measured.len())
                    .rev()
                    .map(|k| if j >> k & 1 == 1 { '1' } else { '0' })
                    .collect()
            })
            .collect();
        let qubits: Vec<String> = measured.iter().rev().map(|q| q.to_string()).collect();
        Ok(Activations {
            title: format!("P(outcome), qubits {} (left to right)", qubits.join(",")),
            labels,
            values,
        })
    } else {
        let values = measured
            .iter()
            .map(|&q| state.marginal_probabilities(&[q]).map(|p| p[1]))
            .collect::<Result<Vec<f64>, Error>>()?;
        Ok(Activations {
            title: "P(qubit = 1)".into(),
            labels: measured.iter().map(|q| format!("q{q}")).collect(),
            values,
        })
    }
}

/// Compiles a circuit whose every parameter must be bound for an overlay.
fn unbound_checked(circuit: &Circuit) -> Result<qloop::Program, Failure> {
    if let Some(p) = circuit.parameters().into_iter().next() {
        return Err(Error::UnboundParameter {
            name: p.name,
            kind: p.kind,
        }
        .into());
    }
    Ok(circuit.compile()?)
}

pub fn draw(request: &DrawRequest, out: &mut dyn Write) -> Result<(), Failure> {
    let (circuit, model_outputs) = load(request)?;
    circuit.validate()?;
    let document = if request.text {
        circuit.to_text(request.fold)
    } else {
        let mut style = Style {
            view: request.view,
            theme: request.theme,
            fold: request.fold,
            ..Style::default()
        };
        if request.activations {
            style.activations = Some(match model_outputs {
                Some(a) => a,
                None => probability_band(&circuit)?,
            });
        }
        if request.entropy {
            if request.view != View::Feynman {
                return Err(Error::Shape {
                    context: "--entropy".into(),
                    message:
                        "the entropy of each cut is drawn in the Feynman view; add --style feynman"
                            .into(),
                }
                .into());
            }
            let state = unbound_checked(&circuit)?.statevector(&[], &[])?;
            let profile = state.entanglement().profile(LogBase::E)?;
            style.cut_entropies = Some((profile, "nats".into()));
        }
        circuit.to_svg(&style)
    };
    match &request.output {
        Some(path) => qloop::atomic::write_atomic(path, document.as_bytes())?,
        None => out.write_all(document.as_bytes())?,
    }
    Ok(())
}

/// The diagram styles.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DrawStyle {
    Standard,
    Feynman,
}

/// The output formats of a drawing.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DrawFormat {
    Svg,
    Text,
}
