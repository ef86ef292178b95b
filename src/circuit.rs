//! The circuit: an ordered list of instructions on `n` qubits and `m` classical bits.
//!
//! A [`Circuit`] never executes anything; [`Circuit::compile`] checks it once and turns it into
//! a [`crate::Program`]. Builder methods take angles first and qubits after, controls before
//! targets, as Qiskit does (`rz(θ, q)`, `crx(θ, control, target)`); the conventions are in
//! `docs/conventions.md`.
//!
//! ```
//! use qloop::{Circuit, Param};
//! let theta = Param::weight("theta");
//! let c = Circuit::new(2).h(0).cx(0, 1).rz(2.0 * &theta + 0.5, 1).measure_all();
//! assert_eq!(c.num_qubits(), 2);
//! assert_eq!(c.num_clbits(), 2);
//! assert_eq!(c.len(), 6); // h, cx, rz, barrier, 2 × measure
//! ```

use crate::error::{Error, ParamKind, Result};
use crate::gate::Gate;
use crate::limits;
use crate::param::{Angle, Param};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::{Add, AddAssign, Index};

/// One step of a circuit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum Instruction {
    /// A unitary gate on `qubits` (controls first).
    Gate {
        /// The gate.
        gate: Gate,
        /// Its operands, controls first.
        qubits: Vec<usize>,
    },
    /// Measure `qubit` in the Z basis into classical bit `clbit`. The qubit collapses to the
    /// outcome and may be used again (a mid-circuit measurement).
    Measure {
        /// The measured qubit.
        qubit: usize,
        /// The classical bit that receives the outcome.
        clbit: usize,
    },
    /// Return `qubit` to `|0⟩` whatever its state (measure, then flip on outcome 1; the
    /// outcome is not recorded).
    Reset {
        /// The qubit.
        qubit: usize,
    },
    /// `instruction` (a gate, measurement or reset) runs only when `condition` holds, as
    /// OpenQASM 2.0's `if(creg==value) op;`.
    #[serde(rename = "if")]
    Conditional {
        /// The classical condition.
        condition: Condition,
        /// The conditioned instruction.
        instruction: Box<Instruction>,
    },
    /// A barrier: no effect on the state; kept for drawing and export.
    Barrier {
        /// The qubits it spans.
        qubits: Vec<usize>,
    },
}

/// A classical condition: the classical bits `clbits` read as an integer (bit `k` of the
/// integer is `clbits[k]`) equal `value`. OpenQASM 2.0's `if(c==v)` is the condition on every
/// bit of register `c`, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The bits read, least significant first (1 to 64 of them).
    pub clbits: Vec<usize>,
    /// The value they must hold.
    pub value: u64,
}

impl Condition {
    /// The condition that the bits `clbits` (a register, least significant first) equal
    /// `value`.
    ///
    /// ```
    /// let c = qloop::Condition::new(2..4, 1);
    /// assert!(c.holds(&[false, false, true, false]));
    /// assert!(!c.holds(&[false, false, false, true]));
    /// ```
    pub fn new(clbits: impl IntoIterator<Item = usize>, value: u64) -> Self {
        Condition {
            clbits: clbits.into_iter().collect(),
            value,
        }
    }

    /// Whether the condition holds for the classical register `bits` (bit `i` is `bits[i]`).
    pub fn holds(&self, bits: &[bool]) -> bool {
        self.clbits
            .iter()
            .enumerate()
            .all(|(k, &c)| bits[c] == ((self.value >> k) & 1 == 1))
    }

    fn check(&self, instruction: usize, num_clbits: usize) -> Result<()> {
        let bad = |message: String| {
            Err(Error::BadCondition {
                instruction,
                message,
            })
        };
        if self.clbits.is_empty() || self.clbits.len() > 64 {
            return bad(format!(
                "a condition reads 1 to 64 classical bits, this one {}",
                self.clbits.len()
            ));
        }
        for (k, &c) in self.clbits.iter().enumerate() {
            if c >= num_clbits {
                return bad(format!(
                    "classical bit {c} is out of range for a register of {num_clbits} bits"
                ));
            }
            if self.clbits[..k].contains(&c) {
                return bad(format!("classical bit {c} is read twice"));
            }
        }
        if self.clbits.len() < 64 && self.value >> self.clbits.len() != 0 {
            return bad(format!(
                "the value {} does not fit in {} bits",
                self.value,
                self.clbits.len()
            ));
        }
        Ok(())
    }
}

