//! A training run described by a TOML configuration: what `qloop train` runs.
//!
//! The default configuration (every key optional) is the working recursive hybrid model on
//! Iris: 4 qubits, 2 re-uploading layers of the seed design with a basis change
//! ([`ansatz::reuploading`]), `⟨Z_q⟩` read from 1000 shots, a dense 4 → 8 → 3 stack (tanh,
//! softmax), cross-entropy, SPSA on circuit angles and dense weights jointly.
//!
//! ```toml
//! seed = 7
//! [data]
//! dataset = "iris"        # iris | moons | circles | parity | csv
//! test_fraction = 0.3
//! [model]
//! layers = 2
//! readout = "z"           # z | probabilities
//! shots = 1000            # 0 = exact expectation values
//! hidden = [8]
//! precision = "double"    # double | single (f32 amplitudes; not with noise or adam)
//! [train]
//! optimizer = "spsa"      # spsa | 2spsa | adam
//! iterations = 400
//! max_evals = 0           # loss-evaluation budget; 0 = none
//! batch = 32              # 0 = full batch
//! learning_rate = 0.05    # adam
//! ```
//!
//! `adam` follows exact gradients (backpropagation through the layers, an adjoint sweep of the
//! circuit per sample, [`HybridModel::gradient`]): it needs `shots = 0`, no noise model, sample
//! data and layers with a backward pass (dense, sparse, entangled-block); anything else is
//! refused before training starts, naming the key.
//!
//! Sequence data sets (`sensors`, the jittered multi-sensor regression, and `xor-events`, the
//! event-based bit-stream XOR, of [`tasks`](crate::train::tasks)) train a recurrent model:
//! the circuit reads every step, and a liquid or recurrent cell carries the state from step
//! to step, before the dense layers and the output head:
//!
//! ```toml
//! [data]
//! dataset = "sensors"     # sensors | xor-events
//! channels = 3            # sensors
//! steps = 12              # sensors
//! gap = 0.3               # nominal time between readings (sensors)
//! jitter = 0.5            # sampling jitter as a fraction of the gap (sensors)
//! [model]
//! kind = "ltc"            # dense | ltc | cfc | qs-ltc | rnn | lif | qlif | sparse | entangled-block
//! units = 8
//! unfolds = 6             # ltc, qs-ltc
//! copies = 4              # qs-ltc
//! tau = 1.0               # initial time constant (ltc, qs-ltc)
//! backbone = 0            # cfc; 0 = as many as units
//! collapse = "expectation" # qs-ltc: expectation | sample
//! interference = false    # qs-ltc
//! hidden = []
//! ```
//!
//! The spiking layers (`lif`, `qlif` of `units` neurons, `units / 2` pairs) read a static
//! sample as a constant current for one input step of `substeps` sub-steps, and a sequence
//! step by step; the sparse layer and the entangled block are stateless:
//!
//! ```toml
//! [model]
//! kind = "qlif"
//! units = 8
//! threshold = 1.0          # lif, qlif
//! reset = "subtract"       # subtract | to (v_reset)
//! v_reset = 0.0
//! refractory = 0           # sub-steps held after a spike
//! substeps = 16            # membrane sub-steps per input step
//! decode = "rate"          # rate | first-spike | spikes
//! coupling = "entangled"   # qlif: entangled | classical | independent
//! sparsity = 0.9           # sparse: the share of weights dropped, in [0, 1)
//! heads = 3                # entangled-block
//! head_outputs = 2         # entangled-block
//! ```
//!
//! Unknown keys and wrong types are errors naming the key and the file.

use crate::entropy::{half_cut, LogBase};
use crate::error::{Error, ParamKind, Result};
use crate::limits;
use crate::rng::role;
use crate::train::objective::{accuracy, Loss, Objective, Probe, Supervised};
use crate::train::parallel::{DataParallel, Ranks};
use crate::train::{
    ansatz, fingerprint, optimize, spiking, tasks, Activation, AnyLayer, AtomicCheckpoint, Bounds,
    Cfc, Collapse, Coupling, Dataset, Decode, Dense, EntangledBlock, HybridModel, Layer, Lif, Ltc,
    Membrane, ModelLayout, Network, Optimizer, OptimizerRecord, Outcome, QLifPair, QsLtc, Readout,
    ReadoutSpec, Reset, Rnn, RunOptions, Scaler, SequenceSet, SequenceSupervised, SparseDense,
    Spsa, SpsaState, StateEntanglement, StepSize, Stream,
};
use crate::train::{Adam, OptimState, SecondOrderSpsa};
use crate::{Circuit, Precision};
use argmin::core::observers::Observe;
use argmin::core::CostFunction;
use argmin::core::{Problem, Solver, TerminationStatus, KV};
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The whole configuration. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Seed of every random draw (split, initialization, SPSA, shots).
    pub seed: u64,
    /// The data.
    pub data: DataConfig,
    /// The model.
    pub model: ModelConfig,
    /// The optimizer.
    pub train: OptimizerConfig,
    /// A noise model (TOML, `docs/conventions.md`) the circuit runs under during training
    /// and evaluation, relative to the configuration file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<PathBuf>,
}

/// `[data]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// `iris`, `moons`, `circles`, `parity`, `csv` (samples), or `sensors`, `xor-events`
    /// (sequences).
    pub dataset: String,
    /// CSV file (for `dataset = "csv"`), relative to the configuration file.
    pub path: Option<PathBuf>,
    /// Samples of generated sets (moons, circles, sensors, xor-events).
    pub samples: usize,
    /// Noise of generated sets.
    pub noise: f64,
    /// Bits of the parity and xor-events sets.
    pub bits: usize,
    /// Sensors of the sensors set.
    pub channels: usize,
    /// Steps of every sequence of the sensors set.
    pub steps: usize,
    /// Nominal time between readings of the sensors set.
    pub gap: f64,
    /// Sampling jitter of the sensors set, a fraction of the gap in `[0, 1)`.
    pub jitter: f64,
    /// Fraction held out for testing.
    pub test_fraction: f64,
}

