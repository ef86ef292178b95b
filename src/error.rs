//! The one error type of qloop.
//!
//! Every variant carries the numbers a user needs to find the problem: the qubit and the
//! circuit size, the instruction index, the file, line and column. Validation happens at the
//! edges (compiling a circuit, parsing a file, loading JSON); kernels only `debug_assert!`.

use std::path::PathBuf;

/// Where in a source text something was found (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, or `None` for text that did not come from a file.
    pub file: Option<PathBuf>,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.file {
            Some(path) => write!(f, "{}:{}:{}", path.display(), self.line, self.column),
            None => write!(f, "<input>:{}:{}", self.line, self.column),
        }
    }
}

/// Which of the two parameter vectors a value belongs to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    /// A trainable weight (a circuit angle the optimizer tunes).
    Weight,
    /// A data input (bound to a feature of each sample).
    Input,
}

impl std::fmt::Display for ParamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ParamKind::Weight => "weight",
            ParamKind::Input => "input",
        })
    }
}

/// Everything that can go wrong in qloop. Variant fields are named for the number they carry.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)]
pub enum Error {
    /// An instruction names a qubit the circuit does not have.
    #[error("instruction {instruction} ({name}): qubit {qubit} is out of range for a circuit of {num_qubits} qubits")]
    QubitOutOfRange {
        instruction: usize,
        name: String,
        qubit: usize,
        num_qubits: usize,
    },

    /// An instruction names a classical bit the circuit does not have.
    #[error("instruction {instruction} (measure): classical bit {clbit} is out of range for a circuit of {num_clbits} classical bits")]
    ClbitOutOfRange {
        instruction: usize,
        clbit: usize,
        num_clbits: usize,
    },

    /// A gate is given the same qubit twice.
    #[error("instruction {instruction} ({name}): qubit {qubit} is used twice; the operands of a gate must be distinct")]
    DuplicateQubit {
        instruction: usize,
        name: String,
        qubit: usize,
    },

    /// A gate is given the wrong number of qubits.
    #[error("instruction {instruction} ({name}): expects {expected} qubits, got {got}")]
    WrongArity {
        instruction: usize,
        name: String,
        expected: usize,
        got: usize,
    },

    /// A dynamic circuit (mid-circuit measurement, reset or a classical condition) asked for
    /// one statevector: it has none, it has a distribution of outcomes.
    #[error("instruction {instruction} ({name}): {reason}, so the circuit has no single statevector; simulate it with `qloop run` / `qloop expect` (methods density or trajectories)")]
    Dynamic {
        instruction: usize,
        name: String,
        reason: String,
    },

