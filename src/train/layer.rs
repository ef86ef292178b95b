//! The classical part of a model: a [`Network`] of [`Layer`]s.
//!
//! A layer maps a batch `X` (samples × input width) to `Y` (samples × output width) with its
//! own slice of the model's flat parameter vector. A layer may carry a state across the steps
//! of a sequence (`state_width() > 0`: a recurrent or spiking layer); each step then also sees
//! the elapsed time `Δt` per sample, so irregularly sampled sequences work. Stateless layers
//! ignore both.
//!
//! The network's parameters are its layers' parameters, layer after layer, each in the order
//! its layer documents (see `docs/conventions.md`); [`Network::ranges`] gives every layer's
//! range, checked once by the model. Layer `l` initialises from `stream.child(l)`.
//!
//! A new kind of layer is a new type implementing [`Layer`] in a file of its own, and one
//! variant of [`AnyLayer`] (the serialized form, tagged by `kind`).

use crate::error::{Error, Result};
use crate::rng::{role, Stream};
use crate::train::dense::{Activation, Dense};
use crate::train::liquid::{Cfc, Ltc, QsLtc};
use crate::train::rnn::Rnn;
use crate::train::sparse::{EntangledBlock, SparseDense};
use crate::train::spiking::{Lif, QLifPair};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};
use serde::{Deserialize, Serialize};
use std::ops::Range;

use crate::limits::{MAX_PARAMETERS, MAX_WIDTH};

/// Checks that every named width lies in `1..=MAX_WIDTH`, naming the first that does not.
pub(crate) fn check_widths(context: &str, widths: &[(&str, usize)]) -> Result<()> {
    match widths.iter().find(|(_, w)| !(1..=MAX_WIDTH).contains(w)) {
        Some((name, w)) => Err(Error::Shape {
            context: context.into(),
            message: format!("{name} must lie in 1..={MAX_WIDTH}, got {w}"),
        }),
        None => Ok(()),
    }
}

/// One step of a sequence as a stateful layer sees it: its state for every sample of the
/// batch (samples × [`Layer::state_width`], updated in place) and the time elapsed since the
/// previous step, per sample.
pub struct TimeStep<'a> {
    /// The layer's carried state, one row per sample.
    pub state: ArrayViewMut2<'a, f64>,
    /// Elapsed time `Δt` per sample (positive; 1 for regularly sampled data).
    pub dt: ArrayView1<'a, f64>,
    /// The step's randomness (sample `r` draws from `draws.child(r)`), for layers that
    /// sample.
    pub draws: Stream,
}

/// A layer of the classical network. See the [module docs](self).
pub trait Layer {
    /// Width of each input row.
    fn input_width(&self) -> usize;

    /// Width of each output row.
    fn output_width(&self) -> usize;

    /// Number of parameters this layer reads from the flat vector.
    fn num_params(&self) -> usize;

    /// Initial parameters (length [`Layer::num_params`]), drawn from `stream`.
    fn init(&self, stream: Stream) -> Vec<f64>;

    /// Width of the state carried across time steps (0 for a stateless layer).
    fn state_width(&self) -> usize {
        0
    }

    /// The forward pass of a batch. `params` has length [`Layer::num_params`] and `x` width
    /// [`Layer::input_width`] (the network checks both); `time` is `Some` inside a sequence for
    /// a stateful layer, `None` otherwise (a stateful layer then runs one step from a zero
    /// state with `Δt = 1`).
    fn forward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        time: Option<TimeStep<'_>>,
    ) -> Result<Array2<f64>>;

    /// The stateless backward pass (the vector–Jacobian product of [`Layer::forward`] with
    /// `time = None`): given the batch `x` and `∂L/∂Y`, returns `∂L/∂X` and `∂L/∂params`
    /// (summed over the batch, in the layer's parameter order). Layers whose output is not a
    /// differentiable function of their parameters (spikes, sampled collapses) or that are
    /// only trained through time say so with [`Error::NotDifferentiable`].
    fn backward(
        &self,
        _params: &[f64],
        _x: ArrayView2<f64>,
        _grad_y: ArrayView2<f64>,
    ) -> Result<(Array2<f64>, Vec<f64>)> {
        Err(Error::NotDifferentiable {
            what: format!("a {} layer", self.describe_params()),
            reason: "only dense, sparse and entangled-block layers have a backward pass; train this model with a gradient-free optimizer (spsa, 2spsa)".into(),
        })
    }

    /// Checks the layer's own sizes (what its constructor checks), for layers that were
    /// deserialized rather than constructed.
    fn check(&self) -> Result<()>;

    /// What the layer's parameters are, for layouts and messages ("dense weights and biases").
    fn describe_params(&self) -> &'static str;
}