/// A named classical register: the `size` classical bits from `offset` on (kept for OpenQASM
/// export and drawing; the bits themselves are numbered globally).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassicalRegister {
    /// Its name.
    pub name: String,
    /// Its first bit.
    pub offset: usize,
    /// Its number of bits.
    pub size: usize,
}

impl Instruction {
    /// The instruction's name (`"h"`, `"measure"`, `"reset"`, `"if"`, `"barrier"`).
    pub fn name(&self) -> &'static str {
        match self {
            Instruction::Gate { gate, .. } => gate.name(),
            Instruction::Measure { .. } => "measure",
            Instruction::Reset { .. } => "reset",
            Instruction::Conditional { .. } => "if",
            Instruction::Barrier { .. } => "barrier",
        }
    }

    /// The qubits the instruction touches.
    pub fn qubits(&self) -> &[usize] {
        match self {
            Instruction::Gate { qubits, .. } | Instruction::Barrier { qubits } => qubits,
            Instruction::Measure { qubit, .. } | Instruction::Reset { qubit } => {
                std::slice::from_ref(qubit)
            }
            Instruction::Conditional { instruction, .. } => instruction.qubits(),
        }
    }

    /// The instruction without its condition (itself when unconditioned).
    pub fn unconditioned(&self) -> &Instruction {
        match self {
            Instruction::Conditional { instruction, .. } => instruction,
            other => other,
        }
    }

    fn unconditioned_mut(&mut self) -> &mut Instruction {
        match self {
            Instruction::Conditional { instruction, .. } => instruction,
            other => other,
        }
    }
}

/// A quantum circuit. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Circuit {
    num_qubits: usize,
    #[serde(default)]
    num_clbits: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    cregs: Vec<ClassicalRegister>,
    instructions: Vec<Instruction>,
}

