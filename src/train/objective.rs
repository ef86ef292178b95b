//! Losses and the objectives SPSA minimizes.
//!
//! Losses are means over the samples of a batch (`N` samples, `K` outputs):
//! - MSE: `(1/N) Σ_i (1/K) Σ_k (y_ik − t_ik)²`;
//! - binary cross-entropy (one output, a probability): `−(1/N) Σ_i [t_i ln y_i + (1−t_i) ln(1−y_i)]`;
//! - cross-entropy (softmax outputs, one-hot targets): `−(1/N) Σ_i Σ_k t_ik ln y_ik`;
//!
//! with probabilities clamped to `[1e−12, 1 − 1e−12]` so a confident mistake costs a finite
//! 27.6 rather than infinity. The energy objective is `⟨ψ(θ)|H|ψ(θ)⟩` of a Pauli-sum Hamiltonian.
//!
//! An [`Objective`] is evaluated at a parameter vector and a [`Stream`]: the stream decides the
//! minibatch (`stream.child(role::BATCH)`) and the shot noise (`stream.child(role::SHOTS)`), so
//! an evaluation is a pure function of its arguments, whatever thread runs it.

use crate::batch::BatchStates;
use crate::circuit::Circuit;
use crate::error::{Error, Result};
use crate::noise::{self, Method, NoiseModel};
use crate::par::Par;
use crate::pauli::PauliSum;
use crate::program::Program;
use crate::rng::{role, Stream};
use crate::train::layer::Network;
use crate::train::model::{HybridModel, RecurrentModel};
use crate::train::tasks::SequenceSet;
use argmin::core::CostFunction;
use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// A loss comparing model outputs with targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Mean squared error.
    Mse,
    /// Binary cross-entropy of a single probability output.
    BinaryCrossEntropy,
    /// Multiclass cross-entropy of softmax outputs against one-hot targets.
    CrossEntropy,
}

const EPS: f64 = 1e-12;

impl Loss {
    /// The mean loss of a batch.
    pub fn eval(self, outputs: ArrayView2<f64>, targets: ArrayView2<f64>) -> Result<f64> {
        if outputs.dim() != targets.dim() {
            return Err(Error::Shape {
                context: format!("{self:?} loss"),
                message: format!(
                    "outputs are {:?} but targets are {:?}",
                    outputs.dim(),
                    targets.dim()
                ),
            });
        }
        if self == Loss::BinaryCrossEntropy && outputs.ncols() != 1 {
            return Err(Error::Shape {
                context: "binary cross-entropy".into(),
                message: format!("needs one output per sample, got {}", outputs.ncols()),
            });
        }
        let n = outputs.nrows().max(1) as f64;
        let total: f64 = outputs
            .outer_iter()
            .zip(targets.outer_iter())
            .map(|(y, t)| match self {
                Loss::Mse => {
                    y.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / y.len() as f64
                }
                Loss::BinaryCrossEntropy => {
                    let p = y[0].clamp(EPS, 1.0 - EPS);
                    -(t[0] * p.ln() + (1.0 - t[0]) * (1.0 - p).ln())
                }
                Loss::CrossEntropy => -y
                    .iter()
                    .zip(t)
                    .map(|(p, t)| t * p.clamp(EPS, 1.0 - EPS).ln())
                    .sum::<f64>(),
            })
            .sum();
        Ok(total / n)
    }
}

impl Loss {
    /// `∂L/∂Y` of [`Loss::eval`] (same shape as `outputs`; shapes as `eval` checks them):
    /// MSE `2(y − t)/(NK)`; binary cross-entropy `(y − t)/(N y (1 − y))`; cross-entropy
    /// `−t/(N y)`; zero where a probability was clamped (the clamped loss is flat there).
    pub fn gradient(
        self,
        outputs: ArrayView2<f64>,
        targets: ArrayView2<f64>,
    ) -> Result<Array2<f64>> {
        self.eval(outputs, targets)?;
        let n = outputs.nrows().max(1) as f64;
        let k = outputs.ncols().max(1) as f64;
        let clamped = |p: f64| !(EPS..=1.0 - EPS).contains(&p);
        let mut g = outputs.to_owned();
        g.zip_mut_with(&targets, |y, t| {
            *y = match self {
                Loss::Mse => 2.0 * (*y - t) / (n * k),
                _ if clamped(*y) => 0.0,
                Loss::BinaryCrossEntropy => (*y - t) / (n * *y * (1.0 - *y)),
                Loss::CrossEntropy => -t / (n * *y),
            }
        });
        Ok(g)
    }
}