/// Every kind of layer, as stored in model files (`{"kind": "dense", …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnyLayer {
    /// A dense layer ([`Dense`]).
    Dense(Dense),
    /// A liquid time-constant cell ([`Ltc`]).
    Ltc(Ltc),
    /// A closed-form continuous-time cell ([`Cfc`]).
    Cfc(Cfc),
    /// The superposition LTC ([`QsLtc`]).
    #[serde(rename = "qs-ltc")]
    QsLtc(QsLtc),
    /// The Elman recurrent cell ([`Rnn`]).
    Rnn(Rnn),
    /// Leaky integrate-and-fire neurons ([`Lif`]).
    Lif(Lif),
    /// Entangled LIF neuron pairs ([`QLifPair`]).
    #[serde(rename = "qlif")]
    QLifPair(QLifPair),
    /// A dense layer on a sparse mask ([`SparseDense`]).
    Sparse(SparseDense),
    /// Heads on one shared trunk ([`EntangledBlock`]).
    #[serde(rename = "entangled-block")]
    EntangledBlock(EntangledBlock),
}

impl AnyLayer {
    fn inner(&self) -> &dyn Layer {
        match self {
            AnyLayer::Dense(l) => l,
            AnyLayer::Ltc(l) => l,
            AnyLayer::Cfc(l) => l,
            AnyLayer::QsLtc(l) => l,
            AnyLayer::Rnn(l) => l,
            AnyLayer::Lif(l) => l,
            AnyLayer::QLifPair(l) => l,
            AnyLayer::Sparse(l) => l,
            AnyLayer::EntangledBlock(l) => l,
        }
    }
}

macro_rules! any_layer_from {
    ($($t:ident),*) => {$(
        impl From<$t> for AnyLayer {
            fn from(layer: $t) -> Self {
                AnyLayer::$t(layer)
            }
        }
    )*};
}

any_layer_from!(Dense, Ltc, Cfc, QsLtc, Rnn, Lif, QLifPair, EntangledBlock);

impl From<SparseDense> for AnyLayer {
    fn from(layer: SparseDense) -> Self {
        AnyLayer::Sparse(layer)
    }
}

impl Layer for AnyLayer {
    fn input_width(&self) -> usize {
        self.inner().input_width()
    }
    fn output_width(&self) -> usize {
        self.inner().output_width()
    }
    fn num_params(&self) -> usize {
        self.inner().num_params()
    }
    fn init(&self, stream: Stream) -> Vec<f64> {
        self.inner().init(stream)
    }
    fn state_width(&self) -> usize {
        self.inner().state_width()
    }
    fn forward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        time: Option<TimeStep<'_>>,
    ) -> Result<Array2<f64>> {
        self.inner().forward(params, x, time)
    }
    fn backward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        grad_y: ArrayView2<f64>,
    ) -> Result<(Array2<f64>, Vec<f64>)> {
        self.inner().backward(params, x, grad_y)
    }
    fn check(&self) -> Result<()> {
        self.inner().check()
    }
    fn describe_params(&self) -> &'static str {
        self.inner().describe_params()
    }
}

/// A chain of layers; each layer's input width is the previous layer's output width, every
/// width at most [`crate::limits::MAX_WIDTH`] and the parameters at most
/// [`crate::limits::MAX_PARAMETERS`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NetworkSpec", into = "NetworkSpec")]
pub struct Network {
    layers: Vec<AnyLayer>,
}

/// The serialized form of a [`Network`] (its widths are checked on load).
#[derive(Serialize, Deserialize)]
struct NetworkSpec {
    layers: Vec<AnyLayer>,
}

impl TryFrom<NetworkSpec> for Network {
    type Error = Error;
    fn try_from(spec: NetworkSpec) -> Result<Self> {
        Network::new(spec.layers)
    }
}

impl From<Network> for NetworkSpec {
    fn from(n: Network) -> Self {
        NetworkSpec { layers: n.layers }
    }
}

