//! The density matrix `ρ` of `n` qubits, `4^n` complex entries, row-major: entry `(r, c)` at
//! `r·2^n + c`, qubit 0 the least-significant bit of `r` and of `c` (`docs/conventions.md`).
//!
//! Read as a vector of `2n` qubits, row qubit `q` is bit `q + n` and column qubit `q` is bit
//! `q`, so `U ρ U†` is `U` on the bits `q + n` followed by `conj(U)` on the bits `q`. It needs
//! `16·4^n` bytes, checked before allocating.
//!
//! Two ways to run a circuit on it:
//! - [`DensityMatrix::apply_unitary`], [`DensityMatrix::apply_channel`] and
//!   [`DensityMatrix::apply_noisy_circuit`]: the dense reference (a plain loop over each group
//!   of coupled entries for `U`, and `Σₖ Kₖ ρ Kₖ†` term by term for a channel);
//! - [`DensityProgram`]: the executor. Each run of gates is compiled once as a `2n`-qubit
//!   circuit (every gate `g` on `Q + n`, its exact conjugate [`Gate::conjugate`] on `Q`), so
//!   the statevector kernels, fusion and cache blocking apply to `ρ` unchanged; a channel on
//!   `k` qubits is its superoperator `S = Σₖ Kₖ ⊗ K̄ₖ`, a `4^k × 4^k` matrix on the bits
//!   `Q ∪ (Q + n)`. One-qubit channels (a 4×4 kernel on `q, q + n`) and two-qubit
//!   depolarizing (scale by `1 − p`, add `p/4` of the partial trace) are fixed steps inside the
//!   compiled run, so they are cache-blocked with the gates; other channels are one pass each. Mid-circuit measurements keep one unnormalized `ρ_c` per
//!   classical record `c` (`Σ_c Tr ρ_c = 1`); records that coincide are summed, and branches
//!   of trace below [`DROP_TRACE`] are dropped.
//!
//! [`Gate::conjugate`]: crate::Gate::conjugate

use super::lower::{lower, ChannelOp, Lowered, Op, Run};
use super::{apply_matrix, Channel, NoiseModel, ReadoutError};
use crate::circuit::{Circuit, Instruction};
use crate::error::{Error, Result};
use crate::measure::check_subset;
use crate::par::Par;
use crate::pauli::PauliSum;
use crate::sim::kernels::{Kernel, Subspace};
use crate::sim::Program;
use crate::state::{available_memory, StateVector};
use num_complex::Complex64 as C64;
use std::collections::BTreeMap;

/// A classical branch whose trace is below this is dropped (its records are unobservable at
/// any shot count qloop accepts).
pub const DROP_TRACE: f64 = 1e-15;

/// A mixed state of `n` qubits.
#[derive(Debug, Clone, PartialEq)]
pub struct DensityMatrix {
    num_qubits: usize,
    /// `ρ` as the vector of `2n` qubits.
    vec: StateVector,
}

/// Refuses, before allocating, a density matrix that would not fit in memory.
fn check_fits(num_qubits: usize) -> Result<()> {
    let bytes = if num_qubits >= 62 {
        u128::MAX
    } else {
        16u128 << (2 * num_qubits)
    };
    let available = available_memory().min(isize::MAX as u128);
    if bytes > available {
        return Err(Error::TooLarge {
            what: format!("the density matrix of {num_qubits} qubits (16·4^n bytes)"),
            value: bytes,
            limit: available,
        });
    }
    Ok(())
}

impl DensityMatrix {
    /// `|0…0⟩⟨0…0|`.
    pub fn zero(num_qubits: usize) -> Result<Self> {
        check_fits(num_qubits)?;
        Ok(DensityMatrix {
            num_qubits,
            vec: StateVector::zero(2 * num_qubits)?,
        })
    }

    /// `|ψ⟩⟨ψ|`.
    pub fn from_pure(psi: &StateVector) -> Result<Self> {
        let n = psi.num_qubits();
        check_fits(n)?;
        let a = psi.amplitudes();
        let mut entries = Vec::with_capacity(a.len() * a.len());
        for r in a {
            entries.extend(a.iter().map(|c| r * c.conj()));
        }
        Ok(DensityMatrix {
            num_qubits: n,
            vec: StateVector::from_amplitudes(entries)?,
        })
    }

