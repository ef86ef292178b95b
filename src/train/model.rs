//! Hybrid models: circuit → readout → network of layers, and its recurrent unrolling.
//!
//! A [`HybridModel`] evaluates one sample `x` as
//! `y = network(readout(U(θ, x)|0…0⟩))`: the sample's features bind the circuit's *input*
//! parameters (in [`crate::ParameterLayout`] order, i.e. order of first appearance, so an input
//! used several times is re-uploaded), the circuit's *weights* are the trainable angles θ.
//!
//! All trainable numbers live in one flat vector laid out as
//! `[circuit weights | layer 1 | layer 2 | …]` ([`ModelLayout`], each layer in its own order); every entry point
//! checks its length, so a wrong vector is an error, never a silent misread.
//!
//! A [`RecurrentModel`] unrolls a hybrid cell over a sequence: at step `t` the cell's inputs are
//! `[x_t, h_{t−1}]` (with `h_{−1} = 0`) and its output is `h_t`, so the classical outputs of one
//! step bind circuit inputs of the next.

use crate::batch::{BatchStates, BatchValues};
use crate::circuit::Circuit;
use crate::entropy::LogBase;
use crate::error::{Error, Result};
use crate::noise::NoiseModel;
use crate::par::Par;
use crate::program::Program;
use crate::rng::Stream;
use crate::sim::Precision;
use crate::state::{StateVector, StateVector32};
use crate::train::layer::{Layer, Network};
use crate::train::readout::{Readout, ReadoutSpec};
use ndarray::{Array2, ArrayView2};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::f64::consts::PI;
use std::ops::Range;

/// The entanglement of a model's states over a data set ([`HybridModel::entanglement`]);
/// entropies in the stated log base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateEntanglement {
    /// The subsystem `A` of the entropy `S(A)`.
    pub subsystem: Vec<usize>,
    /// The log base of every entropy here.
    pub base: LogBase,
    /// Number of states (data rows).
    pub samples: usize,
    /// Mean `S(A)`.
    pub mean: f64,
    /// Population standard deviation of `S(A)`.
    pub std: f64,
    /// Smallest `S(A)`.
    pub min: f64,
    /// Largest `S(A)`.
    pub max: f64,
    /// Mean entropy across each cut `{0..k−1} | {k..n−1}`, `k = 1 … n−1`.
    pub profile_mean: Vec<f64>,
    /// Mean Meyer–Wallach `Q`.
    pub meyer_wallach_mean: f64,
}

/// Where each block of a model's flat parameter vector lives, derived from the circuit and
/// the network's layers (the one cursor over the vector).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelLayout {
    /// The circuit's trainable angles (in the circuit's weight order).
    pub circuit: Range<usize>,
    /// Every network parameter (layer after layer), right after the circuit's.
    pub network: Range<usize>,
    /// Each layer's range and what its parameters are, input side first.
    pub layers: Vec<LayerRange>,
}

/// Where one layer's parameters live in the flat vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRange {
    /// The layer's coordinates.
    pub range: Range<usize>,
    /// What they are ("dense weights and biases").
    pub what: String,
}

impl ModelLayout {
    /// The layout of `num_circuit` circuit angles followed by `network`'s layers.
    pub fn new(num_circuit: usize, network: &Network) -> Self {
        let layers = network
            .ranges(num_circuit)
            .into_iter()
            .zip(network.layers())
            .map(|(range, l)| LayerRange {
                range,
                what: l.describe_params().to_string(),
            })
            .collect();
        ModelLayout {
            circuit: 0..num_circuit,
            network: num_circuit..num_circuit + network.num_params(),
            layers,
        }
    }

    /// Total length of the parameter vector.
    pub fn len(&self) -> usize {
        self.network.end
    }

    /// Whether the model has no parameters.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks a parameter vector's length.
    pub fn check(&self, params: &[f64]) -> Result<()> {
        if params.len() != self.len() {
            return Err(Error::ModelParameterLength {
                expected: self.len(),
                got: params.len(),
                layout: self.to_string(),
            });
        }
        Ok(())
    }
}

