//! The `qloop` command-line tool. Every command reads an OpenQASM 2.0 file or a qloop JSON
//! circuit; errors are one line on stderr and a non-zero exit status.

use clap::{Parser, Subcommand};
use qloop::pauli::Estimate;
use qloop::{Circuit, Counts, Error, PauliSum, Program};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[path = "cli/draw.rs"]
mod draw_cmd;
#[path = "cli/inspect.rs"]
mod inspect_cmd;
#[path = "cli/train.rs"]
mod train_cmd;

#[derive(Parser)]
#[command(
    name = "qloop",
    version,
    about = "Simulate and train hybrid variational quantum circuits: states, shots, expectation values, SPSA training"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Input {
    /// Circuit file: OpenQASM 2.0, or qloop JSON (detected by a leading '{').
    file: PathBuf,
    /// Bind a symbolic parameter: NAME=VALUE (repeatable).
    #[arg(long = "bind", value_name = "NAME=VALUE", value_parser = parse_binding)]
    bindings: Vec<(String, f64)>,
}

#[derive(Subcommand)]
enum Command {
    /// Write the state vector before any final measurement as JSON:
    /// {"num_qubits": n, "amplitudes": [[re, im], ...]} in basis-index order.
    State {
        #[command(flatten)]
        input: Input,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Sample measurement counts (qubit/classical bit 0 rightmost). Without measurements in the
    /// circuit, every qubit is measured.
    Run {
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
    },
    /// Expectation value of a weighted Pauli sum, exact or estimated from shots.
    Expect {
        #[command(flatten)]
        input: Input,
        /// Qiskit labels ("-1.05*II + 0.39*IZ + 0.18*XX", rightmost letter = qubit 0) or
        /// sparse form ("0.5*Z0*Z3 + X2").
        #[arg(long, allow_hyphen_values = true)]
        observable: String,
        /// Estimate from this many shots per measurement group, with a standard error.
        #[arg(long)]
        shots: Option<usize>,
        /// Seed of the sampler (with --shots); a random seed is chosen and reported if absent.
        #[arg(long)]
        seed: Option<u64>,
        /// Print {"value": x} (plus "stderr" and "seed" with --shots).
        #[arg(long)]
        json: bool,
    },
    /// Convert a circuit between OpenQASM 2.0 and qloop JSON (symbolic angles need --bind
    /// for OpenQASM).
    Convert {
        #[command(flatten)]
        input: Input,
        /// Output format.
        #[arg(long, value_enum)]
        to: Format,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Train a hybrid model with SPSA. Without --config: the built-in default (re-uploading
    /// circuit with shot readout and a dense stack, on the embedded Iris data). Writes
    /// DIR/model.json and DIR/loss.svg; Ctrl-C keeps DIR/checkpoint.bin for --resume.
    Train {
        /// TOML configuration (see the qloop::train::experiment docs for every key).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Output directory.
        #[arg(long, default_value = "qloop-run")]
        out: PathBuf,
        /// Continue the interrupted run whose checkpoint is in DIR.
        #[arg(long)]
        resume: bool,
    },
    /// Evaluate a trained model (model.json) on samples.
    Predict {
        /// The model file written by `qloop train`.
        #[arg(long)]
        model: PathBuf,
        /// One sample as comma-separated raw feature values (repeatable).
        #[arg(
            long = "input",
            required = true,
            value_name = "X1,X2,...",
            allow_hyphen_values = true
        )]
        inputs: Vec<String>,
        /// Print one JSON object per sample.
        #[arg(long)]
        json: bool,
    },
    /// Entanglement entropy of the circuit's state (before any final measurement) across a cut.
    Entropy {
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
    },
    /// Diagnose an ansatz: gates and parameters that cannot change the measured outcomes,
    /// redundant parameters, entangling capability and per-parameter sensitivity.
    Lint {
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
    },
    /// Draw a circuit (OpenQASM, qloop JSON, or a trained model.json with its trained angles)
    /// as SVG, standard or Feynman-style, or as Unicode text.
    Draw {
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
    },
    /// Qubits, classical bits, depth, gate counts and parameters.
    Info {
        /// Circuit file: OpenQASM 2.0, or qloop JSON.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DrawStyle {
    Standard,
    Feynman,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DrawFormat {
    Svg,
    Text,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Qasm,
    Json,
}

fn parse_binding(text: &str) -> Result<(String, f64), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not NAME=VALUE"))?;
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("'{value}' is not a number"))?;
    if !value.is_finite() {
        return Err(format!(
            "'{name}' is bound to {value}; values must be finite"
        ));
    }
    Ok((name.trim().to_string(), value))
}

/// An error of the tool: the library's, or a failed write.
enum Failure {
    Qloop(Error),
    Io(io::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Qloop(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Io(e)) => {
            eprintln!("qloop: error: {e}");
            ExitCode::FAILURE
        }
        Err(Failure::Qloop(e)) => {
            let hint = match &e {
                Error::UnboundParameter { name, .. } => {
                    format!(" (give it with --bind {name}=VALUE)")
                }
                _ => String::new(),
            };
            eprintln!("qloop: error: {e}{hint}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the circuit and substitutes the `--bind` values (other parameters stay symbolic).
fn load_bound(input: &Input) -> Result<Circuit, Error> {
    let circuit = Circuit::load(&input.file)?;
    Ok(circuit.bind(|p| {
        input
            .bindings
            .iter()
            .find(|(n, _)| *n == p.name)
            .map(|b| b.1)
    }))
}

/// Loads, binds and compiles the circuit; every parameter must be bound.
fn load(input: &Input) -> Result<(Circuit, Program), Error> {
    let circuit = load_bound(input)?;
    if let Some(p) = circuit.parameters().into_iter().next() {
        return Err(Error::UnboundParameter {
            name: p.name,
            kind: p.kind,
        });
    }
    let program = circuit.compile()?;
    Ok((circuit, program))
}

fn seed_or_random(seed: Option<u64>) -> u64 {
    seed.unwrap_or_else(rand::random)
}

fn execute(command: Command) -> Result<(), Failure> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match command {
        Command::State { input, output } => {
            let (_, program) = load(&input)?;
            let state = program.statevector(&[], &[])?;
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
                None => write(&mut out)?,
            }
        }
        Command::Run {
            input,
            shots,
            seed,
            json,
            plot,
        } => {
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
                let value = serde_json::json!({"shots": counts.shots, "seed": seed, "counts": counts.counts});
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
        }
        Command::Expect {
            input,
            observable,
            shots,
            seed,
            json,
        } => {
            let (_, program) = load(&input)?;
            let observable: PauliSum = observable.parse()?;
            observable.check_width(program.num_qubits())?;
            let state = program.statevector(&[], &[])?;
            match shots {
                None => {
                    let value = observable.expectation(&state)?;
                    if json {
                        writeln!(out, "{}", serde_json::json!({ "value": value }))?;
                    } else {
                        writeln!(out, "{value}")?;
                    }
                }
                Some(shots) => {
                    let seed = seed_or_random(seed);
                    let Estimate { value, stderr } = observable.estimate(&state, shots, seed)?;
                    if json {
                        let v = serde_json::json!({"value": value, "stderr": stderr, "shots": shots, "seed": seed});
                        writeln!(out, "{v}")?;
                    } else {
                        writeln!(
                            out,
                            "{value} ± {stderr} ({shots} shots per group, seed {seed})"
                        )?;
                    }
                }
            }
        }
        Command::Convert { input, to, output } => {
            let circuit = load_bound(&input)?;
            let text = match to {
                Format::Qasm => qloop::qasm::export(&circuit)?,
                Format::Json => circuit.to_json() + "\n",
            };
            match output {
                Some(path) => write_file(&path, |w| w.write_all(text.as_bytes()))?,
                None => out.write_all(text.as_bytes())?,
            }
        }
        Command::Train {
            config,
            out: dir,
            resume,
        } => train_cmd::train(config, dir, resume, &mut out)?,
        Command::Predict {
            model,
            inputs,
            json,
        } => train_cmd::predict(&model, &inputs, json, &mut out)?,
        Command::Entropy {
            input,
            subsystem,
            base,
            renyi,
            profile,
            plot,
            json,
        } => {
            let (_, program) = load(&input)?;
            let state = program.statevector(&[], &[])?;
            let request = inspect_cmd::EntropyRequest {
                subsystem: subsystem.as_deref(),
                base,
                renyi,
                profile: profile || plot.is_some(),
                plot: plot.as_deref(),
                json,
            };
            inspect_cmd::entropy(&state, &request, &mut out)?;
        }
        Command::Lint {
            file,
            samples,
            seed,
            json,
        } => {
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
        }
        Command::Draw {
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
        } => {
            let request = draw_cmd::DrawRequest {
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
            draw_cmd::draw(&request, &mut out)?;
        }
        Command::Info { file, json } => {
            let circuit = Circuit::load(&file)?;
            let layout = qloop::ParameterLayout::of(&circuit);
            if json {
                let v = serde_json::json!({
                    "num_qubits": circuit.num_qubits(),
                    "num_clbits": circuit.num_clbits(),
                    "depth": circuit.depth(),
                    "size": circuit.len(),
                    "gate_counts": circuit.gate_counts(),
                    "parameters": {"weights": layout.weights, "inputs": layout.inputs},
                });
                writeln!(out, "{v}")?;
            } else {
                writeln!(out, "file:        {}", file.display())?;
                writeln!(out, "qubits:      {}", circuit.num_qubits())?;
                writeln!(out, "clbits:      {}", circuit.num_clbits())?;
                writeln!(out, "depth:       {}", circuit.depth())?;
                writeln!(out, "instructions: {}", circuit.len())?;
                let counts: Vec<String> = circuit
                    .gate_counts()
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect();
                writeln!(out, "gate counts: {}", counts.join(", "))?;
                writeln!(out, "weights:     {}", list_or_none(&layout.weights))?;
                writeln!(out, "inputs:      {}", list_or_none(&layout.inputs))?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// A finite `f64` in shortest round-trip form (JSON has no NaN or infinity).
fn json_f64(v: f64) -> String {
    serde_json::Number::from_f64(v).map_or_else(|| "null".into(), |n| n.to_string())
}

fn write_file(
    path: &Path,
    write: impl Fn(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Failure> {
    let wrap = |source| {
        Failure::Qloop(Error::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let file = std::fs::File::create(path).map_err(wrap)?;
    let mut w = BufWriter::new(file);
    write(&mut w).and_then(|_| w.flush()).map_err(wrap)
}
