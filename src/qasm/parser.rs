//! Recursive-descent parser for OpenQASM 2.0 that builds a [`Circuit`] directly.
//!
//! Registers are numbered in declaration order (as Qiskit does): the first `qreg` holds
//! qubits `0..n₁`, the next `n₁..n₁+n₂`, and likewise for `creg`. User `gate` definitions are
//! expanded at each call with their parameters bound. Gate calls on whole registers broadcast.

use super::lexer::{tokenize, Tok, Token};
use crate::circuit::{Circuit, Instruction};
use crate::error::{Error, Location, Result};
use crate::gate::Gate;
use crate::limits;
use crate::param::Angle;
use std::collections::HashMap;
use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One step of a parsed expression in postfix order.
#[derive(Debug, Clone, Copy)]
enum Op {
    Num(f64),
    /// Index of a parameter of the enclosing gate definition.
    Param(usize),
    Neg,
    Bin(char),
    Call(fn(f64) -> f64),
}

/// A parsed expression in postfix order, evaluated on a value stack when a gate is called:
/// neither evaluating nor dropping it recurses, however long the expression.
#[derive(Debug, Clone, Default)]
struct Expr(Vec<Op>);

impl Expr {
    fn num(v: f64) -> Expr {
        Expr(vec![Op::Num(v)])
    }

    /// `self op rhs`, folding constants.
    fn binary(mut self, op: char, rhs: Expr) -> Expr {
        if let ([Op::Num(a)], [Op::Num(b)]) = (&self.0[..], &rhs.0[..]) {
            return Expr::num(apply(op, *a, *b));
        }
        self.0.extend(rhs.0);
        self.0.push(Op::Bin(op));
        self
    }

    fn unary(mut self, op: Op) -> Expr {
        match (&self.0[..], op) {
            ([Op::Num(a)], Op::Neg) => Expr::num(-a),
            ([Op::Num(a)], Op::Call(f)) => Expr::num(f(*a)),
            _ => {
                self.0.push(op);
                self
            }
        }
    }

    fn eval(&self, params: &[f64]) -> f64 {
        let mut stack: Vec<f64> = Vec::with_capacity(8);
        for op in &self.0 {
            match *op {
                Op::Num(v) => stack.push(v),
                Op::Param(k) => stack.push(params[k]),
                Op::Neg => {
                    let v = stack.pop().expect("an operand");
                    stack.push(-v);
                }
                Op::Call(f) => {
                    let v = stack.pop().expect("an operand");
                    stack.push(f(v));
                }
                Op::Bin(op) => {
                    let b = stack.pop().expect("an operand");
                    let a = stack.pop().expect("an operand");
                    stack.push(apply(op, a, b));
                }
            }
        }
        stack.pop().expect("a parsed expression has a value")
    }
}

fn apply(op: char, a: f64, b: f64) -> f64 {
    match op {
        '+' => a + b,
        '-' => a - b,
        '*' => a * b,
        '/' => a / b,
        _ => a.powf(b),
    }
}

/// One gate application inside a gate body: operands are indices of the body's qubit arguments.
#[derive(Debug, Clone)]
struct BodyCall {
    name: String,
    at: (usize, usize),
    args: Vec<Expr>,
    qubits: Vec<usize>,
}

/// Builds the native gates (on local operand indices) of one call from its parameter values.
type Expansion = fn(&[f64]) -> Vec<(Gate, Vec<usize>)>;

#[derive(Debug, Clone)]
enum GateDef {
    /// A gate of qloop's set, built from its evaluated parameters; or a fixed expansion.
    Native {
        params: usize,
        qubits: usize,
        build: Expansion,
    },
    /// A user definition.
    User {
        params: usize,
        qubits: usize,
        body: Rc<[BodyCall]>,
        /// Levels of definitions below this one (1 for a body of native gates only).
        nesting: usize,
        /// Instructions one call expands to (saturating).
        expanded: u64,
    },
    /// Declared `opaque`: allowed to exist, an error when used.
    Opaque { params: usize, qubits: usize },
}

impl GateDef {
    fn arity(&self) -> (usize, usize) {
        match self {
            GateDef::Native { params, qubits, .. }
            | GateDef::User { params, qubits, .. }
            | GateDef::Opaque { params, qubits } => (*params, *qubits),
        }
    }