    /// Number of qubits.
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    /// Entry `(row, col)`.
    pub fn get(&self, row: usize, col: usize) -> C64 {
        self.vec.amplitudes()[(row << self.num_qubits) + col]
    }

    /// The entries, row-major.
    pub fn entries(&self) -> &[C64] {
        self.vec.amplitudes()
    }

    /// `ρ ← M ρ M†` for a `2^k × 2^k` matrix on `qubits` (unitary or a Kraus operator).
    fn conjugate_unchecked(&mut self, m: &[C64], qubits: &[usize]) {
        let n = self.num_qubits;
        let rows: Vec<usize> = qubits.iter().map(|q| q + n).collect();
        super::apply_dense(self.vec.amplitudes_mut(), m, &rows);
        let conj: Vec<C64> = m.iter().map(|z| z.conj()).collect();
        super::apply_dense(self.vec.amplitudes_mut(), &conj, qubits);
    }

    /// `ρ ← U ρ U†` for a unitary given as in [`Gate::matrix`](crate::Gate::matrix).
    pub fn apply_unitary(&mut self, u: &[C64], qubits: &[usize]) -> Result<()> {
        check_subset("unitary", qubits, self.num_qubits)?;
        if u.len() != 1usize << (2 * qubits.len()) {
            return Err(Error::StateSize {
                expected: 1usize << (2 * qubits.len()),
                got: u.len(),
            });
        }
        self.conjugate_unchecked(u, qubits);
        Ok(())
    }

    /// `ρ ← Σₖ Kₖ ρ Kₖ†` for a channel on `qubits`.
    pub fn apply_channel(&mut self, channel: &Channel, qubits: &[usize]) -> Result<()> {
        check_subset("channel", qubits, self.num_qubits)?;
        if qubits.len() != channel.num_qubits() {
            return Err(Error::Noise {
                key: "qubits".to_string(),
                message: format!(
                    "names {} qubits, but the channel acts on {}",
                    qubits.len(),
                    channel.num_qubits()
                ),
            });
        }
        let ops = channel.kraus()?;
        let mut total = vec![C64::new(0.0, 0.0); self.vec.len()];
        for k in &ops {
            let mut term = self.clone();
            term.conjugate_unchecked(k, qubits);
            for (t, v) in total.iter_mut().zip(term.entries()) {
                *t += v;
            }
        }
        self.vec = StateVector::from_amplitudes(total)?;
        Ok(())
    }

    /// Runs the gates of a circuit with bound (constant) angles; barriers are skipped and
    /// measurements refused (they belong to the sampling step).
    pub fn apply_circuit(&mut self, circuit: &Circuit) -> Result<()> {
        for (index, inst) in circuit.instructions().iter().enumerate() {
            self.apply_instruction(index, inst)?;
        }
        Ok(())
    }

    fn apply_instruction(&mut self, index: usize, inst: &Instruction) -> Result<()> {
        {
            match inst {
                Instruction::Reset { .. } | Instruction::Conditional { .. } => {
                    return Err(Error::Noise {
                        key: format!("instruction {index}"),
                        message: format!(
                            "is a '{}'; run dynamic circuits with DensityProgram",
                            inst.name()
                        ),
                    })
                }
                Instruction::Gate { gate, qubits } => {
                    let angles: Vec<f64> = gate
                        .angles()
                        .iter()
                        .map(|a| match a.params().next() {
                            None => Ok(a.constant_part()),
                            Some(p) => Err(Error::UnboundParameter {
                                name: p.name.clone(),
                                kind: p.kind,
                            }),
                        })
                        .collect::<Result<_>>()?;
                    self.apply_unitary(&gate.matrix(&angles), qubits)?;
                }
                Instruction::Barrier { .. } => {}
                Instruction::Measure { .. } => {
                    return Err(Error::Noise {
                        key: format!("instruction {index}"),
                        message: "is a measurement; sample the final density matrix instead"
                            .to_string(),
                    })
                }
            }
        }
        Ok(())
    }