/// `[model]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Qubits; 0 = one per feature (at least 2).
    pub qubits: usize,
    /// Re-uploading layers.
    pub layers: usize,
    /// `z` (⟨Z_q⟩ per qubit) or `probabilities`.
    pub readout: String,
    /// Shots per circuit evaluation; 0 = exact.
    pub shots: usize,
    /// Hidden layer widths of the dense stack.
    pub hidden: Vec<usize>,
    /// Hidden activation: `tanh`, `relu`, `sigmoid`, `identity`, `phase-tanh` or `cnot`.
    pub activation: Activation,
    /// The first classical layer: `dense` (the hidden stack alone), or a layer of `units`
    /// units before it: a recurrent cell `ltc`, `cfc`, `qs-ltc`, `rnn`, a spiking layer `lif`,
    /// `qlif`, a `sparse` layer or an `entangled-block` (its heads side by side).
    pub kind: String,
    /// Units of the recurrent cell.
    pub units: usize,
    /// Fused-step unfolds per step (ltc, qs-ltc).
    pub unfolds: usize,
    /// Copies `S` (qs-ltc).
    pub copies: usize,
    /// Initial time constant (ltc, qs-ltc).
    pub tau: f64,
    /// Backbone units (cfc); 0 = as many as `units`.
    pub backbone: usize,
    /// Collapse of the copies (qs-ltc).
    pub collapse: Collapse,
    /// Phase interference between copies (qs-ltc).
    pub interference: bool,
    /// Firing threshold (lif, qlif).
    pub threshold: f64,
    /// Reset after a spike (lif, qlif).
    pub reset: Reset,
    /// Membrane after a spike with `reset = "to"` (lif, qlif).
    pub v_reset: f64,
    /// Sub-steps held after a spike (lif, qlif).
    pub refractory: usize,
    /// Membrane sub-steps per input step (lif, qlif).
    pub substeps: usize,
    /// Output decoding (lif, qlif).
    pub decode: Decode,
    /// Coupling of the pairs (qlif).
    pub coupling: Coupling,
    /// Share of weights dropped (sparse), in `[0, 1)`.
    pub sparsity: f64,
    /// Precision of the circuit's amplitudes: `double` (the default) or `single` (noiseless
    /// models trained by SPSA or 2-SPSA; `docs/conventions.md`, "Precision").
    pub precision: Precision,
    /// Heads (entangled-block).
    pub heads: usize,
    /// Outputs per head (entangled-block).
    pub head_outputs: usize,
}

/// `[train] optimizer`: which solver trains the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// First-order SPSA ([`Spsa`]), two blocks with calibrated gains (the default).
    #[serde(rename = "spsa")]
    Spsa,
    /// 2-SPSA ([`SecondOrderSpsa::hessian`]).
    #[serde(rename = "2spsa")]
    SecondOrderSpsa,
    /// Adam on exact gradients ([`Adam`]); needs exact readout and differentiable layers.
    #[serde(rename = "adam")]
    Adam,
}

/// `[train]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizerConfig {
    /// The solver.
    pub optimizer: Method,
    /// Adam's step size `η`.
    pub learning_rate: f64,
    /// Iterations.
    pub iterations: u64,
    /// Budget of loss evaluations (calibration, blocking checks and gradients included;
    /// 0 = none): the run stops before an iteration that would exceed it.
    pub max_evals: u64,
    /// Minibatch size; 0 = full batch.
    pub batch: usize,
    /// Calibrated first step of the circuit angles.
    pub circuit_step: f64,
    /// Calibrated first step of the dense weights.
    pub dense_step: f64,
    /// Perturbation `c` of the circuit angles.
    pub circuit_c: f64,
    /// Perturbation `c` of the dense weights.
    pub dense_c: f64,
    /// Gradient estimates averaged per iteration.
    pub resamplings: usize,
    /// Reject steps that raise the loss beyond its noise level.
    pub blocking: bool,
    /// Stop early when the loss estimate reaches this value.
    pub target_loss: Option<f64>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 7,
            data: DataConfig::default(),
            model: ModelConfig::default(),
            train: OptimizerConfig::default(),
            noise: None,
        }
    }
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            dataset: "iris".into(),
            path: None,
            samples: 200,
            noise: 0.1,
            bits: 4,
            channels: 3,
            steps: 12,
            gap: tasks::SENSOR_GAP,
            jitter: 0.5,
            test_fraction: 0.3,
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            qubits: 0,
            layers: 2,
            readout: "z".into(),
            shots: 1000,
            hidden: vec![8],
            activation: Activation::Tanh,
            kind: "dense".into(),
            units: 8,
            unfolds: crate::train::liquid::DEFAULT_UNFOLDS,
            copies: 4,
            tau: 1.0,
            backbone: 0,
            collapse: Collapse::Expectation,
            interference: false,
            threshold: Membrane::default().threshold,
            reset: Membrane::default().reset,
            v_reset: Membrane::default().v_reset,
            refractory: Membrane::default().refractory,
            substeps: Membrane::default().substeps,
            decode: Membrane::default().decode,
            coupling: Coupling::Entangled,
            sparsity: 0.9,
            precision: Precision::Double,
            heads: 2,
            head_outputs: 2,
        }
    }
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            optimizer: Method::Spsa,
            learning_rate: 0.05,
            iterations: 400,
            max_evals: 0,
            batch: 32,
            circuit_step: 0.3,
            dense_step: 0.3,
            circuit_c: 0.2,
            dense_c: 0.2,
            resamplings: 2,
            blocking: true,
            target_loss: None,
        }
    }
}

/// A TOML error as [`Error::Config`], located `line:col` in `text` (read from `path`).
pub(crate) fn toml_error(text: &str, path: &Path, e: &toml::de::Error) -> Error {
    let at = e.span().map(|s| {
        let line = text[..s.start].matches('\n').count() + 1;
        let col = s.start - text[..s.start].rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("{line}:{col}: ")
    });
    Error::Config {
        path: path.to_path_buf(),
        message: format!("{}{}", at.unwrap_or_default(), e.message()),
    }
}