    /// Levels of user definitions one call goes through (0 for a native gate).
    fn nesting(&self) -> usize {
        match self {
            GateDef::User { nesting, .. } => *nesting,
            _ => 0,
        }
    }

    /// Instructions one call expands to.
    fn expanded(&self) -> u64 {
        match self {
            GateDef::Native { params, build, .. } => build(&vec![0.0; *params]).len() as u64,
            GateDef::User { expanded, .. } => *expanded,
            GateDef::Opaque { .. } => 0,
        }
    }
}

fn one(g: Gate) -> Vec<(Gate, Vec<usize>)> {
    let n = g.num_qubits();
    vec![(g, (0..n).collect())]
}

fn a(v: f64) -> Angle {
    Angle::constant(v)
}

/// The gates of Qiskit's extended `qelib1.inc` (plus qloop's `ryy`), as native gates.
fn qelib1() -> Vec<(&'static str, GateDef)> {
    macro_rules! native {
        ($params:expr, $qubits:expr, $f:expr) => {
            GateDef::Native {
                params: $params,
                qubits: $qubits,
                build: $f,
            }
        };
    }
    vec![
        (
            "u3",
            native!(3, 1, |p| one(Gate::U(a(p[0]), a(p[1]), a(p[2])))),
        ),
        (
            "u2",
            native!(2, 1, |p| one(Gate::U(a(FRAC_PI_2), a(p[0]), a(p[1])))),
        ),
        ("u1", native!(1, 1, |p| one(Gate::P(a(p[0]))))),
        (
            "u",
            native!(3, 1, |p| one(Gate::U(a(p[0]), a(p[1]), a(p[2])))),
        ),
        ("p", native!(1, 1, |p| one(Gate::P(a(p[0]))))),
        ("u0", native!(1, 1, |_| one(Gate::I))),
        ("cx", native!(0, 2, |_| one(Gate::CX))),
        ("id", native!(0, 1, |_| one(Gate::I))),
        ("x", native!(0, 1, |_| one(Gate::X))),
        ("y", native!(0, 1, |_| one(Gate::Y))),
        ("z", native!(0, 1, |_| one(Gate::Z))),
        ("h", native!(0, 1, |_| one(Gate::H))),
        ("s", native!(0, 1, |_| one(Gate::S))),
        ("sdg", native!(0, 1, |_| one(Gate::Sdg))),
        ("t", native!(0, 1, |_| one(Gate::T))),
        ("tdg", native!(0, 1, |_| one(Gate::Tdg))),
        ("sx", native!(0, 1, |_| one(Gate::SX))),
        ("sxdg", native!(0, 1, |_| one(Gate::SXdg))),
        ("rx", native!(1, 1, |p| one(Gate::RX(a(p[0]))))),
        ("ry", native!(1, 1, |p| one(Gate::RY(a(p[0]))))),
        ("rz", native!(1, 1, |p| one(Gate::RZ(a(p[0]))))),
        ("swap", native!(0, 2, |_| one(Gate::Swap))),
        ("cswap", native!(0, 3, |_| one(Gate::CSwap))),
        ("ccx", native!(0, 3, |_| one(Gate::CCX))),
        ("cy", native!(0, 2, |_| one(Gate::CY))),
        ("cz", native!(0, 2, |_| one(Gate::CZ))),
        ("ch", native!(0, 2, |_| one(Gate::CH))),
        ("crx", native!(1, 2, |p| one(Gate::CRX(a(p[0]))))),
        ("cry", native!(1, 2, |p| one(Gate::CRY(a(p[0]))))),
        ("crz", native!(1, 2, |p| one(Gate::CRZ(a(p[0]))))),
        ("cu1", native!(1, 2, |p| one(Gate::CP(a(p[0]))))),
        ("cp", native!(1, 2, |p| one(Gate::CP(a(p[0]))))),
        (
            "cu3",
            native!(3, 2, |p| one(Gate::CU3(a(p[0]), a(p[1]), a(p[2])))),
        ),
        // cu(θ, φ, λ, γ) = e^{iγ} on the control's |1⟩, then controlled U(θ, φ, λ).
        (
            "cu",
            native!(4, 2, |p| vec![
                (Gate::P(a(p[3])), vec![0]),
                (Gate::CU3(a(p[0]), a(p[1]), a(p[2])), vec![0, 1]),
            ]),
        ),
        // csx = controlled √X = P(π/4) on the control, then CRX(π/2).
        (
            "csx",
            native!(0, 2, |_| vec![
                (Gate::P(a(FRAC_PI_4)), vec![0]),
                (Gate::CRX(a(FRAC_PI_2)), vec![0, 1]),
            ]),
        ),
        ("rxx", native!(1, 2, |p| one(Gate::RXX(a(p[0]))))),
        ("rzz", native!(1, 2, |p| one(Gate::RZZ(a(p[0]))))),
    ]
}