impl std::fmt::Display for ModelLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[circuit angles {}..{}",
            self.circuit.start, self.circuit.end
        )?;
        // Consecutive layers of one kind are one block: `dense weights and biases 4..17`.
        let mut blocks: Vec<(Range<usize>, &str)> = Vec::new();
        for LayerRange { range, what } in &self.layers {
            match blocks.last_mut() {
                Some((r, w)) if *w == what.as_str() => r.end = range.end,
                _ => blocks.push((range.clone(), what)),
            }
        }
        if blocks.is_empty() {
            blocks.push((self.network.clone(), "dense weights and biases"));
        }
        for (range, what) in blocks {
            write!(f, " | {what} {}..{}", range.start, range.end)?;
        }
        write!(f, "]")
    }
}

/// A circuit, its readout and a network. See the [module docs](self).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "ModelSpec", into = "ModelSpec")]
pub struct HybridModel {
    circuit: Circuit,
    program: Program,
    readout: ReadoutSpec,
    network: Network,
    /// The noise the circuit runs under ([`HybridModel::with_noise`]); not saved with the
    /// model (it belongs to the device, and a training configuration names its file).
    noise: Option<NoiseModel>,
    /// The amplitudes' precision of [`HybridModel::features`] ([`HybridModel::with_precision`]);
    /// not saved with the model (a saved model predicts in double precision).
    precision: Precision,
}

/// The serialized form of a [`HybridModel`] (the compiled program is rebuilt on load).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ModelSpec {
    circuit: Circuit,
    readout: ReadoutSpec,
    network: Network,
}

impl TryFrom<ModelSpec> for HybridModel {
    type Error = Error;
    fn try_from(spec: ModelSpec) -> Result<Self> {
        HybridModel::new(spec.circuit, spec.readout, spec.network)
    }
}

impl From<HybridModel> for ModelSpec {
    fn from(m: HybridModel) -> Self {
        ModelSpec {
            circuit: m.circuit,
            readout: m.readout,
            network: m.network,
        }
    }
}

thread_local! {
    /// The readout's probability buffer, per thread (the batch's state comes from
    /// [`BatchStates::with_local`]).
    static PROBS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    /// A single-precision model's state and its widened copy, per thread.
    static SINGLE: RefCell<(Option<StateVector32>, Option<StateVector>)> =
        const { RefCell::new((None, None)) };
}

/// Single precision and a noise model together: the noise runs on the density matrix.
fn single_under_noise() -> Error {
    Error::SinglePrecision {
        reason: "a hybrid model under noise runs on the density matrix".into(),
    }
}

impl HybridModel {
    /// Compiles the circuit and checks that the readout fits it and feeds the network
    /// (an empty stack passes the readout through).
    pub fn new(circuit: Circuit, readout: ReadoutSpec, network: Network) -> Result<Self> {
        let program = circuit.compile()?;
        readout.check(circuit.num_qubits())?;
        let width = readout.width(circuit.num_qubits());
        if let Some(w) = network.input_width() {
            if w != width {
                return Err(Error::Shape {
                    context: "hybrid model".into(),
                    message: format!(
                        "the readout gives {width} features but the dense stack takes {w}"
                    ),
                });
            }
        }
        Ok(HybridModel {
            circuit,
            program,
            readout,
            network,
            noise: None,
            precision: Precision::Double,
        })
    }

    /// The same model with its circuit run under `noise`: each sample's state is the exact
    /// density matrix of the bound circuit with the model's channels after its gates, and the
    /// readout is measured through the model's readout error (observables are exact
    /// `Tr ρ O`, so an observable readout with shots is refused).
    pub fn with_noise(mut self, noise: NoiseModel) -> Result<Self> {
        if self.precision == Precision::Single {
            return Err(single_under_noise());
        }
        if matches!(self.readout.readout, Readout::Observables(_)) && self.readout.shots.is_some() {
            return Err(Error::Shape {
                context: "hybrid model under noise".into(),
                message: "observables are read exactly under noise; drop the shots or read z or probabilities".into(),
            });
        }
        crate::noise::DensityProgram::new(
            &self.program.layout().bind(
                &self.circuit,
                &vec![0.0; self.program.layout().weights.len()],
                &vec![0.0; self.program.layout().inputs.len()],
            )?,
            Some(&noise),
        )?;
        self.noise = Some(noise);
        Ok(self)
    }

