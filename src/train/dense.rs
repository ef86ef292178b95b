//! The dense layer, the first [`Layer`]: `X ↦ f(X Wᵀ + b)` on `ndarray`, and the
//! [`Activation`]s every weight layer shares.
//!
//! `W` has shape outputs × inputs and `b` length outputs. The layer owns only its shape and
//! activation; the numbers live in the model's flat parameter vector as `W` (row-major) then
//! `b`, then the activation's own parameters if it has any (the phases of
//! [`Activation::PhaseTanh`]; see `docs/conventions.md`). Initialisation is Glorot-uniform,
//! `U(−√(6/(in+out)), +√(6/(in+out)))`, with zero biases and zero phases.
//!
//! The two activations of the QINN article, made precise: the *phase-shifted tanh*
//! `f(z_i) = tanh(z_i + φ_i)` with a trainable phase per unit (after a bias, `φ` is a second
//! name for `b`: the layer computes `tanh(w·x + b + φ)`, so it adds a parameter and no
//! function; kept because the article specifies it), and the *CNOT activation*, a soft
//! controlled-NOT on consecutive units read as bits `β = σ(z)`: the control passes
//! (`β_c`) and the target becomes the soft XOR `β_c + β_t − 2 β_c β_t` (exactly CNOT's truth
//! table at `β ∈ {0, 1}`); an odd last unit passes `β`.

use crate::error::Result;
use crate::rng::Stream;
use crate::train::layer::{check_widths, Layer, TimeStep};
use crate::train::ops;
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// An element-wise (or, for softmax, row-wise) activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `f(x) = x`.
    Identity,
    /// `f(x) = tanh x`.
    Tanh,
    /// `f(x) = max(0, x)`.
    Relu,
    /// `f(x) = 1 / (1 + e^{−x})`.
    Sigmoid,
    /// Row-wise `e^{x_j} / Σ_k e^{x_k}` (computed with the row maximum subtracted).
    Softmax,
    /// `f(x_i) = tanh(x_i + φ_i)`, one trainable phase per unit (see the [module docs](self)).
    #[serde(rename = "phase-tanh")]
    PhaseTanh,
    /// Soft CNOT on consecutive pairs of units (see the [module docs](self)).
    Cnot,
}

impl Activation {
    /// Parameters the activation of `width` units reads (after the layer's biases).
    pub fn num_params(self, width: usize) -> usize {
        match self {
            Activation::PhaseTanh => width,
            _ => 0,
        }
    }

    /// Applies the activation in place; `params` has length [`Activation::num_params`] of the
    /// row width.
    pub fn apply(self, z: &mut Array2<f64>, params: &[f64]) {
        let n = z.len();
        match self {
            Activation::Identity => {}
            Activation::Tanh => ops::tally(0, 0, 0, n),
            Activation::PhaseTanh => ops::tally(0, n, 0, n),
            Activation::Relu => ops::tally(0, n, 0, 0),
            Activation::Sigmoid | Activation::Softmax => ops::tally(0, n, n, n),
            Activation::Cnot => ops::tally(0, 3 * n, n, n),
        }
        match self {
            Activation::Identity => {}
            Activation::PhaseTanh => {
                for mut row in z.axis_iter_mut(Axis(0)) {
                    row.iter_mut()
                        .zip(params)
                        .for_each(|(x, phi)| *x = (*x + phi).tanh());
                }
            }
            Activation::Cnot => {
                for mut row in z.axis_iter_mut(Axis(0)) {
                    row.mapv_inplace(|x| 1.0 / (1.0 + (-x).exp()));
                    let row = row.as_slice_mut().expect("activation rows are contiguous");
                    for pair in row.chunks_exact_mut(2) {
                        let (c, t) = (pair[0], pair[1]);
                        pair[1] = c + t - 2.0 * c * t;
                    }
                }
            }
            Activation::Tanh => z.mapv_inplace(f64::tanh),
            Activation::Relu => z.mapv_inplace(|x| x.max(0.0)),
            Activation::Sigmoid => z.mapv_inplace(|x| 1.0 / (1.0 + (-x).exp())),
            Activation::Softmax => {
                for mut row in z.axis_iter_mut(Axis(0)) {
                    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    row.mapv_inplace(|x| (x - max).exp());
                    let sum = row.sum();
                    row.mapv_inplace(|x| x / sum);
                }
            }
        }
    }
}

