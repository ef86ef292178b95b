//! A compiled circuit: checked once, run many times with new parameter values.
//!
//! [`Circuit::compile`](crate::Circuit::compile) validates the circuit and turns every gate into a step whose kernel is
//! chosen from the gate's matrix [`Structure`](crate::Structure). Gates with constant angles get their matrix
//! once, here; for parameterized gates only the angles `c₀ + Σ cₖ·vₖ` are evaluated at run
//! time (into a fixed-size array: the hot path allocates nothing).
//!
//! Runs of uncontrolled single-qubit gates on the same qubit (with no other gate on that qubit
//! between them) become one step: constant runs are multiplied out here, runs with parameters
//! form their 2×2 product on every run (first gate rightmost) and sweep the state once. A run
//! on the target of a controlled one-target gate `U` with a non-diagonal base (CX, CY, CH,
//! CRX, …) joins that gate: `|0⟩⟨0| ⊗ F + |1⟩⟨1| ⊗ U·F` costs one dense pass, not two.
//!
//! A run of a state that fits one cache block starts from the state its leading fixed steps
//! prepare (computed here, once), computes the sines and cosines of its rotation steps in
//! vectorized batches, and applies two or more consecutive one-qubit diagonal steps as one
//! merged layer. From 11 qubits, runs give up leading diagonal factors to such layers when
//! the rest is real, and steps on qubits 0–10 run in groups, block by block in L1; states of
//! at most 16 amplitudes update in registers (see `docs/architecture.md`, "An unblocked run").
//!
//! States larger than a cache block run in stages planned here, once ([`super::blocking`]):
//! each stage applies many steps per pass over memory. [`Program::with_blocking`] changes or
//! switches off the plan.
//!
//! ```
//! use qloop::{Circuit, Par, Param, StateVector};
//! let theta = Param::weight("theta");
//! let program = Circuit::new(1).ry(theta, 0).compile().unwrap();
//! let mut psi = StateVector::zero(1).unwrap();
//! program.run(&[0.5], &[], &mut psi, Par::Seq).unwrap();
//! assert!((psi.amplitudes()[1].re - 0.25f64.sin()).abs() < 1e-15);
//! ```

use super::bind::{Binder, Values};
use super::blocking::{Blocking, Plan};
use super::execute::Schedule;
use super::ir::Slot;
use crate::error::{Error, ParamKind, Result};
use crate::par::Par;
use crate::state::{StateVector, StateVector32};
use num_complex::Complex64 as C64;

pub use super::bind::WeightBinding;
pub use super::ir::ParameterLayout;

/// A compiled circuit. See the [module docs](self).
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    num_clbits: usize,
    layout: ParameterLayout,
    measurements: Vec<(usize, usize)>,
    /// The terms of every compiled angle ([`super::ir::AngleExpr`] ranges into it).
    terms: Vec<Slot>,
    blocking: Blocking,
    schedule: Schedule,
}

impl Program {
    /// A program from the compiler's parts, unblocked.
    pub(crate) fn new(
        num_clbits: usize,
        layout: ParameterLayout,
        measurements: Vec<(usize, usize)>,
        terms: Vec<Slot>,
        schedule: Schedule,
    ) -> Program {
        Program {
            num_clbits,
            layout,
            measurements,
            terms,
            blocking: Blocking::Off,
            schedule,
        }
    }

    /// Number of qubits.
    pub fn num_qubits(&self) -> usize {
        self.schedule.num_qubits
    }

    /// Number of classical bits.
    pub fn num_clbits(&self) -> usize {
        self.num_clbits
    }

    /// The parameter layout: which name each position of `weights` and `inputs` carries.
    pub fn layout(&self) -> &ParameterLayout {
        &self.layout
    }

    /// The terminal measurements `(qubit, clbit)`, in circuit order.
    pub fn measurements(&self) -> &[(usize, usize)] {
        &self.measurements
    }

