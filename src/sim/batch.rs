//! Batched evaluation: one compiled program, many parameter rows, spread over the cores.
//!
//! An optimizer step, a set of resamplings or a minibatch evaluates the same program for many
//! rows of parameter values. [`Program::run_batch`] gives every worker one state from a
//! [`BatchStates`] pool, made once and reused: a batch allocates nothing per evaluation (the
//! one per-batch allocation is the weight binding when every row shares the weights). Rows are
//! split into one contiguous group per worker; each evaluation is independent of the others,
//! so the results do not depend on the number of workers.
//!
//! ```
//! use qloop::batch::{BatchStates, BatchValues};
//! use qloop::{Circuit, Param};
//! let program = Circuit::new(1).ry(Param::weight("theta"), 0).compile().unwrap();
//! let thetas = [0.0, 1.0, 2.0, 3.0];
//! let mut states = BatchStates::new(1, 2).unwrap();
//! let mut z = [0.0; 4];
//! program
//!     .run_batch(BatchValues::PerRow(&thetas), BatchValues::Shared(&[]), &mut states, &mut z, 1,
//!         |_, psi, out| { out[0] = psi.expectation_z(0)?; Ok(()) })
//!     .unwrap();
//! for (theta, z) in thetas.iter().zip(z) {
//!     assert!((z - theta.cos()).abs() < 1e-12); // ⟨Z⟩ after RY(θ)|0⟩ is cos θ
//! }
//! ```

use crate::error::{Error, ParamKind, Result};
use crate::par::Par;
use crate::program::Program;
use crate::state::StateVector;
use rayon::prelude::*;

/// The values of one parameter kind for every evaluation of a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BatchValues<'a> {
    /// One row, used by every evaluation.
    Shared(&'a [f64]),
    /// One row per evaluation, concatenated (row-major).
    PerRow(&'a [f64]),
}

impl<'a> BatchValues<'a> {
    /// The values of evaluation `i`, rows being `width` long.
    fn row(&self, i: usize, width: usize) -> &'a [f64] {
        match *self {
            BatchValues::Shared(row) => row,
            BatchValues::PerRow(rows) => &rows[i * width..(i + 1) * width],
        }
    }

    /// Checks the length for `count` rows of `width` and that every value is finite.
    fn check(&self, program: &Program, kind: ParamKind, count: usize) -> Result<()> {
        let layout = program.layout();
        let width = layout.names(kind).len();
        match *self {
            BatchValues::Shared(row) => layout.check(kind, row),
            BatchValues::PerRow(rows) => {
                if rows.len() != count * width {
                    return Err(Error::Shape {
                        context: "Program::run_batch".into(),
                        message: format!(
                            "{count} evaluations of {width} {kind} values need {} values, got {}",
                            count * width,
                            rows.len()
                        ),
                    });
                }
                for (i, row) in rows.chunks(width.max(1)).enumerate() {
                    layout.check(kind, row).map_err(|e| Error::Shape {
                        context: format!("Program::run_batch, row {i}"),
                        message: e.to_string(),
                    })?;
                }
                Ok(())
            }
        }
    }
}

/// One state per worker of [`Program::run_batch`], allocated once and reused across batches.
#[derive(Debug, Clone)]
pub struct BatchStates {
    states: Vec<StateVector>,
}

thread_local! {
    /// The pool [`BatchStates::with_local`] lends: one per thread, kept between calls.
    static LOCAL: std::cell::RefCell<Option<BatchStates>> = const { std::cell::RefCell::new(None) };
}