impl Activation {
    /// The vector–Jacobian product of [`Activation::apply`]: given the pre-activations `z`,
    /// the outputs `y = f(z)` and `∂L/∂y`, returns `∂L/∂z` and `∂L/∂φ` for the activation's
    /// own parameters (summed over the batch; empty when it has none).
    pub fn backward(
        self,
        z: ArrayView2<f64>,
        y: ArrayView2<f64>,
        grad_y: ArrayView2<f64>,
    ) -> (Array2<f64>, Vec<f64>) {
        let mut g = grad_y.to_owned();
        match self {
            Activation::Identity => {}
            Activation::Tanh | Activation::PhaseTanh => {
                g.zip_mut_with(&y, |g, y| *g *= 1.0 - y * y);
            }
            Activation::Relu => g.zip_mut_with(&z, |g, z| {
                if *z <= 0.0 {
                    *g = 0.0;
                }
            }),
            Activation::Sigmoid => g.zip_mut_with(&y, |g, y| *g *= y * (1.0 - y)),
            Activation::Softmax => {
                for (mut g, y) in g.axis_iter_mut(Axis(0)).zip(y.outer_iter()) {
                    let dot: f64 = g.iter().zip(&y).map(|(g, y)| g * y).sum();
                    g.zip_mut_with(&y, |g, y| *g = y * (*g - dot));
                }
            }
            Activation::Cnot => {
                for (mut g, z) in g.axis_iter_mut(Axis(0)).zip(z.outer_iter()) {
                    let beta: Vec<f64> = z.iter().map(|z| 1.0 / (1.0 + (-z).exp())).collect();
                    let row = g.as_slice_mut().expect("fresh arrays are contiguous");
                    for (pair, b) in row.chunks_exact_mut(2).zip(beta.chunks_exact(2)) {
                        let (gc, gt) = (pair[0], pair[1]);
                        pair[0] = gc + gt * (1.0 - 2.0 * b[1]);
                        pair[1] = gt * (1.0 - 2.0 * b[0]);
                    }
                    row.iter_mut()
                        .zip(&beta)
                        .for_each(|(g, b)| *g *= b * (1.0 - b));
                }
            }
        }
        let own = match self {
            Activation::PhaseTanh => g.sum_axis(Axis(0)).to_vec(),
            _ => Vec::new(),
        };
        (g, own)
    }

    /// [`Activation::backward`] at the pre-activations `z` with the activation's parameters:
    /// the outputs are computed here.
    pub fn backward_at(
        self,
        z: Array2<f64>,
        params: &[f64],
        grad_y: ArrayView2<f64>,
    ) -> (Array2<f64>, Vec<f64>) {
        let mut y = z.clone();
        self.apply(&mut y, params);
        self.backward(z.view(), y.view(), grad_y)
    }
}

/// A dense layer: `f(X Wᵀ + b)`, its parameters `W` (outputs × inputs, row-major) then `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dense {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Activation applied to `X Wᵀ + b`.
    pub activation: Activation,
}

impl Dense {
    /// A layer from `inputs` to `outputs` values (both positive).
    ///
    /// ```
    /// use qloop::train::{Activation, Dense, Layer};
    /// let layer = Dense::new(4, 3, Activation::Relu).unwrap();
    /// assert_eq!(layer.num_params(), 3 * 4 + 3);
    /// assert!(Dense::new(0, 3, Activation::Relu).is_err());
    /// ```
    pub fn new(inputs: usize, outputs: usize, activation: Activation) -> Result<Self> {
        check_widths("dense layer", &[("inputs", inputs), ("outputs", outputs)])?;
        Ok(Dense {
            inputs,
            outputs,
            activation,
        })
    }

    fn params<'a>(&self, params: &'a [f64]) -> (ArrayView2<'a, f64>, ArrayView1<'a, f64>) {
        let nw = self.inputs * self.outputs;
        let w = ArrayView2::from_shape((self.outputs, self.inputs), &params[..nw]).expect("sized");
        let b = ArrayView1::from(&params[nw..nw + self.outputs]);
        (w, b)
    }
}

impl Layer for Dense {
    fn input_width(&self) -> usize {
        self.inputs
    }

    fn output_width(&self) -> usize {
        self.outputs
    }

    /// `outputs · inputs + outputs`, plus the activation's parameters.
    fn num_params(&self) -> usize {
        self.outputs * (self.inputs + 1) + self.activation.num_params(self.outputs)
    }

