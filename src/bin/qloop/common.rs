//! What the commands share: the circuit argument, loading and binding, the error type,
//! number formatting and atomic file writes.

pub use qloop::{Circuit, Error, Precision, Program, StateVector32};
pub use std::io::{self, Write};
pub use std::path::{Path, PathBuf};

#[derive(clap::Args)]
/// The circuit a command reads, and the values bound to its symbolic parameters.
pub struct Input {
    /// Circuit file: OpenQASM 2.0, or qloop JSON (detected by a leading '{').
    pub file: PathBuf,
    /// Bind a symbolic parameter: NAME=VALUE (repeatable).
    #[arg(long = "bind", value_name = "NAME=VALUE", value_parser = parse_binding)]
    pub bindings: Vec<(String, f64)>,
}

/// A `--bind NAME=VALUE` argument.
pub fn parse_binding(text: &str) -> Result<(String, f64), String> {
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
pub enum Failure {
    Qloop(Error),
    Io(io::Error),
    /// Stopped by Ctrl-C after saving what it could (exit status 130, as shells expect).
    Interrupted,
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

/// Loads the circuit and substitutes the `--bind` values (other parameters stay symbolic).
/// A name the circuit does not use, and a value that makes an angle non-finite, are refused.
pub fn load_bound(input: &Input) -> Result<Circuit, Error> {
    let circuit = Circuit::load(&input.file)?;
    if input.bindings.is_empty() {
        return Ok(circuit);
    }
    let names: std::collections::HashSet<String> =
        circuit.parameters().into_iter().map(|p| p.name).collect();
    if let Some((name, _)) = input.bindings.iter().find(|(n, _)| !names.contains(n)) {
        return Err(Error::UnknownParameter {
            name: name.clone(),
            file: input.file.clone(),
        });
    }
    let values: std::collections::HashMap<&str, f64> = input
        .bindings
        .iter()
        .map(|(n, v)| (n.as_str(), *v))
        .collect();
    let bound = circuit.bind(|p| values.get(p.name.as_str()).copied());
    bound.validate()?;
    Ok(bound)
}

/// Loads and binds the circuit; every parameter must be bound.
pub fn load_fully_bound(input: &Input) -> Result<Circuit, Error> {
    let circuit = load_bound(input)?;
    if let Some(p) = circuit.parameters().into_iter().next() {
        return Err(Error::UnboundParameter {
            name: p.name,
            kind: p.kind,
        });
    }
    Ok(circuit)
}

/// Loads, binds and compiles the circuit; every parameter must be bound, and the circuit must
/// be unitary (a dynamic one is refused with a pointer to `run` and `expect`).
pub fn load(input: &Input) -> Result<(Circuit, Program), Error> {
    let circuit = load_fully_bound(input)?;
    let program = circuit.compile()?;
    Ok((circuit, program))
}

/// Refuses single precision where it does not run: `circuit` must be unitary and run
/// noiseless on the statevector (`noisy`: a noise model was given; `method`: the one asked for).
pub fn check_single(
    circuit: &Circuit,
    noisy: bool,
    method: qloop::noise::Method,
) -> Result<(), Error> {
    use qloop::noise::Method;
    let reason = if noisy {
        "a noise model was given".to_string()
    } else if circuit.is_dynamic() {
        "the circuit measures, resets or branches mid-circuit".to_string()
    } else if !matches!(method, Method::Auto | Method::Statevector) {
        format!("the {method} method was asked for")
    } else {
        return Ok(());
    };
    Err(Error::SinglePrecision { reason })
}

/// The single-precision state of a compiled program without parameters.
pub fn single_state(program: &Program) -> Result<StateVector32, Error> {
    let mut state = StateVector32::zero(program.num_qubits())?;
    let par = qloop::Par::auto(program.num_qubits());
    program.run_single(&[], &[], &mut state, par)?;
    Ok(state)
}

pub fn seed_or_random(seed: Option<u64>) -> u64 {
    seed.unwrap_or_else(rand::random)
}

/// A finite `f64` in shortest round-trip form (JSON has no NaN or infinity).
pub fn json_f64(v: f64) -> String {
    serde_json::Number::from_f64(v).map_or_else(|| "null".into(), |n| n.to_string())
}

/// Writes a command's output to `path` atomically (streamed, see [`qloop::atomic`]).
pub fn write_file(
    path: &Path,
    write: impl Fn(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Failure> {
    Ok(qloop::atomic::write_atomic_with(path, |w| write(w))?)
}

/// One sample given as comma-separated finite numbers.
pub fn parse_sample(text: &str, context: &str) -> Result<Vec<f64>, Error> {
    text.split(',')
        .map(|v| v.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(|| Error::Shape {
            context: context.into(),
            message: format!("'{text}' is not a comma-separated list of finite numbers"),
        })
}