impl BatchStates {
    /// Runs `f` with this thread's pool of one `num_qubits`-qubit state, made on first use and
    /// kept for the next call (remade for another size): the scratch of objectives that rayon
    /// evaluates on many threads at once, so that an evaluation allocates no state.
    pub(crate) fn with_local<R>(
        num_qubits: usize,
        f: impl FnOnce(&mut BatchStates) -> Result<R>,
    ) -> Result<R> {
        LOCAL.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.as_ref().map(BatchStates::num_qubits) != Some(num_qubits) {
                *slot = Some(BatchStates::new(num_qubits, 1)?);
            }
            f(slot.as_mut().expect("just set"))
        })
    }

    /// The first state of the pool.
    pub(crate) fn first_mut(&mut self) -> &mut StateVector {
        &mut self.states[0]
    }

    /// `workers` states of `num_qubits` qubits (at least one), refusing sizes that do not fit
    /// in memory.
    pub fn new(num_qubits: usize, workers: usize) -> Result<Self> {
        let states = (0..workers.max(1))
            .map(|_| StateVector::zero(num_qubits))
            .collect::<Result<_>>()?;
        Ok(BatchStates { states })
    }

    /// One state per thread of the current rayon pool.
    pub fn per_thread(num_qubits: usize) -> Result<Self> {
        Self::new(num_qubits, rayon::current_num_threads())
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.states.len()
    }

    /// Number of qubits of each state.
    pub fn num_qubits(&self) -> usize {
        self.states[0].num_qubits()
    }
}