/// A point at which a stochastic objective is evaluated: the parameters and the [`Stream`] that
/// names every random draw of the evaluation (minibatch, shot noise), so that the two sides of
/// an SPSA difference see the same noise and a seeded run repeats exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// The parameter vector.
    pub params: Vec<f64>,
    /// Where the evaluation's randomness comes from.
    pub stream: Stream,
}

impl Probe {
    /// The point `params` with randomness from `stream`.
    pub fn new(params: Vec<f64>, stream: Stream) -> Self {
        Probe { params, stream }
    }
}

/// A loss the optimizers minimize: an argmin [`CostFunction`] over [`Probe`]s (argmin's
/// `bulk_cost` evaluates the ± pairs of an iteration in parallel), with a known parameter count.
///
/// ```
/// use qloop::train::{CostFunction, Objective, Probe, Stream};
/// struct Bowl;
/// impl CostFunction for Bowl {
///     type Param = Probe;
///     type Output = f64;
///     fn cost(&self, p: &Probe) -> Result<f64, argmin::core::Error> {
///         Ok(p.params.iter().map(|x| x * x).sum())
///     }
/// }
/// impl Objective for Bowl {
///     fn num_params(&self) -> usize { 2 }
/// }
/// assert_eq!(Bowl.cost(&Probe::new(vec![1.0, 2.0], Stream::new(0))).unwrap(), 5.0);
/// ```
pub trait Objective: CostFunction<Param = Probe, Output = f64> + Sync {
    /// Length of the parameter vector.
    fn num_params(&self) -> usize;

    /// `|⟨ψ(a)|ψ(b)⟩|²` for objectives with a parameterized state (QN-SPSA's metric); `None`
    /// for those without one.
    fn fidelity(&self, _a: &[f64], _b: &[f64]) -> Option<crate::Result<f64>> {
        None
    }

    /// The loss at `probe` computed by all `ranks` together, each taking a share of the
    /// work and combining with [`Ranks::sum`](crate::train::parallel::Ranks::sum), every rank
    /// getting the single-process value bit for bit; `None` for objectives that cannot split
    /// one evaluation (see [`crate::train::parallel`]).
    fn cost_on(
        &self,
        _probe: &Probe,
        _ranks: &dyn crate::train::parallel::Ranks,
    ) -> Option<crate::Result<f64>> {
        None
    }

    /// The loss at `probe` and its exact gradient, for objectives that have one (the
    /// gradient-based solvers' source); `None` for those without.
    fn gradient(&self, _probe: &Probe) -> Option<crate::Result<(f64, Vec<f64>)>> {
        None
    }
}

/// `CostFunction` for objectives whose inherent `loss(&self, params, stream)` computes it.
macro_rules! cost_from_loss {
    ($($t:ty),*) => {$(
        impl CostFunction for $t {
            type Param = Probe;
            type Output = f64;
            fn cost(&self, p: &Probe) -> std::result::Result<f64, argmin::core::Error> {
                Ok(self.loss(&p.params, p.stream)?)
            }
        }
    )*};
}

cost_from_loss!(Supervised, SequenceRegression, Energy);

/// Index of the largest entry of each row.
pub fn argmax_rows(y: ArrayView2<f64>) -> Vec<usize> {
    y.outer_iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, &v)| {
                    if v > bv {
                        (i, v)
                    } else {
                        (bi, bv)
                    }
                })
                .0
        })
        .collect()
}

/// The checks every supervised objective makes: targets as wide as the model's output, and a
/// minibatch of at least one; the message of the first that fails.
fn check_targets_and_batch(
    target_width: usize,
    output_width: usize,
    batch: Option<usize>,
) -> std::result::Result<(), String> {
    if target_width != output_width {
        return Err(format!(
            "targets have {target_width} columns but the model outputs {output_width}"
        ));
    }
    if batch == Some(0) {
        return Err("the minibatch size must be at least 1".into());
    }
    Ok(())
}