    /// Runs a circuit as [`apply_circuit`](Self::apply_circuit) does, each gate followed by
    /// the channels `model` attaches to it.
    pub fn apply_noisy_circuit(
        &mut self,
        circuit: &Circuit,
        model: &super::NoiseModel,
    ) -> Result<()> {
        for (index, inst) in circuit.instructions().iter().enumerate() {
            self.apply_instruction(index, inst)?;
            if let Instruction::Gate { gate, qubits } = inst {
                for (channel, on) in model.after(gate.name(), qubits) {
                    self.apply_channel(channel, &on)?;
                }
            }
        }
        Ok(())
    }

    /// `Tr ρ`.
    pub fn trace(&self) -> f64 {
        (0..1usize << self.num_qubits)
            .map(|i| self.get(i, i).re)
            .sum()
    }

    /// `Tr ρ²`.
    pub fn purity(&self) -> f64 {
        self.entries().iter().map(|z| z.norm_sqr()).sum()
    }

    /// `Tr(ρ H)` for a Pauli sum: `Tr(ρ P) = i^{n_Y} Σᵢ (−1)^{|i ∧ z|} ρ[i, i ⊕ x]` for the
    /// string's X and Z masks.
    pub fn expectation(&self, observable: &PauliSum) -> Result<f64> {
        observable.check_width(self.num_qubits)?;
        let n = self.num_qubits;
        let rho = self.entries();
        let mut total = 0.0;
        for (coeff, string) in observable.terms() {
            let (x, z, phase) = string.masks_and_phase();
            let sum: C64 = (0..1usize << n)
                .map(|i| {
                    let v = rho[(i << n) + (i ^ x)];
                    if (i & z).count_ones() % 2 == 1 {
                        -v
                    } else {
                        v
                    }
                })
                .sum();
            total += coeff * (phase * sum).re;
        }
        Ok(total)
    }

    /// `ρ ← a·ρ + b·other` (the same size).
    fn add_scaled(&mut self, a: f64, other: &DensityMatrix, b: f64) {
        for (x, y) in self.vec.amplitudes_mut().iter_mut().zip(other.entries()) {
            *x = *x * a + *y * b;
        }
    }

    /// `P_b ρ P_b` for the projector on `qubit = b` (unnormalized).
    fn project(&mut self, qubit: usize, outcome: bool) {
        let (col, row) = (1usize << qubit, 1usize << (qubit + self.num_qubits));
        for (i, v) in self.vec.amplitudes_mut().iter_mut().enumerate() {
            if (i & col != 0) != outcome || (i & row != 0) != outcome {
                *v = C64::new(0.0, 0.0);
            }
        }
    }

    /// `P₀ ρ P₀ + X P₁ ρ P₁ X` on `qubit`.
    fn reset_qubit(&mut self, qubit: usize) {
        let (col, row) = (1usize << qubit, 1usize << (qubit + self.num_qubits));
        let amps = self.vec.amplitudes_mut();
        for i in 0..amps.len() {
            if i & (col | row) == 0 {
                let excited = amps[i | col | row];
                amps[i] += excited;
            } else {
                amps[i] = C64::new(0.0, 0.0);
            }
        }
    }

    /// Applies a channel's superoperator on the bits `Q ∪ (Q + n)`.
    fn apply_superoperator(&mut self, superop: &[C64], bits: &[usize], par: Par) {
        apply_matrix(self.vec.amplitudes_mut(), superop, bits, par);
    }

    /// The diagonal, `P(i) = ρᵢᵢ` (a distribution when `Tr ρ = 1`).
    pub fn probabilities(&self) -> Vec<f64> {
        (0..1usize << self.num_qubits)
            .map(|i| self.get(i, i).re)
            .collect()
    }