macro_rules! fixed_gates {
    ($($(#[$doc:meta])* $name:ident => $gate:ident ($($q:ident),+);)*) => {$(
        $(#[$doc])*
        pub fn $name(self, $($q: usize),+) -> Self {
            self.gate(Gate::$gate, &[$($q),+])
        }
    )*};
}

macro_rules! angle_gates {
    ($($(#[$doc:meta])* $name:ident => $gate:ident ($($a:ident),+; $($q:ident),+);)*) => {$(
        $(#[$doc])*
        pub fn $name(self, $($a: impl Into<Angle>,)+ $($q: usize),+) -> Self {
            self.gate(Gate::$gate($($a.into()),+), &[$($q),+])
        }
    )*};
}

impl Circuit {
    /// An empty circuit on `num_qubits` qubits and no classical bits.
    ///
    /// ```
    /// assert!(qloop::Circuit::new(3).is_empty());
    /// ```
    pub fn new(num_qubits: usize) -> Self {
        Circuit::with_clbits(num_qubits, 0)
    }

    /// An empty circuit with `num_clbits` classical bits.
    pub fn with_clbits(num_qubits: usize, num_clbits: usize) -> Self {
        Circuit {
            num_qubits,
            num_clbits,
            cregs: Vec::new(),
            instructions: Vec::new(),
        }
    }

    /// Number of qubits.
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    /// Number of classical bits.
    pub fn num_clbits(&self) -> usize {
        self.num_clbits
    }

    /// The instructions in order.
    pub fn instructions(&self) -> &[Instruction] {
        &self.instructions
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.instructions.len()
    }

    /// True when there are no instructions.
    pub fn is_empty(&self) -> bool {
        self.instructions.is_empty()
    }

    /// Iterates over the instructions.
    pub fn iter(&self) -> std::slice::Iter<'_, Instruction> {
        self.instructions.iter()
    }

    /// Appends an instruction (growing the classical register for a measurement into a new bit).
    /// Nothing is checked here: [`Circuit::validate`] and [`Circuit::compile`] check.
    pub fn push(&mut self, instruction: Instruction) {
        if let Instruction::Measure { clbit, .. } = instruction.unconditioned() {
            self.num_clbits = self.num_clbits.max(clbit.saturating_add(1));
        }
        self.instructions.push(instruction);
    }

    /// The named classical registers, in declaration order (empty unless declared).
    pub fn cregs(&self) -> &[ClassicalRegister] {
        &self.cregs
    }

    /// Declares a classical register `name` of `size` bits after the declared ones (the
    /// circuit's classical bits grow to hold it).
    ///
    /// ```
    /// use qloop::Circuit;
    /// let c = Circuit::new(1).creg("a", 2).creg("b", 1);
    /// assert_eq!(c.num_clbits(), 3);
    /// assert_eq!(c.cregs()[1].offset, 2);
    /// ```
    pub fn creg(mut self, name: &str, size: usize) -> Self {
        let offset = self.cregs.last().map_or(0, |r| r.offset + r.size);
        self.cregs.push(ClassicalRegister {
            name: name.into(),
            offset,
            size,
        });
        self.num_clbits = self.num_clbits.max(offset.saturating_add(size));
        self
    }

    /// Returns `qubit` to `|0⟩`.
    pub fn reset(mut self, qubit: usize) -> Self {
        self.push(Instruction::Reset { qubit });
        self
    }

    /// Appends the instructions `body` adds to an empty circuit, each conditioned on the
    /// classical bits `clbits` equal to `value` (OpenQASM 2.0 conditions one instruction at a
    /// time, so every instruction of the body carries the condition).
    ///
    /// ```
    /// use qloop::{Circuit, Condition, Instruction};
    /// let c = Circuit::new(2).h(0).measure(0, 0).c_if(0..1, 1, |b| b.x(1));
    /// assert!(matches!(&c[2], Instruction::Conditional { condition, .. }
    ///     if *condition == Condition::new([0], 1)));
    /// ```
    pub fn c_if(
        mut self,
        clbits: impl IntoIterator<Item = usize>,
        value: u64,
        body: impl FnOnce(Circuit) -> Circuit,
    ) -> Self {
        let condition = Condition::new(clbits, value);
        let inner = body(Circuit::with_clbits(self.num_qubits, self.num_clbits));
        for instruction in inner.instructions {
            self.push(Instruction::Conditional {
                condition: condition.clone(),
                instruction: Box::new(instruction),
            });
        }
        self.num_clbits = self.num_clbits.max(inner.num_clbits);
        self
    }

    /// Appends `gate` on `qubits` (controls first).
    ///
    /// ```
    /// use qloop::{Circuit, Gate};
    /// assert_eq!(Circuit::new(2).gate(Gate::CX, &[0, 1]), Circuit::new(2).cx(0, 1));
    /// ```
    pub fn gate(mut self, gate: Gate, qubits: &[usize]) -> Self {
        self.push(Instruction::Gate {
            gate,
            qubits: qubits.to_vec(),
        });
        self
    }

    fixed_gates! {
        /// Identity.
        id => I(q);
        /// Hadamard.
        h => H(q);
        /// Pauli X.
        x => X(q);
        /// Pauli Y.
        y => Y(q);
        /// Pauli Z.
        z => Z(q);
        /// S = diag(1, i).
        s => S(q);
        /// S†.
        sdg => Sdg(q);
        /// T = diag(1, e^{iπ/4}).
        t => T(q);
        /// T†.
        tdg => Tdg(q);
        /// √X.
        sx => SX(q);
        /// √X†.
        sxdg => SXdg(q);
        /// CNOT (control, target).
        cx => CX(control, target);
        /// Controlled Y.
        cy => CY(control, target);
        /// Controlled Z.
        cz => CZ(control, target);
        /// Controlled Hadamard.
        ch => CH(control, target);
        /// SWAP.
        swap => Swap(a, b);
        /// Toffoli (control, control, target).
        ccx => CCX(control1, control2, target);
        /// Fredkin (control, target, target).
        cswap => CSwap(control, a, b);
    }

    angle_gates! {
        /// RX(θ) = exp(−iθX/2).
        rx => RX(theta; q);
        /// RY(θ) = exp(−iθY/2).
        ry => RY(theta; q);
        /// RZ(θ) = diag(e^{−iθ/2}, e^{iθ/2}).
        rz => RZ(theta; q);
        /// P(λ) = diag(1, e^{iλ}).
        p => P(lambda; q);
        /// U(θ, φ, λ), the OpenQASM 3 / Qiskit form.
        u => U(theta, phi, lambda; q);
        /// Controlled RX.
        crx => CRX(theta; control, target);
        /// Controlled RY.
        cry => CRY(theta; control, target);
        /// Controlled RZ.
        crz => CRZ(theta; control, target);
        /// Controlled phase.
        cp => CP(lambda; control, target);
        /// Controlled U(θ, φ, λ) (`cu3`).
        cu3 => CU3(theta, phi, lambda; control, target);
        /// RXX(θ) = exp(−iθ X⊗X/2).
        rxx => RXX(theta; a, b);
        /// RYY(θ) = exp(−iθ Y⊗Y/2).
        ryy => RYY(theta; a, b);
        /// RZZ(θ) = exp(−iθ Z⊗Z/2).
        rzz => RZZ(theta; a, b);
    }

    /// Measures `qubit` into classical bit `clbit` (the register grows to hold it).
    pub fn measure(mut self, qubit: usize, clbit: usize) -> Self {
        self.push(Instruction::Measure { qubit, clbit });
        self
    }

    /// A barrier over every qubit, then qubit `i` measured into a new classical bit
    /// `old_num_clbits + i` (as Qiskit's `measure_all`).
    pub fn measure_all(mut self) -> Self {
        let offset = self.num_clbits;
        self = self.barrier_all();
        for q in 0..self.num_qubits {
            self.push(Instruction::Measure {
                qubit: q,
                clbit: offset + q,
            });
        }
        self
    }

    /// A barrier over `qubits`.
    pub fn barrier(mut self, qubits: &[usize]) -> Self {
        self.push(Instruction::Barrier {
            qubits: qubits.to_vec(),
        });
        self
    }

    /// A barrier over every qubit.
    pub fn barrier_all(self) -> Self {
        let all: Vec<usize> = (0..self.num_qubits).collect();
        self.barrier(&all)
    }

    /// True when the circuit contains a measurement.
    pub fn has_measurements(&self) -> bool {
        self.instructions
            .iter()
            .any(|i| matches!(i, Instruction::Measure { .. }))
    }

    /// The `(qubit, clbit)` pairs of the measurements, in order.
    pub fn measurements(&self) -> Vec<(usize, usize)> {
        self.instructions
            .iter()
            .filter_map(|i| match i {
                Instruction::Measure { qubit, clbit } => Some((*qubit, *clbit)),
                _ => None,
            })
            .collect()
    }

    /// The inverse of a measurement-free circuit: gates reversed and each inverted; barriers kept.
    ///
    /// ```
    /// use qloop::Circuit;
    /// let c = Circuit::new(1).s(0).rx(0.3, 0);
    /// assert_eq!(c.inverse().unwrap(), Circuit::new(1).rx(-0.3, 0).sdg(0));
    /// assert!(Circuit::new(1).measure(0, 0).inverse().is_err());
    /// ```
    pub fn inverse(&self) -> Result<Circuit> {
        let mut out = Circuit::with_clbits(self.num_qubits, self.num_clbits);
        for (index, inst) in self.instructions.iter().enumerate().rev() {
            out.instructions.push(match inst {
                Instruction::Gate { gate, qubits } => Instruction::Gate {
                    gate: gate.inverse(),
                    qubits: qubits.clone(),
                },
                Instruction::Barrier { .. } => inst.clone(),
                Instruction::Measure { .. }
                | Instruction::Reset { .. }
                | Instruction::Conditional { .. } => {
                    return Err(Error::InverseOfMeasurement { instruction: index })
                }
            });
        }
        Ok(out)
    }

    /// The circuit repeated `k` times in sequence (`repeat(0)` is empty).
    ///
    /// ```
    /// use qloop::Circuit;
    /// assert_eq!(Circuit::new(1).h(0).repeat(2), Circuit::new(1).h(0).h(0));
    /// ```
    pub fn repeat(&self, k: usize) -> Circuit {
        let mut out = Circuit::with_clbits(self.num_qubits, self.num_clbits);
        for _ in 0..k {
            out.instructions.extend(self.instructions.iter().cloned());
        }
        out
    }

    /// The distinct parameters in order of first appearance (weights and inputs mixed).
    pub fn parameters(&self) -> Vec<Param> {
        let mut seen: std::collections::HashSet<&Param> = std::collections::HashSet::new();
        let mut order: Vec<Param> = Vec::new();
        for inst in &self.instructions {
            if let Instruction::Gate { gate, .. } = inst.unconditioned() {
                for p in gate.angles().into_iter().flat_map(Angle::params) {
                    if seen.insert(p) {
                        order.push(p.clone());
                    }
                }
            }
        }
        order
    }

    /// Replaces parameters by values: every parameter for which `value_of` returns `Some` is
    /// substituted; the others stay symbolic.
    ///
    /// ```
    /// use qloop::{Circuit, Param};
    /// let c = Circuit::new(1).rz(2.0 * Param::weight("t"), 0);
    /// assert_eq!(c.bind(|p| (p.name == "t").then_some(0.25)), Circuit::new(1).rz(0.5, 0));
    /// ```
    pub fn bind(&self, mut value_of: impl FnMut(&Param) -> Option<f64>) -> Circuit {
        let mut out = self.clone();
        for inst in &mut out.instructions {
            if let Instruction::Gate { gate, .. } = inst.unconditioned_mut() {
                for angle in gate.angles_mut() {
                    let mut constant = angle.constant_part();
                    let mut free = Vec::new();
                    for t in angle.terms() {
                        match value_of(&t.param) {
                            Some(v) => constant += t.coeff * v,
                            None => free.push(t.clone()),
                        }
                    }
                    *angle = Angle::affine(constant, free);
                }
            }
        }
        out
    }

    /// Checks the structure: operand counts, qubit and classical-bit ranges, distinct operands,
    /// finite constant angles, well-formed conditions and registers, and no parameter name used
    /// as both weight and input. Called by [`Circuit::compile`] and by every loader.
    pub fn validate(&self) -> Result<()> {
        for (what, value, limit) in [
            ("the number of qubits", self.num_qubits, limits::MAX_QUBITS),
            (
                "the number of classical bits",
                self.num_clbits,
                limits::MAX_CLBITS,
            ),
            (
                "the number of instructions",
                self.len(),
                limits::MAX_INSTRUCTIONS,
            ),
        ] {
            if value > limit {
                return Err(Error::TooLarge {
                    what: what.into(),
                    value: value as u128,
                    limit: limit as u128,
                });
            }
        }
        let mut end = 0usize;
        for (k, r) in self.cregs.iter().enumerate() {
            let fits = r
                .offset
                .checked_add(r.size)
                .is_some_and(|e| e <= self.num_clbits);
            if r.size == 0 || !fits || r.offset < end {
                return Err(Error::Shape {
                    context: format!("classical register '{}'", r.name),
                    message: format!(
                        "bits {}..{} must be non-empty, after the previous register and within the {} classical bits",
                        r.offset,
                        r.offset.saturating_add(r.size),
                        self.num_clbits
                    ),
                });
            }
            if self.cregs[..k].iter().any(|o| o.name == r.name) {
                return Err(Error::Shape {
                    context: format!("classical register '{}'", r.name),
                    message: "the name is declared twice".into(),
                });
            }
            end = r.offset + r.size;
        }
        let mut kinds: BTreeMap<&str, ParamKind> = BTreeMap::new();
        for (index, inst) in self.instructions.iter().enumerate() {
            if let Instruction::Conditional {
                condition,
                instruction,
            } = inst
            {
                condition.check(index, self.num_clbits)?;
                if matches!(
                    **instruction,
                    Instruction::Barrier { .. } | Instruction::Conditional { .. }
                ) {
                    return Err(Error::BadCondition {
                        instruction: index,
                        message: format!(
                            "only a gate, measure or reset can be conditioned, not '{}'",
                            instruction.name()
                        ),
                    });
                }
            }
            self.check_instruction(index, inst.unconditioned(), &mut kinds)?;
        }
        Ok(())
    }

    /// The checks of [`Circuit::validate`] on one unconditioned instruction.
    fn check_instruction<'a>(
        &self,
        index: usize,
        inst: &'a Instruction,
        kinds: &mut BTreeMap<&'a str, ParamKind>,
    ) -> Result<()> {
        let name = inst.name();
        if let Instruction::Gate { gate, qubits } = inst {
            if qubits.len() != gate.num_qubits() {
                return Err(Error::WrongArity {
                    instruction: index,
                    name: name.into(),
                    expected: gate.num_qubits(),
                    got: qubits.len(),
                });
            }
            for angle in gate.angles() {
                let c = angle.constant_part();
                if !c.is_finite() {
                    return Err(Error::NonFiniteAngle {
                        context: format!("instruction {index} ({name})"),
                        value: c,
                    });
                }
                for t in angle.terms() {
                    if !t.coeff.is_finite() {
                        return Err(Error::NonFiniteAngle {
                            context: format!(
                                "instruction {index} ({name}), coefficient of '{}'",
                                t.param
                            ),
                            value: t.coeff,
                        });
                    }
                    if *kinds.entry(&t.param.name).or_insert(t.param.kind) != t.param.kind {
                        return Err(Error::ParameterKindConflict {
                            name: t.param.name.clone(),
                        });
                    }
                }
            }
        }
        let qubits = inst.qubits();
        for (k, &q) in qubits.iter().enumerate() {
            if q >= self.num_qubits {
                return Err(Error::QubitOutOfRange {
                    instruction: index,
                    name: name.into(),
                    qubit: q,
                    num_qubits: self.num_qubits,
                });
            }
            if qubits[..k].contains(&q) {
                return Err(Error::DuplicateQubit {
                    instruction: index,
                    name: name.into(),
                    qubit: q,
                });
            }
        }
        if let Instruction::Measure { clbit, .. } = inst {
            if *clbit >= self.num_clbits {
                return Err(Error::ClbitOutOfRange {
                    instruction: index,
                    clbit: *clbit,
                    num_clbits: self.num_clbits,
                });
            }
        }
        Ok(())
    }

    /// The first instruction that makes the circuit dynamic, with the reason: a reset, a
    /// conditioned instruction, or a measurement whose qubit is used again afterwards. `None`
    /// for a unitary circuit with terminal measurements, which has one statevector.
    ///
    /// ```
    /// use qloop::Circuit;
    /// assert!(Circuit::new(1).h(0).measure(0, 0).dynamic_instruction().is_none());
    /// assert_eq!(Circuit::new(1).measure(0, 0).h(0).dynamic_instruction().unwrap().0, 0);
    /// ```
    pub fn dynamic_instruction(&self) -> Option<(usize, String)> {
        let mut measured_at: Vec<Option<usize>> = vec![None; self.num_qubits];
        for (index, inst) in self.instructions.iter().enumerate() {
            match inst {
                Instruction::Reset { .. } => {
                    return Some((index, "a reset".into()));
                }
                Instruction::Conditional { .. } => {
                    return Some((index, "a classically conditioned instruction".into()));
                }
                Instruction::Measure { qubit, .. } => {
                    if let Some(Some(_)) = measured_at.get(*qubit) {
                        continue; // measuring again gives the same outcome
                    }
                    if let Some(slot) = measured_at.get_mut(*qubit) {
                        *slot = Some(index);
                    }
                }
                Instruction::Gate { qubits, .. } => {
                    if let Some(&Some(at)) = qubits
                        .iter()
                        .find_map(|&q| measured_at.get(q).filter(|m| m.is_some()))
                    {
                        return Some((
                            at,
                            "a measurement is followed by a gate on its qubit".into(),
                        ));
                    }
                }
                Instruction::Barrier { .. } => {}
            }
        }
        None
    }

    /// True when the circuit has a reset, a condition or a mid-circuit measurement.
    pub fn is_dynamic(&self) -> bool {
        self.dynamic_instruction().is_some()
    }

    /// Circuit depth: the longest path of instructions through the qubit and classical-bit wires
    /// (a measurement writes its bit, a condition reads its bits); barriers do not count, as in
    /// Qiskit.
    ///
    /// ```
    /// use qloop::Circuit;
    /// assert_eq!(Circuit::new(3).h(0).h(1).cx(0, 1).cx(1, 2).depth(), 3);
    /// ```
    pub fn depth(&self) -> usize {
        let mut qubit_level = vec![0usize; self.num_qubits];
        let mut clbit_level = vec![0usize; self.num_clbits];
        for inst in &self.instructions {
            if matches!(inst, Instruction::Barrier { .. }) {
                continue;
            }
            let mut clbits: Vec<usize> = Vec::new();
            if let Instruction::Conditional { condition, .. } = inst {
                clbits.extend(&condition.clbits);
            }
            if let Instruction::Measure { clbit, .. } = inst.unconditioned() {
                clbits.push(*clbit);
            }
            let qubits = inst.qubits();
            let next = qubits
                .iter()
                .map(|&q| qubit_level.get(q).copied().unwrap_or(0))
                .chain(
                    clbits
                        .iter()
                        .map(|&c| clbit_level.get(c).copied().unwrap_or(0)),
                )
                .max()
                .unwrap_or(0)
                + 1;
            for &q in qubits {
                if let Some(l) = qubit_level.get_mut(q) {
                    *l = next;
                }
            }
            for c in clbits {
                if let Some(l) = clbit_level.get_mut(c) {
                    *l = next;
                }
            }
        }
        qubit_level
            .into_iter()
            .chain(clbit_level)
            .max()
            .unwrap_or(0)
    }

    /// How many times each instruction name occurs, sorted by name.
    ///
    /// ```
    /// let c = qloop::Circuit::new(2).h(0).h(1).cx(0, 1);
    /// assert_eq!(c.gate_counts()["h"], 2);
    /// ```
    pub fn gate_counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for inst in &self.instructions {
            *counts.entry(inst.name()).or_insert(0) += 1;
        }
        counts
    }

    /// Serializes to qloop's JSON circuit format (pretty-printed).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a circuit always serializes")
    }

    /// Parses and [validates](Circuit::validate) a JSON circuit.
    ///
    /// ```
    /// use qloop::{Circuit, Param};
    /// let c = Circuit::new(2).h(0).cx(0, 1).ry(Param::input("x") * 2.0, 1);
    /// assert_eq!(Circuit::from_json(&c.to_json()).unwrap(), c);
    /// ```
    pub fn from_json(text: &str) -> Result<Circuit> {
        Self::from_json_at(text, None)
    }

    /// Parses and validates JSON that came from `path` (named in errors).
    pub(crate) fn from_json_at(text: &str, path: Option<&std::path::Path>) -> Result<Circuit> {
        let circuit: Circuit = serde_json::from_str(text).map_err(|source| Error::Json {
            path: path.map(std::path::Path::to_path_buf),
            source,
        })?;
        circuit.validate()?;
        Ok(circuit)
    }

    /// Puts `condition` on every instruction from `first` on (the OpenQASM reader conditions
    /// each instruction a conditioned call expands to).
    pub(crate) fn condition_from(&mut self, first: usize, condition: &Condition) {
        for inst in &mut self.instructions[first..] {
            let inner = std::mem::replace(inst, Instruction::Barrier { qubits: Vec::new() });
            *inst = Instruction::Conditional {
                condition: condition.clone(),
                instruction: Box::new(inner),
            };
        }
    }

    /// The circuit with its registers forgotten when they are just one register `c` over every
    /// classical bit: that register is implicit (the OpenQASM writer declares it), so a
    /// circuit read back from its export equals the circuit written.
    pub(crate) fn without_implicit_register(mut self) -> Circuit {
        if let [r] = self.cregs.as_slice() {
            if r.name == "c" && r.offset == 0 && r.size == self.num_clbits {
                self.cregs.clear();
            }
        }
        self
    }

    /// Sets the register sizes (used by loaders that declare registers before instructions).
    pub(crate) fn resize(&mut self, num_qubits: usize, num_clbits: usize) {
        self.num_qubits = num_qubits;
        self.num_clbits = num_clbits;
    }

    fn append(&mut self, other: &Circuit) {
        self.num_qubits = self.num_qubits.max(other.num_qubits);
        self.num_clbits = self.num_clbits.max(other.num_clbits);
        self.instructions.extend(other.instructions.iter().cloned());
    }
}

