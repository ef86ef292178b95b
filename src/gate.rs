//! The gate set, with Qiskit's matrices including global phase.
//!
//! Every matrix is written out in `docs/conventions.md`. A gate is `k` controls followed by
//! one or two targets; controls come first in the operand list (`cx(control, target)`), and the
//! controlled gate applies exactly the base matrix when every control is 1 (no extra phase).
//!
//! The *base matrix* acts on the targets only, in little-endian local order: for a two-target
//! gate, bit 0 of the local index is the first target operand. Each gate also declares its
//! [`Structure`], which picks the simulation kernel ([`crate::program`]).

use crate::param::Angle;
use crate::sim::trig::sin_cos;
use num_complex::Complex64 as C64;
use serde::{Deserialize, Serialize};
use std::f64::consts::FRAC_1_SQRT_2;

/// The sparsity pattern of a base matrix, which decides the kernel that applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Structure {
    /// Only diagonal entries are non-zero: a phase per basis state (Z, S, T, RZ, P, RZZ).
    Diagonal,
    /// One non-zero entry per row and column, off the diagonal for one target (X, Y) or
    /// exactly SWAP for two targets.
    Permutation,
    /// Any other unitary (H, SX, RX, RY, U, RXX, RYY).
    Dense,
}

impl Structure {
    /// The structure read from a concrete matrix's exact zeros: diagonal when every
    /// off-diagonal entry is zero; for one target, a permutation when both diagonal entries
    /// are; otherwise dense. (The one place structure is read from numbers; gates with symbolic
    /// angles keep their declared structure.)
    ///
    /// ```
    /// use qloop::{BaseMatrix, Structure};
    /// use num_complex::Complex64 as C;
    /// let (o, i) = (C::new(0.0, 0.0), C::new(1.0, 0.0));
    /// assert_eq!(Structure::of_exact(&BaseMatrix::One([o, i, i, o])), Structure::Permutation);
    /// assert_eq!(Structure::of_exact(&BaseMatrix::One([i, o, o, i])), Structure::Diagonal);
    /// ```
    pub fn of_exact(matrix: &BaseMatrix) -> Structure {
        let zero = C64::new(0.0, 0.0);
        match matrix {
            BaseMatrix::One(m) if m[1] == zero && m[2] == zero => Structure::Diagonal,
            BaseMatrix::One(m) if m[0] == zero && m[3] == zero => Structure::Permutation,
            BaseMatrix::Two(m) if (0..16).all(|k| k % 5 == 0 || m[k] == zero) => {
                Structure::Diagonal
            }
            _ => Structure::Dense,
        }
    }
}

/// A base matrix: 2×2 for one target, 4×4 for two, row-major.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BaseMatrix {
    /// A single-target matrix `[m00, m01, m10, m11]`.
    One([C64; 4]),
    /// A two-target matrix, row-major, local index = `b0 + 2·b1` (b0 = first target).
    Two([C64; 16]),
}

/// A one-target base matrix with one angle θ, written as `c + a·cos(kθ) + b·sin(kθ)` entry-wise
/// (row-major): the form lets a run of fixed gates around it be multiplied in at compile time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrigForm {
    /// The angle factor `k` (½ for the rotations, 1 for the phase gates).
    pub k: f64,
    /// The constant part.
    pub c: [C64; 4],
    /// The coefficient of `cos(kθ)`.
    pub a: [C64; 4],
    /// The coefficient of `sin(kθ)`.
    pub b: [C64; 4],
}

impl TrigForm {
    /// The matrix for `(sin, cos)` of `kθ`.
    #[inline(always)]
    pub fn at(&self, (sin, cos): (f64, f64)) -> [C64; 4] {
        let mut m = self.c;
        for (i, entry) in m.iter_mut().enumerate() {
            *entry = self.c[i] + self.a[i] * cos + self.b[i] * sin;
        }
        m
    }
}