impl Network {
    /// A network of `layers`, input side first; consecutive widths must agree and every width
    /// must be positive.
    ///
    /// ```
    /// use qloop::train::{Activation, Dense, Network};
    /// let net = Network::new(vec![
    ///     Dense::new(4, 8, Activation::Tanh)?.into(),
    ///     Dense::new(8, 3, Activation::Softmax)?.into(),
    /// ])?;
    /// assert_eq!(net.num_params(), 8 * 5 + 3 * 9);
    /// assert!(Network::new(vec![Dense::new(4, 8, Activation::Tanh)?.into(),
    ///                           Dense::new(7, 3, Activation::Softmax)?.into()]).is_err());
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn new(layers: Vec<AnyLayer>) -> Result<Self> {
        for layer in &layers {
            layer.check()?;
        }
        let total: usize = layers.iter().map(Layer::num_params).sum();
        if total > MAX_PARAMETERS {
            return Err(Error::Shape {
                context: "network".into(),
                message: format!("{total} parameters is more than the {MAX_PARAMETERS} allowed"),
            });
        }
        for (l, pair) in layers.windows(2).enumerate() {
            if pair[0].output_width() != pair[1].input_width() {
                return Err(Error::Shape {
                    context: "network".into(),
                    message: format!(
                        "layer {l} gives {} values but layer {} takes {}",
                        pair[0].output_width(),
                        l + 1,
                        pair[1].input_width()
                    ),
                });
            }
        }
        Ok(Network { layers })
    }

