//! The QINN article's layers: a sparse dense layer in CSR ([`SparseDense`]) and the
//! "entangled block" of shared-trunk heads ([`EntangledBlock`]).
//!
//! **SparseDense.** `X ↦ f(X Wᵀ + b)` where `W` (outputs × inputs) keeps only the entries of
//! a fixed [`Mask`] in compressed sparse rows: `row_start[i]..row_start[i + 1]` index the
//! columns `columns[..]` (ascending) of row `i`. The mask is structure and lives in the layer
//! (and in `model.json`); the kept weights live in the flat parameter vector, in CSR order,
//! then `b`, then the activation's own parameters ([`Activation::num_params`]). A mask comes
//! either from a seed at construction ([`Mask::random`]: every row keeps
//! `max(1, round((1 − s)·inputs))` columns drawn uniformly without replacement, so the
//! sparsity is `s` up to rounding and no unit is cut off) or from a trained dense layer by
//! magnitude pruning ([`SparseDense::prune`]: the `round((1 − s)·inputs·outputs)` weights of
//! largest `|w|` over the whole layer, ties to the lower index). The word "quantum" in the
//! article adds nothing to this: the mask is an ordinary random or magnitude mask. Forward:
//! batch 1 is a gathered dot product per row; a larger batch is `Yᵀ = W Xᵀ`, each kept
//! weight scaling a contiguous row of `Xᵀ` (one multiply-add per kept weight and sample
//! either way). `tests/sparse.rs` checks it against [`Dense`] on the masked weights.
//!
//! **EntangledBlock.** The article's "entangled layer block": `k` output heads read one
//! shared hidden state, `h = f(W x + b)` (hidden × inputs), `y_j = W_j h + b_j` (outputs per
//! head × hidden), the heads' outputs side by side. One trunk evaluation serves all `k`
//! outputs, where `k` separate networks evaluate `k` trunks: multiply-adds per sample
//! `H·I + k·O·H` against `k·(H·I + O·H)`. As a function it is a [`Dense`] layer followed by
//! one identity [`Dense`] of the stacked heads; what the name adds is the bookkeeping of heads.
//! Parameters, in order: `W`, `b`, then per head `W_j`, `b_j`; Glorot-uniform weights, zero
//! biases.

use crate::error::{Error, Result};
use crate::limits::MAX_PARAMETERS;
use crate::rng::Stream;
use crate::train::dense::{Activation, Dense};
use crate::train::layer::{check_widths, Layer, TimeStep};
use crate::train::liquid::glorot;
use crate::train::ops;
use ndarray::{Array2, ArrayView2};
use rand::seq::index::sample;
use serde::{Deserialize, Serialize};

/// Which weights of an outputs × inputs matrix a [`SparseDense`] keeps, in CSR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mask {
    /// `row_start[i]..row_start[i + 1]` are row `i`'s entries (outputs + 1 values).
    pub row_start: Vec<u32>,
    /// The kept columns, ascending within each row.
    pub columns: Vec<u32>,
}

fn shape_error(message: String) -> Error {
    Error::Shape {
        context: "sparse layer".into(),
        message,
    }
}

/// Checks that `sparsity` lies in `[0, 1)`.
fn check_sparsity(sparsity: f64) -> Result<()> {
    if (0.0..1.0).contains(&sparsity) {
        Ok(())
    } else {
        Err(shape_error(format!(
            "sparsity must lie in [0, 1), got {sparsity}"
        )))
    }
}