impl TrainConfig {
    /// Reads a TOML file; errors name the file, the key and the line.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut cfg = Self::parse(&text, path)?;
        // A relative data path is relative to the configuration file; made absolute so that
        // the copy saved with a run (run.toml) still points at it.
        if let (Some(p), Some(dir)) = (&cfg.data.path, path.parent()) {
            let joined = dir.join(p);
            cfg.data.path = Some(std::path::absolute(&joined).unwrap_or(joined));
        }
        if let (Some(p), Some(dir)) = (&cfg.noise, path.parent()) {
            let joined = dir.join(p);
            let absolute = std::path::absolute(&joined).unwrap_or(joined);
            crate::noise::NoiseModel::load(&absolute)?;
            cfg.noise = Some(absolute);
        }
        Ok(cfg)
    }

    /// Parses TOML text (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let cfg: TrainConfig = toml::from_str(text).map_err(|e| toml_error(text, path, &e))?;
        cfg.check(path)?;
        Ok(cfg)
    }

    fn check(&self, path: &Path) -> Result<()> {
        let bad = |key: &str, message: String| {
            Err(Error::Config {
                path: path.to_path_buf(),
                message: format!("key '{key}': {message}"),
            })
        };
        if !DATASETS.contains(&self.data.dataset.as_str()) {
            return bad(
                "data.dataset",
                format!(
                    "unknown data set '{}'; expected {}",
                    self.data.dataset,
                    DATASETS.join(", ")
                ),
            );
        }
        if self.data.dataset == "csv" && self.data.path.is_none() {
            return bad("data.path", "dataset = \"csv\" needs a path".into());
        }
        if !(self.data.noise >= 0.0 && self.data.noise.is_finite()) {
            return bad(
                "data.noise",
                format!(
                    "must be a finite non-negative number, got {}",
                    self.data.noise
                ),
            );
        }
        if matches!(self.data.dataset.as_str(), "moons" | "circles")
            && self.data.samples > limits::MAX_DATA_VALUES / 2
        {
            return bad(
                "data.samples",
                format!(
                    "{} samples is more than the limit of {}",
                    self.data.samples,
                    limits::MAX_DATA_VALUES / 2
                ),
            );
        }
        if matches!(self.data.dataset.as_str(), "moons" | "circles") && self.data.samples < 4 {
            return bad(
                "data.samples",
                format!("need at least 4 samples, got {}", self.data.samples),
            );
        }
        if self.data.dataset == "parity" && !(1..=14).contains(&self.data.bits) {
            return bad(
                "data.bits",
                format!("must lie in 1..=14, got {}", self.data.bits),
            );
        }
        if self.data.is_sequence() && self.data.samples < 4 {
            return bad(
                "data.samples",
                format!("need at least 4 sequences, got {}", self.data.samples),
            );
        }
        let values = match self.data.dataset.as_str() {
            "sensors" => self
                .data
                .samples
                .saturating_mul(self.data.steps)
                .saturating_mul(self.data.channels),
            "xor-events" => self.data.samples.saturating_mul(self.data.bits),
            _ => 0,
        };
        if values > MAX_SEQUENCE_VALUES {
            return bad(
                "data.samples",
                format!(
                    "{} sequences of this size hold {values} values, more than training holds ({MAX_SEQUENCE_VALUES})",
                    self.data.samples
                ),
            );
        }
        if self.data.dataset == "xor-events" && !(1..=1024).contains(&self.data.bits) {
            return bad(
                "data.bits",
                format!("must lie in 1..=1024, got {}", self.data.bits),
            );
        }
        for (key, v, max) in [
            ("data.channels", self.data.channels, 14),
            ("data.steps", self.data.steps, 10_000),
        ] {
            if !(1..=max).contains(&v) {
                return bad(key, format!("must lie in 1..={max}, got {v}"));
            }
        }
        if !(self.data.gap > 0.0 && self.data.gap.is_finite()) {
            return bad(
                "data.gap",
                format!(
                    "the time between readings must be positive and finite, got {}",
                    self.data.gap
                ),
            );
        }
        if !(0.0..1.0).contains(&self.data.jitter) {
            return bad(
                "data.jitter",
                format!("must lie in [0, 1), got {}", self.data.jitter),
            );
        }
        if !KINDS.contains(&self.model.kind.as_str()) {
            return bad(
                "model.kind",
                format!(
                    "unknown layer kind '{}'; expected {}",
                    self.model.kind,
                    KINDS.join(", ")
                ),
            );
        }
        if self.data.is_sequence() && STATELESS_KINDS.contains(&self.model.kind.as_str()) {
            return bad(
                "model.kind",
                format!(
                    "the sequence data set '{}' needs a layer with a state: ltc, cfc, qs-ltc, rnn, lif or qlif",
                    self.data.dataset
                ),
            );
        }
        if self.model.kind == "qlif" && self.model.units % 2 == 1 {
            return bad(
                "model.units",
                format!("qlif neurons come in pairs; {} is odd", self.model.units),
            );
        }
        let membrane = self.model.membrane();
        for (key, ok) in [
            (
                "model.threshold",
                membrane.threshold > 0.0 && membrane.threshold.is_finite(),
            ),
            (
                "model.v_reset",
                membrane.v_reset.is_finite() && membrane.v_reset < membrane.threshold,
            ),
            (
                "model.substeps",
                (1..=spiking::MAX_SUBSTEPS).contains(&membrane.substeps),
            ),
            (
                "model.refractory",
                membrane.refractory <= spiking::MAX_SUBSTEPS,
            ),
        ] {
            if !ok {
                return bad(
                    key,
                    match membrane.check() {
                        Err(e) => e.to_string(),
                        Ok(()) => "out of range".into(),
                    },
                );
            }
        }
        if !(0.0..1.0).contains(&self.model.sparsity) {
            return bad(
                "model.sparsity",
                format!("must lie in [0, 1), got {}", self.model.sparsity),
            );
        }
        for (key, v) in [
            ("model.heads", self.model.heads),
            ("model.head_outputs", self.model.head_outputs),
        ] {
            if !(1..=1024).contains(&v) {
                return bad(key, format!("must lie in 1..=1024, got {v}"));
            }
        }
        for (key, v, max) in [
            ("model.units", self.model.units, 4096),
            ("model.unfolds", self.model.unfolds, 1000),
            ("model.copies", self.model.copies, 64),
        ] {
            if !(1..=max).contains(&v) {
                return bad(key, format!("must lie in 1..={max}, got {v}"));
            }
        }
        if self.model.backbone > 4096 {
            return bad(
                "model.backbone",
                format!("must lie in 0..=4096, got {}", self.model.backbone),
            );
        }
        if !(self.model.tau > 0.0 && self.model.tau.is_finite()) {
            return bad(
                "model.tau",
                format!(
                    "the initial time constant must be positive and finite, got {}",
                    self.model.tau
                ),
            );
        }
        if !(0.0..1.0).contains(&self.data.test_fraction) {
            return bad(
                "data.test_fraction",
                format!("must lie in [0, 1), got {}", self.data.test_fraction),
            );
        }
        if !["z", "probabilities"].contains(&self.model.readout.as_str()) {
            return bad(
                "model.readout",
                format!("expected z or probabilities, got '{}'", self.model.readout),
            );
        }
        if !(1..=MAX_LAYERS).contains(&self.model.layers) {
            return bad(
                "model.layers",
                format!("must lie in 1..={MAX_LAYERS}, got {}", self.model.layers),
            );
        }
        if self.model.shots as u64 > limits::MAX_SHOTS {
            return bad(
                "model.shots",
                format!(
                    "{} shots is more than the limit of {}",
                    self.model.shots,
                    limits::MAX_SHOTS
                ),
            );
        }
        if self.model.hidden.len() > MAX_HIDDEN_LAYERS {
            return bad(
                "model.hidden",
                format!(
                    "{} hidden layers is more than the limit of {MAX_HIDDEN_LAYERS}",
                    self.model.hidden.len()
                ),
            );
        }
        if let Some(&w) = self.model.hidden.iter().find(|&&w| w > limits::MAX_WIDTH) {
            return bad(
                "model.hidden",
                format!(
                    "a layer of {w} units is more than the limit of {}",
                    limits::MAX_WIDTH
                ),
            );
        }
        // Weights of the hidden stack, from the widest readout (2^qubits values) on: a bound
        // checked before anything is allocated (the built model is checked exactly).
        let readout_width = 1usize << self.model.qubits.clamp(2, 14);
        let widths = std::iter::once(readout_width.max(self.model.units))
            .chain(self.model.hidden.iter().copied());
        let weights = widths
            .clone()
            .zip(widths.skip(1))
            .fold(0usize, |sum, (a, b)| {
                sum.saturating_add((a + 1).saturating_mul(b))
            });
        if weights > limits::MAX_PARAMETERS {
            return bad(
                "model.hidden",
                format!(
                    "the hidden layers {:?} hold about {weights} weights, more than the limit of {}",
                    self.model.hidden,
                    limits::MAX_PARAMETERS
                ),
            );
        }
        if self.train.iterations > limits::MAX_ITERATIONS {
            return bad(
                "train.iterations",
                format!(
                    "must be at most {}, got {}",
                    limits::MAX_ITERATIONS,
                    self.train.iterations
                ),
            );
        }
        if self.model.qubits > MAX_TRAINING_QUBITS {
            return bad(
                "model.qubits",
                format!(
                    "{} qubits is more than training supports ({MAX_TRAINING_QUBITS})",
                    self.model.qubits
                ),
            );
        }
        if self.model.activation == Activation::Softmax {
            return bad(
                "model.activation",
                "softmax is the output activation; pick tanh, relu, sigmoid, identity, phase-tanh or cnot".into(),
            );
        }
        if self.model.hidden.contains(&0) {
            return bad("model.hidden", "layer widths must be positive".into());
        }
        if self.train.iterations == 0 {
            return bad("train.iterations", "must be at least 1".into());
        }
        for (key, v) in [
            ("train.circuit_step", self.train.circuit_step),
            ("train.dense_step", self.train.dense_step),
            ("train.circuit_c", self.train.circuit_c),
            ("train.dense_c", self.train.dense_c),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return bad(key, format!("must be positive, got {v}"));
            }
        }
        Ok(())
    }
}