    /// The same model with its circuit run on amplitudes of `precision` (noiseless models
    /// only: a model under noise refuses single precision). The readout of a single-precision
    /// state sums its probabilities in double precision; features agree with double precision
    /// to about 1e-6 (`docs/conventions.md`, "Precision"). Exact gradients
    /// ([`HybridModel::gradient`]) run in double precision and refuse a single-precision model.
    pub fn with_precision(mut self, precision: Precision) -> Result<Self> {
        if precision == Precision::Single && self.noise.is_some() {
            return Err(single_under_noise());
        }
        self.precision = precision;
        Ok(self)
    }

    /// The precision of the circuit's amplitudes.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The noise model the circuit runs under, if any.
    pub fn noise(&self) -> Option<&NoiseModel> {
        self.noise.as_ref()
    }

    /// The same model (network, noise) with another readout specification.
    pub fn with_readout(&self, readout: ReadoutSpec) -> Result<Self> {
        let mut model = HybridModel::new(self.circuit.clone(), readout, self.network.clone())?;
        model.noise = self.noise.clone();
        model.precision = self.precision;
        Ok(model)
    }

    /// The circuit.
    pub fn circuit(&self) -> &Circuit {
        &self.circuit
    }

    /// The compiled circuit.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The readout.
    pub fn readout(&self) -> &ReadoutSpec {
        &self.readout
    }

    /// The classical network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The layout of the flat parameter vector.
    pub fn layout(&self) -> ModelLayout {
        ModelLayout::new(self.program.layout().weights.len(), &self.network)
    }

    /// Number of data inputs per sample (the circuit's input parameters).
    pub fn num_inputs(&self) -> usize {
        self.program.layout().inputs.len()
    }

    /// Width of the model's output.
    pub fn output_width(&self) -> usize {
        self.network
            .output_width()
            .unwrap_or_else(|| self.readout.width(self.circuit.num_qubits()))
    }

    /// Initial parameters: circuit angles uniform in `[−π, π)` from `stream.child(0)`, then
    /// each layer's own initialisation ([`Network::init`] from `stream.child(1)`).
    pub fn init_params(&self, stream: Stream) -> Vec<f64> {
        let mut rng = stream.child(0).rng();
        let mut params: Vec<f64> = (0..self.layout().circuit.len())
            .map(|_| rng.random_range(-PI..PI))
            .collect();
        params.extend(self.network.init(stream.child(1)));
        params
    }

    /// The state the circuit prepares for one sample.
    pub fn state(&self, params: &[f64], input: &[f64]) -> Result<StateVector> {
        self.layout().check(params)?;
        let layout = self.layout();
        self.program.statevector(&params[layout.circuit], input)
    }