impl Mask {
    /// Every row keeps `max(1, round((1 − sparsity)·inputs))` columns drawn uniformly without
    /// replacement from `stream` (row `i` from `stream.child(i)`).
    pub fn random(inputs: usize, outputs: usize, sparsity: f64, stream: Stream) -> Result<Self> {
        check_widths("sparse layer", &[("inputs", inputs), ("outputs", outputs)])?;
        check_sparsity(sparsity)?;
        let keep = (((1.0 - sparsity) * inputs as f64).round() as usize).clamp(1, inputs);
        if keep * outputs > MAX_PARAMETERS {
            return Err(shape_error(format!(
                "{} kept weights is more than the {MAX_PARAMETERS} a network may have",
                keep * outputs
            )));
        }
        let mut row_start = vec![0u32];
        let mut columns = Vec::with_capacity(keep * outputs);
        for i in 0..outputs {
            let mut row: Vec<u32> = sample(&mut stream.child(i as u64).rng(), inputs, keep)
                .into_iter()
                .map(|c| c as u32)
                .collect();
            row.sort_unstable();
            columns.extend(row);
            row_start.push(columns.len() as u32);
        }
        Ok(Mask { row_start, columns })
    }

    /// Number of kept weights.
    pub fn nnz(&self) -> usize {
        self.columns.len()
    }

    /// Row `i`'s kept columns.
    pub fn row(&self, i: usize) -> &[u32] {
        &self.columns[self.row_start[i] as usize..self.row_start[i + 1] as usize]
    }

    fn check(&self, inputs: usize, outputs: usize) -> Result<()> {
        if self.row_start.len() != outputs + 1
            || self.row_start[0] != 0
            || *self.row_start.last().unwrap_or(&0) as usize != self.columns.len()
        {
            return Err(shape_error(format!(
                "the mask needs {} row starts from 0 to its {} columns, got {}",
                outputs + 1,
                self.columns.len(),
                self.row_start.len()
            )));
        }
        for i in 0..outputs {
            let (a, b) = (self.row_start[i], self.row_start[i + 1]);
            if a > b {
                return Err(shape_error(format!(
                    "row {i} of the mask starts at {a}, after its end {b}"
                )));
            }
            let row = self.row(i);
            if let Some(w) = row.windows(2).position(|w| w[0] >= w[1]) {
                return Err(shape_error(format!(
                    "row {i} of the mask lists column {} after {}; columns must ascend",
                    row[w + 1],
                    row[w]
                )));
            }
            if let Some(&c) = row.iter().find(|&&c| c as usize >= inputs) {
                return Err(shape_error(format!(
                    "row {i} of the mask keeps column {c} of only {inputs} inputs"
                )));
            }
        }
        Ok(())
    }
}

/// A dense layer restricted to a fixed sparse mask. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparseDense {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Activation applied to `X Wᵀ + b`.
    pub activation: Activation,
    /// The kept weights.
    pub mask: Mask,
}

impl SparseDense {
    /// A layer from `inputs` to `outputs` keeping a random `1 − sparsity` of each row's
    /// weights ([`Mask::random`] from `stream`).
    ///
    /// ```
    /// use qloop::train::{Activation, Layer, SparseDense, Stream};
    /// let layer = SparseDense::random(100, 10, 0.9, Activation::Tanh, Stream::new(1))?;
    /// assert_eq!(layer.mask.nnz(), 10 * 10);
    /// assert_eq!(layer.num_params(), 100 + 10);
    /// assert!(SparseDense::random(100, 10, 1.0, Activation::Tanh, Stream::new(1)).is_err());
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn random(
        inputs: usize,
        outputs: usize,
        sparsity: f64,
        activation: Activation,
        stream: Stream,
    ) -> Result<Self> {
        Ok(SparseDense {
            inputs,
            outputs,
            activation,
            mask: Mask::random(inputs, outputs, sparsity, stream)?,
        })
    }