    /// Number of kernel steps (gates after fusion, exact identities dropped).
    pub fn num_steps(&self) -> usize {
        self.schedule.steps.len()
    }

    /// Number of passes over the state one run makes: the stages of the cache-blocking plan,
    /// or one per step when the program runs unblocked.
    pub fn num_passes(&self) -> usize {
        self.schedule
            .plan
            .as_ref()
            .map_or(self.num_steps(), |plan| plan.num_stages())
    }

    /// The program with its steps planned for `blocking` (compiled programs use
    /// [`Blocking::default`]). Results agree with [`Blocking::Off`] to rounding.
    pub fn with_blocking(mut self, blocking: Blocking) -> Program {
        self.blocking = blocking;
        self.schedule.plan = match blocking {
            Blocking::Off => None,
            Blocking::Qubits(k) => Plan::new(self.num_qubits(), &self.schedule.subspaces(), k),
        };
        self
    }

    /// How this program blocks its steps for cache.
    pub fn blocking(&self) -> Blocking {
        self.blocking
    }

    /// Resets `state` to `|0…0⟩` and applies the program with the given parameter values.
    ///
    /// Checks the vector lengths, that every value is finite and the state size; then runs
    /// without allocating (a cache-blocked run, above 16 qubits, allocates one list for the
    /// kernels of a stage; the thread-local chunk buffers are reused).
    pub fn run(
        &self,
        weights: &[f64],
        inputs: &[f64],
        state: &mut StateVector,
        par: Par,
    ) -> Result<()> {
        self.check(weights, inputs, state)?;
        self.run_prechecked(weights, inputs, None, state, par);
        Ok(())
    }

    /// Applies the program to `state` as it is (no reset), with the same checks as [`Program::run`].
    pub fn apply(
        &self,
        weights: &[f64],
        inputs: &[f64],
        state: &mut StateVector,
        par: Par,
    ) -> Result<()> {
        self.check(weights, inputs, state)?;
        self.execute(weights, inputs, None, state, par, 0);
        Ok(())
    }

    /// [`Program::run`] in single precision: resets `state` to `|0…0⟩` and applies the
    /// program, every kernel rounded to `f32` (see [`super::precision`]).
    ///
    /// ```
    /// use qloop::{Circuit, Par, StateVector32};
    /// let program = Circuit::new(2).h(0).cx(0, 1).compile().unwrap();
    /// let mut psi = StateVector32::zero(2).unwrap();
    /// program.run_single(&[], &[], &mut psi, Par::Seq).unwrap();
    /// assert!((psi.amplitudes()[3].re - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-7);
    /// ```
    pub fn run_single(
        &self,
        weights: &[f64],
        inputs: &[f64],
        state: &mut StateVector32,
        par: Par,
    ) -> Result<()> {
        self.layout.check(ParamKind::Weight, weights)?;
        self.layout.check(ParamKind::Input, inputs)?;
        if state.num_qubits() != self.num_qubits() {
            return Err(Error::StateSize {
                expected: self.num_qubits(),
                got: state.num_qubits(),
            });
        }
        let values = Values {
            terms: &self.terms,
            weights,
            inputs,
        };
        let mut binder = Binder::new(&self.schedule, values, ());
        self.schedule
            .run_single(state.amplitudes_mut(), par, &mut binder);
        Ok(())
    }

    /// Allocates `|0…0⟩` (refusing states too large for memory), runs, and returns the state,
    /// with parallelism from [`Par::auto`].
    pub fn statevector(&self, weights: &[f64], inputs: &[f64]) -> Result<StateVector> {
        self.layout.check(ParamKind::Weight, weights)?;
        self.layout.check(ParamKind::Input, inputs)?;
        let mut state = StateVector::zero(self.num_qubits())?;
        let first = self.schedule.start_fresh(state.amplitudes_mut());
        let par = Par::auto(self.num_qubits());
        self.execute(weights, inputs, None, &mut state, par, first);
        Ok(state)
    }