/// A supervised objective: a hybrid model, samples, targets, a loss and an optional
/// minibatch size (drawn without replacement for every evaluation).
#[derive(Debug, Clone)]
pub struct Supervised {
    /// The model.
    pub model: HybridModel,
    /// Samples × inputs.
    pub x: Array2<f64>,
    /// Samples × outputs.
    pub targets: Array2<f64>,
    /// The loss.
    pub loss: Loss,
    /// Samples per evaluation, or `None` for the full batch.
    pub batch: Option<usize>,
}

impl Supervised {
    /// Checks shapes once, so evaluations cannot fail on them.
    pub fn new(
        model: HybridModel,
        x: Array2<f64>,
        targets: Array2<f64>,
        loss: Loss,
        batch: Option<usize>,
    ) -> Result<Self> {
        let shape = |message: String| Error::Shape {
            context: "supervised objective".into(),
            message,
        };
        if x.nrows() != targets.nrows() {
            return Err(shape(format!(
                "{} samples but {} targets",
                x.nrows(),
                targets.nrows()
            )));
        }
        check_targets_and_batch(targets.ncols(), model.output_width(), batch).map_err(shape)?;
        Ok(Supervised {
            model,
            x,
            targets,
            loss,
            batch,
        })
    }

    /// The rows an evaluation with `stream` uses: all, or a seeded minibatch.
    pub fn batch_rows(&self, stream: Stream) -> Option<Vec<usize>> {
        let b = self.batch?;
        let n = self.x.nrows();
        (b < n).then(|| {
            let mut rows =
                rand::seq::index::sample(&mut stream.child(role::BATCH).rng(), n, b).into_vec();
            rows.sort_unstable();
            rows
        })
    }

    /// Model outputs on every sample (no minibatch).
    pub fn predict(&self, params: &[f64], stream: Stream) -> Result<Array2<f64>> {
        self.model.forward(params, self.x.view(), stream)
    }

    /// Fraction of samples whose largest output is at the target's largest entry (for one
    /// output: whether `y ≥ 0.5` matches `t ≥ 0.5`).
    pub fn accuracy(&self, params: &[f64], stream: Stream) -> Result<f64> {
        let y = self.predict(params, stream)?;
        Ok(accuracy(y.view(), self.targets.view()))
    }
}

/// Classification accuracy of outputs against targets (see [`Supervised::accuracy`]).
pub fn accuracy(y: ArrayView2<f64>, targets: ArrayView2<f64>) -> f64 {
    let n = y.nrows().max(1) as f64;
    let hits = if y.ncols() == 1 {
        y.iter()
            .zip(targets.iter())
            .filter(|(a, b)| (**a >= 0.5) == (**b >= 0.5))
            .count()
    } else {
        argmax_rows(y)
            .iter()
            .zip(argmax_rows(targets))
            .filter(|(a, b)| **a == *b)
            .count()
    };
    hits as f64 / n
}

impl Objective for Supervised {
    fn num_params(&self) -> usize {
        self.model.layout().len()
    }

    /// The minibatch loss and its gradient ([`HybridModel::gradient`]).
    fn gradient(&self, probe: &Probe) -> Option<crate::Result<(f64, Vec<f64>)>> {
        Some(self.loss_and_gradient(&probe.params, probe.stream))
    }

    /// The minibatch's rows split over the ranks ([`Supervised::loss_on`]).
    fn cost_on(
        &self,
        probe: &Probe,
        ranks: &dyn crate::train::parallel::Ranks,
    ) -> Option<crate::Result<f64>> {
        Some(self.loss_on(&probe.params, probe.stream, ranks))
    }
}

