//! Data-parallel training over ranks (MPI processes, or threads in tests): every rank runs the
//! same optimizer on the same objective, and the batches of loss evaluations the optimizer
//! asks for at once — SPSA's `±` pairs and resamplings, its calibration pairs, 2-SPSA's four
//! points — are split over the ranks.
//!
//! Evaluation `j` of a batch runs on rank `j mod R` (rayon within the rank); each rank writes
//! its values into a vector of zeros and the vectors are summed element-wise over the ranks
//! ([`Ranks::sum`]). Every entry has one non-zero term, so the sum is exact: each rank ends
//! with every value, bit for bit what one process computes (a loss evaluation does not depend
//! on the number of threads), and the whole run — parameters, losses, evaluation count — is the
//! single process's. A single evaluation (SPSA's blocking check), and every evaluation of a
//! batch smaller than the number of ranks, is split by rows where the objective can
//! ([`Objective::cost_on`]: a supervised objective runs row `j` of its minibatch on rank
//! `j mod R` and sums the zero-padded feature matrices, again exactly); otherwise every rank
//! computes it. Gradients are computed by every rank.
//!
//! A failed evaluation is written as NaN; every rank then returns an error (the rank that
//! failed, its own), so no rank is left waiting in a sum.
//!
//! ```
//! use qloop::train::parallel::{DataParallel, Ranks};
//! use qloop::train::{optimize, CostFunction, Objective, Probe, RunOptions, Spsa};
//! use std::sync::Arc;
//!
//! /// One rank: the sum over ranks is the identity.
//! struct Alone;
//! impl Ranks for Alone {
//!     fn rank(&self) -> usize { 0 }
//!     fn size(&self) -> usize { 1 }
//!     fn sum(&self, _values: &mut [f64]) {}
//! }
//! # struct Bowl;
//! # impl CostFunction for Bowl {
//! #     type Param = Probe;
//! #     type Output = f64;
//! #     fn cost(&self, p: &Probe) -> Result<f64, argmin::core::Error> {
//! #         Ok(p.params.iter().map(|x| x * x).sum())
//! #     }
//! # }
//! # impl Objective for Bowl { fn num_params(&self) -> usize { 2 } }
//! let options = || RunOptions { max_iters: 50, ..Default::default() };
//! let alone = optimize(DataParallel::new(Bowl, Arc::new(Alone)), Spsa::new(3), vec![1.0, -1.0], options(), vec![])?;
//! let plain = optimize(Bowl, Spsa::new(3), vec![1.0, -1.0], options(), vec![])?;
//! assert_eq!(alone.params, plain.params);
//! # Ok::<(), qloop::Error>(())
//! ```

use crate::error::Result;
use crate::train::objective::{Objective, Probe};
use argmin::core::{CostFunction, Error as ArgminError};
use std::borrow::Borrow;
use std::sync::Arc;

/// The ranks of a data-parallel run, as one rank sees them.
pub trait Ranks: Send + Sync {
    /// This rank, `0 … size − 1`.
    fn rank(&self) -> usize;
    /// Number of ranks `R`.
    fn size(&self) -> usize;
    /// Replaces `values` by their element-wise sum over all ranks (every rank calls it with a
    /// vector of the same length, and every rank gets the sum).
    fn sum(&self, values: &mut [f64]);
}

/// An objective whose batches of evaluations are split over [`Ranks`] (see the
/// [module docs](self)).
pub struct DataParallel<O> {
    inner: O,
    ranks: Arc<dyn Ranks>,
}

impl<O> DataParallel<O> {
    /// `inner` evaluated on `ranks`.
    pub fn new(inner: O, ranks: Arc<dyn Ranks>) -> Self {
        DataParallel { inner, ranks }
    }
}

impl<O: Objective> CostFunction for DataParallel<O> {
    type Param = Probe;
    type Output = f64;

    fn cost(&self, p: &Probe) -> std::result::Result<f64, ArgminError> {
        match self.inner.cost_on(p, &*self.ranks) {
            Some(value) => Ok(value?),
            None => self.inner.cost(p),
        }
    }

    fn bulk_cost<P>(&self, params: &[P]) -> std::result::Result<Vec<f64>, ArgminError>
    where
        P: Borrow<Probe> + argmin::core::SyncAlias,
        f64: argmin::core::SendAlias,
        Self: argmin::core::SyncAlias,
    {
        let (rank, size) = (self.ranks.rank(), self.ranks.size());
        if params.len() < size {
            // Fewer evaluations than ranks: each one split over all of them, where it can be.
            if let Some(first) = params.first() {
                if let Some(y) = self.inner.cost_on(first.borrow(), &*self.ranks) {
                    let mut values = vec![y?];
                    for p in &params[1..] {
                        values.push(self.cost(p.borrow())?);
                    }
                    return Ok(values);
                }
            }
        }
        let mine: Vec<&Probe> = params
            .iter()
            .skip(rank)
            .step_by(size.max(1))
            .map(Borrow::borrow)
            .collect();
        let mut values = vec![0.0; params.len()];
        let mut failure = None;
        match self.inner.bulk_cost(&mine) {
            Ok(v) => {
                for (k, y) in v.into_iter().enumerate() {
                    values[rank + k * size] = y;
                }
            }
            Err(e) => {
                for k in 0..mine.len() {
                    values[rank + k * size] = f64::NAN;
                }
                failure = Some(e);
            }
        }
        self.ranks.sum(&mut values);
        if let Some(e) = failure {
            return Err(e);
        }
        if let Some(j) = (0..values.len()).find(|&j| values[j].is_nan() && j % size != rank) {
            return Err(ArgminError::msg(format!(
                "evaluation {j} of the batch failed on rank {}",
                j % size
            )));
        }
        Ok(values)
    }
}

impl<O: Objective> Objective for DataParallel<O> {
    fn num_params(&self) -> usize {
        self.inner.num_params()
    }
    fn fidelity(&self, a: &[f64], b: &[f64]) -> Option<Result<f64>> {
        self.inner.fidelity(a, b)
    }
    fn gradient(&self, probe: &Probe) -> Option<Result<(f64, Vec<f64>)>> {
        self.inner.gradient(probe)
    }
}