    /// Binds the weights once for a batch of inputs: every step that does not read an input
    /// gets its kernel now (its `sin_cos` and matrix products are not repeated per sample).
    /// Checks the weights as [`Program::run`] does.
    pub fn bind_weights(&self, weights: &[f64]) -> Result<WeightBinding> {
        self.layout.check(ParamKind::Weight, weights)?;
        Ok(self.bind_prechecked(weights))
    }

    /// [`Program::run`] with weights bound by [`Program::bind_weights`]: resets `state` to
    /// `|0…0⟩` and applies the program for `inputs`. Same results, bit for bit (one binding
    /// path, `sim::bind`).
    pub fn run_bound(
        &self,
        binding: &WeightBinding,
        inputs: &[f64],
        state: &mut StateVector,
        par: Par,
    ) -> Result<()> {
        if binding.kernels.len() != self.num_steps() {
            return Err(Error::Shape {
                context: "Program::run_bound".into(),
                message: "the weight binding was made for another program".into(),
            });
        }
        self.check(&binding.weights, inputs, state)?;
        self.run_prechecked(&binding.weights, inputs, Some(binding), state, par);
        Ok(())
    }

    /// [`Program::run`] (with `bound` kernels: [`Program::run_bound`]) for values and a state
    /// the caller has already checked (a batch checks its rows once, up front).
    pub(crate) fn run_prechecked(
        &self,
        weights: &[f64],
        inputs: &[f64],
        bound: Option<&WeightBinding>,
        state: &mut StateVector,
        par: Par,
    ) {
        debug_assert!(self.check(weights, inputs, state).is_ok());
        let first = self.schedule.start(state.amplitudes_mut());
        self.execute(weights, inputs, bound, state, par, first);
    }

    /// [`Program::bind_weights`] for weights the caller has already checked.
    pub(crate) fn bind_prechecked(&self, weights: &[f64]) -> WeightBinding {
        WeightBinding::new(&self.schedule.steps, &self.terms, weights)
    }

    /// Checks the parameter vectors and the state's size.
    pub(crate) fn check(&self, weights: &[f64], inputs: &[f64], state: &StateVector) -> Result<()> {
        self.layout.check(ParamKind::Weight, weights)?;
        self.layout.check(ParamKind::Input, inputs)?;
        if state.num_qubits() != self.num_qubits() {
            return Err(Error::StateSize {
                expected: self.num_qubits(),
                got: state.num_qubits(),
            });
        }
        Ok(())
    }

    /// Binds checked values and executes the steps from `first` on.
    #[inline]
    fn execute(
        &self,
        weights: &[f64],
        inputs: &[f64],
        bound: Option<&WeightBinding>,
        state: &mut StateVector,
        par: Par,
        first: usize,
    ) {
        self.execute_on(weights, inputs, bound, state.amplitudes_mut(), par, first);
    }

    /// A parameter-free program applied to amplitudes as they are: a distributed rank's slice
    /// (`amps.len()` is `2^num_qubits`, checked by the caller).
    pub(crate) fn apply_to_slice(&self, amps: &mut [C64], par: Par) {
        debug_assert_eq!(amps.len(), 1 << self.num_qubits());
        self.execute_on(&[], &[], None, amps, par, 0);
    }

    fn execute_on(
        &self,
        weights: &[f64],
        inputs: &[f64],
        bound: Option<&WeightBinding>,
        amps: &mut [C64],
        par: Par,
        first: usize,
    ) {
        let values = Values {
            terms: &self.terms,
            weights,
            inputs,
        };
        match bound {
            None => self.schedule.run(
                amps,
                par,
                first,
                &mut Binder::new(&self.schedule, values, ()),
            ),
            Some(b) => {
                let mut binder = Binder::new(&self.schedule, values, b.kernels.as_slice());
                self.schedule.run(amps, par, first, &mut binder)
            }
        }
    }
}