/// The data sets `data.dataset` may name.
const DATASETS: [&str; 7] = [
    "iris",
    "moons",
    "circles",
    "parity",
    "csv",
    "sensors",
    "xor-events",
];

/// The most hidden dense layers.
const MAX_HIDDEN_LAYERS: usize = 1000;

/// The most qubits of a trained circuit.
const MAX_TRAINING_QUBITS: usize = 14;

/// The most re-uploading layers of the circuit.
const MAX_LAYERS: usize = 10_000;

/// The most values (samples × steps × channels) a generated sequence data set may hold.
const MAX_SEQUENCE_VALUES: usize = 1 << 24;

/// The layer kinds `model.kind` may name.
const KINDS: [&str; 9] = [
    "dense",
    "ltc",
    "cfc",
    "qs-ltc",
    "rnn",
    "lif",
    "qlif",
    "sparse",
    "entangled-block",
];

/// The kinds that carry no state from step to step.
const STATELESS_KINDS: [&str; 3] = ["dense", "sparse", "entangled-block"];

impl DataConfig {
    /// Whether the data set is one of sequences (`sensors`, `xor-events`).
    pub fn is_sequence(&self) -> bool {
        matches!(self.dataset.as_str(), "sensors" | "xor-events")
    }
}

impl ModelConfig {
    /// The neuron model of the spiking kinds.
    pub fn membrane(&self) -> Membrane {
        Membrane {
            threshold: self.threshold,
            reset: self.reset,
            v_reset: self.v_reset,
            refractory: self.refractory,
            substeps: self.substeps,
            tau: self.tau,
            decode: self.decode,
        }
    }

    /// The classical network from `inputs` readout features to `outputs` values: the layer
    /// of `kind` (none for `dense`), the hidden dense layers, the output layer. A sparse
    /// layer's mask is drawn from `mask`.
    pub fn network(
        &self,
        inputs: usize,
        outputs: usize,
        output: Activation,
        mask: Stream,
    ) -> Result<Network> {
        let mut layers: Vec<AnyLayer> = Vec::new();
        let n = self.units;
        let mut width = n;
        match self.kind.as_str() {
            "dense" => {}
            "ltc" => layers.push(
                Ltc::new(inputs, n, self.unfolds)?
                    .with_tau(self.tau)?
                    .into(),
            ),
            "cfc" => {
                let backbone = if self.backbone == 0 { n } else { self.backbone };
                layers.push(Cfc::new(inputs, n, backbone)?.into())
            }
            "qs-ltc" => layers.push(
                QsLtc::new(inputs, n, self.unfolds, self.copies)?
                    .with_tau(self.tau)?
                    .with_collapse(self.collapse)
                    .with_interference(self.interference)
                    .into(),
            ),
            "rnn" => layers.push(Rnn::new(inputs, n)?.into()),
            "lif" => layers.push(Lif::new(inputs, n)?.with_membrane(self.membrane())?.into()),
            "qlif" => layers.push(
                QLifPair::new(inputs, n / 2)?
                    .with_membrane(self.membrane())?
                    .with_coupling(self.coupling)
                    .into(),
            ),
            "sparse" => layers
                .push(SparseDense::random(inputs, n, self.sparsity, self.activation, mask)?.into()),
            "entangled-block" => {
                let block =
                    EntangledBlock::new(inputs, n, self.heads, self.head_outputs, self.activation)?;
                width = block.output_width();
                layers.push(block.into());
            }
            other => {
                return Err(unchecked(
                    "model.kind",
                    format!(
                        "unknown layer kind '{other}'; expected {}",
                        KINDS.join(", ")
                    ),
                ))
            }
        }
        if layers.is_empty() {
            let mut widths = vec![inputs];
            widths.extend(&self.hidden);
            widths.push(outputs);
            return Network::dense(&widths, self.activation, output);
        }
        for &h in &self.hidden {
            layers.push(Dense::new(width, h, self.activation)?.into());
            width = h;
        }
        layers.push(Dense::new(width, outputs, output)?.into());
        Network::new(layers)
    }
}

/// What an experiment trains on: samples (classification) or sequences.
#[derive(Debug, Clone)]
pub enum Task {
    /// Classification of samples.
    Samples {
        /// Training objective (scaled training samples).
        objective: Supervised,
        /// Held-out samples (scaled) and their targets.
        test: (Array2<f64>, Array2<f64>),
    },
    /// Sequences read step by step: regression (`sensors`) or binary classification
    /// (`xor-events`).
    Sequences {
        /// Training objective (scaled training sequences).
        objective: SequenceSupervised<HybridModel>,
        /// Held-out sequences (scaled).
        test: SequenceSet,
        /// Whether the target is a class (scored by accuracy) rather than a value.
        classify: bool,
    },
}