    /// Glorot-uniform weights `U(−√(6/(in+out)), +√(6/(in+out)))` and zero biases.
    fn init(&self, stream: Stream) -> Vec<f64> {
        let mut rng = stream.rng();
        let limit = (6.0 / (self.inputs + self.outputs) as f64).sqrt();
        let mut params: Vec<f64> = (0..self.inputs * self.outputs)
            .map(|_| rng.random_range(-limit..limit))
            .collect();
        params.extend(std::iter::repeat_n(
            0.0,
            self.outputs + self.activation.num_params(self.outputs),
        ));
        params
    }

    fn forward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        _time: Option<TimeStep<'_>>,
    ) -> Result<Array2<f64>> {
        let (w, b) = self.params(params);
        ops::tally(
            x.nrows() * self.outputs * self.inputs,
            x.nrows() * self.outputs,
            0,
            0,
        );
        let mut z = x.dot(&w.t());
        z += &b;
        let nw = self.inputs * self.outputs + self.outputs;
        self.activation.apply(&mut z, &params[nw..]);
        Ok(z)
    }

    /// `∂L/∂W = Gᵀ X`, `∂L/∂b = Σ_rows G`, `∂L/∂X = G W` with `G = ∂L/∂z`.
    fn backward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        grad_y: ArrayView2<f64>,
    ) -> Result<(Array2<f64>, Vec<f64>)> {
        let (w, b) = self.params(params);
        let mut z = x.dot(&w.t());
        z += &b;
        let nw = self.inputs * self.outputs + self.outputs;
        let (g, own) = self.activation.backward_at(z, &params[nw..], grad_y);
        let mut grads = g.t().dot(&x).into_raw_vec_and_offset().0;
        grads.extend(g.sum_axis(Axis(0)));
        grads.extend(own);
        Ok((g.dot(&w), grads))
    }

    fn check(&self) -> Result<()> {
        Dense::new(self.inputs, self.outputs, self.activation).map(|_| ())
    }

    fn describe_params(&self) -> &'static str {
        "dense weights and biases"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::layer::Network;
    use ndarray::array;

    #[test]
    fn forward_matches_hand_computation() {
        let net = Network::dense(&[2, 2, 1], Activation::Relu, Activation::Identity).unwrap();
        // W1 = [[1, -1], [2, 0]], b1 = [0, -1]; W2 = [[1, 3]], b2 = [0.5].
        let p = [1.0, -1.0, 2.0, 0.0, 0.0, -1.0, 1.0, 3.0, 0.5];
        let y = net
            .forward(&p, array![[1.0, 2.0], [3.0, 1.0]].view())
            .unwrap();
        // Row 0: z1 = [-1, 1] → relu [0, 1] → 3.5. Row 1: z1 = [2, 5] → 2 + 15 + 0.5.
        assert_eq!(y, array![[3.5], [17.5]]);
    }

    #[test]
    fn cnot_activation_is_cnot_on_saturated_bits() {
        let big = 40.0;
        // (control, target) bits 00, 01, 10, 11 → 00, 01, 11, 10; the odd last unit passes.
        let mut z = array![[-big, -big, -big, big, big, -big, big, big, 0.0]];
        Activation::Cnot.apply(&mut z, &[]);
        let bits: Vec<f64> = z.iter().map(|v| v.round()).collect();
        assert_eq!(bits, [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0]);
        assert_eq!(z[[0, 8]], 0.5);
        let mut p = array![[0.3, -0.2]];
        Activation::PhaseTanh.apply(&mut p, &[0.1, 0.4]);
        assert_eq!(p, array![[0.4f64.tanh(), 0.2f64.tanh()]]);
    }

    #[test]
    fn softmax_rows_sum_to_one_and_resist_overflow() {
        let mut z = array![[1000.0, 1000.0], [0.0, 2f64.ln()]];
        Activation::Softmax.apply(&mut z, &[]);
        assert_eq!(z.row(0).to_vec(), [0.5, 0.5]);
        assert!((z[[1, 1]] - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn glorot_is_seeded_and_bounded() {
        let net = Network::dense(&[4, 4, 4, 4], Activation::Tanh, Activation::Identity).unwrap();
        let p = net.init(Stream::new(1));
        assert_eq!(p, net.init(Stream::new(1)));
        assert_eq!(p.len(), net.num_params());
        let limit = (6.0f64 / 8.0).sqrt();
        assert!(p.iter().all(|v| v.abs() <= limit));
        assert!(net
            .forward(&p[1..], ndarray::Array2::zeros((1, 4)).view())
            .is_err());
    }
}
