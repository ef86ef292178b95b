//! OpenQASM 2.0 import and export.
//!
//! **Import** ([`parse`], [`load`]) reads `OPENQASM 2.0; include "qelib1.inc";` programs with
//! every gate of Qiskit's extended `qelib1.inc` (`u1 u2 u3 u p cx id x y z h s sdg t tdg sx sxdg
//! rx ry rz swap cswap ccx cy cz ch crx cry crz cu1 cp cu3 cu csx rxx rzz u0`), the builtins `U`
//! and `CX`, user `gate` definitions (expanded at each call), several `qreg`/`creg` (numbered in
//! declaration order; classical registers keep their names), `barrier`, `measure` on bits and
//! whole registers anywhere in the program, `reset` on qubits and registers, `if(creg==value)`
//! before a gate call, `measure` or `reset` (the condition on every bit of the register), and
//! expressions in `pi` with `+ - * / ^`, unary minus, parentheses and `sin cos tan exp ln
//! sqrt`. What qloop cannot simulate (calls of `opaque` gates) is an error naming file, line
//! and column.
//!
//! **Export** ([`export`]) writes one quantum register `q`, the circuit's classical registers
//! (one register `c` when none is declared), conditions on whole registers, and each angle as
//! the shortest decimal that reads back to the same `f64`, so `parse(export(c)) == c` exactly. `ryy` is not
//! in `qelib1.inc`; when used, its definition is written first (as Qiskit's exporter does) and
//! qloop's reader maps that definition back to the native gate.
//!
//! ```
//! let c = qloop::qasm::parse(r#"
//!     OPENQASM 2.0;
//!     include "qelib1.inc";
//!     qreg q[2];
//!     creg c[2];
//!     h q[0];
//!     cx q[0], q[1];
//!     measure q -> c;
//! "#, None).unwrap();
//! assert_eq!(c, qloop::Circuit::new(2).h(0).cx(0, 1).measure(0, 0).measure(1, 1));
//! assert_eq!(qloop::qasm::parse(&qloop::qasm::export(&c).unwrap(), None).unwrap(), c);
//! ```

mod lexer;
mod parser;

pub use parser::{load, parse};

use crate::circuit::{Circuit, ClassicalRegister, Instruction};
use crate::error::{Error, Result};
use crate::gate::Gate;
use std::fmt::Write;

/// The shortest decimal that parses back to exactly `v`, always with a `.` in the mantissa
/// (`1.0e-9`, `-0.5`, `3.0`), as the OpenQASM 2.0 grammar requires.
fn real(v: f64) -> String {
    let s = format!("{v:?}");
    match s.find('e') {
        Some(e) if !s[..e].contains('.') => format!("{}.0{}", &s[..e], &s[e..]),
        _ => s,
    }
}

const RYY_DEFINITION: &str = "gate ryy(param0) q0,q1 { rx(pi/2) q0; rx(pi/2) q1; cx q0,q1; rz(param0) q1; cx q0,q1; rx(-pi/2) q0; rx(-pi/2) q1; }\n";

/// Writes `circuit` as OpenQASM 2.0. Fails if an angle still depends on a parameter.
pub fn export(circuit: &Circuit) -> Result<String> {
    let mut out = String::from("OPENQASM 2.0;\ninclude \"qelib1.inc\";\n");
    let uses_ryy = circuit.iter().any(|i| {
        matches!(
            i.unconditioned(),
            Instruction::Gate {
                gate: Gate::RYY(_),
                ..
            }
        )
    });
    if uses_ryy {
        out.push_str(RYY_DEFINITION);
    }
    // The quantum register is `q`, unless a classical register has that name.
    let mut qreg = String::from("q");
    while circuit.cregs().iter().any(|r| r.name == qreg) {
        qreg.push('_');
    }
    if circuit.num_qubits() > 0 {
        writeln!(out, "qreg {qreg}[{}];", circuit.num_qubits()).expect("write to String");
    }
    let operands = |qubits: &[usize]| {
        qubits
            .iter()
            .map(|q| format!("{qreg}[{q}]"))
            .collect::<Vec<_>>()
            .join(",")
    };
    // The declared registers, or one register `c` over every classical bit.
    let implicit;
    let cregs = if circuit.cregs().is_empty() {
        implicit = [ClassicalRegister {
            name: "c".into(),
            offset: 0,
            size: circuit.num_clbits(),
        }];
        &implicit[..usize::from(circuit.num_clbits() > 0)]
    } else {
        circuit.cregs()
    };
    for r in cregs {
        writeln!(out, "creg {}[{}];", r.name, r.size).expect("write to String");
    }
    let declared: usize = cregs.iter().map(|r| r.size).sum();
    if declared < circuit.num_clbits() {
        return Err(Error::QasmExport {
            instruction: 0,
            reason: format!(
                "the declared classical registers hold {declared} of the circuit's {} bits",
                circuit.num_clbits()
            ),
        });
    }
    let bit = |clbit: usize| -> String {
        let r = cregs
            .iter()
            .find(|r| (r.offset..r.offset + r.size).contains(&clbit))
            .expect("every bit is in a register (checked above and by validate)");
        format!("{}[{}]", r.name, clbit - r.offset)
    };
    for (index, inst) in circuit.iter().enumerate() {
        let mut line = String::new();
        if let Instruction::Conditional { condition, .. } = inst {
            let register = cregs.iter().find(|r| {
                condition.clbits.len() == r.size
                    && condition
                        .clbits
                        .iter()
                        .enumerate()
                        .all(|(k, &c)| c == r.offset + k)
            });
            let Some(register) = register else {
                return Err(Error::QasmExport {
                    instruction: index,
                    reason: "OpenQASM 2.0 conditions on a whole classical register, and these bits are not one".into(),
                });
            };
            write!(line, "if({}=={}) ", register.name, condition.value).expect("write to String");
        }
        match inst.unconditioned() {
            Instruction::Gate { gate, qubits } => {
                let mut values = Vec::new();
                for angle in gate.angles() {
                    if let Some(p) = angle.params().next() {
                        return Err(Error::QasmExport {
                            instruction: index,
                            reason: format!(
                                "its angle depends on parameter '{}'; bind it first",
                                p.name
                            ),
                        });
                    }
                    values.push(real(angle.constant_part()));
                }
                let args = if values.is_empty() {
                    String::new()
                } else {
                    format!("({})", values.join(","))
                };
                write!(line, "{}{args} {};", gate.name(), operands(qubits))
            }
            Instruction::Measure { qubit, clbit } => {
                write!(line, "measure {qreg}[{qubit}] -> {};", bit(*clbit))
            }
            Instruction::Reset { qubit } => write!(line, "reset {qreg}[{qubit}];"),
            Instruction::Barrier { qubits } if qubits.is_empty() => continue,
            Instruction::Barrier { qubits } => write!(line, "barrier {};", operands(qubits)),
            Instruction::Conditional { .. } => unreachable!("validate refuses nested conditions"),
        }
        .expect("write to String");
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}