impl Program {
    /// Runs the program once per row of parameter values, from `|0…0⟩` each time, and lets
    /// `readout(i, state, out_i)` fill evaluation `i`'s `width` outputs `out_i =
    /// out[i·width..(i+1)·width]`. The number of evaluations is `out.len() / width`.
    ///
    /// Small states run one evaluation per worker at a time, in parallel over the workers of
    /// `states`; states from [`Par::THRESHOLD_QUBITS`] qubits run one evaluation at a time,
    /// each with the kernels in parallel. When every row shares the weights they are bound once
    /// ([`Program::bind_weights`]). Results are the same as [`Program::run`] row by row, bit for
    /// bit, whatever the number of workers. The first error (checked rows before any run, then
    /// the readout's) is returned.
    pub fn run_batch<T: Send>(
        &self,
        weights: BatchValues<'_>,
        inputs: BatchValues<'_>,
        states: &mut BatchStates,
        out: &mut [T],
        width: usize,
        readout: impl Fn(usize, &StateVector, &mut [T]) -> Result<()> + Sync,
    ) -> Result<()> {
        if width == 0 || !out.len().is_multiple_of(width) {
            return Err(Error::Shape {
                context: "Program::run_batch".into(),
                message: format!(
                    "the output of {} values does not split into rows of width {width}",
                    out.len()
                ),
            });
        }
        if states.num_qubits() != self.num_qubits() {
            return Err(Error::StateSize {
                expected: self.num_qubits(),
                got: states.num_qubits(),
            });
        }
        let count = out.len() / width;
        weights.check(self, ParamKind::Weight, count)?;
        inputs.check(self, ParamKind::Input, count)?;
        let (nw, ni) = (self.layout().weights.len(), self.layout().inputs.len());
        // Every row and the states are checked: the runs below check nothing again.
        let binding = match weights {
            BatchValues::Shared(w) if count > 1 => Some(self.bind_prechecked(w)),
            _ => None,
        };
        let evaluate = |i: usize, state: &mut StateVector, par: Par, out: &mut [T]| {
            let x = inputs.row(i, ni);
            match &binding {
                Some(b) => self.run_prechecked(&b.weights, x, Some(b), state, par),
                None => self.run_prechecked(weights.row(i, nw), x, None, state, par),
            }
            readout(i, state, out)
        };
        let big = self.num_qubits() >= Par::THRESHOLD_QUBITS;
        if big || states.workers() == 1 || count <= 1 {
            let par = Par::auto(self.num_qubits());
            let state = &mut states.states[0];
            return out
                .chunks_mut(width)
                .enumerate()
                .try_for_each(|(i, out)| evaluate(i, state, par, out));
        }
        // Worker w takes rows [start_w, start_{w+1}): contiguous groups, sizes differing by 1.
        let workers = states.workers().min(count);
        let per = count / workers;
        let extra = count % workers;
        let mut groups = Vec::with_capacity(workers);
        let mut rest = out;
        let mut start = 0;
        for w in 0..workers {
            let rows = per + usize::from(w < extra);
            let (group, tail) = rest.split_at_mut(rows * width);
            groups.push((start, group));
            rest = tail;
            start += rows;
        }
        states.states[..workers]
            .par_iter_mut()
            .zip(groups)
            .try_for_each(|(state, (start, group))| {
                group
                    .chunks_mut(width)
                    .enumerate()
                    .try_for_each(|(k, out)| evaluate(start + k, state, Par::Seq, out))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Circuit, Param};

    fn program() -> Program {
        Circuit::new(3)
            .ry(Param::input("x"), 0)
            .rx(Param::weight("a"), 1)
            .cx(0, 1)
            .rz(Param::weight("b"), 1)
            .h(2)
            .cry(Param::input("x") * 2.0, 1, 2)
            .compile()
            .unwrap()
    }

    /// ⟨Z_q⟩ for every qubit, evaluated one by one with `run`.
    fn reference(p: &Program, w: &[f64], x: &[f64]) -> Vec<f64> {
        let mut psi = StateVector::zero(3).unwrap();
        p.run(w, x, &mut psi, Par::Seq).unwrap();
        (0..3).map(|q| psi.expectation_z(q).unwrap()).collect()
    }

    fn z_all(_: usize, psi: &StateVector, out: &mut [f64]) -> Result<()> {
        for (q, o) in out.iter_mut().enumerate() {
            *o = psi.expectation_z(q)?;
        }
        Ok(())
    }

    #[test]
    fn rows_match_single_runs_for_any_worker_count() {
        let p = program();
        let count = 7;
        let weights: Vec<f64> = (0..2 * count).map(|k| 0.3 * k as f64 - 1.0).collect();
        let inputs: Vec<f64> = (0..count).map(|k| 0.7 * k as f64).collect();
        let shared = [0.4, -1.3];
        for workers in [1, 2, 3, 8] {
            let mut states = BatchStates::new(3, workers).unwrap();
            let mut out = vec![0.0; 3 * count];
            p.run_batch(
                BatchValues::PerRow(&weights),
                BatchValues::PerRow(&inputs),
                &mut states,
                &mut out,
                3,
                z_all,
            )
            .unwrap();
            for i in 0..count {
                let expect = reference(&p, &weights[2 * i..2 * i + 2], &inputs[i..i + 1]);
                assert_eq!(&out[3 * i..3 * i + 3], expect.as_slice(), "row {i}");
            }
            // Shared weights run through one binding: the same values, bit for bit.
            p.run_batch(
                BatchValues::Shared(&shared),
                BatchValues::PerRow(&inputs),
                &mut states,
                &mut out,
                3,
                z_all,
            )
            .unwrap();
            for i in 0..count {
                let expect = reference(&p, &shared, &inputs[i..i + 1]);
                assert_eq!(&out[3 * i..3 * i + 3], expect.as_slice(), "row {i}");
            }
        }
    }

    #[test]
    fn bad_batches_are_refused_with_the_row() {
        let p = program();
        let mut states = BatchStates::new(3, 2).unwrap();
        let mut out = [0.0; 6];
        let weights = [0.1, 0.2, 0.3, f64::NAN];
        let err = p
            .run_batch(
                BatchValues::PerRow(&weights),
                BatchValues::PerRow(&[0.0, 1.0]),
                &mut states,
                &mut out,
                3,
                z_all,
            )
            .unwrap_err();
        assert!(err.to_string().contains("row 1"), "{err}");
        let err = p
            .run_batch(
                BatchValues::PerRow(&weights[..3]),
                BatchValues::PerRow(&[0.0, 1.0]),
                &mut states,
                &mut out,
                3,
                z_all,
            )
            .unwrap_err();
        assert!(err.to_string().contains("need 4 values, got 3"), "{err}");
        let mut wrong = BatchStates::new(2, 1).unwrap();
        assert!(matches!(
            p.run_batch(
                BatchValues::Shared(&[0.0, 0.0]),
                BatchValues::Shared(&[0.0]),
                &mut wrong,
                &mut out,
                3,
                z_all
            ),
            Err(Error::StateSize { .. })
        ));
        let err = p
            .run_batch(
                BatchValues::Shared(&[0.0, 0.0]),
                BatchValues::Shared(&[0.0]),
                &mut states,
                &mut out,
                4,
                z_all,
            )
            .unwrap_err();
        assert!(err.to_string().contains("width 4"), "{err}");
    }
}