    /// The entanglement of the model's states over a data set (one state per row of `x`):
    /// the von Neumann entropy of `subsystem`, its spread, the mean entropy across every cut
    /// of the chain and the mean Meyer–Wallach `Q`.
    ///
    /// ```
    /// use qloop::entropy::LogBase;
    /// use qloop::train::{Network, HybridModel, Readout, ReadoutSpec};
    /// use qloop::{Circuit, Param};
    /// let circuit = Circuit::new(2).ry(Param::input("x"), 0).cx(0, 1);
    /// let model =
    ///     HybridModel::new(circuit, ReadoutSpec::exact(Readout::ExpectationZ), Network::identity())
    ///         .unwrap();
    /// let x = ndarray::array![[std::f64::consts::FRAC_PI_2], [0.0]];
    /// let e = model.entanglement(&[], x.view(), &[0], LogBase::Two).unwrap();
    /// assert!((e.max - 1.0).abs() < 1e-12 && e.min.abs() < 1e-12);
    /// assert!((e.mean - 0.5).abs() < 1e-12);
    /// ```
    pub fn entanglement(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        subsystem: &[usize],
        base: LogBase,
    ) -> Result<StateEntanglement> {
        if x.nrows() == 0 {
            return Err(Error::Shape {
                context: "entanglement of trained states".into(),
                message: "the data set is empty".into(),
            });
        }
        let n = self.circuit().num_qubits();
        let mut values = Vec::with_capacity(x.nrows());
        let mut profile_sum = vec![0.0; n.saturating_sub(1)];
        let mut q_sum = 0.0;
        for row in x.rows() {
            let state = self.state(params, &row.to_vec())?;
            let e = state.entanglement();
            values.push(e.von_neumann(subsystem, base)?);
            for (sum, s) in profile_sum.iter_mut().zip(e.profile(base)?) {
                *sum += s;
            }
            q_sum += e.meyer_wallach()?;
        }
        let count = values.len() as f64;
        let mean = values.iter().sum::<f64>() / count;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count;
        Ok(StateEntanglement {
            subsystem: subsystem.to_vec(),
            base,
            samples: values.len(),
            mean,
            std: var.sqrt(),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            profile_mean: profile_sum.into_iter().map(|s| s / count).collect(),
            meyer_wallach_mean: q_sum / count,
        })
    }

    /// The readout features of a batch (samples × inputs); sample `i` draws its shot noise from
    /// `stream.child(i)`.
    pub fn features(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        stream: Stream,
    ) -> Result<Array2<f64>> {
        self.features_indexed(params, x, stream, &|i| i as u64)
    }

    /// The features of the rows `rows` of the batch `x` only (the other rows zero), each the
    /// same bits as in [`HybridModel::features`] of the whole batch (row `r` draws from
    /// `stream.child(r)`): one rank's share when a batch's rows are split over ranks.
    ///
    /// ```
    /// use qloop::train::{ansatz, Activation, HybridModel, Network, Readout, ReadoutSpec, Stream};
    /// let net = Network::dense(&[2, 1], Activation::Tanh, Activation::Identity)?;
    /// let spec = ReadoutSpec::sampled(Readout::ExpectationZ, 100);
    /// let model = HybridModel::new(ansatz::reuploading(2, 1, 2), spec, net)?;
    /// let p = model.init_params(Stream::new(1));
    /// let x = ndarray::array![[0.1, 0.7], [1.2, -0.4], [0.3, 0.3]];
    /// let all = model.features(&p, x.view(), Stream::new(5))?;
    /// let some = model.features_of_rows(&p, x.view(), Stream::new(5), &[2, 0])?;
    /// assert_eq!((some.row(0), some.row(2)), (all.row(0), all.row(2)));
    /// assert!(some.row(1).iter().all(|&v| v == 0.0));
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn features_of_rows(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        stream: Stream,
        rows: &[usize],
    ) -> Result<Array2<f64>> {
        let width = self.readout.width(self.circuit.num_qubits());
        let mut out = Array2::zeros((x.nrows(), width));
        if rows.is_empty() {
            self.layout().check(params)?;
            return Ok(out);
        }
        if let Some(&r) = rows.iter().find(|&&r| r >= x.nrows()) {
            return Err(Error::Shape {
                context: "hybrid model".into(),
                message: format!("row {r} of a batch of {}", x.nrows()),
            });
        }
        let part = x.select(ndarray::Axis(0), rows);
        let part = self.features_indexed(params, part.view(), stream, &|i| rows[i] as u64)?;
        for (k, &r) in rows.iter().enumerate() {
            out.row_mut(r).assign(&part.row(k));
        }
        Ok(out)
    }

