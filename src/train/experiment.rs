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
//! [train]
//! iterations = 400
//! batch = 32              # 0 = full batch
//! ```
//!
//! Unknown keys and wrong types are errors naming the key and the file.

use crate::entropy::{half_cut, LogBase};
use crate::error::{Error, ParamKind, Result};
use crate::train::objective::{accuracy, Loss, Supervised};
use crate::train::{
    ansatz, optimize, Activation, AtomicCheckpoint, Bounds, Dataset, HybridModel, ModelLayout,
    Network, Optimizer, OptimizerRecord, Outcome, Readout, ReadoutSpec, RunOptions, Scaler, Spsa,
    SpsaState, StateEntanglement, StepSize, Stream,
};
use crate::Circuit;
use argmin::core::observers::Observe;
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::path::{Path, PathBuf};

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
}

/// `[data]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// `iris`, `moons`, `circles`, `parity` or `csv`.
    pub dataset: String,
    /// CSV file (for `dataset = "csv"`), relative to the configuration file.
    pub path: Option<PathBuf>,
    /// Samples of generated sets (moons, circles).
    pub samples: usize,
    /// Noise of generated sets.
    pub noise: f64,
    /// Bits of the parity set.
    pub bits: usize,
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
    /// Hidden activation: `tanh`, `relu`, `sigmoid` or `identity`.
    pub activation: Activation,
}