impl Task {
    /// The model being trained.
    pub fn model(&self) -> &HybridModel {
        match self {
            Task::Samples { objective, .. } => &objective.model,
            Task::Sequences { objective, .. } => &objective.model,
        }
    }

    /// Training and held-out sizes (samples or sequences).
    pub fn sizes(&self) -> (usize, usize) {
        match self {
            Task::Samples { objective, test } => (objective.x.nrows(), test.0.nrows()),
            Task::Sequences {
                objective, test, ..
            } => (objective.data.len(), test.len()),
        }
    }

    /// Training accuracy of `params` (exact readout is not forced), for classification.
    pub fn train_accuracy(&self, params: &[f64], stream: Stream) -> Option<f64> {
        match self {
            Task::Samples { objective, .. } => objective.accuracy(params, stream).ok(),
            Task::Sequences {
                objective,
                classify: true,
                ..
            } => {
                let y = objective.predict(params, stream).ok()?;
                Some(accuracy(y.view(), objective.data.targets.view()))
            }
            Task::Sequences { .. } => None,
        }
    }

    /// The same task with the model's readout exact and no minibatch.
    fn exact(&self) -> Result<Task> {
        let m = self.model();
        let model = m.with_readout(ReadoutSpec::exact(m.readout().readout.clone()))?;
        Ok(match self {
            Task::Samples { objective, test } => Task::Samples {
                objective: Supervised {
                    model,
                    batch: None,
                    ..objective.clone()
                },
                test: test.clone(),
            },
            Task::Sequences {
                objective,
                test,
                classify,
            } => Task::Sequences {
                objective: SequenceSupervised {
                    model,
                    batch: None,
                    ..objective.clone()
                },
                test: test.clone(),
                classify: *classify,
            },
        })
    }
}

impl CostFunction for Task {
    type Param = Probe;
    type Output = f64;
    fn cost(&self, p: &Probe) -> std::result::Result<f64, argmin::core::Error> {
        match self {
            Task::Samples { objective, .. } => objective.cost(p),
            Task::Sequences { objective, .. } => objective.cost(p),
        }
    }
}

impl Objective for Task {
    fn num_params(&self) -> usize {
        self.model().layout().len()
    }
    fn cost_on(&self, probe: &Probe, ranks: &dyn Ranks) -> Option<Result<f64>> {
        match self {
            Task::Samples { objective, .. } => objective.cost_on(probe, ranks),
            Task::Sequences { .. } => None,
        }
    }
    fn gradient(&self, probe: &Probe) -> Option<Result<(f64, Vec<f64>)>> {
        match self {
            Task::Samples { objective, .. } => objective.gradient(probe),
            Task::Sequences { .. } => Some(Err(Error::NotDifferentiable {
                what: "a sequence model".into(),
                reason: "backpropagation through time is not implemented; train sequences with spsa or 2spsa".into(),
            })),
        }
    }
}

/// The solver a configuration chose ([`Experiment::solver`]), one type for checkpoints,
/// observers and model files whichever it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum TrainSolver {
    /// First-order SPSA.
    Spsa(Box<Spsa>),
    /// 2-SPSA.
    SecondOrder(SecondOrderSpsa),
    /// Adam on exact gradients.
    Adam(Adam),
}

impl TrainSolver {
    /// The SPSA solver, when it is one (for its gains).
    pub fn as_spsa(&self) -> Option<&Spsa> {
        match self {
            TrainSolver::Spsa(s) => Some(s.as_ref()),
            _ => None,
        }
    }
}

impl<O: Objective> Solver<O, OptimState> for TrainSolver {
    fn name(&self) -> &str {
        match self {
            TrainSolver::Spsa(s) => Solver::<O, OptimState>::name(s.as_ref()),
            TrainSolver::SecondOrder(s) => Solver::<O, OptimState>::name(s),
            TrainSolver::Adam(s) => Solver::<O, OptimState>::name(s),
        }
    }
    fn init(
        &mut self,
        problem: &mut Problem<O>,
        state: OptimState,
    ) -> std::result::Result<(OptimState, Option<KV>), argmin::core::Error> {
        match self {
            TrainSolver::Spsa(s) => s.init(problem, state),
            TrainSolver::SecondOrder(s) => s.init(problem, state),
            TrainSolver::Adam(s) => s.init(problem, state),
        }
    }
    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        state: OptimState,
    ) -> std::result::Result<(OptimState, Option<KV>), argmin::core::Error> {
        match self {
            TrainSolver::Spsa(s) => s.next_iter(problem, state),
            TrainSolver::SecondOrder(s) => s.next_iter(problem, state),
            TrainSolver::Adam(s) => s.next_iter(problem, state),
        }
    }
    fn terminate(&mut self, state: &OptimState) -> TerminationStatus {
        match self {
            TrainSolver::Spsa(s) => Solver::<O, OptimState>::terminate(s.as_mut(), state),
            TrainSolver::SecondOrder(s) => Solver::<O, OptimState>::terminate(s, state),
            TrainSolver::Adam(s) => Solver::<O, OptimState>::terminate(s, state),
        }
    }
}

impl Optimizer<OptimState> for TrainSolver {
    fn final_param(&self, state: &OptimState) -> Option<Vec<f64>> {
        match self {
            TrainSolver::Spsa(s) => Optimizer::final_param(s.as_ref(), state),
            TrainSolver::SecondOrder(s) => s.final_param(state),
            TrainSolver::Adam(s) => s.final_param(state),
        }
    }
    fn history(&self) -> Vec<f64> {
        match self {
            TrainSolver::Spsa(s) => Optimizer::history(s.as_ref()),
            TrainSolver::SecondOrder(s) => s.history(),
            TrainSolver::Adam(s) => s.history(),
        }
    }
    fn record(&self) -> OptimizerRecord {
        match self {
            TrainSolver::Spsa(s) => s.record(),
            TrainSolver::SecondOrder(s) => s.record(),
            TrainSolver::Adam(s) => s.record(),
        }
    }
}

/// Everything built from a configuration, ready to train.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The configuration.
    pub config: TrainConfig,
    /// The objective and the held-out data.
    pub task: Task,
    /// The feature scaler fitted on the training part (on every step, for sequences).
    pub scaler: Scaler,
    /// Class names (empty for regression).
    pub classes: Vec<String>,
    /// Initial parameters.
    pub init: Vec<f64>,
}