    /// [`HybridModel::features`] with sample `i` drawing from `stream.child(index(i))`.
    fn features_indexed(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        stream: Stream,
        index: &(dyn Fn(usize) -> u64 + Sync),
    ) -> Result<Array2<f64>> {
        let layout = self.layout();
        layout.check(params)?;
        if x.ncols() != self.num_inputs() {
            return Err(Error::Shape {
                context: "hybrid model".into(),
                message: format!(
                    "the circuit has {} input parameters {:?} but each sample has {} features",
                    self.num_inputs(),
                    self.program.layout().inputs,
                    x.ncols()
                ),
            });
        }
        let n = self.circuit.num_qubits();
        let width = self.readout.width(n);
        let mut out = Array2::zeros((x.nrows(), width));
        let weights = &params[layout.circuit];
        let rows = x.as_standard_layout();
        let rows = rows.as_slice().expect("standard layout is contiguous");
        let out_slice = out.as_slice_mut().expect("a fresh array is contiguous");
        if let Some(noise) = &self.noise {
            let inputs = self.num_inputs();
            for (i, dst) in out_slice
                .chunks_mut(width.max(1))
                .enumerate()
                .take(x.nrows())
            {
                let row = &rows[i * inputs..(i + 1) * inputs];
                let bound = self.program.layout().bind(&self.circuit, weights, row)?;
                let outcome = crate::noise::DensityProgram::new(&bound, Some(noise))?.run()?;
                self.readout
                    .features_of_density(&outcome, noise, stream.child(index(i)), dst)?;
            }
            return Ok(out);
        }
        if self.precision == Precision::Single {
            SINGLE.with(|buffers| {
                let (single, double) = &mut *buffers.borrow_mut();
                let (single, double) = match (single, double) {
                    (Some(s), Some(d)) if s.num_qubits() == n => (s, d),
                    (single, double) => {
                        let fresh = (StateVector32::zero(n)?, StateVector::zero(n)?);
                        (single.insert(fresh.0), double.insert(fresh.1))
                    }
                };
                let inputs = self.num_inputs();
                let mut probs = Vec::new();
                for (i, dst) in out_slice
                    .chunks_mut(width.max(1))
                    .enumerate()
                    .take(x.nrows())
                {
                    let row = &rows[i * inputs..(i + 1) * inputs];
                    self.program.run_single(weights, row, single, Par::Seq)?;
                    single.widen_into(double);
                    self.readout
                        .features_into(double, stream.child(index(i)), &mut probs, dst)?;
                }
                Ok::<_, Error>(())
            })?;
            return Ok(out);
        }
        // One worker: the SPSA ± pair and resamplings already run in parallel around this.
        BatchStates::with_local(n, |states| {
            self.program.run_batch(
                BatchValues::Shared(weights),
                BatchValues::PerRow(rows),
                states,
                out_slice,
                width,
                |i, state, dst| {
                    PROBS.with(|probs| {
                        let probs = &mut probs.borrow_mut();
                        self.readout
                            .features_into(state, stream.child(index(i)), probs, dst)
                    })
                },
            )
        })?;
        Ok(out)
    }

    /// The model's output for a batch (samples × inputs).
    pub fn forward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        stream: Stream,
    ) -> Result<Array2<f64>> {
        let features = self.features(params, x, stream)?;
        self.forward_features(params, features)
    }

    /// The network's output on readout features (what [`HybridModel::forward`] applies after
    /// [`HybridModel::features`]).
    pub fn forward_features(&self, params: &[f64], features: Array2<f64>) -> Result<Array2<f64>> {
        if self.network.layers().is_empty() {
            return Ok(features);
        }
        self.network
            .forward(&params[self.layout().network], features.view())
    }
}