/// `[train]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizerConfig {
    /// SPSA iterations.
    pub iterations: u64,
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
        }
    }
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            iterations: 400,
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
        Ok(cfg)
    }

    /// Parses TOML text (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let cfg: TrainConfig = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| {
                let line = text[..s.start].matches('\n').count() + 1;
                let col = s.start - text[..s.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("{line}:{col}: ")
            });
            Error::Config {
                path: path.to_path_buf(),
                message: format!("{}{}", at.unwrap_or_default(), e.message()),
            }
        })?;
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
        if !["iris", "moons", "circles", "parity", "csv"].contains(&self.data.dataset.as_str()) {
            return bad(
                "data.dataset",
                format!(
                    "unknown data set '{}'; expected iris, moons, circles, parity or csv",
                    self.data.dataset
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
        if self.model.layers == 0 {
            return bad("model.layers", "must be at least 1".into());
        }
        if self.model.qubits > 14 {
            return bad(
                "model.qubits",
                format!(
                    "{} qubits is more than training supports (14)",
                    self.model.qubits
                ),
            );
        }
        if self.model.activation == Activation::Softmax {
            return bad(
                "model.activation",
                "softmax is the output activation; pick tanh, relu, sigmoid or identity".into(),
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

/// Everything built from a configuration, ready to train.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The configuration.
    pub config: TrainConfig,
    /// Training objective (scaled training samples).
    pub objective: Supervised,
    /// Held-out samples (scaled) and their one-hot targets.
    pub test: (Array2<f64>, Array2<f64>),
    /// The feature scaler fitted on the training part.
    pub scaler: Scaler,
    /// Class names.
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
    /// Exact-readout cross-entropy on the training part.
    pub train_loss: f64,
    /// Accuracy on the training part (exact readout).
    pub train_accuracy: f64,
    /// Accuracy on the held-out part (exact readout).
    pub test_accuracy: f64,
    /// Accuracy on the held-out part with the trained shot count.
    pub test_accuracy_shots: Option<f64>,
    /// Entanglement of the trained circuit's states over the held-out part (first ⌊n/2⌋
    /// qubits, natural log); absent in files written before it existed.
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
        let saved: SavedModel = serde_json::from_str(&text).map_err(|source| Error::Json {
            path: Some(path.to_path_buf()),
            source,
        })?;
        saved.layout.check(&saved.params)?;
        Ok(saved)
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
        let mut model = self.model.clone();
        if model.readout().shots.is_some() {
            model = HybridModel::new(
                model.circuit().clone(),
                ReadoutSpec::exact(model.readout().readout.clone()),
                model.network().clone(),
            )?;
        }
        model.forward(&self.params, x.view(), Stream::new(0))
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
    /// Builds data, model, objective and initial parameters from `config`.
    pub fn new(config: TrainConfig) -> Result<Self> {
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
                        "unknown data set '{other}'; expected iris, moons, circles, parity or csv"
                    ),
                ))
            }
        };
        let (train, test) = data.split(d.test_fraction, config.seed)?;
        let scaler = Scaler::fit(&train.features, (0.0, PI));
        let features = data.num_features();
        let n = if config.model.qubits == 0 {
            features.max(2)
        } else {
            config.model.qubits
        };
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
        let classes = data.classes.len();
        let (width, output, loss) = if classes == 2 {
            (1, Activation::Sigmoid, Loss::BinaryCrossEntropy)
        } else {
            (classes, Activation::Softmax, Loss::CrossEntropy)
        };
        let mut widths = vec![spec.width(n)];
        widths.extend(&config.model.hidden);
        widths.push(width);
        let network = Network::dense(&widths, config.model.activation, output)?;
        let model = HybridModel::new(circuit, spec, network)?;
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
            test: (scaler.transform(&test.features)?, targets(&test)),
            objective,
            scaler,
            classes: data.classes.clone(),
            init,
            config,
        })
    }

    /// The SPSA solver: circuit angles (periodic in `[−π, π)`) and dense weights (free) as two
    /// blocks with their own calibrated gains.
    pub fn solver(&self) -> Spsa {
        let t = &self.config.train;
        let layout = self.objective.model.layout();
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

    /// Trains, resuming from `checkpoint` when it holds a run.
    pub fn train(
        &self,
        checkpoint: Option<AtomicCheckpoint>,
        ctrlc: bool,
        observers: Vec<Box<dyn Observe<SpsaState>>>,
    ) -> Result<Outcome<Spsa>> {
        let options = RunOptions {
            max_iters: self.config.train.iterations,
            target_loss: self.config.train.target_loss,
            checkpoint,
            ctrlc,
        };
        optimize(
            self.objective.clone(),
            self.solver(),
            self.init.clone(),
            options,
            observers,
        )
    }

    /// Metrics of trained parameters (exact readout, plus test accuracy with shots).
    pub fn metrics<S>(&self, outcome: &Outcome<S>) -> Result<Metrics> {
        let exact_model = HybridModel::new(
            self.objective.model.circuit().clone(),
            ReadoutSpec::exact(self.objective.model.readout().readout.clone()),
            self.objective.model.network().clone(),
        )?;
        let exact = Supervised {
            model: exact_model.clone(),
            batch: None,
            ..self.objective.clone()
        };
        let p = &outcome.params;
        let stream = Stream::new(self.config.seed).child(crate::rng::role::REPORT);
        let train_y = exact.predict(p, stream)?;
        let test_y = exact_model.forward(p, self.test.0.view(), stream)?;
        let test_accuracy_shots = match self.objective.model.readout().shots {
            Some(_) => {
                let y = self
                    .objective
                    .model
                    .forward(p, self.test.0.view(), stream)?;
                Some(accuracy(y.view(), self.test.1.view()))
            }
            None => None,
        };
        Ok(Metrics {
            iterations: outcome.iterations,
            termination: outcome.termination.clone(),
            train_loss: exact.loss.eval(train_y.view(), exact.targets.view())?,
            train_accuracy: accuracy(train_y.view(), exact.targets.view()),
            test_accuracy: accuracy(test_y.view(), self.test.1.view()),
            test_accuracy_shots,
            entanglement: Some(self.objective.model.entanglement(
                p,
                self.test.0.view(),
                &half_cut(self.objective.model.circuit().num_qubits()),
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
            model: self.objective.model.clone(),
            params: outcome.params.clone(),
            layout: self.objective.model.layout(),
            scaler: self.scaler.clone(),
            classes: self.classes.clone(),
            config: self.config.clone(),
            optimizer: outcome.solver.record(),
            metrics,
            loss_history: outcome.solver.history(),
        }
    }
}