impl Supervised {
    /// [`Supervised::loss`] with the minibatch's rows split over `ranks`: row `j` of the
    /// minibatch runs its circuit on rank `j mod R` ([`HybridModel::features_of_rows`]), the
    /// zero-padded feature matrices are summed over the ranks (exactly: one non-zero term per
    /// entry), and every rank applies the network and the loss to the whole matrix, so every
    /// rank gets the single process's loss bit for bit.
    pub fn loss_on(
        &self,
        params: &[f64],
        stream: Stream,
        ranks: &dyn crate::train::parallel::Ranks,
    ) -> Result<f64> {
        let shots = stream.child(role::SHOTS);
        let (x, t) = match self.batch_rows(stream) {
            None => (self.x.clone(), self.targets.clone()),
            Some(rows) => (
                self.x.select(Axis(0), &rows),
                self.targets.select(Axis(0), &rows),
            ),
        };
        let (rank, size) = (ranks.rank(), ranks.size().max(1));
        let mine: Vec<usize> = (rank..x.nrows()).step_by(size).collect();
        let width = self
            .model
            .readout()
            .width(self.model.circuit().num_qubits());
        // A failure is shared as NaN, so that no rank is left waiting in the sum.
        let (mut features, failure) =
            match self.model.features_of_rows(params, x.view(), shots, &mine) {
                Ok(f) => (f, None),
                Err(e) => (Array2::from_elem((x.nrows(), width), f64::NAN), Some(e)),
            };
        let values = features
            .as_slice_mut()
            .expect("a fresh feature matrix is contiguous");
        ranks.sum(values);
        if let Some(e) = failure {
            return Err(e);
        }
        if values.iter().any(|v| v.is_nan()) {
            return Err(Error::Distributed(
                "a share of the minibatch failed on another rank".into(),
            ));
        }
        let y = self.model.forward_features(params, features)?;
        self.loss.eval(y.view(), t.view())
    }
}

impl Supervised {
    /// The loss at `params` on the minibatch `stream` selects, and its exact gradient.
    pub fn loss_and_gradient(&self, params: &[f64], stream: Stream) -> Result<(f64, Vec<f64>)> {
        let (x, t) = match self.batch_rows(stream) {
            None => (self.x.view().to_owned(), self.targets.view().to_owned()),
            Some(rows) => (
                self.x.select(Axis(0), &rows),
                self.targets.select(Axis(0), &rows),
            ),
        };
        let (y, g) = self
            .model
            .gradient(params, x.view(), |y| self.loss.gradient(y, t.view()))?;
        Ok((self.loss.eval(y.view(), t.view())?, g))
    }

    /// The loss at `params`, drawing any randomness from `stream`.
    pub fn loss(&self, params: &[f64], stream: Stream) -> Result<f64> {
        let shots = stream.child(role::SHOTS);
        match self.batch_rows(stream) {
            None => {
                let y = self.model.forward(params, self.x.view(), shots)?;
                self.loss.eval(y.view(), self.targets.view())
            }
            Some(rows) => {
                let x = self.x.select(Axis(0), &rows);
                let t = self.targets.select(Axis(0), &rows);
                let y = self.model.forward(params, x.view(), shots)?;
                self.loss.eval(y.view(), t.view())
            }
        }
    }
}

/// A model that reads whole sequences ([`Network`] alone, or a [`HybridModel`] whose circuit
/// reads every step): what [`SequenceSupervised`] trains.
pub trait SequenceModel: Sync {
    /// Length of the parameter vector.
    fn num_params(&self) -> usize;
    /// Width of the last output.
    fn output_width(&self) -> usize;
    /// The last output of every sequence (see [`Network::forward_sequence`]).
    fn forward_sequence(
        &self,
        params: &[f64],
        sequences: &[Array2<f64>],
        dt: Option<&[Vec<f64>]>,
        stream: Stream,
    ) -> Result<Array2<f64>>;
}

impl SequenceModel for Network {
    fn num_params(&self) -> usize {
        Network::num_params(self)
    }
    fn output_width(&self) -> usize {
        Network::output_width(self).unwrap_or(0)
    }
    fn forward_sequence(
        &self,
        params: &[f64],
        sequences: &[Array2<f64>],
        dt: Option<&[Vec<f64>]>,
        stream: Stream,
    ) -> Result<Array2<f64>> {
        Network::forward_sequence(self, params, sequences, dt, stream)
    }
}

impl SequenceModel for HybridModel {
    fn num_params(&self) -> usize {
        self.layout().len()
    }
    fn output_width(&self) -> usize {
        HybridModel::output_width(self)
    }
    fn forward_sequence(
        &self,
        params: &[f64],
        sequences: &[Array2<f64>],
        dt: Option<&[Vec<f64>]>,
        stream: Stream,
    ) -> Result<Array2<f64>> {
        HybridModel::forward_sequence(self, params, sequences, dt, stream)
    }
}

/// A supervised sequence objective: a [`SequenceModel`] reads each sequence of a
/// [`SequenceSet`] with its elapsed times, and its last output meets the sequence's target
/// through the loss; `batch` sequences per evaluation (drawn without replacement), or all.
#[derive(Debug, Clone)]
pub struct SequenceSupervised<M> {
    /// The model.
    pub model: M,
    /// Sequences, elapsed times and targets.
    pub data: SequenceSet,
    /// The loss.
    pub loss: Loss,
    /// Sequences per evaluation, or `None` for all.
    pub batch: Option<usize>,
}