impl HybridModel {
    /// The outputs `Y` of the batch `x` and the exact gradient of a loss `L(Y)` with respect
    /// to every parameter (flat layout), given `∂L/∂Y = cotangent(Y)`: backpropagation
    /// through the network ([`Network::gradient`]) gives `∂L/∂f` for each sample's features
    /// `f`, and one adjoint sweep per sample ([`crate::gradient`]) with
    /// `M = Σ_j (∂L/∂f_j) O_j` gives the circuit angles' share. Per sample this costs two
    /// forward runs (features, then the sweep's start) and one backward sweep; samples run in
    /// parallel and their gradients add in sample order, so the result does not depend on the
    /// number of threads. Needs exact readout and no noise model
    /// ([`Error::NotDifferentiable`] otherwise), and layers with a backward pass.
    ///
    /// ```
    /// use qloop::train::{ansatz, Activation, HybridModel, Network, Readout, ReadoutSpec, Stream};
    /// let net = Network::dense(&[2, 1], Activation::Tanh, Activation::Identity)?;
    /// let model = HybridModel::new(ansatz::reuploading(2, 1, 2), ReadoutSpec::exact(Readout::ExpectationZ), net)?;
    /// let p = model.init_params(Stream::new(1));
    /// let x = ndarray::array![[0.1, 0.7], [1.2, -0.4]];
    /// // L = Σ y: the cotangent is all ones.
    /// let (y, g) = model.gradient(&p, x.view(), |y| Ok(ndarray::Array2::ones(y.dim())))?;
    /// let h = 1e-6;
    /// let mut q = p.clone();
    /// q[0] += h;
    /// let up = model.forward(&q, x.view(), Stream::new(0))?.sum();
    /// q[0] -= 2.0 * h;
    /// let down = model.forward(&q, x.view(), Stream::new(0))?.sum();
    /// assert!(((up - down) / (2.0 * h) - g[0]).abs() < 1e-8 && y.nrows() == 2);
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn gradient(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        cotangent: impl FnOnce(ArrayView2<f64>) -> Result<Array2<f64>>,
    ) -> Result<(Array2<f64>, Vec<f64>)> {
        use rayon::prelude::*;
        if self.readout.shots.is_some() {
            return Err(Error::NotDifferentiable {
                what: "a readout estimated from shots".into(),
                reason: "exact gradients need exact readout (model.shots = 0)".into(),
            });
        }
        if self.noise.is_some() {
            return Err(Error::NotDifferentiable {
                what: "a model with a noise model".into(),
                reason: "the adjoint method differentiates pure states only".into(),
            });
        }
        if self.precision == Precision::Single {
            return Err(Error::NotDifferentiable {
                what: "a single-precision model".into(),
                reason: "the adjoint sweep runs in double precision (model.precision = \"double\")"
                    .into(),
            });
        }
        let sweep = crate::gradient::AdjointSweep::new(&self.circuit)?;
        let layout = self.layout();
        let features = self.features(params, x, Stream::new(0))?;
        let (y, grad_features, network) = match self.network.layers().is_empty() {
            true => {
                let g = cotangent(features.view())?;
                (features.clone(), g, Vec::new())
            }
            false => self.network.gradient(
                &params[layout.network.clone()],
                features.view(),
                cotangent,
            )?,
        };
        let weights = &params[layout.circuit.clone()];
        let rows = x.as_standard_layout();
        let per_sample: Vec<Vec<f64>> = (0..x.nrows())
            .into_par_iter()
            .map(|i| {
                let row = rows.row(i);
                let row = row.as_slice().expect("standard layout rows are contiguous");
                let phi = sweep.program().statevector(weights, row)?;
                let g = grad_features.row(i).to_vec();
                let lambda = self
                    .readout
                    .readout
                    .weighted_operator_times(phi.amplitudes(), &g);
                Ok(sweep.gradient(phi, lambda, weights, row))
            })
            .collect::<Result<_>>()?;
        let mut grad = vec![0.0; layout.len()];
        for g in &per_sample {
            grad[layout.circuit.clone()]
                .iter_mut()
                .zip(g)
                .for_each(|(a, b)| *a += b);
        }
        grad[layout.network].copy_from_slice(&network);
        Ok((y, grad))
    }