    /// Magnitude pruning of a trained dense layer: keeps the `round((1 − sparsity)·in·out)`
    /// weights of largest magnitude (at least one; ties to the lower row-major index) and
    /// returns the sparse layer with its parameters (kept weights, then the dense layer's
    /// biases and activation parameters).
    pub fn prune(dense: &Dense, params: &[f64], sparsity: f64) -> Result<(Self, Vec<f64>)> {
        check_sparsity(sparsity)?;
        if params.len() != dense.num_params() {
            return Err(shape_error(format!(
                "the dense layer has {} parameters, got {}",
                dense.num_params(),
                params.len()
            )));
        }
        let (n_in, n_out) = (dense.inputs, dense.outputs);
        let total = n_in * n_out;
        let keep = (((1.0 - sparsity) * total as f64).round() as usize).clamp(1, total);
        let mut order: Vec<usize> = (0..total).collect();
        order.sort_by(|&a, &b| params[b].abs().total_cmp(&params[a].abs()).then(a.cmp(&b)));
        let mut kept = order[..keep].to_vec();
        kept.sort_unstable();
        let mut row_start = vec![0u32; n_out + 1];
        for &k in &kept {
            row_start[k / n_in + 1] += 1;
        }
        for i in 0..n_out {
            row_start[i + 1] += row_start[i];
        }
        let mask = Mask {
            row_start,
            columns: kept.iter().map(|&k| (k % n_in) as u32).collect(),
        };
        let mut p: Vec<f64> = kept.iter().map(|&k| params[k]).collect();
        p.extend_from_slice(&params[total..]);
        let layer = SparseDense {
            inputs: n_in,
            outputs: n_out,
            activation: dense.activation,
            mask,
        };
        Ok((layer, p))
    }

    /// The dense layer and its parameters with the same function: kept weights in place,
    /// zeros elsewhere (the slow reference of the CSR forward).
    pub fn to_dense(&self, params: &[f64]) -> (Dense, Vec<f64>) {
        let mut w = vec![0.0; self.inputs * self.outputs];
        for i in 0..self.outputs {
            let start = self.mask.row_start[i] as usize;
            for (k, &c) in self.mask.row(i).iter().enumerate() {
                w[i * self.inputs + c as usize] = params[start + k];
            }
        }
        w.extend_from_slice(&params[self.mask.nnz()..]);
        let dense = Dense {
            inputs: self.inputs,
            outputs: self.outputs,
            activation: self.activation,
        };
        (dense, w)
    }

    /// The fraction of weights the mask drops.
    pub fn sparsity(&self) -> f64 {
        1.0 - self.mask.nnz() as f64 / (self.inputs * self.outputs) as f64
    }

    /// `z = X Wᵀ + b` (before the activation).
    fn affine(&self, weights: &[f64], bias: &[f64], x: ArrayView2<f64>) -> Array2<f64> {
        let (n, mask) = (x.nrows(), &self.mask);
        ops::tally(n * mask.nnz(), n * self.outputs, 0, 0);
        let mut z = Array2::zeros((n, self.outputs));
        if n == 1 {
            let row = x.row(0);
            let x = row.as_slice().map_or_else(|| row.to_vec(), <[f64]>::to_vec);
            let out = z.as_slice_mut().expect("fresh arrays are contiguous");
            for (i, zi) in out.iter_mut().enumerate() {
                let (a, b) = (mask.row_start[i] as usize, mask.row_start[i + 1] as usize);
                *zi = bias[i] + gathered_dot(&weights[a..b], &mask.columns[a..b], &x);
            }
            return z;
        }
        // Xᵀ (inputs × n), so that each kept weight scales one contiguous row of it into a
        // contiguous row of Zᵀ (outputs × n).
        let xt = x.t().as_standard_layout().into_owned();
        let xt = xt.as_slice().expect("standard layout");
        let mut zt = vec![0.0; self.outputs * n];
        for (i, acc) in zt.chunks_exact_mut(n).enumerate() {
            acc.iter_mut().for_each(|a| *a = bias[i]);
            let (a, b) = (mask.row_start[i] as usize, mask.row_start[i + 1] as usize);
            for (&w, &c) in weights[a..b].iter().zip(&mask.columns[a..b]) {
                let column = &xt[c as usize * n..(c as usize + 1) * n];
                acc.iter_mut().zip(column).for_each(|(a, x)| *a += w * x);
            }
        }
        z.assign(
            &ArrayView2::from_shape((self.outputs, n), &zt)
                .expect("sized")
                .t(),
        );
        z
    }
}

