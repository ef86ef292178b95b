//! The Elman recurrent cell, the discrete-time baseline of the liquid layers:
//!
//! ```text
//! h′ = tanh(W h + U I + b)
//! ```
//!
//! one update per input step, whatever the elapsed time (a discrete cell ignores `Δt`).
//! Parameters, in order: `W` (N × N, row-major), `U` (N × inputs), `b` (N); Glorot-uniform
//! weights, zero biases.

use crate::error::Result;
use crate::rng::Stream;
use crate::train::layer::{check_widths, Layer, TimeStep};
use crate::train::liquid::{affine, glorot, with_state};
use crate::train::ops;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// The Elman recurrent cell. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rnn {
    /// Input width.
    pub inputs: usize,
    /// Number of units (the state and output width).
    pub units: usize,
}

impl Rnn {
    /// An Elman cell from `inputs` values to `units` units (both at least 1).
    ///
    /// ```
    /// use qloop::train::{Layer, Rnn};
    /// let cell = Rnn::new(2, 5).unwrap();
    /// assert_eq!(cell.num_params(), 5 * 5 + 5 * 2 + 5);
    /// ```
    pub fn new(inputs: usize, units: usize) -> Result<Self> {
        check_widths("RNN layer", &[("inputs", inputs), ("units", units)])?;
        Ok(Rnn { inputs, units })
    }
}

impl Layer for Rnn {
    fn input_width(&self) -> usize {
        self.inputs
    }
    fn output_width(&self) -> usize {
        self.units
    }
    fn num_params(&self) -> usize {
        self.units * (self.units + self.inputs + 1)
    }
    fn state_width(&self) -> usize {
        self.units
    }
    fn init(&self, stream: Stream) -> Vec<f64> {
        let mut rng = stream.rng();
        let n = self.units;
        let mut p = glorot(&mut rng, n, n, n * n);
        p.extend(glorot(&mut rng, self.inputs, n, n * self.inputs));
        p.extend(std::iter::repeat_n(0.0, n));
        p
    }
    fn forward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        time: Option<TimeStep<'_>>,
    ) -> Result<Array2<f64>> {
        let n = self.units;
        let (w, rest) = params.split_at(n * n);
        let (u, b) = rest.split_at(n * self.inputs);
        with_state("RNN layer", x.nrows(), n, time, |mut state, _, _| {
            let (mut input, mut drive, mut z) =
                (vec![0.0; self.inputs], vec![0.0; n], vec![0.0; n]);
            for (r, mut h) in state.rows_mut().into_iter().enumerate() {
                let h = h.as_slice_mut().expect("state rows are contiguous");
                input.iter_mut().zip(x.row(r)).for_each(|(i, v)| *i = *v);
                affine(u, b, &input, &mut drive);
                affine(w, &drive, h, &mut z);
                ops::tally(0, 0, 0, n);
                h.iter_mut().zip(&z).for_each(|(h, z)| *h = z.tanh());
            }
            state.to_owned()
        })
    }
    fn check(&self) -> Result<()> {
        Rnn::new(self.inputs, self.units).map(|_| ())
    }
    fn describe_params(&self) -> &'static str {
        "RNN W, U, b"
    }
}