/// A quantum gate. Names follow OpenQASM 2.0 / Qiskit's `qelib1.inc`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    /// Identity.
    #[serde(rename = "id")]
    I,
    /// Hadamard.
    H,
    /// Pauli X.
    X,
    /// Pauli Y.
    Y,
    /// Pauli Z.
    Z,
    /// S = diag(1, i).
    S,
    /// S† = diag(1, −i).
    Sdg,
    /// T = diag(1, e^{iπ/4}).
    T,
    /// T† = diag(1, e^{−iπ/4}).
    Tdg,
    /// √X = ½[[1+i, 1−i], [1−i, 1+i]].
    SX,
    /// √X† = ½[[1−i, 1+i], [1+i, 1−i]].
    SXdg,
    /// RX(θ) = exp(−iθX/2).
    RX(Angle),
    /// RY(θ) = exp(−iθY/2).
    RY(Angle),
    /// RZ(θ) = exp(−iθZ/2) = diag(e^{−iθ/2}, e^{iθ/2}).
    RZ(Angle),
    /// Phase P(λ) = diag(1, e^{iλ}).
    P(Angle),
    /// U(θ, φ, λ) = [[cos θ/2, −e^{iλ} sin θ/2], [e^{iφ} sin θ/2, e^{i(φ+λ)} cos θ/2]].
    U(Angle, Angle, Angle),
    /// Controlled X (control, target).
    CX,
    /// Controlled Y.
    CY,
    /// Controlled Z.
    CZ,
    /// Controlled Hadamard.
    CH,
    /// SWAP.
    Swap,
    /// Controlled RX(θ).
    CRX(Angle),
    /// Controlled RY(θ).
    CRY(Angle),
    /// Controlled RZ(θ).
    CRZ(Angle),
    /// Controlled phase CP(λ) (`cu1` in old QASM).
    CP(Angle),
    /// Controlled U(θ, φ, λ) (`cu3`).
    CU3(Angle, Angle, Angle),
    /// Toffoli (control, control, target).
    CCX,
    /// Fredkin (control, target, target).
    CSwap,
    /// RXX(θ) = exp(−iθ X⊗X/2).
    RXX(Angle),
    /// RYY(θ) = exp(−iθ Y⊗Y/2).
    RYY(Angle),
    /// RZZ(θ) = exp(−iθ Z⊗Z/2).
    RZZ(Angle),
}

fn c(re: f64, im: f64) -> C64 {
    C64::new(re, im)
}

/// e^{iφ}.
fn cis(phi: f64) -> C64 {
    let (s, co) = sin_cos(phi);
    C64::new(co, s)
}

impl Gate {
    /// Every gate of the set, with placeholder angle 0, for tables and tests.
    pub fn all() -> Vec<Gate> {
        use Gate::*;
        let a = || Angle::constant(0.0);
        vec![
            I,
            H,
            X,
            Y,
            Z,
            S,
            Sdg,
            T,
            Tdg,
            SX,
            SXdg,
            RX(a()),
            RY(a()),
            RZ(a()),
            P(a()),
            U(a(), a(), a()),
            CX,
            CY,
            CZ,
            CH,
            Swap,
            CRX(a()),
            CRY(a()),
            CRZ(a()),
            CP(a()),
            CU3(a(), a(), a()),
            CCX,
            CSwap,
            RXX(a()),
            RYY(a()),
            RZZ(a()),
        ]
    }