    /// A stack of dense layers with widths `widths[0] → widths[1] → …`, `activation` on every
    /// hidden layer and `output` on the last. `widths` needs at least two entries, all positive.
    ///
    /// ```
    /// use qloop::train::{Activation, Network};
    /// let net = Network::dense(&[4, 8, 3], Activation::Tanh, Activation::Softmax).unwrap();
    /// assert_eq!(net.num_params(), 8 * 5 + 3 * 9);
    /// ```
    pub fn dense(widths: &[usize], activation: Activation, output: Activation) -> Result<Self> {
        if widths.len() < 2 || widths.contains(&0) {
            return Err(Error::Shape {
                context: "dense stack".into(),
                message: format!(
                    "layer widths must be at least two positive numbers, got {widths:?}"
                ),
            });
        }
        let last = widths.len() - 2;
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(l, w)| {
                let f = if l == last { output } else { activation };
                Dense::new(w[0], w[1], f).map(AnyLayer::from)
            })
            .collect::<Result<Vec<_>>>()?;
        Network::new(layers)
    }

    /// The empty network: the identity on its input (a pure quantum model).
    pub fn identity() -> Self {
        Network { layers: Vec::new() }
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[AnyLayer] {
        &self.layers
    }

    /// Total number of parameters.
    pub fn num_params(&self) -> usize {
        self.layers.iter().map(Layer::num_params).sum()
    }

    /// Each layer's range in the network's parameter vector (starting at `offset`).
    pub fn ranges(&self, offset: usize) -> Vec<Range<usize>> {
        let mut start = offset;
        self.layers
            .iter()
            .map(|l| {
                let r = start..start + l.num_params();
                start = r.end;
                r
            })
            .collect()
    }

    /// Input width, or `None` for the empty network.
    pub fn input_width(&self) -> Option<usize> {
        self.layers.first().map(Layer::input_width)
    }

    /// Output width, or `None` for the empty network.
    pub fn output_width(&self) -> Option<usize> {
        self.layers.last().map(Layer::output_width)
    }

    /// Total width of the states the layers carry across time steps.
    pub fn state_width(&self) -> usize {
        self.layers.iter().map(Layer::state_width).sum()
    }

    /// Initial parameters: layer `l` from `stream.child(l)`.
    pub fn init(&self, stream: Stream) -> Vec<f64> {
        let mut params = Vec::with_capacity(self.num_params());
        for (l, layer) in self.layers.iter().enumerate() {
            params.extend(layer.init(stream.child(l as u64)));
        }
        params
    }

    /// The forward pass of a batch `x` (samples × input width) with the flat parameters
    /// `params` (length [`Network::num_params`], checked), stateless (every stateful layer
    /// runs one step from a zero state).
    pub fn forward(&self, params: &[f64], x: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.check(params, x)?;
        let mut out = x.to_owned();
        for (layer, range) in self.layers.iter().zip(self.ranges(0)) {
            out = layer.forward(&params[range], out.view(), None)?;
        }
        Ok(out)
    }

    /// The stateless forward pass and its backward pass: the outputs `Y` for `x`, and, given
    /// `∂L/∂Y` from `grad_of(Y)`, the gradients `∂L/∂X` (samples × input width) and
    /// `∂L/∂params` (length [`Network::num_params`]), by backpropagation layer by layer
    /// ([`Layer::backward`]).
    pub fn gradient(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        grad_of: impl FnOnce(ArrayView2<f64>) -> Result<Array2<f64>>,
    ) -> Result<(Array2<f64>, Array2<f64>, Vec<f64>)> {
        self.check(params, x)?;
        let ranges = self.ranges(0);
        let mut inputs = vec![x.to_owned()];
        for (layer, range) in self.layers.iter().zip(&ranges) {
            let next = layer.forward(
                &params[range.clone()],
                inputs.last().expect("x").view(),
                None,
            )?;
            inputs.push(next);
        }
        let y = inputs.pop().expect("x");
        let mut grad = grad_of(y.view())?;
        if grad.dim() != y.dim() {
            return Err(Error::Shape {
                context: "network gradient".into(),
                message: format!("∂L/∂Y is {:?} for outputs {:?}", grad.dim(), y.dim()),
            });
        }
        let mut grads = vec![0.0; params.len()];
        for ((layer, range), input) in self.layers.iter().zip(&ranges).zip(&inputs).rev() {
            let (g_in, g_params) =
                layer.backward(&params[range.clone()], input.view(), grad.view())?;
            grads[range.clone()].copy_from_slice(&g_params);
            grad = g_in;
        }
        Ok((y, grad, grads))
    }

    /// One step of a sequence: `state` (samples × [`Network::state_width`]) holds every
    /// stateful layer's state side by side, in layer order, and is updated in place; `dt` is
    /// the elapsed time per sample; layer `l` draws any randomness from `draws.child(l)`.
    pub fn step(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        state: &mut Array2<f64>,
        dt: ArrayView1<f64>,
        draws: Stream,
    ) -> Result<Array2<f64>> {
        self.check(params, x)?;
        let (n, width) = (x.nrows(), self.state_width());
        if state.dim() != (n, width) || dt.len() != n {
            return Err(Error::Shape {
                context: "network step".into(),
                message: format!(
                    "a batch of {n} needs a state of {n} × {width} and {n} time steps, got {:?} and {}",
                    state.dim(),
                    dt.len()
                ),
            });
        }
        let mut out = x.to_owned();
        let mut column = 0;
        for (l, (layer, range)) in self.layers.iter().zip(self.ranges(0)).enumerate() {
            let w = layer.state_width();
            let time = (w > 0).then(|| TimeStep {
                state: state.slice_mut(ndarray::s![.., column..column + w]),
                dt,
                draws: draws.child(l as u64),
            });
            column += w;
            out = layer.forward(&params[range], out.view(), time)?;
        }
        Ok(out)
    }

    /// Runs a batch of sequences step by step and returns the last output of each
    /// (sequences × output width); the stateless counterpart is [`Network::forward`].
    /// `sequences[k]` is steps × inputs (lengths may differ, each at least 1); `dt[k][t]` is
    /// the time elapsed before step `t` of sequence `k` (all 1 when `None`). Stateful layers
    /// start from zero and carry their state from step to step; a sequence that has ended
    /// drops out of the batch. Step `t` samples from `stream.child(role::COLLAPSE).child(t)`.
    ///
    /// ```
    /// use qloop::train::{Ltc, Network, Stream};
    /// let net = Network::new(vec![Ltc::new(1, 3, 6)?.into()])?;
    /// let p = net.init(Stream::new(1));
    /// let seqs = vec![ndarray::Array2::from_elem((5, 1), 0.3), ndarray::Array2::from_elem((2, 1), 0.3)];
    /// let y = net.forward_sequence(&p, &seqs, None, Stream::new(2))?;
    /// // The short sequence ends where the long one was after two steps.
    /// let first_two = net.forward_sequence(&p, &seqs[1..], None, Stream::new(2))?;
    /// assert_eq!(y.row(1), first_two.row(0));
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn forward_sequence(
        &self,
        params: &[f64],
        sequences: &[Array2<f64>],
        dt: Option<&[Vec<f64>]>,
        stream: Stream,
    ) -> Result<Array2<f64>> {
        let inputs = match self.input_width() {
            Some(w) => w,
            None => sequences.first().map_or(0, Array2::ncols),
        };
        self.unroll(params, sequences, dt, inputs, stream, |x, _| {
            Ok(x.to_owned())
        })
    }

    /// The sequence loop shared by [`Network::forward_sequence`] and the hybrid model's:
    /// `features` maps step `t`'s inputs (active sequences × `inputs`) to the network's
    /// input, drawing any noise from the stream it is given
    /// (`stream.child(role::SHOTS).child(t)`).
    pub(crate) fn unroll(
        &self,
        params: &[f64],
        sequences: &[Array2<f64>],
        dt: Option<&[Vec<f64>]>,
        inputs: usize,
        stream: Stream,
        mut features: impl FnMut(ArrayView2<f64>, Stream) -> Result<Array2<f64>>,
    ) -> Result<Array2<f64>> {
        let shape_error = |message: String| Error::Shape {
            context: "sequence model".into(),
            message,
        };
        if dt.is_some_and(|d| d.len() != sequences.len()) {
            return Err(shape_error(format!(
                "{} sequences but {} lists of elapsed times",
                sequences.len(),
                dt.map_or(0, <[Vec<f64>]>::len)
            )));
        }
        for (k, seq) in sequences.iter().enumerate() {
            if seq.nrows() == 0 || seq.ncols() != inputs {
                return Err(shape_error(format!(
                    "sequence {k} is {} × {}, expected at least 1 step × {inputs} inputs",
                    seq.nrows(),
                    seq.ncols(),
                )));
            }
            if let Some(d) = dt.map(|d| &d[k]).filter(|d| d.len() != seq.nrows()) {
                return Err(shape_error(format!(
                    "sequence {k} has {} steps but {} elapsed times",
                    seq.nrows(),
                    d.len()
                )));
            }
        }
        let steps = sequences.iter().map(Array2::nrows).max().unwrap_or(0);
        let mut state = Array2::zeros((sequences.len(), self.state_width()));
        let mut out: Option<Array2<f64>> = None;
        for t in 0..steps {
            let active: Vec<usize> = (0..sequences.len())
                .filter(|&k| sequences[k].nrows() > t)
                .collect();
            let x = Array2::from_shape_fn((active.len(), inputs), |(r, j)| {
                sequences[active[r]][[t, j]]
            });
            let step_dt =
                Array1::from_shape_fn(active.len(), |r| dt.map_or(1.0, |d| d[active[r]][t]));
            let x = features(x.view(), stream.child(role::SHOTS).child(t as u64))?;
            let draws = stream.child(role::COLLAPSE).child(t as u64);
            let y = if self.layers.is_empty() {
                x
            } else if active.len() == sequences.len() {
                self.step(params, x.view(), &mut state, step_dt.view(), draws)?
            } else {
                let mut sub = state.select(Axis(0), &active);
                let y = self.step(params, x.view(), &mut sub, step_dt.view(), draws)?;
                for (r, &k) in active.iter().enumerate() {
                    state.row_mut(k).assign(&sub.row(r));
                }
                y
            };
            let out = out.get_or_insert_with(|| Array2::zeros((sequences.len(), y.ncols())));
            for (r, &k) in active.iter().enumerate() {
                if sequences[k].nrows() == t + 1 {
                    out.row_mut(k).assign(&y.row(r));
                }
            }
        }
        Ok(out.unwrap_or_else(|| Array2::zeros((0, self.output_width().unwrap_or(inputs)))))
    }

    fn check(&self, params: &[f64], x: ArrayView2<f64>) -> Result<()> {
        if params.len() != self.num_params() {
            return Err(Error::Shape {
                context: "dense stack".into(),
                message: format!(
                    "needs {} parameters, got {}",
                    self.num_params(),
                    params.len()
                ),
            });
        }
        if let Some(w) = self.input_width() {
            if x.ncols() != w {
                return Err(Error::Shape {
                    context: "dense stack".into(),
                    message: format!("first layer takes {w} features, got {}", x.ncols()),
                });
            }
        }
        Ok(())
    }
}