    /// `⟨ψ|ρ|ψ⟩`.
    pub fn fidelity_with_pure(&self, psi: &StateVector) -> Result<f64> {
        if psi.num_qubits() != self.num_qubits {
            return Err(Error::StateSize {
                expected: self.num_qubits,
                got: psi.num_qubits(),
            });
        }
        let a = psi.amplitudes();
        let mut s = C64::new(0.0, 0.0);
        for (r, ar) in a.iter().enumerate() {
            for (c, ac) in a.iter().enumerate() {
                s += ar.conj() * self.get(r, c) * ac;
            }
        }
        Ok(s.re)
    }
}

/// The superoperator `S = Σₖ Kₖ ⊗ K̄ₖ` of a `k`-qubit Kraus set on the `2k` bits
/// `(Q, Q + n)`: local index `c + 2^k·r` for column bits `c` and row bits `r`.
fn superoperator(k: usize, kraus: &[Vec<C64>]) -> Vec<C64> {
    let dim = 1usize << k;
    let big = dim * dim;
    let mut s = vec![C64::new(0.0, 0.0); big * big];
    for op in kraus {
        for r2 in 0..dim {
            for c2 in 0..dim {
                for r in 0..dim {
                    let a = op[r2 * dim + r];
                    if a == C64::new(0.0, 0.0) {
                        continue;
                    }
                    for c in 0..dim {
                        s[(c2 + r2 * dim) * big + (c + r * dim)] += a * op[c2 * dim + c].conj();
                    }
                }
            }
        }
    }
    s
}

/// Whether a channel is applied inside a compiled run (as a fixed kernel of the `2n`-qubit
/// program): every one-qubit channel, and two-qubit depolarizing.
fn fusable(channel: &Channel) -> bool {
    channel.num_qubits() == 1 || matches!(channel, Channel::Depolarizing { qubits: 2, .. })
}

/// The kernel of a one-qubit superoperator `s` (local index `c + 2r`) on the bits `q, q + n`:
/// [`Kernel::Channel1`] when it is real and keeps populations (`ρ₀₀, ρ₁₁`) and coherences
/// (`ρ₀₁, ρ₁₀`) apart, as depolarizing, Pauli, amplitude and phase damping and thermal
/// relaxation do; the dense 4×4 otherwise.
fn superoperator_kernel(q: usize, n: usize, s: &[C64]) -> (Kernel, Subspace) {
    let t = [q, q + n];
    let at = |r: usize, c: usize| s[4 * r + c];
    let real = s.iter().all(|z| z.im == 0.0);
    let split = [
        (0, 1),
        (0, 2),
        (3, 1),
        (3, 2),
        (1, 0),
        (2, 0),
        (1, 3),
        (2, 3),
    ]
    .iter()
    .all(|&(r, c)| at(r, c) == C64::new(0.0, 0.0));
    let kernel = if real && split {
        Kernel::Channel1 {
            t,
            pop: [at(0, 0).re, at(0, 3).re, at(3, 0).re, at(3, 3).re],
            coh: [at(1, 1).re, at(1, 2).re, at(2, 1).re, at(2, 2).re],
        }
    } else {
        let mut m = [C64::new(0.0, 0.0); 16];
        m.copy_from_slice(s);
        Kernel::Dense2 { t, m }
    };
    (kernel, Subspace::new(&[], &t))
}