impl Index<usize> for Circuit {
    type Output = Instruction;
    fn index(&self, index: usize) -> &Instruction {
        &self.instructions[index]
    }
}

impl<'a> IntoIterator for &'a Circuit {
    type Item = &'a Instruction;
    type IntoIter = std::slice::Iter<'a, Instruction>;
    fn into_iter(self) -> Self::IntoIter {
        self.instructions.iter()
    }
}

impl Extend<Instruction> for Circuit {
    fn extend<I: IntoIterator<Item = Instruction>>(&mut self, iter: I) {
        for inst in iter {
            self.push(inst);
        }
    }
}

impl FromIterator<Instruction> for Circuit {
    /// Collects instructions into a circuit just wide enough for them.
    fn from_iter<I: IntoIterator<Item = Instruction>>(iter: I) -> Self {
        let mut c = Circuit::new(0);
        for inst in iter {
            let width = inst.qubits().iter().map(|q| q + 1).max().unwrap_or(0);
            c.num_qubits = c.num_qubits.max(width);
            c.push(inst);
        }
        c
    }
}

/// `a + b`: `b`'s instructions after `a`'s, on `max` of the two sizes.
impl Add for Circuit {
    type Output = Circuit;
    fn add(mut self, rhs: Circuit) -> Circuit {
        self.append(&rhs);
        self
    }
}

impl Add<&Circuit> for Circuit {
    type Output = Circuit;
    fn add(mut self, rhs: &Circuit) -> Circuit {
        self.append(rhs);
        self
    }
}

impl AddAssign<&Circuit> for Circuit {
    fn add_assign(&mut self, rhs: &Circuit) {
        self.append(rhs);
    }
}

impl AddAssign for Circuit {
    fn add_assign(&mut self, rhs: Circuit) {
        self.append(&rhs);
    }
}

/// Builds a [`Circuit`] from a list of builder calls; it expands to exactly those calls.
///
/// ```
/// use qloop::{circuit, Circuit, Param};
/// let theta = Param::weight("theta");
/// let c = circuit!(2; h(0), cx(0, 1), rz(theta.clone(), 1), measure(0, 0));
/// assert_eq!(c, Circuit::new(2).h(0).cx(0, 1).rz(theta, 1).measure(0, 0));
/// ```
#[macro_export]
macro_rules! circuit {
    ($n:expr; $($gate:ident ( $($arg:expr),* $(,)? )),* $(,)?) => {
        $crate::Circuit::new($n)$(.$gate($($arg),*))*
    };
}