/// What a finished (or interrupted) run produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metrics {
    /// Iterations done.
    pub iterations: u64,
    /// Why the run stopped.
    pub termination: String,
    /// Exact-readout training loss (cross-entropy, or MSE for regression).
    pub train_loss: f64,
    /// Accuracy on the training part (exact readout); absent for regression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_accuracy: Option<f64>,
    /// Accuracy on the held-out part (exact readout); absent for regression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<f64>,
    /// Accuracy on the held-out part with the trained shot count.
    pub test_accuracy_shots: Option<f64>,
    /// Mean squared error on the held-out part (exact readout), for regression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_mse: Option<f64>,
    /// The held-out MSE of predicting the training targets' mean, for regression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_baseline_mse: Option<f64>,
    /// Entanglement of the trained circuit's states over the held-out part, or over the
    /// training part when nothing is held out (first ⌊n/2⌋ qubits, natural log); absent in
    /// files written before it existed.
    #[serde(default)]
    pub entanglement: Option<StateEntanglement>,
}

/// The saved model: `model.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedModel {
    /// qloop version that wrote it.
    pub qloop_version: String,
    /// Circuit, readout and dense stack.
    pub model: HybridModel,
    /// Trained parameters.
    pub params: Vec<f64>,
    /// Their layout.
    pub layout: ModelLayout,
    /// Feature scaling applied before binding inputs.
    pub scaler: Scaler,
    /// Class names, by output index.
    pub classes: Vec<String>,
    /// The configuration (seed included).
    pub config: TrainConfig,
    /// The optimizer that trained it: name, settings and fitted values (SPSA: its gains).
    pub optimizer: OptimizerRecord,
    /// Final metrics.
    pub metrics: Metrics,
    /// Loss estimate of every iteration.
    pub loss_history: Vec<f64>,
}

impl SavedModel {
    /// Loads `model.json`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and [checks](SavedModel::check) the text of a `model.json` (`path` names it in
    /// errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let saved: SavedModel = serde_json::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: format!("not a qloop model file: {e}"),
        })?;
        saved.check().map_err(|message| Error::Config {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(saved)
    }

    /// Checks the parts of a model file against each other: the layout is the model's, the
    /// parameters fill it and are finite, the class names match the output width, the scaler
    /// matches the inputs. Every later use relies on these.
    pub fn check(&self) -> std::result::Result<(), String> {
        let layout = self.model.layout();
        if self.layout != layout {
            return Err(format!(
                "key 'layout': {} does not match the model's parameters {layout}",
                self.layout
            ));
        }
        if self.params.len() != layout.len() {
            return Err(format!(
                "key 'params': {} values, but the model has {} parameters",
                self.params.len(),
                layout.len()
            ));
        }
        if let Some(k) = self.params.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "key 'params': value {k} is {}; parameters must be finite",
                self.params[k]
            ));
        }
        let width = self.model.output_width();
        let expected = match self.classes.len() {
            0 => 1,
            2 => 1,
            k => k,
        };
        if width != expected || self.classes.len() == 1 {
            return Err(format!(
                "key 'classes': {} class names for a model with {width} outputs",
                self.classes.len()
            ));
        }
        let inputs = self.model.num_inputs();
        let scaler = &self.scaler;
        if scaler.min.len() != inputs || scaler.max.len() != inputs {
            return Err(format!(
                "key 'scaler': {} minima and {} maxima for a model of {inputs} inputs",
                scaler.min.len(),
                scaler.max.len()
            ));
        }
        let finite = |v: &f64| v.is_finite();
        if !(scaler.min.iter().all(finite)
            && scaler.max.iter().all(finite)
            && scaler.range.0.is_finite()
            && scaler.range.1.is_finite())
        {
            return Err("key 'scaler': its bounds must be finite".into());
        }
        Ok(())
    }

    /// The model's circuit with its trained weights bound (inputs stay symbolic), e.g. to
    /// draw it.
    pub fn trained_circuit(&self) -> Circuit {
        let names = &self.model.program().layout().weights;
        let weights = &self.params[self.layout.circuit.clone()];
        self.model.circuit().bind(|p| {
            (p.kind == ParamKind::Weight)
                .then(|| names.iter().position(|n| *n == p.name).map(|k| weights[k]))
                .flatten()
        })
    }

    /// Class probabilities for raw (unscaled) samples, with exact readout.
    pub fn predict(&self, samples: &Array2<f64>) -> Result<Array2<f64>> {
        let x = self.scaler.transform(samples)?;
        self.exact_model()?
            .forward(&self.params, x.view(), Stream::new(0))
    }

    /// The last output of a sequence model for raw (unscaled) sequences (steps × channels)
    /// with their elapsed times (all 1 when `None`), with exact readout.
    pub fn predict_sequences(
        &self,
        sequences: &[Array2<f64>],
        dt: Option<&[Vec<f64>]>,
    ) -> Result<Array2<f64>> {
        let scaled: Vec<Array2<f64>> = sequences
            .iter()
            .map(|s| self.scaler.transform(s))
            .collect::<Result<_>>()?;
        self.exact_model()?
            .forward_sequence(&self.params, &scaled, dt, Stream::new(0))
    }

    /// Whether the model reads sequences (it was trained on a sequence data set).
    pub fn reads_sequences(&self) -> bool {
        self.config.data.is_sequence()
    }

    fn exact_model(&self) -> Result<HybridModel> {
        match self.model.readout().shots {
            None => Ok(self.model.clone()),
            Some(_) => self
                .model
                .with_readout(ReadoutSpec::exact(self.model.readout().readout.clone())),
        }
    }
}

/// An error in a configuration built in code (a file's errors name the file:
/// [`TrainConfig::parse`]).
fn unchecked(key: &str, message: String) -> Error {
    Error::Config {
        path: PathBuf::from("training configuration"),
        message: format!("key '{key}': {message}"),
    }
}

impl Experiment {
    /// Builds data, model, objective and initial parameters from `config`, and checks that
    /// the chosen optimizer can train the model.
    pub fn new(config: TrainConfig) -> Result<Self> {
        let experiment = match config.data.is_sequence() {
            true => Self::sequences(config)?,
            false => Self::samples(config)?,
        };
        experiment.check_optimizer()?;
        Ok(experiment)
    }

    /// Adam needs an exact gradient: tried once on the first training sample, so a model
    /// without one is refused before anything is written.
    fn check_optimizer(&self) -> Result<()> {
        if self.config.train.optimizer != Method::Adam {
            return Ok(());
        }
        let lr = self.config.train.learning_rate;
        if !(lr.is_finite() && lr > 0.0) {
            return Err(unchecked(
                "train.learning_rate",
                format!("must be a positive finite number, got {lr}"),
            ));
        }
        let tried = match &self.task {
            Task::Samples { objective, .. } => objective
                .model
                .gradient(&self.init, objective.x.slice(ndarray::s![..1, ..]), |y| {
                    Ok(Array2::zeros(y.dim()))
                })
                .map(|_| ()),
            Task::Sequences { .. } => self
                .task
                .gradient(&Probe::new(self.init.clone(), Stream::new(0)))
                .expect("tasks answer")
                .map(|_| ()),
        };
        tried.map_err(|e| unchecked("train.optimizer", format!("adam: {e}")))
    }