impl<M: SequenceModel> SequenceSupervised<M> {
    /// Checks shapes once (targets against the model's output width, elapsed times against
    /// sequence lengths, the batch size).
    pub fn new(model: M, data: SequenceSet, loss: Loss, batch: Option<usize>) -> Result<Self> {
        let shape = |message: String| Error::Shape {
            context: "sequence objective".into(),
            message,
        };
        if data.targets.nrows() != data.len() || data.dt.len() != data.len() {
            return Err(shape(format!(
                "{} sequences, {} lists of elapsed times and {} targets",
                data.len(),
                data.dt.len(),
                data.targets.nrows()
            )));
        }
        check_targets_and_batch(data.targets.ncols(), model.output_width(), batch)
            .map_err(shape)?;
        Ok(SequenceSupervised {
            model,
            data,
            loss,
            batch,
        })
    }

    /// Last outputs on every sequence (no minibatch).
    pub fn predict(&self, params: &[f64], stream: Stream) -> Result<Array2<f64>> {
        self.model
            .forward_sequence(params, &self.data.sequences, Some(&self.data.dt), stream)
    }

    /// The loss at `params`, drawing any randomness from `stream`.
    pub fn loss(&self, params: &[f64], stream: Stream) -> Result<f64> {
        let inner = stream.child(role::SHOTS);
        let n = self.data.len();
        match self.batch.filter(|&b| b < n) {
            None => {
                let y = self.predict(params, inner)?;
                self.loss.eval(y.view(), self.data.targets.view())
            }
            Some(b) => {
                let mut rows =
                    rand::seq::index::sample(&mut stream.child(role::BATCH).rng(), n, b).into_vec();
                rows.sort_unstable();
                let part = self.data.select(&rows);
                let y =
                    self.model
                        .forward_sequence(params, &part.sequences, Some(&part.dt), inner)?;
                self.loss.eval(y.view(), part.targets.view())
            }
        }
    }
}

impl<M: SequenceModel> Objective for SequenceSupervised<M> {
    fn num_params(&self) -> usize {
        self.model.num_params()
    }
}

impl<M: SequenceModel> CostFunction for SequenceSupervised<M> {
    type Param = Probe;
    type Output = f64;
    fn cost(&self, p: &Probe) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.loss(&p.params, p.stream)?)
    }
}

/// Sequence regression: a [`RecurrentModel`] reads each sequence and its last output's first
/// component is compared with the target by MSE.
#[derive(Debug, Clone)]
pub struct SequenceRegression {
    /// The recurrent model.
    pub model: RecurrentModel,
    /// Input sequences (steps × data width each).
    pub sequences: Vec<Array2<f64>>,
    /// One target per sequence.
    pub targets: Vec<f64>,
}

impl SequenceRegression {
    /// Predictions (first component of the last output) for every sequence.
    pub fn predict(&self, params: &[f64], stream: Stream) -> Result<Vec<f64>> {
        let h = self.model.forward(params, &self.sequences, stream)?;
        Ok(h.column(0).to_vec())
    }
}

impl Objective for SequenceRegression {
    fn num_params(&self) -> usize {
        self.model.cell().layout().len()
    }
}

impl SequenceRegression {
    /// The loss at `params`, drawing any randomness from `stream`.
    pub fn loss(&self, params: &[f64], stream: Stream) -> Result<f64> {
        let p = self.predict(params, stream.child(role::SHOTS))?;
        Ok(p.iter()
            .zip(&self.targets)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            / p.len().max(1) as f64)
    }
}

/// The energy `⟨ψ(θ)|H|ψ(θ)⟩` of a parameterized circuit (all parameters weights), exact or
/// estimated from shots; under a noise model ([`Energy::with_noise`]) `Tr(ρ(θ) H)`, exact
/// from the density matrix, or with shots estimated from that many trajectories (each
/// trajectory's exact `⟨ψₜ|H|ψₜ⟩`, see [`crate::noise::simulate`]).
#[derive(Debug, Clone)]
pub struct Energy {
    circuit: Circuit,
    program: Program,
    hamiltonian: PauliSum,
    shots: Option<usize>,
    noise: Option<NoiseModel>,
}