/// The `2n`-qubit program of a run: each gate on its qubits `+ n` (the row index) and its
/// exact conjugate on its qubits (the column index); the channels as fixed kernels after their
/// gate: one-qubit channels as superoperators on the bits `q, q + n` (consecutive ones on a
/// qubit multiplied into one), two-qubit depolarizing on the four bits of its qubits.
fn compile_run(run: &Run, n: usize) -> Result<Program> {
    let mut out = Circuit::new(2 * n);
    let mut kernels: Vec<(usize, Kernel, Subspace)> = Vec::new();
    let mut pending: Vec<Option<Vec<C64>>> = vec![None; n];
    let flush = |q: usize,
                 pending: &mut Vec<Option<Vec<C64>>>,
                 kernels: &mut Vec<(usize, Kernel, Subspace)>,
                 at: usize| {
        if let Some(s) = pending[q].take() {
            let (kernel, subspace) = superoperator_kernel(q, n, &s);
            kernels.push((at, kernel, subspace));
        }
    };
    let mut channels = run.channels.iter().peekable();
    for (index, inst) in run.circuit.instructions().iter().enumerate() {
        let Instruction::Gate { gate, qubits } = inst else {
            continue;
        };
        for &q in qubits {
            flush(q, &mut pending, &mut kernels, out.len());
        }
        let rows: Vec<usize> = qubits.iter().map(|q| q + n).collect();
        out = out.gate(gate.clone(), &rows).gate(gate.conjugate(), qubits);
        while let Some((_, op)) = channels.next_if(|c| c.0 <= index + 1) {
            match (&op.channel, op.qubits.as_slice()) {
                (_, &[q]) => {
                    let s = superoperator(1, &op.kraus);
                    pending[q] = Some(match pending[q].take() {
                        None => s,
                        Some(before) => super::matmul(4, &s, &before),
                    });
                }
                (Channel::Depolarizing { qubits: 2, p }, &[a, b]) => {
                    flush(a, &mut pending, &mut kernels, out.len());
                    flush(b, &mut pending, &mut kernels, out.len());
                    let t = [a, b, a + n, b + n];
                    let kernel = Kernel::Depolarize2 { t, p: *p };
                    kernels.push((out.len(), kernel, Subspace::new(&[], &t)));
                }
                _ => unreachable!("only fusable channels stay in a run"),
            }
        }
    }
    for q in 0..n {
        flush(q, &mut pending, &mut kernels, out.len());
    }
    out.compile_with(&kernels, true)
}

/// A classical record and its unnormalized density matrix.
type Branch = (Vec<bool>, DensityMatrix);

/// A noisy or dynamic circuit compiled for the density-matrix executor (see the
/// [module docs](self)).
///
/// ```
/// use qloop::noise::{Channel, DensityProgram, GateError, NoiseModel};
/// let model = NoiseModel {
///     gate_errors: vec![GateError {
///         gates: vec!["cx".into()],
///         qubits: None,
///         channel: Channel::Depolarizing { qubits: 2, p: 0.1 },
///     }],
///     ..Default::default()
/// };
/// let bell = qloop::Circuit::new(2).h(0).cx(0, 1);
/// let outcome = DensityProgram::new(&bell, Some(&model)).unwrap().run().unwrap();
/// let zz: qloop::PauliSum = "ZZ".parse().unwrap();
/// assert!((outcome.expectation(&zz).unwrap() - 0.9).abs() < 1e-12);
/// ```
pub struct DensityProgram {
    lowered: Lowered<Program>,
    /// Per operation: a channel's superoperator and the bits it acts on.
    superops: Vec<Option<(Vec<C64>, Vec<usize>)>>,
}

/// The final classical branches of a density-matrix run, with what is needed to read them.
#[derive(Debug, Clone)]
pub struct DensityOutcome {
    num_qubits: usize,
    branches: Vec<Branch>,
    terminal: Vec<(usize, usize)>,
    readout: Vec<Option<ReadoutError>>,
}

impl DensityProgram {
    /// Lowers and compiles a bound circuit with an optional noise model.
    pub fn new(circuit: &Circuit, model: Option<&NoiseModel>) -> Result<DensityProgram> {
        let n = circuit.num_qubits();
        check_fits(n)?;
        let lowered = lower(circuit, model, &fusable)?.try_map(|run| compile_run(&run, n))?;
        let superops = lowered
            .ops
            .iter()
            .map(|op| match op {
                Op::Channel(ChannelOp { kraus, qubits, .. }) => {
                    let bits: Vec<usize> = qubits
                        .iter()
                        .copied()
                        .chain(qubits.iter().map(|q| q + n))
                        .collect();
                    Some((superoperator(qubits.len(), kraus), bits))
                }
                _ => None,
            })
            .collect();
        Ok(DensityProgram { lowered, superops })
    }

    /// Number of qubits.
    pub fn num_qubits(&self) -> usize {
        self.lowered.num_qubits
    }