    /// Runs a batch of sequences through the model step by step and returns the last output of
    /// each (sequences × output width). `sequences[k]` is steps × inputs (lengths may differ,
    /// each at least 1); `dt[k][t]` is the time elapsed before step `t` of sequence `k` (all 1
    /// when `None`). At each step the circuit reads the step's inputs, and the network's
    /// stateful layers (LTC, CfC, …) carry their state from the step before, starting from
    /// zero; a sequence that has ended drops out of the batch. Step `t` draws its shot noise
    /// from `stream.child(role::SHOTS).child(t)` and any sampling of the network from
    /// `stream.child(role::COLLAPSE).child(t)`.
    ///
    /// ```
    /// use qloop::train::{ansatz, HybridModel, Ltc, Network, Readout, ReadoutSpec, Stream};
    /// let net = Network::new(vec![Ltc::new(2, 3, 6)?.into()])?;
    /// let model = HybridModel::new(ansatz::reuploading(2, 1, 1), ReadoutSpec::exact(Readout::ExpectationZ), net)?;
    /// let p = model.init_params(Stream::new(1));
    /// let seqs = vec![ndarray::Array2::from_elem((5, 1), 0.3), ndarray::Array2::from_elem((3, 1), 0.3)];
    /// let y = model.forward_sequence(&p, &seqs, None, Stream::new(2))?;
    /// assert_eq!(y.dim(), (2, 3));
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn forward_sequence(
        &self,
        params: &[f64],
        sequences: &[Array2<f64>],
        dt: Option<&[Vec<f64>]>,
        stream: Stream,
    ) -> Result<Array2<f64>> {
        self.layout().check(params)?;
        self.network.unroll(
            &params[self.layout().network],
            sequences,
            dt,
            self.num_inputs(),
            stream,
            |x, shots| self.features(params, x, shots),
        )
    }
}

/// A hybrid cell unrolled over sequences. See the [module docs](self).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecurrentModel {
    cell: HybridModel,
    hidden: usize,
}

impl RecurrentModel {
    /// Wraps a cell whose inputs are `[x_t (data_width values), h_{t−1} (hidden values)]` and
    /// whose output is `h_t`.
    pub fn new(cell: HybridModel, data_width: usize) -> Result<Self> {
        let hidden = cell.output_width();
        if cell.num_inputs() != data_width + hidden {
            return Err(Error::Shape {
                context: "recurrent model".into(),
                message: format!(
                    "the cell's circuit has {} inputs, but {data_width} data values + {hidden} \
                     fed-back outputs are bound at each step",
                    cell.num_inputs()
                ),
            });
        }
        Ok(RecurrentModel { cell, hidden })
    }

    /// The cell.
    pub fn cell(&self) -> &HybridModel {
        &self.cell
    }

    /// Width of the fed-back output `h_t`.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Runs a batch of sequences (`sequences[s]` is steps × data width, all of one length) and
    /// returns the last output `h_{T−1}` of each (sequences × hidden). Step `t` draws shot noise
    /// from `stream.child(t)`.
    pub fn forward(
        &self,
        params: &[f64],
        sequences: &[Array2<f64>],
        stream: Stream,
    ) -> Result<Array2<f64>> {
        let steps = sequences.first().map_or(0, Array2::nrows);
        if let Some(s) = sequences.iter().position(|s| s.nrows() != steps) {
            return Err(Error::Shape {
                context: "recurrent model".into(),
                message: format!(
                    "sequence {s} has {} steps, sequence 0 has {steps}",
                    sequences[s].nrows()
                ),
            });
        }
        let data_width = self.cell.num_inputs() - self.hidden;
        let mut h = Array2::zeros((sequences.len(), self.hidden));
        let mut inputs = Array2::zeros((sequences.len(), data_width + self.hidden));
        for t in 0..steps {
            for (s, seq) in sequences.iter().enumerate() {
                if seq.ncols() != data_width {
                    return Err(Error::Shape {
                        context: "recurrent model".into(),
                        message: format!(
                            "sequence {s} has {} values per step, expected {data_width}",
                            seq.ncols()
                        ),
                    });
                }
                let mut row = inputs.row_mut(s);
                row.slice_mut(ndarray::s![..data_width]).assign(&seq.row(t));
                row.slice_mut(ndarray::s![data_width..]).assign(&h.row(s));
            }
            h = self
                .cell
                .forward(params, inputs.view(), stream.child(t as u64))?;
        }
        Ok(h)
    }
}