/// Gates that are not in `qelib1.inc` but that qloop knows natively. A file may define them
/// (as qloop's own export does, for Qiskit); the definition is then taken as the native gate.
fn extra_native(name: &str) -> Option<GateDef> {
    match name {
        "ryy" => Some(GateDef::Native {
            params: 1,
            qubits: 2,
            build: |p| one(Gate::RYY(a(p[0]))),
        }),
        _ => None,
    }
}

/// A quantum or classical operand: one bit, or a whole register (broadcast).
enum Operand {
    Bit(usize),
    Register(usize, usize),
}

struct Register {
    offset: usize,
    size: usize,
}

struct Parser<'a> {
    toks: Vec<Token>,
    pos: usize,
    file: Option<&'a Path>,
    gates: HashMap<String, GateDef>,
    qregs: HashMap<String, Register>,
    cregs: HashMap<String, Register>,
    circuit: Circuit,
    /// Current expression nesting.
    depth: usize,
}

/// Parses OpenQASM 2.0 `source`; `file` is only used in error locations.
pub fn parse(source: &str, file: Option<&Path>) -> Result<Circuit> {
    let toks = tokenize(source, file)?;
    let mut gates = HashMap::new();
    gates.insert(
        "U".into(),
        GateDef::Native {
            params: 3,
            qubits: 1,
            build: |p| one(Gate::U(a(p[0]), a(p[1]), a(p[2]))),
        },
    );
    gates.insert(
        "CX".into(),
        GateDef::Native {
            params: 0,
            qubits: 2,
            build: |_| one(Gate::CX),
        },
    );
    let mut p = Parser {
        toks,
        pos: 0,
        file,
        gates,
        qregs: HashMap::new(),
        cregs: HashMap::new(),
        circuit: Circuit::new(0),
        depth: 0,
    };
    p.program()?;
    p.circuit.validate()?;
    Ok(p.circuit.without_implicit_register())
}

/// Reads and parses an OpenQASM 2.0 file.
pub fn load(path: &Path) -> Result<Circuit> {
    let source = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&source, Some(path))
}

