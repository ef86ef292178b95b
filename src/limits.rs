//! The caps on every size qloop accepts from a file, a command line or a configuration.
//!
//! Each is checked where the size enters (with checked arithmetic wherever sizes are added or
//! multiplied), before anything is allocated for it; a refusal names the size, where it came
//! from and the cap. The caps are far above what a statevector can hold (simulation has its own
//! memory check, [`crate::Error::StateTooLarge`]) but low enough that describing, drawing or
//! converting a circuit at the cap fits in memory.

/// Qubits of one circuit (all `qreg`s together, or a JSON `num_qubits`).
pub const MAX_QUBITS: usize = 1 << 20;
/// Classical bits of one circuit.
pub const MAX_CLBITS: usize = 1 << 20;
/// Instructions of one circuit, after expanding user gate definitions.
pub const MAX_INSTRUCTIONS: usize = 20_000_000;
/// Nesting of an OpenQASM expression (parentheses, function calls, powers).
pub const MAX_EXPR_DEPTH: usize = 256;
/// Nesting of OpenQASM `gate` definitions (a gate whose body calls a gate whose body calls …).
pub const MAX_GATE_NESTING: usize = 256;
/// Terms of one symbolic angle.
pub const MAX_ANGLE_TERMS: usize = 1 << 20;
/// Shots of one sampling run.
pub const MAX_SHOTS: u64 = 1 << 40;
/// Random points of one `lint` run.
pub const MAX_LINT_SAMPLES: usize = 100_000;
/// Trainable parameters of one network (2^26 values, 512 MiB).
pub const MAX_PARAMETERS: usize = 1 << 26;
/// Numbers in one data set (rows × columns, sequences × steps × features).
pub const MAX_DATA_VALUES: usize = 100_000_000;
/// Width of one layer of a network (units, inputs, outputs, unfolds, copies).
pub const MAX_WIDTH: usize = 1 << 16;
/// Iterations of one training run.
pub const MAX_ITERATIONS: u64 = 1 << 32;