    /// Runs from `|0…0⟩⟨0…0|` with parallelism from [`Par::auto`] on the `2n` bits.
    pub fn run(&self) -> Result<DensityOutcome> {
        let n = self.lowered.num_qubits;
        let start = vec![(
            vec![false; self.lowered.num_clbits],
            DensityMatrix::zero(n)?,
        )];
        let branches = self.run_ops(0, self.lowered.ops.len(), start, Par::auto(2 * n))?;
        Ok(DensityOutcome {
            num_qubits: n,
            branches,
            terminal: self.lowered.terminal.clone(),
            readout: self.lowered.readout.clone(),
        })
    }

    fn run_ops(
        &self,
        from: usize,
        to: usize,
        mut branches: Vec<Branch>,
        par: Par,
    ) -> Result<Vec<Branch>> {
        let mut pc = from;
        while pc < to {
            match &self.lowered.ops[pc] {
                Op::Gates(program) => {
                    for (_, rho) in &mut branches {
                        program.apply(&[], &[], &mut rho.vec, par)?;
                    }
                }
                Op::Channel(_) => {
                    let (superop, bits) = self.superops[pc].as_ref().expect("a superoperator");
                    for (_, rho) in &mut branches {
                        rho.apply_superoperator(superop, bits, par);
                    }
                }
                Op::Reset { qubit } => {
                    for (_, rho) in &mut branches {
                        rho.reset_qubit(*qubit);
                    }
                }
                Op::Measure { qubit, clbit } => {
                    branches = self.measure(branches, *qubit, *clbit)?;
                }
                Op::Unless { condition, skip } => {
                    let (holds, other): (Vec<Branch>, Vec<Branch>) = branches
                        .into_iter()
                        .partition(|(bits, _)| condition.holds(bits));
                    let mut ran = self.run_ops(pc + 1, pc + 1 + skip, holds, par)?;
                    ran.extend(other);
                    branches = merge(ran);
                    pc += skip;
                }
            }
            pc += 1;
        }
        Ok(branches)
    }

    /// Splits every branch by the outcome of measuring `qubit`, records the (possibly
    /// misread) bit in `clbit`, and merges branches whose records coincide.
    fn measure(&self, branches: Vec<Branch>, qubit: usize, clbit: usize) -> Result<Vec<Branch>> {
        let n = self.lowered.num_qubits;
        let (e0, e1) =
            self.lowered.readout[qubit].map_or((0.0, 0.0), |r| (r.p1_given_0, r.p0_given_1));
        let mut out = Vec::with_capacity(2 * branches.len());
        for (bits, rho) in branches {
            check_branches(n, out.len() + 2)?;
            let mut zero = rho.clone();
            zero.project(qubit, false);
            let mut one = rho;
            one.project(qubit, true);
            // What is recorded: the true outcome read through the readout error.
            let (read0, read1) = if e0 == 0.0 && e1 == 0.0 {
                (zero, one)
            } else {
                let mut read0 = zero.clone();
                read0.add_scaled(1.0 - e0, &one, e1);
                let mut read1 = one;
                read1.add_scaled(1.0 - e1, &zero, e0);
                (read0, read1)
            };
            for (value, r) in [(false, read0), (true, read1)] {
                if r.trace() > DROP_TRACE {
                    let mut b = bits.clone();
                    b[clbit] = value;
                    out.push((b, r));
                }
            }
        }
        Ok(merge(out))
    }
}

/// Refuses, before allocating, more branches than memory holds.
fn check_branches(num_qubits: usize, count: usize) -> Result<()> {
    let bytes = (16u128 << (2 * num_qubits)).saturating_mul(count as u128);
    let available = available_memory().min(isize::MAX as u128);
    if bytes > available {
        return Err(Error::TooLarge {
            what: format!(
                "the density method's {count} classical branches of {num_qubits} qubits (16·4^n bytes each; the trajectories method needs one state per branch of shots)"
            ),
            value: bytes,
            limit: available,
        });
    }
    Ok(())
}

