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
    /// Measure `qubit` in the Z basis into classical bit `clbit` (terminal only).
    Measure {
        /// The measured qubit.
        qubit: usize,
        /// The classical bit that receives the outcome.
        clbit: usize,
    },
    /// A barrier: no effect on the state; kept for drawing and export.
    Barrier {
        /// The qubits it spans.
        qubits: Vec<usize>,
    },
}

impl Instruction {
    /// The instruction's name (`"h"`, `"measure"`, `"barrier"`).
    pub fn name(&self) -> &'static str {
        match self {
            Instruction::Gate { gate, .. } => gate.name(),
            Instruction::Measure { .. } => "measure",
            Instruction::Barrier { .. } => "barrier",
        }
    }

    /// The qubits the instruction touches.
    pub fn qubits(&self) -> &[usize] {
        match self {
            Instruction::Gate { qubits, .. } | Instruction::Barrier { qubits } => qubits,
            Instruction::Measure { qubit, .. } => std::slice::from_ref(qubit),
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
        Circuit {
            num_qubits,
            num_clbits: 0,
            instructions: Vec::new(),
        }
    }

    /// An empty circuit with `num_clbits` classical bits.
    pub fn with_clbits(num_qubits: usize, num_clbits: usize) -> Self {
        Circuit {
            num_qubits,
            num_clbits,
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
        if let Instruction::Measure { clbit, .. } = instruction {
            self.num_clbits = self.num_clbits.max(clbit.saturating_add(1));
        }
        self.instructions.push(instruction);
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
                Instruction::Measure { .. } => {
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
            if let Instruction::Gate { gate, .. } = inst {
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
            if let Instruction::Gate { gate, .. } = inst {
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
    /// finite constant angles, no gate after a measurement of its qubit, and no parameter name
    /// used as both weight and input. Called by [`Circuit::compile`] and by every loader.
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
        let mut measured = vec![false; self.num_qubits];
        let mut kinds: BTreeMap<&str, ParamKind> = BTreeMap::new();
        for (index, inst) in self.instructions.iter().enumerate() {
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
            match inst {
                Instruction::Gate { .. } => {
                    if let Some(&q) = qubits.iter().find(|&&q| measured[q]) {
                        return Err(Error::GateAfterMeasure {
                            instruction: index,
                            name: name.into(),
                            qubit: q,
                        });
                    }
                }
                Instruction::Measure { qubit, clbit } => {
                    if *clbit >= self.num_clbits {
                        return Err(Error::ClbitOutOfRange {
                            instruction: index,
                            clbit: *clbit,
                            num_clbits: self.num_clbits,
                        });
                    }
                    measured[*qubit] = true;
                }
                Instruction::Barrier { .. } => {}
            }
        }
        Ok(())
    }

    /// Circuit depth: the longest path of gates and measurements through the qubit (and, for
    /// measurements, classical-bit) wires; barriers do not count, as in Qiskit.
    ///
    /// ```
    /// use qloop::Circuit;
    /// assert_eq!(Circuit::new(3).h(0).h(1).cx(0, 1).cx(1, 2).depth(), 3);
    /// ```
    pub fn depth(&self) -> usize {
        let mut qubit_level = vec![0usize; self.num_qubits];
        let mut clbit_level = vec![0usize; self.num_clbits];
        for inst in &self.instructions {
            let level = |q: &usize| qubit_level.get(*q).copied().unwrap_or(0);
            match inst {
                Instruction::Barrier { .. } => {}
                Instruction::Gate { qubits, .. } => {
                    let next = qubits.iter().map(level).max().unwrap_or(0) + 1;
                    for &q in qubits.iter().filter(|&&q| q < self.num_qubits) {
                        qubit_level[q] = next;
                    }
                }
                Instruction::Measure { qubit, clbit } => {
                    let next = level(qubit).max(clbit_level.get(*clbit).copied().unwrap_or(0)) + 1;
                    if let Some(l) = qubit_level.get_mut(*qubit) {
                        *l = next;
                    }
                    if let Some(l) = clbit_level.get_mut(*clbit) {
                        *l = next;
                    }
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