    /// The sample branch of [`Experiment::new`].
    fn samples(config: TrainConfig) -> Result<Self> {
        let d = &config.data;
        let data = match d.dataset.as_str() {
            "iris" => Dataset::iris(),
            "moons" => Dataset::two_moons(d.samples, d.noise, config.seed),
            "circles" => Dataset::circles(d.samples, d.noise, 0.5, config.seed),
            "parity" => Dataset::parity(d.bits),
            "csv" => match d.path.as_deref() {
                Some(path) => Dataset::from_csv(path)?,
                None => return Err(unchecked("data.path", "a csv data set needs a path".into())),
            },
            other => {
                return Err(unchecked(
                    "data.dataset",
                    format!(
                        "unknown data set '{other}'; expected {}",
                        DATASETS.join(", ")
                    ),
                ))
            }
        };
        let (train, test) = data.split(d.test_fraction, config.seed)?;
        let scaler = Scaler::fit(&train.features, (0.0, PI));
        let features = data.num_features();
        let classes = data.classes.len();
        let (width, output, loss) = if classes == 2 {
            (1, Activation::Sigmoid, Loss::BinaryCrossEntropy)
        } else {
            (classes, Activation::Softmax, Loss::CrossEntropy)
        };
        let model = Self::model(&config, features, width, output)?;
        let targets = |set: &Dataset| -> Array2<f64> {
            if classes == 2 {
                Array2::from_shape_fn((set.len(), 1), |(i, _)| set.labels[i] as f64)
            } else {
                set.one_hot()
            }
        };
        let batch = (config.train.batch > 0).then_some(config.train.batch);
        let objective = Supervised::new(
            model,
            scaler.transform(&train.features)?,
            targets(&train),
            loss,
            batch,
        )?;
        let init = objective
            .model
            .init_params(Stream::new(config.seed).child(crate::rng::role::INIT));
        Ok(Experiment {
            task: Task::Samples {
                test: (scaler.transform(&test.features)?, targets(&test)),
                objective,
            },
            scaler,
            classes: data.classes.clone(),
            init,
            config,
        })
    }

    /// The hybrid model: the re-uploading circuit over `features` inputs, the readout, and
    /// the network of `[model]` ending in `outputs` values with the `output` activation.
    fn model(
        config: &TrainConfig,
        features: usize,
        outputs: usize,
        output: Activation,
    ) -> Result<HybridModel> {
        let n = if config.model.qubits == 0 {
            features.max(2)
        } else {
            config.model.qubits
        };
        if n > MAX_TRAINING_QUBITS {
            return Err(unchecked(
                "model.qubits",
                format!(
                    "one qubit per feature makes {n} qubits, more than training supports ({MAX_TRAINING_QUBITS}); set model.qubits"
                ),
            ));
        }
        let circuit = ansatz::reuploading(n, config.model.layers, features);
        let readout = match config.model.readout.as_str() {
            "probabilities" => Readout::Probabilities,
            "z" => Readout::ExpectationZ,
            other => {
                return Err(unchecked(
                    "model.readout",
                    format!("expected z or probabilities, got '{other}'"),
                ))
            }
        };
        let spec = ReadoutSpec {
            readout,
            shots: (config.model.shots > 0).then_some(config.model.shots),
        };
        let mask = Stream::new(config.seed).child(role::MASK);
        let network = config.model.network(spec.width(n), outputs, output, mask)?;
        let model = HybridModel::new(circuit, spec, network)?;
        let model = match &config.noise {
            None => model,
            Some(path) => model.with_noise(crate::noise::NoiseModel::load(path)?)?,
        };
        model
            .with_precision(config.model.precision)
            .map_err(|e| unchecked("model.precision", e.to_string()))
    }

    /// The sequence branch of [`Experiment::new`].
    fn sequences(config: TrainConfig) -> Result<Self> {
        let d = &config.data;
        let (data, classify) = match d.dataset.as_str() {
            "sensors" => (
                tasks::sensors(
                    d.samples,
                    d.channels,
                    d.steps,
                    d.gap,
                    d.jitter,
                    d.noise,
                    config.seed,
                )?,
                false,
            ),
            "xor-events" => (tasks::xor_events(d.samples, d.bits, config.seed)?, true),
            other => {
                return Err(unchecked(
                    "data.dataset",
                    format!("'{other}' is not a sequence data set"),
                ))
            }
        };
        let (train, test) = data.split(d.test_fraction, config.seed)?;
        let steps: Vec<ndarray::ArrayView2<f64>> =
            train.sequences.iter().map(|s| s.view()).collect();
        let stacked = ndarray::concatenate(ndarray::Axis(0), &steps).map_err(|e| Error::Shape {
            context: "sequence data".into(),
            message: e.to_string(),
        })?;
        let scaler = Scaler::fit(&stacked, (0.0, PI));
        let scale = |set: &SequenceSet| -> Result<SequenceSet> {
            Ok(SequenceSet {
                sequences: set
                    .sequences
                    .iter()
                    .map(|s| scaler.transform(s))
                    .collect::<Result<_>>()?,
                ..set.clone()
            })
        };
        let (output, loss, classes) = match classify {
            true => (
                Activation::Sigmoid,
                Loss::BinaryCrossEntropy,
                vec!["even".to_string(), "odd".to_string()],
            ),
            false => (Activation::Identity, Loss::Mse, Vec::new()),
        };
        let model = Self::model(&config, data.channels(), 1, output)?;
        let batch = (config.train.batch > 0).then_some(config.train.batch);
        let objective = SequenceSupervised::new(model, scale(&train)?, loss, batch)?;
        let init = objective
            .model
            .init_params(Stream::new(config.seed).child(crate::rng::role::INIT));
        Ok(Experiment {
            task: Task::Sequences {
                test: scale(&test)?,
                objective,
                classify,
            },
            scaler,
            classes,
            init,
            config,
        })
    }

    /// The configured solver ([`OptimizerConfig::optimizer`]).
    pub fn solver(&self) -> TrainSolver {
        let t = &self.config.train;
        match t.optimizer {
            Method::Spsa => TrainSolver::Spsa(Box::new(self.spsa())),
            Method::SecondOrderSpsa => {
                TrainSolver::SecondOrder(SecondOrderSpsa::hessian(self.config.seed))
            }
            Method::Adam => TrainSolver::Adam(Adam::new(self.config.seed, t.learning_rate)),
        }
    }