impl Parser<'_> {
    fn loc(&self, at: (usize, usize)) -> Location {
        Location {
            file: self.file.map(PathBuf::from),
            line: at.0,
            column: at.1,
        }
    }

    fn err_at<T>(&self, at: (usize, usize), message: impl Into<String>) -> Result<T> {
        Err(Error::Qasm {
            location: self.loc(at),
            message: message.into(),
        })
    }

    fn here(&self) -> (usize, usize) {
        let t = &self.toks[self.pos];
        (t.line, t.column)
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].tok.clone();
        if t != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn expected<T>(&self, what: &str) -> Result<T> {
        self.err_at(
            self.here(),
            format!("expected {what}, found {}", self.peek().describe()),
        )
    }

    fn eat(&mut self, sym: &str) -> bool {
        let found = matches!(self.peek(), Tok::Sym(s) if *s == sym);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, sym: &str) -> Result<()> {
        if self.eat(sym) {
            Ok(())
        } else {
            self.expected(&format!("'{sym}'"))
        }
    }

    fn ident(&mut self, what: &str) -> Result<String> {
        match self.peek().clone() {
            Tok::Ident(s) => {
                self.pos += 1;
                Ok(s)
            }
            _ => self.expected(what),
        }
    }

    fn int(&mut self, what: &str) -> Result<usize> {
        match *self.peek() {
            Tok::Int(v) => {
                self.pos += 1;
                usize::try_from(v)
                    .or_else(|_| self.err_at(self.here(), format!("{what} {v} is too large")))
            }
            _ => self.expected(what),
        }
    }

    fn program(&mut self) -> Result<()> {
        if *self.peek() == Tok::Ident("OPENQASM".into()) {
            self.pos += 1;
            let at = self.here();
            let version = match self.next() {
                Tok::Real(v) => v,
                Tok::Int(v) => v as f64,
                t => {
                    return self.err_at(
                        at,
                        format!("expected the version 2.0, found {}", t.describe()),
                    )
                }
            };
            if version != 2.0 {
                return self.err_at(
                    at,
                    format!("OpenQASM {version} is not supported; qloop reads OpenQASM 2.0"),
                );
            }
            self.expect(";")?;
        }
        while *self.peek() != Tok::Eof {
            self.statement()?;
        }
        Ok(())
    }

    fn statement(&mut self) -> Result<()> {
        let at = self.here();
        let word = self.ident("a statement")?;
        match word.as_str() {
            "include" => {
                let name = match self.next() {
                    Tok::Str(s) => s,
                    _ => return self.err_at(at, "expected a file name in quotes after 'include'"),
                };
                if name != "qelib1.inc" {
                    return self.err_at(
                        at,
                        format!("cannot include \"{name}\": qloop knows only \"qelib1.inc\""),
                    );
                }
                self.expect(";")?;
                for (name, def) in qelib1() {
                    self.gates.entry(name.into()).or_insert(def);
                }
                Ok(())
            }
            "qreg" | "creg" => self.register(at, word == "qreg"),
            "gate" => self.gate_definition(at, false),
            "opaque" => self.gate_definition(at, true),
            "measure" => self.measure(),
            "barrier" => {
                let operands = self.operand_list(true)?;
                let mut qubits = Vec::new();
                for op in operands {
                    match op {
                        Operand::Bit(q) => qubits.push(q),
                        Operand::Register(off, size) => qubits.extend(off..off + size),
                    }
                }
                qubits.dedup();
                self.expect(";")?;
                self.circuit.push(Instruction::Barrier { qubits });
                Ok(())
            }
            "reset" => self.reset(at),
            "if" => self.conditional(),
            "OPENQASM" => self.err_at(at, "'OPENQASM' must be the first statement"),
            _ => self.gate_call(at, word),
        }
    }

    fn register(&mut self, at: (usize, usize), quantum: bool) -> Result<()> {
        let name = self.ident("a register name")?;
        self.expect("[")?;
        let size_at = self.here();
        let size = self.int("a register size")?;
        if size == 0 {
            return self.err_at(size_at, "a register must have at least one bit");
        }
        self.expect("]")?;
        self.expect(";")?;
        if self.qregs.contains_key(&name) || self.cregs.contains_key(&name) {
            return self.err_at(at, format!("register '{name}' is already declared"));
        }
        let (kind, offset, limit) = if quantum {
            ("qubits", self.circuit.num_qubits(), limits::MAX_QUBITS)
        } else {
            (
                "classical bits",
                self.circuit.num_clbits(),
                limits::MAX_CLBITS,
            )
        };
        match offset.checked_add(size) {
            Some(total) if total <= limit => {}
            _ => {
                return self.err_at(
                    size_at,
                    format!(
                        "register '{name}' of size {size} brings the circuit to {} {kind}, more than the limit of {limit}",
                        offset as u128 + size as u128
                    ),
                )
            }
        }
        if quantum {
            self.qregs.insert(name, Register { offset, size });
            self.circuit
                .resize(offset + size, self.circuit.num_clbits());
        } else {
            self.circuit = std::mem::take(&mut self.circuit).creg(&name, size);
            self.cregs.insert(name, Register { offset, size });
        }
        Ok(())
    }

    fn reset(&mut self, at: (usize, usize)) -> Result<()> {
        let qubits = match self.operand(true)? {
            Operand::Bit(q) => q..q + 1,
            Operand::Register(offset, size) => offset..offset + size,
        };
        self.expect(";")?;
        self.reserve(at, qubits.len() as u64)?;
        for qubit in qubits {
            self.circuit.push(Instruction::Reset { qubit });
        }
        Ok(())
    }

    /// `if(creg==value) op;`: `op` (a gate call, `measure` or `reset`; every instruction it
    /// expands to) runs when register `creg` holds `value`.
    fn conditional(&mut self) -> Result<()> {
        self.expect("(")?;
        let reg_at = self.here();
        let name = self.ident("a classical register")?;
        let Some(reg) = self.cregs.get(&name) else {
            return self.err_at(
                reg_at,
                format!("'{name}' is not a declared classical register"),
            );
        };
        let (offset, size) = (reg.offset, reg.size);
        self.expect("==")?;
        let value_at = self.here();
        let value = match *self.peek() {
            Tok::Int(v) => {
                self.pos += 1;
                v
            }
            _ => return self.expected("an integer value"),
        };
        if size < 64 && value >> size != 0 {
            return self.err_at(
                value_at,
                format!("the value {value} does not fit in register '{name}' of {size} bits"),
            );
        }
        if size > 64 {
            return self.err_at(
                reg_at,
                format!("register '{name}' has {size} bits; a condition reads at most 64"),
            );
        }
        self.expect(")")?;
        let op_at = self.here();
        let word = self.ident("a gate call, 'measure' or 'reset' after 'if(...)'")?;
        let first = self.circuit.len();
        match word.as_str() {
            "measure" => self.measure()?,
            "reset" => self.reset(op_at)?,
            "if" | "barrier" | "qreg" | "creg" | "gate" | "opaque" | "include" | "OPENQASM" => {
                return self.err_at(op_at, format!("'{word}' cannot be conditioned; 'if' takes a gate call, 'measure' or 'reset'"));
            }
            _ => self.gate_call(op_at, word)?,
        }
        let condition = crate::circuit::Condition::new(offset..offset + size, value);
        self.circuit.condition_from(first, &condition);
        Ok(())
    }

    fn gate_definition(&mut self, at: (usize, usize), opaque: bool) -> Result<()> {
        let name = self.ident("a gate name")?;
        let mut params = Vec::new();
        if self.eat("(") && !self.eat(")") {
            loop {
                params.push(self.ident("a parameter name")?);
                if self.eat(")") {
                    break;
                }
                self.expect(",")?;
            }
        }
        let mut qargs = vec![self.ident("a qubit argument name")?];
        while self.eat(",") {
            qargs.push(self.ident("a qubit argument name")?);
        }
        for (k, q) in qargs.iter().enumerate() {
            if qargs[..k].contains(q) {
                return self.err_at(
                    at,
                    format!("gate '{name}' names qubit argument '{q}' twice"),
                );
            }
        }
        let def = if opaque {
            self.expect(";")?;
            GateDef::Opaque {
                params: params.len(),
                qubits: qargs.len(),
            }
        } else {
            self.expect("{")?;
            let mut body = Vec::new();
            while !self.eat("}") {
                body.extend(self.body_statement(&params, &qargs)?);
            }
            let (mut nesting, mut expanded) = (1, 0u64);
            for call in &body {
                let callee = &self.gates[&call.name];
                nesting = nesting.max(callee.nesting() + 1);
                expanded = expanded.saturating_add(callee.expanded());
            }
            if nesting > limits::MAX_GATE_NESTING {
                return self.err_at(
                    at,
                    format!(
                        "gate '{name}' nests definitions {nesting} levels deep, more than the limit of {}",
                        limits::MAX_GATE_NESTING
                    ),
                );
            }
            GateDef::User {
                params: params.len(),
                qubits: qargs.len(),
                body: body.into(),
                nesting,
                expanded,
            }
        };
        if let Some(native) = extra_native(&name) {
            // qloop's own export defines these gates for other readers: a body that is the
            // native gate is taken as it; any other body under the name is the user's gate.
            if native.arity() == def.arity() && self.defines_native(&def, &native)? {
                self.gates.insert(name, native);
                return Ok(());
            }
        }
        if self.gates.contains_key(&name) {
            return self.err_at(at, format!("gate '{name}' is already defined"));
        }
        self.gates.insert(name, def);
        Ok(())
    }

    fn body_statement(&mut self, params: &[String], qargs: &[String]) -> Result<Option<BodyCall>> {
        let at = self.here();
        let name = self.ident("a gate call or '}'")?;
        let args = if name != "barrier" && self.eat("(") {
            self.expr_list(params)?
        } else {
            Vec::new()
        };
        let mut qubits = Vec::new();
        loop {
            let q_at = self.here();
            let q = self.ident("a qubit argument")?;
            match qargs.iter().position(|x| *x == q) {
                Some(k) => qubits.push(k),
                None => {
                    return self.err_at(q_at, format!("'{q}' is not a qubit argument of this gate"))
                }
            }
            if !self.eat(",") {
                break;
            }
        }
        self.expect(";")?;
        if name == "barrier" {
            return Ok(None);
        }
        self.check_call(at, &name, args.len(), qubits.len())?;
        Ok(Some(BodyCall {
            name,
            at,
            args,
            qubits,
        }))
    }

    /// Checks that `name` is a defined, usable gate with this many parameters and qubits.
    fn check_call(
        &self,
        at: (usize, usize),
        name: &str,
        num_args: usize,
        num_qubits: usize,
    ) -> Result<()> {
        let Some(def) = self.gates.get(name) else {
            let hint = if qelib1().iter().any(|(n, _)| *n == name) {
                " (add include \"qelib1.inc\";)"
            } else {
                ""
            };
            return self.err_at(at, format!("gate '{name}' is not defined{hint}"));
        };
        if let GateDef::Opaque { .. } = def {
            return self.err_at(
                at,
                format!(
                    "gate '{name}' is opaque: qloop cannot simulate a gate without a definition"
                ),
            );
        }
        let (params, qubits) = def.arity();
        if params != num_args {
            return self.err_at(
                at,
                format!("gate '{name}' takes {params} parameters, got {num_args}"),
            );
        }
        if qubits != num_qubits {
            return self.err_at(
                at,
                format!("gate '{name}' acts on {qubits} qubits, got {num_qubits}"),
            );
        }
        Ok(())
    }

    fn gate_call(&mut self, at: (usize, usize), name: String) -> Result<()> {
        let args = if self.eat("(") {
            self.expr_list(&[])?
        } else {
            Vec::new()
        };
        let operands = self.operand_list(true)?;
        self.expect(";")?;
        self.check_call(at, &name, args.len(), operands.len())?;
        let mut values = Vec::with_capacity(args.len());
        for e in &args {
            values.push(self.finite(at, &name, e.eval(&[]))?);
        }
        // Broadcast over whole registers: every register operand must have the same size.
        let mut width = None;
        for op in &operands {
            if let Operand::Register(_, size) = op {
                match width {
                    Some(w) if w != *size => {
                        return self.err_at(
                            at,
                            format!(
                            "registers of different sizes ({w} and {size}) in one call of '{name}'"
                        ),
                        )
                    }
                    _ => width = Some(*size),
                }
            }
        }
        let calls = width.unwrap_or(1);
        let per_call = self.gates[&name].expanded();
        self.reserve(at, per_call.saturating_mul(calls as u64))?;
        for k in 0..calls {
            let qubits: Vec<usize> = operands
                .iter()
                .map(|op| match op {
                    Operand::Bit(q) => *q,
                    Operand::Register(off, _) => off + k,
                })
                .collect();
            for (j, q) in qubits.iter().enumerate() {
                if qubits[..j].contains(q) {
                    return self.err_at(
                        at,
                        format!("qubit {q} is used twice in one call of '{name}'"),
                    );
                }
            }
            self.expand(at, &name, &values, &qubits)?;
        }
        Ok(())
    }

    /// Refuses a statement that would take the circuit past [`limits::MAX_INSTRUCTIONS`].
    fn reserve(&self, at: (usize, usize), more: u64) -> Result<()> {
        let total = (self.circuit.len() as u64).saturating_add(more);
        if total > limits::MAX_INSTRUCTIONS as u64 {
            return self.err_at(
                at,
                format!(
                    "this statement expands the circuit to {} instructions, more than the limit of {}",
                    if total == u64::MAX { "over 2^64".to_string() } else { total.to_string() },
                    limits::MAX_INSTRUCTIONS
                ),
            );
        }
        Ok(())
    }

    fn finite(&self, at: (usize, usize), name: &str, value: f64) -> Result<f64> {
        if value.is_finite() {
            Ok(value)
        } else {
            self.err_at(
                at,
                format!("a parameter of '{name}' evaluates to {value}; angles must be finite"),
            )
        }
    }

    /// Appends gate `name` with evaluated parameters on global `qubits`, expanding definitions.
    fn expand(
        &mut self,
        at: (usize, usize),
        name: &str,
        values: &[f64],
        qubits: &[usize],
    ) -> Result<()> {
        match self.gates.get(name).cloned() {
            Some(def) => self.expand_def(at, name, &def, values, qubits),
            None => self.check_call(at, name, values.len(), qubits.len()),
        }
    }

    fn expand_def(
        &mut self,
        at: (usize, usize),
        name: &str,
        def: &GateDef,
        values: &[f64],
        qubits: &[usize],
    ) -> Result<()> {
        match def {
            GateDef::Native { build, .. } => {
                for (gate, local) in build(values) {
                    let qubits = local.iter().map(|&k| qubits[k]).collect();
                    self.circuit.push(Instruction::Gate { gate, qubits });
                }
                Ok(())
            }
            GateDef::User { body, .. } => {
                for call in body.iter() {
                    let mut inner = Vec::with_capacity(call.args.len());
                    for e in &call.args {
                        inner.push(self.finite(call.at, &call.name, e.eval(values))?);
                    }
                    let inner_qubits: Vec<usize> = call.qubits.iter().map(|&k| qubits[k]).collect();
                    self.expand(call.at, &call.name, &inner, &inner_qubits)?;
                }
                Ok(())
            }
            GateDef::Opaque { .. } => self.check_call(at, name, values.len(), qubits.len()),
        }
    }

    /// Whether the user definition `def` is the gate `native` (the same unitary up to a global
    /// phase, at two generic parameter points).
    fn defines_native(&mut self, def: &GateDef, native: &GateDef) -> Result<bool> {
        let (params, qubits) = native.arity();
        let wires: Vec<usize> = (0..qubits).collect();
        for point in [0.37, 1.91] {
            let values: Vec<f64> = (0..params).map(|k| point + 0.53 * k as f64).collect();
            let mut unitaries = Vec::new();
            for d in [def, native] {
                let outer = std::mem::replace(&mut self.circuit, Circuit::new(qubits));
                let expanded = self.expand_def((0, 0), "", d, &values, &wires);
                let body = std::mem::replace(&mut self.circuit, outer);
                expanded?;
                unitaries.push(unitary(&body)?);
            }
            if !equal_up_to_phase(&unitaries[0], &unitaries[1]) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn measure(&mut self) -> Result<()> {
        let at = self.here();
        let q = self.operand(true)?;
        self.expect("->")?;
        let c = self.operand(false)?;
        self.expect(";")?;
        let pairs: Vec<(usize, usize)> = match (q, c) {
            (Operand::Bit(q), Operand::Bit(c)) => vec![(q, c)],
            (Operand::Register(qo, qs), Operand::Register(co, cs)) if qs == cs => {
                (0..qs).map(|k| (qo + k, co + k)).collect()
            }
            (Operand::Register(_, qs), Operand::Register(_, cs)) => {
                return self.err_at(
                    at,
                    format!("cannot measure a register of {qs} qubits into one of {cs} bits"),
                )
            }
            _ => {
                return self.err_at(
                    at,
                    "measure needs a qubit and a bit, or two registers of the same size",
                )
            }
        };
        self.reserve(at, pairs.len() as u64)?;
        for (qubit, clbit) in pairs {
            self.circuit.push(Instruction::Measure { qubit, clbit });
        }
        Ok(())
    }

    fn operand_list(&mut self, quantum: bool) -> Result<Vec<Operand>> {
        let mut out = vec![self.operand(quantum)?];
        while self.eat(",") {
            out.push(self.operand(quantum)?);
        }
        Ok(out)
    }

    fn operand(&mut self, quantum: bool) -> Result<Operand> {
        let at = self.here();
        let kind = if quantum { "quantum" } else { "classical" };
        let name = self.ident(&format!("a {kind} register"))?;
        let regs = if quantum { &self.qregs } else { &self.cregs };
        let Some(reg) = regs.get(&name) else {
            return self.err_at(at, format!("'{name}' is not a declared {kind} register"));
        };
        let (offset, size) = (reg.offset, reg.size);
        if self.eat("[") {
            let index_at = self.here();
            let index = self.int("an index")?;
            self.expect("]")?;
            if index >= size {
                return self.err_at(
                    index_at,
                    format!("index {index} is out of range for register '{name}' of size {size}"),
                );
            }
            Ok(Operand::Bit(offset + index))
        } else {
            Ok(Operand::Register(offset, size))
        }
    }

    fn expr_list(&mut self, params: &[String]) -> Result<Vec<Expr>> {
        let mut out = Vec::new();
        if self.eat(")") {
            return Ok(out);
        }
        loop {
            out.push(self.expr(params)?);
            if self.eat(")") {
                return Ok(out);
            }
            self.expect(",")?;
        }
    }

    /// expr := term (('+' | '-') term)*
    fn expr(&mut self, params: &[String]) -> Result<Expr> {
        let mut lhs = self.term(params)?;
        while let Tok::Sym(op @ ("+" | "-")) = *self.peek() {
            self.pos += 1;
            let rhs = self.term(params)?;
            lhs = lhs.binary(op.chars().next().expect("one char"), rhs);
        }
        Ok(lhs)
    }

    /// term := unary (('*' | '/') unary)*
    fn term(&mut self, params: &[String]) -> Result<Expr> {
        let mut lhs = self.unary(params)?;
        while let Tok::Sym(op @ ("*" | "/")) = *self.peek() {
            self.pos += 1;
            let rhs = self.unary(params)?;
            lhs = lhs.binary(op.chars().next().expect("one char"), rhs);
        }
        Ok(lhs)
    }

    /// unary := ('-' | '+')* power. Signs are counted, not recursed into.
    fn unary(&mut self, params: &[String]) -> Result<Expr> {
        let mut negate = false;
        while let Tok::Sym(sign @ ("-" | "+")) = *self.peek() {
            self.pos += 1;
            negate ^= sign == "-";
        }
        let e = self.power(params)?;
        Ok(if negate { e.unary(Op::Neg) } else { e })
    }

    /// power := primary ('^' unary)?   (right-associative)
    fn power(&mut self, params: &[String]) -> Result<Expr> {
        let base = self.primary(params)?;
        if *self.peek() == Tok::Sym("^") {
            self.pos += 1;
            let exponent = self.nested(|p| p.unary(params))?;
            return Ok(base.binary('^', exponent));
        }
        Ok(base)
    }

    /// Runs one level of expression nesting, refused past [`limits::MAX_EXPR_DEPTH`].
    fn nested(&mut self, f: impl FnOnce(&mut Self) -> Result<Expr>) -> Result<Expr> {
        if self.depth >= limits::MAX_EXPR_DEPTH {
            return self.err_at(
                self.here(),
                format!(
                    "expression nested more than {} levels deep",
                    limits::MAX_EXPR_DEPTH
                ),
            );
        }
        self.depth += 1;
        let e = f(self);
        self.depth -= 1;
        e
    }

    fn primary(&mut self, params: &[String]) -> Result<Expr> {
        let at = self.here();
        match self.next() {
            Tok::Int(v) => Ok(Expr::num(v as f64)),
            Tok::Real(v) => Ok(Expr::num(v)),
            Tok::Sym("(") => {
                let e = self.nested(|p| p.expr(params))?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Ident(name) => {
                if name == "pi" {
                    return Ok(Expr::num(PI));
                }
                let func: Option<fn(f64) -> f64> = match name.as_str() {
                    "sin" => Some(f64::sin),
                    "cos" => Some(f64::cos),
                    "tan" => Some(f64::tan),
                    "exp" => Some(f64::exp),
                    "ln" => Some(f64::ln),
                    "sqrt" => Some(f64::sqrt),
                    _ => None,
                };
                if let Some(f) = func {
                    self.expect("(")?;
                    let e = self.nested(|p| p.expr(params))?;
                    self.expect(")")?;
                    return Ok(e.unary(Op::Call(f)));
                }
                match params.iter().position(|p| *p == name) {
                    Some(k) => Ok(Expr(vec![Op::Param(k)])),
                    None => {
                        self.err_at(at, format!("unknown identifier '{name}' in an expression"))
                    }
                }
            }
            t => self.err_at(
                at,
                format!("expected an expression, found {}", t.describe()),
            ),
        }
    }
}

/// The columns `U|k⟩` of a small circuit's unitary.
fn unitary(circuit: &Circuit) -> Result<Vec<Vec<num_complex::Complex64>>> {
    let n = circuit.num_qubits();
    (0..1usize << n)
        .map(|k| {
            let mut prepared = Circuit::new(n);
            for q in (0..n).filter(|q| (k >> q) & 1 == 1) {
                prepared = prepared.x(q);
            }
            let psi = (prepared + circuit).statevector()?;
            Ok(psi.amplitudes().to_vec())
        })
        .collect()
}

fn equal_up_to_phase(a: &[Vec<num_complex::Complex64>], b: &[Vec<num_complex::Complex64>]) -> bool {
    let pairs = || a.iter().flatten().zip(b.iter().flatten());
    let Some((x, y)) = pairs().max_by(|p, q| p.1.norm_sqr().total_cmp(&q.1.norm_sqr())) else {
        return true;
    };
    if x.norm() < 1e-12 {
        return false;
    }
    let phase = x / y;
    pairs().all(|(x, y)| (x - phase * y).norm() < 1e-9)
}