/// `Σ_k w[k] · x[columns[k]]`, four partial sums.
#[inline]
fn gathered_dot(w: &[f64], columns: &[u32], x: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (cw, cc) = (w.chunks_exact(4), columns.chunks_exact(4));
    let tail: f64 = cw
        .remainder()
        .iter()
        .zip(cc.remainder())
        .map(|(w, &c)| w * x[c as usize])
        .sum();
    for (w, c) in cw.zip(cc) {
        for k in 0..4 {
            acc[k] += w[k] * x[c[k] as usize];
        }
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

impl Layer for SparseDense {
    fn input_width(&self) -> usize {
        self.inputs
    }
    fn output_width(&self) -> usize {
        self.outputs
    }
    /// Kept weights, biases, activation parameters.
    fn num_params(&self) -> usize {
        self.mask.nnz() + self.outputs + self.activation.num_params(self.outputs)
    }
    /// Glorot-uniform kept weights (for the dense fan-in and fan-out), zero biases.
    fn init(&self, stream: Stream) -> Vec<f64> {
        let mut p = glorot(
            &mut stream.rng(),
            self.inputs,
            self.outputs,
            self.mask.nnz(),
        );
        p.extend(std::iter::repeat_n(
            0.0,
            self.outputs + self.activation.num_params(self.outputs),
        ));
        p
    }
    fn forward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        _time: Option<TimeStep<'_>>,
    ) -> Result<Array2<f64>> {
        let nnz = self.mask.nnz();
        let (w, rest) = params.split_at(nnz);
        let (b, act) = rest.split_at(self.outputs);
        let mut z = self.affine(w, b, x);
        self.activation.apply(&mut z, act);
        Ok(z)
    }
    /// `∂L/∂w_e = Σ_n G_{n,i} X_{n,j}` for each kept `(i, j)`, `∂L/∂X_{n,j} = Σ G_{n,i} w_e`
    /// over the kept entries of column `j`, `∂L/∂b = Σ_rows G`, with `G = ∂L/∂z`.
    fn backward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        grad_y: ArrayView2<f64>,
    ) -> Result<(Array2<f64>, Vec<f64>)> {
        let nnz = self.mask.nnz();
        let (w, rest) = params.split_at(nnz);
        let (b, act) = rest.split_at(self.outputs);
        let (g, own) = self
            .activation
            .backward_at(self.affine(w, b, x), act, grad_y);
        let mut grads = vec![0.0; nnz];
        let mut grad_x = Array2::zeros(x.dim());
        for i in 0..self.outputs {
            let (a, e) = (
                self.mask.row_start[i] as usize,
                self.mask.row_start[i + 1] as usize,
            );
            let gi = g.column(i);
            for (k, &c) in (a..e).zip(&self.mask.columns[a..e]) {
                let c = c as usize;
                grads[k] = gi.iter().zip(x.column(c)).map(|(g, x)| g * x).sum();
                grad_x
                    .column_mut(c)
                    .zip_mut_with(&gi, |gx, g| *gx += g * w[k]);
            }
        }
        grads.extend(g.sum_axis(ndarray::Axis(0)));
        grads.extend(own);
        Ok((grad_x, grads))
    }
    fn check(&self) -> Result<()> {
        check_widths(
            "sparse layer",
            &[("inputs", self.inputs), ("outputs", self.outputs)],
        )?;
        self.mask.check(self.inputs, self.outputs)
    }
    fn describe_params(&self) -> &'static str {
        "sparse kept weights and biases"
    }
}

/// `k` heads on one shared trunk. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntangledBlock {
    /// Input width.
    pub inputs: usize,
    /// Width of the shared hidden state.
    pub hidden: usize,
    /// Number of heads `k`.
    pub heads: usize,
    /// Outputs per head.
    pub head_outputs: usize,
    /// Activation of the shared hidden state.
    pub activation: Activation,
}