/// Sums the branches whose records coincide; the order is the records' order.
fn merge(branches: Vec<Branch>) -> Vec<Branch> {
    let mut by_record: BTreeMap<Vec<bool>, DensityMatrix> = BTreeMap::new();
    for (bits, rho) in branches {
        match by_record.get_mut(&bits) {
            Some(sum) => sum.add_scaled(1.0, &rho, 1.0),
            None => {
                by_record.insert(bits, rho);
            }
        }
    }
    by_record.into_iter().collect()
}

impl DensityOutcome {
    /// The classical branches: each record (bit `i` = classical bit `i`, before the terminal
    /// measurements) with its unnormalized density matrix; the traces sum to 1.
    pub fn branches(&self) -> &[(Vec<bool>, DensityMatrix)] {
        &self.branches
    }

    /// The state with the records forgotten, `Σ_c ρ_c`.
    pub fn state(&self) -> DensityMatrix {
        let mut branches = self.branches.iter();
        let (_, first) = branches.next().expect("at least one branch");
        let mut total = first.clone();
        for (_, rho) in branches {
            total.add_scaled(1.0, rho, 1.0);
        }
        total
    }

    /// `Tr(ρ H)` of the final state (before the terminal measurements).
    pub fn expectation(&self, observable: &PauliSum) -> Result<f64> {
        self.branches
            .iter()
            .map(|(_, rho)| rho.expectation(observable))
            .sum()
    }

    /// The exact distribution of the classical register after the terminal measurements and
    /// readout error, keyed by bitstring (classical bit 0 rightmost), zero entries left out.
    pub fn distribution(&self) -> BTreeMap<String, f64> {
        let width = self.branches.first().map_or(0, |b| b.0.len());
        let mut dist: BTreeMap<Vec<bool>, f64> = BTreeMap::new();
        for (bits, rho) in &self.branches {
            for (i, p) in rho.probabilities().into_iter().enumerate() {
                if p <= 0.0 {
                    continue;
                }
                let mut key = bits.clone();
                for &(q, c) in &self.terminal {
                    key[c] = (i >> q) & 1 == 1;
                }
                *dist.entry(key).or_insert(0.0) += p;
            }
        }
        // Each terminal bit is read through the readout error of the qubit measured into it
        // last.
        let mut read: Vec<(usize, ReadoutError)> = Vec::new();
        for &(q, c) in self.terminal.iter().rev() {
            if read.iter().all(|&(b, _)| b != c) {
                let r = self.readout[q].unwrap_or(ReadoutError {
                    p1_given_0: 0.0,
                    p0_given_1: 0.0,
                });
                read.push((c, r));
            }
        }
        read.retain(|(_, r)| r.p1_given_0 > 0.0 || r.p0_given_1 > 0.0);
        for (c, r) in read {
            let mut next: BTreeMap<Vec<bool>, f64> = BTreeMap::new();
            for (key, p) in dist {
                let (stay, flip) = if key[c] {
                    (1.0 - r.p0_given_1, r.p0_given_1)
                } else {
                    (1.0 - r.p1_given_0, r.p1_given_0)
                };
                let mut flipped = key.clone();
                flipped[c] = !flipped[c];
                *next.entry(key).or_insert(0.0) += p * stay;
                *next.entry(flipped).or_insert(0.0) += p * flip;
            }
            dist = next;
        }
        dist.into_iter()
            .filter(|&(_, p)| p > 0.0)
            .map(|(key, p)| {
                let s: String = (0..width)
                    .rev()
                    .map(|c| if key[c] { '1' } else { '0' })
                    .collect();
                (s, p)
            })
            .collect()
    }

    /// `shots` samples of [`distribution`](Self::distribution), seeded.
    pub fn sample(&self, shots: usize, seed: u64) -> Result<crate::Counts> {
        crate::measure::check_shots(shots)?;
        let dist = self.distribution();
        let (keys, probs): (Vec<String>, Vec<f64>) = dist.into_iter().unzip();
        let mut rng = crate::rng::rng_from_seed(seed);
        let hist = crate::measure::sample_histogram(&probs, shots, &mut rng);
        Ok(crate::Counts {
            shots,
            counts: hist
                .into_iter()
                .map(|(i, c)| (keys[i].clone(), c))
                .collect(),
        })
    }

    /// Number of qubits.
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }
}