    /// The SPSA solver: circuit angles (periodic in `[−π, π)`) and network weights (free) as
    /// two blocks with their own calibrated gains.
    pub fn spsa(&self) -> Spsa {
        let t = &self.config.train;
        let layout = self.task.model().layout();
        let mut spsa = Spsa::new(self.config.seed).resamplings(t.resamplings);
        if !t.blocking {
            spsa = spsa.blocking(None);
        }
        if !layout.circuit.is_empty() {
            spsa = spsa.block(
                layout.circuit.clone(),
                StepSize::Calibrated(t.circuit_step),
                t.circuit_c,
                Bounds::Periodic { lo: -PI, hi: PI },
            );
        }
        if !layout.network.is_empty() {
            spsa = spsa.block(
                layout.network.clone(),
                StepSize::Calibrated(t.dense_step),
                t.dense_c,
                Bounds::Free,
            );
        }
        spsa
    }

    /// Trains, resuming from `checkpoint` when it holds a run (of this configuration: the
    /// checkpoint is tied to it, see [`AtomicCheckpoint::for_run`]).
    pub fn train(
        &self,
        checkpoint: Option<AtomicCheckpoint>,
        ctrlc: bool,
        observers: Vec<Box<dyn Observe<SpsaState>>>,
    ) -> Result<Outcome<TrainSolver>> {
        self.train_on(None, checkpoint, ctrlc, observers)
    }

    /// [`Experiment::train`], with the batches of loss evaluations split over `ranks` when
    /// given ([`DataParallel`]): every rank runs this with the same configuration and ends
    /// with the single process's outcome, bit for bit.
    pub fn train_on(
        &self,
        ranks: Option<Arc<dyn Ranks>>,
        checkpoint: Option<AtomicCheckpoint>,
        ctrlc: bool,
        observers: Vec<Box<dyn Observe<SpsaState>>>,
    ) -> Result<Outcome<TrainSolver>> {
        let config =
            serde_json::to_vec(&self.config).map_err(|e| Error::Optimizer(e.to_string()))?;
        let options = RunOptions {
            max_iters: self.config.train.iterations,
            max_evals: (self.config.train.max_evals > 0).then_some(self.config.train.max_evals),
            target_loss: self.config.train.target_loss,
            checkpoint: checkpoint
                .map(|cp| cp.for_run(fingerprint(&config), self.task.model().layout().len())),
            ctrlc,
        };
        match ranks {
            None => optimize(
                self.task.clone(),
                self.solver(),
                self.init.clone(),
                options,
                observers,
            ),
            Some(ranks) => optimize(
                DataParallel::new(self.task.clone(), ranks),
                self.solver(),
                self.init.clone(),
                options,
                observers,
            ),
        }
    }

    /// Metrics of trained parameters (exact readout, plus test accuracy with shots).
    pub fn metrics<S>(&self, outcome: &Outcome<S>) -> Result<Metrics> {
        let p = &outcome.params;
        let stream = Stream::new(self.config.seed).child(crate::rng::role::REPORT);
        let model = self.task.model();
        let shots = model.readout().shots.is_some();
        let (train_loss, train_accuracy, test_accuracy, test_accuracy_shots, test_mse, mean_mse);
        let states: Array2<f64>;
        match (&self.task.exact()?, &self.task) {
            (
                Task::Samples {
                    objective: exact,
                    test,
                },
                Task::Samples { objective, .. },
            ) => {
                let train_y = exact.predict(p, stream)?;
                train_loss = exact.loss.eval(train_y.view(), exact.targets.view())?;
                train_accuracy = Some(accuracy(train_y.view(), exact.targets.view()));
                (test_mse, mean_mse) = (None, None);
                if test.0.nrows() == 0 {
                    (test_accuracy, test_accuracy_shots) = (None, None);
                    states = exact.x.clone();
                } else {
                    let test_y = exact.model.forward(p, test.0.view(), stream)?;
                    test_accuracy = Some(accuracy(test_y.view(), test.1.view()));
                    test_accuracy_shots = match shots {
                        true => {
                            let y = objective.model.forward(p, test.0.view(), stream)?;
                            Some(accuracy(y.view(), test.1.view()))
                        }
                        false => None,
                    };
                    states = test.0.clone();
                }
            }
            (
                Task::Sequences {
                    objective: exact,
                    test,
                    classify,
                },
                Task::Sequences { objective, .. },
            ) => {
                let train_y = exact.predict(p, stream)?;
                train_loss = exact.loss.eval(train_y.view(), exact.data.targets.view())?;
                let held_out = !test.sequences.is_empty();
                let test_y = match held_out {
                    true => Some(exact.model.forward_sequence(
                        p,
                        &test.sequences,
                        Some(&test.dt),
                        stream,
                    )?),
                    false => None,
                };
                if *classify {
                    train_accuracy = Some(accuracy(train_y.view(), exact.data.targets.view()));
                    test_accuracy = test_y
                        .as_ref()
                        .map(|y| accuracy(y.view(), test.targets.view()));
                    test_accuracy_shots = match shots && held_out {
                        true => {
                            let y = objective.model.forward_sequence(
                                p,
                                &test.sequences,
                                Some(&test.dt),
                                stream,
                            )?;
                            Some(accuracy(y.view(), test.targets.view()))
                        }
                        false => None,
                    };
                    (test_mse, mean_mse) = (None, None);
                } else {
                    (train_accuracy, test_accuracy, test_accuracy_shots) = (None, None, None);
                    test_mse = test_y
                        .as_ref()
                        .map(|y| Loss::Mse.eval(y.view(), test.targets.view()))
                        .transpose()?;
                    mean_mse = held_out.then(|| test.mean_baseline_mse(&exact.data));
                }
                let source = if held_out { test } else { &exact.data };
                let steps: Vec<ndarray::ArrayView2<f64>> =
                    source.sequences.iter().map(|s| s.view()).collect();
                states =
                    ndarray::concatenate(ndarray::Axis(0), &steps).map_err(|e| Error::Shape {
                        context: "sequence data".into(),
                        message: e.to_string(),
                    })?;
            }
            _ => unreachable!("Task::exact keeps the variant"),
        }
        Ok(Metrics {
            iterations: outcome.iterations,
            termination: outcome.termination.clone(),
            train_loss,
            train_accuracy,
            test_accuracy,
            test_accuracy_shots,
            test_mse,
            mean_baseline_mse: mean_mse,
            entanglement: Some(model.entanglement(
                p,
                states.view(),
                &half_cut(model.circuit().num_qubits()),
                LogBase::E,
            )?),
        })
    }

    /// The model file contents for trained parameters.
    pub fn saved_model<S: Optimizer<I>, I: argmin::core::State>(
        &self,
        outcome: &Outcome<S>,
        metrics: Metrics,
    ) -> SavedModel {
        SavedModel {
            qloop_version: env!("CARGO_PKG_VERSION").into(),
            model: self.task.model().clone(),
            params: outcome.params.clone(),
            layout: self.task.model().layout(),
            scaler: self.scaler.clone(),
            classes: self.classes.clone(),
            config: self.config.clone(),
            optimizer: outcome.solver.record(),
            metrics,
            loss_history: outcome.solver.history(),
        }
    }
}