    /// The OpenQASM 2.0 / Qiskit name (`"cx"`, `"rz"`, `"id"`, ...).
    ///
    /// ```
    /// assert_eq!(qloop::Gate::SXdg.name(), "sxdg");
    /// ```
    pub fn name(&self) -> &'static str {
        use Gate::*;
        match self {
            I => "id",
            H => "h",
            X => "x",
            Y => "y",
            Z => "z",
            S => "s",
            Sdg => "sdg",
            T => "t",
            Tdg => "tdg",
            SX => "sx",
            SXdg => "sxdg",
            RX(_) => "rx",
            RY(_) => "ry",
            RZ(_) => "rz",
            P(_) => "p",
            U(..) => "u",
            CX => "cx",
            CY => "cy",
            CZ => "cz",
            CH => "ch",
            Swap => "swap",
            CRX(_) => "crx",
            CRY(_) => "cry",
            CRZ(_) => "crz",
            CP(_) => "cp",
            CU3(..) => "cu3",
            CCX => "ccx",
            CSwap => "cswap",
            RXX(_) => "rxx",
            RYY(_) => "ryy",
            RZZ(_) => "rzz",
        }
    }

    /// The angles, in the order of the gate's signature (`u(θ, φ, λ)`).
    pub fn angles(&self) -> Vec<&Angle> {
        use Gate::*;
        match self {
            RX(a) | RY(a) | RZ(a) | P(a) | CRX(a) | CRY(a) | CRZ(a) | CP(a) | RXX(a) | RYY(a)
            | RZZ(a) => vec![a],
            U(t, p, l) | CU3(t, p, l) => vec![t, p, l],
            _ => vec![],
        }
    }

    /// The frequency `ω` with which the gate's matrix depends on its angle `j`: every entry is
    /// `A + B e^{iωa} + C e^{−iωa}` in that angle (`ω = 1/2` for the rotations and `U`'s `θ`,
    /// `ω = 1` for phases and `U`'s `φ`, `λ`), so that the exact derivative is
    /// `∂M/∂a = (ω/2) (M(a + π/(2ω)) − M(a − π/(2ω)))` ([`crate::gradient`]). `None` for an
    /// index the gate has no angle at.
    ///
    /// ```
    /// use qloop::Gate;
    /// assert_eq!(Gate::RY(0.0.into()).angle_frequency(0), Some(0.5));
    /// assert_eq!(Gate::U(0.0.into(), 0.0.into(), 0.0.into()).angle_frequency(2), Some(1.0));
    /// assert_eq!(Gate::H.angle_frequency(0), None);
    /// ```
    pub fn angle_frequency(&self, j: usize) -> Option<f64> {
        use Gate::*;
        match (self, j) {
            (RX(_) | RY(_) | RZ(_) | CRX(_) | CRY(_) | CRZ(_) | RXX(_) | RYY(_) | RZZ(_), 0) => {
                Some(0.5)
            }
            (P(_) | CP(_), 0) => Some(1.0),
            (U(..) | CU3(..), 0) => Some(0.5),
            (U(..) | CU3(..), 1 | 2) => Some(1.0),
            _ => None,
        }
    }

    /// The frequencies `ν > 0` with which an expectation value depends on angle `j` of the
    /// gate: `⟨A⟩(a) = c₀ + Σ_ν (c_ν cos νa + s_ν sin νa)`, the differences of the frequencies
    /// of the matrix entries ([`Gate::angle_frequency`]). `[1]` for every angle of the set
    /// except the controlled rotations' (`crx`, `cry`, `crz`, `cu3`'s `θ`): their identity
    /// block adds `½`. `None` for an index the gate has no angle at.
    ///
    /// ```
    /// use qloop::Gate;
    /// assert_eq!(Gate::RY(0.0.into()).angle_spectrum(0), Some(&[1.0][..]));
    /// assert_eq!(Gate::CRZ(0.0.into()).angle_spectrum(0), Some(&[0.5, 1.0][..]));
    /// ```
    pub fn angle_spectrum(&self, j: usize) -> Option<&'static [f64]> {
        use Gate::*;
        match (self, j) {
            (CRX(_) | CRY(_) | CRZ(_) | CU3(..), 0) => Some(&[0.5, 1.0]),
            _ => self.angle_frequency(j).map(|_| &[1.0][..]),
        }
    }

    /// Mutable access to the angles, in signature order.
    pub fn angles_mut(&mut self) -> Vec<&mut Angle> {
        use Gate::*;
        match self {
            RX(a) | RY(a) | RZ(a) | P(a) | CRX(a) | CRY(a) | CRZ(a) | CP(a) | RXX(a) | RYY(a)
            | RZZ(a) => vec![a],
            U(t, p, l) | CU3(t, p, l) => vec![t, p, l],
            _ => vec![],
        }
    }

    /// Number of control qubits (the first operands).
    pub fn num_controls(&self) -> usize {
        use Gate::*;
        match self {
            CX | CY | CZ | CH | CRX(_) | CRY(_) | CRZ(_) | CP(_) | CU3(..) | CSwap => 1,
            CCX => 2,
            _ => 0,
        }
    }

    /// Number of target qubits (the operands after the controls).
    pub fn num_targets(&self) -> usize {
        use Gate::*;
        match self {
            Swap | CSwap | RXX(_) | RYY(_) | RZZ(_) => 2,
            _ => 1,
        }
    }

    /// Total number of qubit operands.
    ///
    /// ```
    /// assert_eq!(qloop::Gate::CCX.num_qubits(), 3);
    /// ```
    pub fn num_qubits(&self) -> usize {
        self.num_controls() + self.num_targets()
    }

    /// The structure of the base matrix for *any* angle values (parameterized gates keep it).
    pub fn structure(&self) -> Structure {
        use Gate::*;
        match self {
            I | Z | S | Sdg | T | Tdg | RZ(_) | P(_) | CZ | CRZ(_) | CP(_) | RZZ(_) => {
                Structure::Diagonal
            }
            X | Y | CX | CY | CCX | Swap | CSwap => Structure::Permutation,
            H | SX | SXdg | RX(_) | RY(_) | U(..) | CH | CRX(_) | CRY(_) | CU3(..) | RXX(_)
            | RYY(_) => Structure::Dense,
        }
    }

    /// The base matrix (targets only) for the given angle values, in signature order.
    ///
    /// `angles` must have as many entries as [`Gate::angles`]; extra entries are ignored.
    pub fn base_matrix(&self, angles: &[f64]) -> BaseMatrix {
        match self.one_target_matrix(angles) {
            Some(m) => BaseMatrix::One(m),
            None => BaseMatrix::Two(self.two_target_matrix(angles)),
        }
    }

    /// The 2×2 base matrix of a gate with one target (its base if controlled), row-major, or
    /// `None` for two-target gates. Same `angles` as [`Gate::base_matrix`].
    ///
    /// ```
    /// use num_complex::Complex64 as C;
    /// let m = qloop::Gate::CX.one_target_matrix(&[]).unwrap();
    /// assert_eq!(m, [C::new(0.0, 0.0), C::new(1.0, 0.0), C::new(1.0, 0.0), C::new(0.0, 0.0)]);
    /// ```
    #[inline(always)]
    pub fn one_target_matrix(&self, angles: &[f64]) -> Option<[C64; 4]> {
        use Gate::*;
        let o = c(0.0, 0.0);
        let l = c(1.0, 0.0);
        let i = c(0.0, 1.0);
        let h = FRAC_1_SQRT_2;
        let half = |k: usize| angles[k] * 0.5;
        Some(match self {
            I => [l, o, o, l],
            H | CH => [c(h, 0.0), c(h, 0.0), c(h, 0.0), c(-h, 0.0)],
            X | CX | CCX => [o, l, l, o],
            Y | CY => [o, -i, i, o],
            Z | CZ => [l, o, o, -l],
            S => [l, o, o, i],
            Sdg => [l, o, o, -i],
            T => [l, o, o, c(h, h)],
            Tdg => [l, o, o, c(h, -h)],
            SX => [c(0.5, 0.5), c(0.5, -0.5), c(0.5, -0.5), c(0.5, 0.5)],
            SXdg => [c(0.5, -0.5), c(0.5, 0.5), c(0.5, 0.5), c(0.5, -0.5)],
            RX(_) | CRX(_) | RY(_) | CRY(_) | RZ(_) | CRZ(_) | P(_) | CP(_) => {
                let form = self.trig_form().expect("one-angle gate");
                form.at(sin_cos(form.k * angles[0]))
            }
            U(..) | CU3(..) => {
                let (s, co) = sin_cos(half(0));
                let (phi, lam) = (angles[1], angles[2]);
                [c(co, 0.0), -cis(lam) * s, cis(phi) * s, cis(phi + lam) * co]
            }
            Swap | CSwap | RXX(_) | RYY(_) | RZZ(_) => return None,
        })
    }

    /// The base matrix as [`TrigForm`] for the one-target gates with one angle (RX, RY, RZ, P
    /// and their controlled forms); `None` for the others.
    ///
    /// ```
    /// // rz(θ) = cos(θ/2)·I − i·sin(θ/2)·Z
    /// let form = qloop::Gate::RZ(0.0.into()).trig_form().unwrap();
    /// assert_eq!(form.k, 0.5);
    /// assert_eq!(form.b[3].im, 1.0);
    /// ```
    pub fn trig_form(&self) -> Option<TrigForm> {
        use Gate::*;
        let o = c(0.0, 0.0);
        let l = c(1.0, 0.0);
        let i = c(0.0, 1.0);
        let rotation = |b: [C64; 4]| TrigForm {
            k: 0.5,
            c: [o; 4],
            a: [l, o, o, l],
            b,
        };
        Some(match self {
            RX(_) | CRX(_) => rotation([o, -i, -i, o]),
            RY(_) | CRY(_) => rotation([o, -l, l, o]),
            RZ(_) | CRZ(_) => rotation([-i, o, o, i]),
            P(_) | CP(_) => TrigForm {
                k: 1.0,
                c: [l, o, o, o],
                a: [o, o, o, l],
                b: [o, o, o, i],
            },
            _ => return None,
        })
    }

    /// The 4×4 base matrix of a two-target gate (the identity for one-target gates).
    fn two_target_matrix(&self, angles: &[f64]) -> [C64; 16] {
        use Gate::*;
        let o = c(0.0, 0.0);
        let l = c(1.0, 0.0);
        let mut m = [o; 16];
        match self {
            Swap | CSwap => {
                for (row, col) in [(0, 0), (1, 2), (2, 1), (3, 3)] {
                    m[row * 4 + col] = l;
                }
            }
            RXX(_) | RYY(_) => {
                let (s, co) = sin_cos(angles[0] * 0.5);
                // exp(−iθ P⊗P/2) = cos(θ/2)·I − i sin(θ/2)·P⊗P; X⊗X and Y⊗Y are anti-diagonal,
                // Y⊗Y has +1 on the |01⟩↔|10⟩ entries and −1 on |00⟩↔|11⟩.
                let outer = if matches!(self, RYY(_)) {
                    c(0.0, s)
                } else {
                    c(0.0, -s)
                };
                let inner = c(0.0, -s);
                for k in 0..4 {
                    m[k * 4 + k] = c(co, 0.0);
                }
                m[3] = outer;
                m[12] = outer;
                m[6] = inner;
                m[9] = inner;
            }
            RZZ(_) => {
                let (s, co) = sin_cos(angles[0] * 0.5);
                let even = c(co, -s);
                let odd = c(co, s);
                for (k, v) in [even, odd, odd, even].into_iter().enumerate() {
                    m[k * 4 + k] = v;
                }
            }
            _ => {
                for k in 0..4 {
                    m[k * 4 + k] = l;
                }
            }
        }
        m
    }

    /// The full matrix of the gate on its `num_qubits()` operands, controls included, for the
    /// given angle values. Local index bit `k` is operand `k` (little-endian, as Qiskit's
    /// `Operator(gate)`). Row-major, dimension `2^num_qubits()`.
    ///
    /// ```
    /// use num_complex::Complex64 as C;
    /// // cx with control = operand 0: |01⟩ (index 1) ↦ |11⟩ (index 3).
    /// let m = qloop::Gate::CX.matrix(&[]);
    /// assert_eq!(m[3 * 4 + 1], C::new(1.0, 0.0));
    /// ```
    pub fn matrix(&self, angles: &[f64]) -> Vec<C64> {
        let k = self.num_qubits();
        let nc = self.num_controls();
        let dim = 1usize << k;
        let ctrl = (1usize << nc) - 1;
        let base_matrix = self.base_matrix(angles);
        let (base, bdim): (&[C64], usize) = match &base_matrix {
            BaseMatrix::One(m) => (m, 2),
            BaseMatrix::Two(m) => (m, 4),
        };
        let mut m = vec![C64::new(0.0, 0.0); dim * dim];
        for row in 0..dim {
            for col in 0..dim {
                let same_controls = row & ctrl == col & ctrl;
                m[row * dim + col] = if !same_controls {
                    C64::new(0.0, 0.0)
                } else if row & ctrl == ctrl {
                    base[(row >> nc) * bdim + (col >> nc)]
                } else if row == col {
                    C64::new(1.0, 0.0)
                } else {
                    C64::new(0.0, 0.0)
                };
            }
        }
        m
    }

    /// The gate whose matrix is the entrywise complex conjugate of this one's, exactly (no
    /// global phase): `U*` of `U ρ U†` in the column pass of a density matrix. Real matrices
    /// are their own conjugate; `conj(Y) = −Y = U(π, −π/2, −π/2)`, and `conj(CY)` is the
    /// controlled form of that.
    ///
    /// ```
    /// use qloop::{Angle, Gate};
    /// let value = |g: &Gate| g.matrix(&g.angles().iter().map(|a| a.constant_part()).collect::<Vec<_>>());
    /// for mut g in Gate::all() {
    ///     for (a, v) in g.angles_mut().into_iter().zip([0.3, 0.7, -1.1]) {
    ///         *a = Angle::constant(v);
    ///     }
    ///     let conj: Vec<_> = value(&g).iter().map(|z| z.conj()).collect();
    ///     let m = value(&g.conjugate());
    ///     assert!(m.iter().zip(&conj).all(|(a, b)| (a - b).norm() < 1e-15), "{}", g.name());
    /// }
    /// ```
    pub fn conjugate(&self) -> Gate {
        use Gate::*;
        let n = |a: &Angle| -a.clone();
        let pi = || Angle::constant(std::f64::consts::PI);
        let minus_half_pi = || Angle::constant(-std::f64::consts::FRAC_PI_2);
        match self {
            S => Sdg,
            Sdg => S,
            T => Tdg,
            Tdg => T,
            SX => SXdg,
            SXdg => SX,
            Y => U(pi(), minus_half_pi(), minus_half_pi()),
            CY => CU3(pi(), minus_half_pi(), minus_half_pi()),
            RX(a) => RX(n(a)),
            RZ(a) => RZ(n(a)),
            P(a) => P(n(a)),
            U(t, p, l) => U(t.clone(), n(p), n(l)),
            CRX(a) => CRX(n(a)),
            CRZ(a) => CRZ(n(a)),
            CP(a) => CP(n(a)),
            CU3(t, p, l) => CU3(t.clone(), n(p), n(l)),
            RXX(a) => RXX(n(a)),
            RYY(a) => RYY(n(a)),
            RZZ(a) => RZZ(n(a)),
            I | H | X | Z | CX | CZ | CH | Swap | CCX | CSwap | RY(_) | CRY(_) => self.clone(),
        }
    }

    /// The inverse gate (as Qiskit's `inverse()`): `s ↔ sdg`, `rz(θ) ↦ rz(−θ)`,
    /// `u(θ, φ, λ) ↦ u(−θ, −λ, −φ)`, self-inverse gates unchanged.
    ///
    /// ```
    /// use qloop::{Gate, Angle};
    /// assert_eq!(Gate::S.inverse(), Gate::Sdg);
    /// assert_eq!(Gate::RZ(Angle::constant(0.5)).inverse(), Gate::RZ(Angle::constant(-0.5)));
    /// ```
    pub fn inverse(&self) -> Gate {
        use Gate::*;
        let n = |a: &Angle| -a.clone();
        match self {
            S => Sdg,
            Sdg => S,
            T => Tdg,
            Tdg => T,
            SX => SXdg,
            SXdg => SX,
            RX(a) => RX(n(a)),
            RY(a) => RY(n(a)),
            RZ(a) => RZ(n(a)),
            P(a) => P(n(a)),
            U(t, p, l) => U(n(t), n(l), n(p)),
            CRX(a) => CRX(n(a)),
            CRY(a) => CRY(n(a)),
            CRZ(a) => CRZ(n(a)),
            CP(a) => CP(n(a)),
            CU3(t, p, l) => CU3(n(t), n(l), n(p)),
            RXX(a) => RXX(n(a)),
            RYY(a) => RYY(n(a)),
            RZZ(a) => RZZ(n(a)),
            I | H | X | Y | Z | CX | CY | CZ | CH | Swap | CCX | CSwap => self.clone(),
        }
    }
}