impl EntangledBlock {
    /// A block of `heads` heads of `head_outputs` values each on a trunk of `hidden` units.
    ///
    /// ```
    /// use qloop::train::{Activation, EntangledBlock, Layer};
    /// let block = EntangledBlock::new(4, 16, 3, 2, Activation::Tanh)?;
    /// assert_eq!(block.output_width(), 6);
    /// assert_eq!(block.num_params(), 16 * 5 + 3 * (2 * 17));
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn new(
        inputs: usize,
        hidden: usize,
        heads: usize,
        head_outputs: usize,
        activation: Activation,
    ) -> Result<Self> {
        check_widths(
            "entangled block",
            &[
                ("inputs", inputs),
                ("hidden", hidden),
                ("heads", heads),
                ("head_outputs", head_outputs),
                ("outputs", heads.saturating_mul(head_outputs)),
            ],
        )?;
        if activation.num_params(1) > 0 {
            return Err(Error::Shape {
                context: "entangled block".into(),
                message: format!(
                    "the trunk activation {activation:?} has parameters; pick one without"
                ),
            });
        }
        Ok(EntangledBlock {
            inputs,
            hidden,
            heads,
            head_outputs,
            activation,
        })
    }

    fn trunk(&self) -> Dense {
        Dense {
            inputs: self.inputs,
            outputs: self.hidden,
            activation: self.activation,
        }
    }

    fn head(&self) -> Dense {
        Dense {
            inputs: self.hidden,
            outputs: self.head_outputs,
            activation: Activation::Identity,
        }
    }
}

impl Layer for EntangledBlock {
    fn input_width(&self) -> usize {
        self.inputs
    }
    fn output_width(&self) -> usize {
        self.heads * self.head_outputs
    }
    fn num_params(&self) -> usize {
        self.trunk().num_params() + self.heads * self.head().num_params()
    }
    fn init(&self, stream: Stream) -> Vec<f64> {
        let mut p = self.trunk().init(stream.child(0));
        for j in 0..self.heads {
            p.extend(self.head().init(stream.child(1 + j as u64)));
        }
        p
    }
    fn forward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        _time: Option<TimeStep<'_>>,
    ) -> Result<Array2<f64>> {
        let (trunk, head) = (self.trunk(), self.head());
        let (tp, hp) = params.split_at(trunk.num_params());
        let h = trunk.forward(tp, x, None)?;
        let mut y = Array2::zeros((x.nrows(), self.output_width()));
        for (j, p) in hp.chunks(head.num_params()).enumerate() {
            let yj = head.forward(p, h.view(), None)?;
            let cols = j * self.head_outputs..(j + 1) * self.head_outputs;
            y.slice_mut(ndarray::s![.., cols]).assign(&yj);
        }
        Ok(y)
    }
    /// The heads' gradients, then the trunk's for the sum of what the heads send back.
    fn backward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        grad_y: ArrayView2<f64>,
    ) -> Result<(Array2<f64>, Vec<f64>)> {
        let (trunk, head) = (self.trunk(), self.head());
        let (tp, hp) = params.split_at(trunk.num_params());
        let h = trunk.forward(tp, x, None)?;
        let mut grad_h = Array2::zeros(h.dim());
        let mut head_grads = Vec::with_capacity(hp.len());
        for (j, p) in hp.chunks(head.num_params()).enumerate() {
            let cols = j * self.head_outputs..(j + 1) * self.head_outputs;
            let (gh, gp) = head.backward(p, h.view(), grad_y.slice(ndarray::s![.., cols]))?;
            grad_h += &gh;
            head_grads.extend(gp);
        }
        let (grad_x, mut grads) = trunk.backward(tp, x, grad_h.view())?;
        grads.extend(head_grads);
        Ok((grad_x, grads))
    }
    fn check(&self) -> Result<()> {
        EntangledBlock::new(
            self.inputs,
            self.hidden,
            self.heads,
            self.head_outputs,
            self.activation,
        )
        .map(|_| ())
    }
    fn describe_params(&self) -> &'static str {
        "entangled block trunk and heads"
    }
}