impl Energy {
    /// Checks that the circuit has no inputs and that `H` fits it.
    pub fn new(ansatz: &Circuit, hamiltonian: PauliSum, shots: Option<usize>) -> Result<Self> {
        let program = ansatz.compile()?;
        hamiltonian.check_width(ansatz.num_qubits())?;
        if let Some(name) = program.layout().inputs.first() {
            return Err(Error::Shape {
                context: "energy objective".into(),
                message: format!("the ansatz has an input parameter '{name}'; bind it first"),
            });
        }
        if matches!(shots, Some(s) if s < 2) {
            return Err(Error::TooFewShots {
                context: "energy estimate".into(),
                min: 2,
                got: shots.unwrap_or(0),
            });
        }
        Ok(Energy {
            circuit: ansatz.clone(),
            program,
            hamiltonian,
            shots,
            noise: None,
        })
    }

    /// The same energy with every gate followed by the channels of `noise` (and readout error,
    /// which leaves expectation values unchanged).
    #[must_use]
    pub fn with_noise(mut self, noise: NoiseModel) -> Self {
        self.noise = Some(noise);
        self
    }

    /// The exact noiseless energy at `params`.
    pub fn exact(&self, params: &[f64]) -> Result<f64> {
        let psi = self.program.statevector(params, &[])?;
        self.hamiltonian.expectation(&psi)
    }

    /// The exact energy at `params` under the noise model (the noiseless energy without one).
    pub fn exact_noisy(&self, params: &[f64]) -> Result<f64> {
        self.noisy(params, None, 0)
    }

    /// `Tr(ρ(θ) H)` for the circuit bound at `params`: exact (density) or from `shots`
    /// trajectories seeded by `seed`.
    fn noisy(&self, params: &[f64], shots: Option<usize>, seed: u64) -> Result<f64> {
        let bound = self.program.layout().bind(&self.circuit, params, &[])?;
        let method = match shots {
            None => Method::Density,
            Some(_) => Method::Trajectories,
        };
        let e = noise::expectation(
            &bound,
            self.noise.as_ref(),
            &self.hamiltonian,
            method,
            shots,
            seed,
        )?;
        Ok(e.value)
    }
}

impl Objective for Energy {
    fn num_params(&self) -> usize {
        self.program.layout().weights.len()
    }

    /// The exact fidelity of the noiseless states (`None` under a noise model).
    fn fidelity(&self, a: &[f64], b: &[f64]) -> Option<Result<f64>> {
        if self.noise.is_some() {
            return None;
        }
        let state = |p: &[f64]| self.program.statevector(p, &[]);
        Some(state(a).and_then(|x| Ok(x.inner(&state(b)?).norm_sqr())))
    }
}

impl Energy {
    /// The loss at `params`, drawing any randomness from `stream`.
    pub fn loss(&self, params: &[f64], stream: Stream) -> Result<f64> {
        if self.noise.is_some() {
            return self.noisy(params, self.shots, stream.child(role::SHOTS).key());
        }
        let n = self.program.num_qubits();
        BatchStates::with_local(n, |states| {
            let psi = states.first_mut();
            self.program.run(params, &[], psi, Par::auto(n))?;
            match self.shots {
                None => self.hamiltonian.expectation(psi),
                Some(s) => Ok(self
                    .hamiltonian
                    .estimate(psi, s, stream.child(role::SHOTS).key())?
                    .value),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn losses_by_hand() {
        let y = array![[0.8, 0.2], [0.4, 0.6]];
        let t = array![[1.0, 0.0], [1.0, 0.0]];
        let mse = Loss::Mse.eval(y.view(), t.view()).unwrap();
        assert!((mse - (0.04 + 0.04 + 0.36 + 0.36) / 4.0).abs() < 1e-15);
        let ce = Loss::CrossEntropy.eval(y.view(), t.view()).unwrap();
        assert!((ce + (0.8f64.ln() + 0.4f64.ln()) / 2.0).abs() < 1e-15);
        let bce = Loss::BinaryCrossEntropy
            .eval(array![[0.9]].view(), array![[0.0]].view())
            .unwrap();
        assert!((bce + 0.1f64.ln()).abs() < 1e-15);
        assert!(Loss::Mse.eval(y.view(), array![[1.0]].view()).is_err());
        assert_eq!(accuracy(y.view(), t.view()), 0.5);
    }
}