    /// A simulation method that cannot run this circuit.
    #[error(
        "method {method} cannot run this circuit: {reason}; use the density or trajectories method"
    )]
    Method { method: String, reason: String },

    /// Single precision asked for where only double precision runs.
    #[error("single precision runs noiseless unitary circuits on the statevector: {reason}; use double precision (--precision double)")]
    SinglePrecision { reason: String },

    /// A precision name that is not `single` or `double`.
    #[error("precision '{0}' is not one of: single, double")]
    UnknownPrecision(String),

    /// A malformed classical condition (`if`).
    #[error("instruction {instruction} (if): {message}")]
    BadCondition { instruction: usize, message: String },

    /// `inverse()` of a circuit with a measurement, reset or conditioned instruction.
    #[error("cannot invert instruction {instruction}: a measurement, reset or conditioned instruction has no inverse")]
    InverseOfMeasurement { instruction: usize },

    /// A constant angle (or a bound parameter value) is NaN or infinite.
    #[error("{context}: angle is {value}, but angles must be finite")]
    NonFiniteAngle { context: String, value: f64 },

    /// A parameter is used but no value was given for it.
    #[error("parameter '{name}' ({kind}) is not bound to a value")]
    UnboundParameter { name: String, kind: ParamKind },

    /// A value given for a parameter that the circuit does not use.
    #[error("--bind {name}: {} has no parameter named '{name}'", .file.display())]
    UnknownParameter { name: String, file: PathBuf },

    /// The same parameter name is used both as a weight and as an input.
    #[error("parameter '{name}' is used both as a weight and as an input")]
    ParameterKindConflict { name: String },

    /// A parameter vector of the wrong length.
    #[error("expected {expected} {kind} values, got {got}")]
    ParameterLength {
        kind: ParamKind,
        expected: usize,
        got: usize,
    },

    /// A parameter value that is NaN or infinite.
    #[error("{kind} value {index} ('{name}') is {value}, but parameter values must be finite")]
    NonFiniteParameter {
        kind: ParamKind,
        index: usize,
        name: String,
        value: f64,
    },

    /// A state (or circuit) too large for this machine's memory.
    #[error("a state of {num_qubits} qubits needs {} of memory, but only {} is available", human_bytes(*.bytes_needed), human_bytes(*.bytes_available))]
    StateTooLarge {
        num_qubits: usize,
        bytes_needed: u128,
        bytes_available: u128,
    },

    /// A size above one of the caps of [`crate::limits`].
    #[error("{what} is {value}, more than the limit of {limit}")]
    TooLarge {
        what: String,
        value: u128,
        limit: u128,
    },

    /// A state vector of the wrong number of qubits was handed to a program.
    #[error("the program acts on {expected} qubits but the state has {got}")]
    StateSize { expected: usize, got: usize },

    /// A list of qubits (a marginal, an observable) that is invalid.
    #[error("{context}: qubit {qubit} is out of range for a state of {num_qubits} qubits")]
    SubsetOutOfRange {
        context: String,
        qubit: usize,
        num_qubits: usize,
    },

    /// A list of qubits that repeats one.
    #[error("{context}: qubit {qubit} appears more than once")]
    SubsetRepeated { context: String, qubit: usize },

    /// An empty list of qubits where at least one is needed.
    #[error("{context}: the subsystem is empty; name at least one qubit")]
    SubsetEmpty { context: String },

    /// Two lists of qubits that should be disjoint share one.
    #[error("{context}: qubit {qubit} is in both subsystems; they must be disjoint")]
    SubsetsOverlap { context: String, qubit: usize },

    /// A state whose squared norm is not 1 where a physical state is needed.
    #[error("the state is not normalized: its squared norm is {norm_sqr}")]
    NotNormalized { norm_sqr: f64 },

    /// A Rényi entropy of a negative or NaN order.
    #[error(
        "Rényi order α = {alpha} is invalid; α must be ≥ 0 (1 is von Neumann, inf the min-entropy)"
    )]
    RenyiOrder { alpha: f64 },

    /// A matrix decomposition that failed to converge.
    #[error("linear algebra: {0}")]
    Linalg(String),

    /// An observable string that does not parse, with the 1-based column.
    #[error("observable, column {column}: {message}")]
    Observable { column: usize, message: String },

    /// An observable that acts on qubits the circuit does not have.
    #[error("observable acts on {observable_qubits} qubits but the circuit has {num_qubits}")]
    ObservableSize {
        observable_qubits: usize,
        num_qubits: usize,
    },

    /// A noise channel or noise model with a bad parameter, named by its key.
    #[error("noise: {key} {message}")]
    Noise { key: String, message: String },

    /// Zero shots were asked for where an estimate needs at least one (or two) shots.
    #[error("{context}: need at least {min} shots, got {got}")]
    TooFewShots {
        context: String,
        min: usize,
        got: usize,
    },

    /// A syntax or semantic error in an OpenQASM source, with its location.
    #[error("{location}: {message}")]
    Qasm { location: Location, message: String },

    /// A circuit that cannot be written as OpenQASM 2.0.
    #[error("cannot export instruction {instruction} as OpenQASM 2.0: {reason}")]
    QasmExport { instruction: usize, reason: String },

    /// A JSON circuit that does not parse or is not a circuit.
    #[error("{}: invalid qloop JSON circuit: {source}", .path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "<input>".into()))]
    Json {
        path: Option<PathBuf>,
        source: serde_json::Error,
    },

    /// A model parameter vector whose length does not match the model's layout.
    #[error("model parameter vector has {got} values, but the layout {layout} needs {expected}")]
    ModelParameterLength {
        expected: usize,
        got: usize,
        layout: String,
    },

    /// Data whose shape does not fit the model or the loss (feature or target counts).
    #[error("{context}: {message}")]
    Shape { context: String, message: String },

    /// A data file that does not parse, with the 1-based line.
    #[error("{}:{line}: {message}", .path.display())]
    Data {
        path: PathBuf,
        line: usize,
        message: String,
    },

    /// A training configuration that is invalid: unknown key, wrong type, bad value.
    #[error("{}: {message}", .path.display())]
    Config { path: PathBuf, message: String },

    /// A checkpoint that cannot be resumed: not a checkpoint, another version or run, damaged.
    #[error("checkpoint {}: {message}", .path.display())]
    Checkpoint { path: PathBuf, message: String },

    /// A distributed run that cannot be laid out (rank count, qubits per rank).
    #[error("distributed run: {0}")]
    Distributed(String),

    /// A model part without an exact gradient, asked for one (a gradient-based optimizer).
    #[error("{what} has no exact gradient: {reason}")]
    NotDifferentiable { what: String, reason: String },

    /// An optimizer or training run that failed (wraps errors raised inside argmin).
    #[error("optimizer: {0}")]
    Optimizer(String),

    /// An error found in a file after it was read (a circuit's structure), with the file.
    #[error("{}: {source}", .path.display())]
    InFile { path: PathBuf, source: Box<Error> },

    /// An I/O error, with the path it concerns.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// The qloop error inside an argmin error (an objective's own error comes back as it
    /// was), or the argmin error as [`Error::Optimizer`].
    pub(crate) fn from_argmin(e: argmin::core::Error) -> Error {
        e.downcast::<Error>()
            .unwrap_or_else(|e| Error::Optimizer(e.to_string()))
    }
}

/// `Result` with qloop's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Formats a byte count with a binary unit (`16.0 GiB`).
pub(crate) fn human_bytes(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
