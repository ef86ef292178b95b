//! The classical part: a stack of dense layers on `ndarray`.
//!
//! Layer `l` maps a batch `X` (samples × inputs) to `f(X Wᵀ + b)` with `W` of shape
//! outputs × inputs and `b` of length outputs. The stack owns only shapes and activations; the
//! numbers live in the model's flat parameter vector, layer after layer, each as `W` (row-major)
//! then `b` (see `docs/conventions.md`). [`DenseStack::glorot`] draws Glorot-uniform weights
//! `U(−√(6/(in+out)), +√(6/(in+out)))` and zero biases from a seed.

use crate::error::{Error, Result};
use crate::train::stream::Stream;
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
}

impl Activation {
    fn apply(self, z: &mut Array2<f64>) {
        match self {
            Activation::Identity => {}
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

/// One dense layer's shape and activation.
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
    /// Number of parameters: `outputs · inputs + outputs`.
    pub fn num_params(&self) -> usize {
        self.outputs * (self.inputs + 1)
    }
}

/// A stack of dense layers; each layer's input width is the previous layer's output width.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenseStack {
    layers: Vec<Dense>,
}

impl DenseStack {
    /// A stack with layer widths `widths[0] → widths[1] → …`, `activation` on every hidden layer
    /// and `output` on the last. `widths` needs at least two entries, all positive.
    ///
    /// ```
    /// use qloop::train::{Activation, DenseStack};
    /// let net = DenseStack::new(&[4, 8, 3], Activation::Tanh, Activation::Softmax).unwrap();
    /// assert_eq!(net.num_params(), 8 * 5 + 3 * 9);
    /// ```
    pub fn new(widths: &[usize], activation: Activation, output: Activation) -> Result<Self> {
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
            .map(|(l, w)| Dense {
                inputs: w[0],
                outputs: w[1],
                activation: if l == last { output } else { activation },
            })
            .collect();
        Ok(DenseStack { layers })
    }

    /// An empty stack: the identity map on `width` features (a pure quantum model).
    pub fn identity() -> Self {
        DenseStack { layers: Vec::new() }
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    /// Total number of parameters.
    pub fn num_params(&self) -> usize {
        self.layers.iter().map(Dense::num_params).sum()
    }

    /// Input width, or `None` for the empty stack.
    pub fn input_width(&self) -> Option<usize> {
        self.layers.first().map(|l| l.inputs)
    }

    /// Output width, or `None` for the empty stack.
    pub fn output_width(&self) -> Option<usize> {
        self.layers.last().map(|l| l.outputs)
    }

    /// Glorot-uniform weights and zero biases, drawn from `stream`.
    pub fn glorot(&self, stream: Stream) -> Vec<f64> {
        let mut params = Vec::with_capacity(self.num_params());
        for (l, layer) in self.layers.iter().enumerate() {
            let mut rng = stream.child(l as u64).rng();
            let limit = (6.0 / (layer.inputs + layer.outputs) as f64).sqrt();
            params
                .extend((0..layer.inputs * layer.outputs).map(|_| rng.random_range(-limit..limit)));
            params.extend(std::iter::repeat_n(0.0, layer.outputs));
        }
        params
    }

    /// The forward pass of a batch `x` (samples × input width) with the flat parameters
    /// `params` (length [`DenseStack::num_params`], checked).
    pub fn forward(&self, params: &[f64], x: ArrayView2<f64>) -> Result<Array2<f64>> {
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
        let mut out = x.to_owned();
        let mut offset = 0;
        for layer in &self.layers {
            let (w, b) = self.layer_params(layer, &params[offset..]);
            offset += layer.num_params();
            let mut z = out.dot(&w.t());
            z += &b;
            layer.activation.apply(&mut z);
            out = z;
        }
        Ok(out)
    }

    fn layer_params<'a>(
        &self,
        layer: &Dense,
        params: &'a [f64],
    ) -> (ArrayView2<'a, f64>, ArrayView1<'a, f64>) {
        let nw = layer.inputs * layer.outputs;
        let w =
            ArrayView2::from_shape((layer.outputs, layer.inputs), &params[..nw]).expect("sized");
        let b = ArrayView1::from(&params[nw..nw + layer.outputs]);
        (w, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn forward_matches_hand_computation() {
        let net = DenseStack::new(&[2, 2, 1], Activation::Relu, Activation::Identity).unwrap();
        // W1 = [[1, -1], [2, 0]], b1 = [0, -1]; W2 = [[1, 3]], b2 = [0.5].
        let p = [1.0, -1.0, 2.0, 0.0, 0.0, -1.0, 1.0, 3.0, 0.5];
        let y = net
            .forward(&p, array![[1.0, 2.0], [3.0, 1.0]].view())
            .unwrap();
        // Row 0: z1 = [-1, 1] → relu [0, 1] → 3.5. Row 1: z1 = [2, 5] → 2 + 15 + 0.5.
        assert_eq!(y, array![[3.5], [17.5]]);
    }

    #[test]
    fn softmax_rows_sum_to_one_and_resist_overflow() {
        let mut z = array![[1000.0, 1000.0], [0.0, 2f64.ln()]];
        Activation::Softmax.apply(&mut z);
        assert_eq!(z.row(0).to_vec(), [0.5, 0.5]);
        assert!((z[[1, 1]] - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn glorot_is_seeded_and_bounded() {
        let net = DenseStack::new(&[4, 4, 4, 4], Activation::Tanh, Activation::Identity).unwrap();
        let p = net.glorot(Stream::new(1));
        assert_eq!(p, net.glorot(Stream::new(1)));
        assert_eq!(p.len(), net.num_params());
        let limit = (6.0f64 / 8.0).sqrt();
        assert!(p.iter().all(|v| v.abs() <= limit));
        assert!(net
            .forward(&p[1..], ndarray::Array2::zeros((1, 4)).view())
            .is_err());
    }
}
