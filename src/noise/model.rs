//! A noise model: which channel follows which gates on which qubits, and readout errors.
//!
//! A channel follows the gate as written in the circuit (a `ccx` is one gate, not its
//! decomposition). An entry with `qubits` applies only when every operand of the gate is
//! among them; a one-qubit channel after a `k`-qubit gate acts on each operand in turn, a
//! `k`-qubit channel on the operands in order. Entries that match one gate apply in the
//! model's order. The serialized form (TOML in `qloop`) is in `docs/conventions.md`.

use super::{Channel, ReadoutError};
use crate::error::{Error, Result};
use num_complex::Complex64 as C64;
use serde::Deserialize;

/// One `[[gate_error]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct GateError {
    /// Gate names as in OpenQASM (`"cx"`, `"h"`).
    pub gates: Vec<String>,
    /// The qubits it applies to; `None`: every qubit.
    pub qubits: Option<Vec<usize>>,
    /// The channel.
    pub channel: Channel,
}

/// Gate errors in order and readout errors: one for every qubit, and per-qubit ones that
/// replace it on their qubits.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NoiseModel {
    /// The gate errors, applied in this order.
    pub gate_errors: Vec<GateError>,
    /// The readout error of every measured qubit without one of its own.
    pub readout: Option<ReadoutError>,
    /// Readout errors of single qubits, replacing `readout` there.
    pub qubit_readout: std::collections::BTreeMap<usize, ReadoutError>,
}

/// The serialized form of a gate error: a channel name and its parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGateError {
    gates: Vec<String>,
    qubits: Option<Vec<usize>>,
    channel: String,
    p: Option<f64>,
    num_qubits: Option<usize>,
    gamma: Option<f64>,
    lambda: Option<f64>,
    px: Option<f64>,
    py: Option<f64>,
    pz: Option<f64>,
    t1: Option<f64>,
    t2: Option<f64>,
    time: Option<f64>,
    /// Kraus matrices as nested `[re, im]` pairs: `kraus[m][row][col] = [re, im]`.
    kraus: Option<Vec<Vec<Vec<[f64; 2]>>>>,
}

/// The serialized form of the readout errors: the one of every qubit (both keys, optional)
/// and `[[readout_error.qubit]]` tables with `qubit` and both keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReadout {
    p1_given_0: Option<f64>,
    p0_given_1: Option<f64>,
    #[serde(default)]
    qubit: Vec<RawQubitReadout>,
}

/// One `[[readout_error.qubit]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQubitReadout {
    qubit: usize,
    p1_given_0: f64,
    p0_given_1: f64,
}

/// The serialized form of a noise model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNoiseModel {
    #[serde(default)]
    gate_error: Vec<RawGateError>,
    readout_error: Option<RawReadout>,
}

fn at(index: usize, e: Error) -> Error {
    match e {
        Error::Noise { key, message } => Error::Noise {
            key: format!("gate_error[{index}].{key}"),
            message,
        },
        other => other,
    }
}

fn bad(key: &str, message: impl Into<String>) -> Error {
    Error::Noise {
        key: key.to_string(),
        message: message.into(),
    }
}

impl RawGateError {
    fn channel(&self) -> Result<Channel> {
        let need = |key: &str, v: Option<f64>| {
            v.ok_or_else(|| {
                bad(
                    key,
                    format!("is missing; channel \"{}\" needs it", self.channel),
                )
            })
        };
        let given: Vec<&str> = [
            ("p", self.p.is_some()),
            ("num_qubits", self.num_qubits.is_some()),
            ("gamma", self.gamma.is_some()),
            ("lambda", self.lambda.is_some()),
            ("px", self.px.is_some()),
            ("py", self.py.is_some()),
            ("pz", self.pz.is_some()),
            ("t1", self.t1.is_some()),
            ("t2", self.t2.is_some()),
            ("time", self.time.is_some()),
            ("kraus", self.kraus.is_some()),
        ]
        .iter()
        .filter(|(_, g)| *g)
        .map(|(k, _)| *k)
        .collect();
        let (channel, used): (Channel, &[&str]) = match self.channel.as_str() {
            "depolarizing" => (
                Channel::Depolarizing {
                    qubits: self.num_qubits.unwrap_or(1),
                    p: need("p", self.p)?,
                },
                &["p", "num_qubits"],
            ),
            "amplitude_damping" => (
                Channel::AmplitudeDamping {
                    gamma: need("gamma", self.gamma)?,
                },
                &["gamma"],
            ),
            "phase_damping" => (
                Channel::PhaseDamping {
                    lambda: need("lambda", self.lambda)?,
                },
                &["lambda"],
            ),
            "pauli" => (
                Channel::Pauli {
                    px: self.px.unwrap_or(0.0),
                    py: self.py.unwrap_or(0.0),
                    pz: self.pz.unwrap_or(0.0),
                },
                &["px", "py", "pz"],
            ),
            "thermal_relaxation" => (
                Channel::ThermalRelaxation {
                    t1: need("t1", self.t1)?,
                    t2: need("t2", self.t2)?,
                    time: need("time", self.time)?,
                },
                &["t1", "t2", "time"],
            ),
            "kraus" => {
                let ops = self.kraus.as_ref().ok_or_else(|| bad("kraus", "is missing; channel \"kraus\" needs its matrices"))?;
                let dim = ops.first().map_or(0, |m| m.len());
                if !dim.is_power_of_two() || dim < 2 {
                    return Err(bad("kraus[0]", format!("has {dim} rows; a channel's matrix has 2^k rows")));
                }
                let mut operators = Vec::with_capacity(ops.len());
                for (m, op) in ops.iter().enumerate() {
                    if op.len() != dim || op.iter().any(|row| row.len() != dim) {
                        return Err(bad(&format!("kraus[{m}]"), format!("is not a {dim}×{dim} matrix")));
                    }
                    operators.push(op.iter().flatten().map(|&[re, im]| C64::new(re, im)).collect());
                }
                (
                    Channel::Kraus {
                        qubits: dim.trailing_zeros() as usize,
                        operators,
                    },
                    &["kraus"],
                )
            }
            other => {
                return Err(bad(
                    "channel",
                    format!("\"{other}\" is not a channel; use depolarizing, amplitude_damping, phase_damping, pauli, thermal_relaxation or kraus"),
                ))
            }
        };
        if let Some(extra) = given.iter().find(|k| !used.contains(k)) {
            return Err(bad(
                extra,
                format!("is not a parameter of channel \"{}\"", self.channel),
            ));
        }
        channel.validate()?;
        Ok(channel)
    }
}

impl NoiseModel {
    /// The model from its serialized form, every entry checked; errors name the entry and key.
    pub fn from_raw(raw: RawNoiseModel) -> Result<Self> {
        let mut gate_errors = Vec::with_capacity(raw.gate_error.len());
        for (index, entry) in raw.gate_error.iter().enumerate() {
            let channel = entry.channel().map_err(|e| at(index, e))?;
            if entry.gates.is_empty() {
                return Err(at(index, bad("gates", "is empty; name at least one gate")));
            }
            for g in &entry.gates {
                if !crate::Gate::all().iter().any(|gate| gate.name() == g) {
                    return Err(at(
                        index,
                        bad("gates", format!("names \"{g}\", which is not one of qloop's gates (u3, u2 and u1 are read as u and p)")),
                    ));
                }
            }
            if let Some(qs) = &entry.qubits {
                if qs.len() < channel.num_qubits() {
                    return Err(at(
                        index,
                        bad(
                            "qubits",
                            format!(
                                "lists {} qubits; the channel acts on {}",
                                qs.len(),
                                channel.num_qubits()
                            ),
                        ),
                    ));
                }
            }
            gate_errors.push(GateError {
                gates: entry.gates.clone(),
                qubits: entry.qubits.clone(),
                channel,
            });
        }
        let prefixed = |prefix: String| {
            move |e: Error| match e {
                Error::Noise { key, message } => bad(&format!("{prefix}.{key}"), message),
                other => other,
            }
        };
        let mut readout = None;
        let mut qubit_readout = std::collections::BTreeMap::new();
        if let Some(r) = raw.readout_error {
            readout = match (r.p1_given_0, r.p0_given_1) {
                (Some(a), Some(b)) => {
                    Some(ReadoutError::new(a, b).map_err(prefixed("readout_error".into()))?)
                }
                (None, None) => None,
                (Some(_), None) => {
                    return Err(bad(
                        "readout_error.p0_given_1",
                        "is missing; give both or neither",
                    ))
                }
                (None, Some(_)) => {
                    return Err(bad(
                        "readout_error.p1_given_0",
                        "is missing; give both or neither",
                    ))
                }
            };
            for (k, q) in r.qubit.iter().enumerate() {
                let key = format!("readout_error.qubit[{k}]");
                if q.qubit >= crate::limits::MAX_QUBITS {
                    return Err(bad(
                        &format!("{key}.qubit"),
                        format!(
                            "is {}, beyond the {} qubits qloop simulates",
                            q.qubit,
                            crate::limits::MAX_QUBITS
                        ),
                    ));
                }
                let e =
                    ReadoutError::new(q.p1_given_0, q.p0_given_1).map_err(prefixed(key.clone()))?;
                if qubit_readout.insert(q.qubit, e).is_some() {
                    return Err(bad(
                        &format!("{key}.qubit"),
                        format!("names qubit {} twice", q.qubit),
                    ));
                }
            }
        }
        Ok(NoiseModel {
            gate_errors,
            readout,
            qubit_readout,
        })
    }

    /// Reads a noise model from a TOML file (the form in `docs/conventions.md`); errors name
    /// the file and the line and column, or the entry and key.
    #[cfg(feature = "cli")]
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_toml(&text, path)
    }

    /// Parses a noise model from TOML text (`path` names it in errors).
    #[cfg(feature = "cli")]
    pub fn parse_toml(text: &str, path: &std::path::Path) -> Result<Self> {
        let raw: RawNoiseModel = toml::from_str(text)
            .map_err(|e| crate::train::experiment::toml_error(text, path, &e))?;
        Self::from_raw(raw).map_err(|e| match e {
            Error::Noise { key, message } => Error::Config {
                path: path.to_path_buf(),
                message: format!("key '{key}': {message}"),
            },
            other => other,
        })
    }

    /// True when the model has no gate error and no readout error.
    pub fn is_empty(&self) -> bool {
        self.gate_errors.is_empty() && self.readout.is_none() && self.qubit_readout.is_empty()
    }

    /// The readout error of `qubit`: its own, else the one of every qubit.
    pub fn readout_of(&self, qubit: usize) -> Option<ReadoutError> {
        self.qubit_readout.get(&qubit).copied().or(self.readout)
    }

    /// The channels that follow gate `name` on `operands`, each with the qubits it acts on,
    /// in application order.
    pub fn after(&self, name: &str, operands: &[usize]) -> Vec<(&Channel, Vec<usize>)> {
        let mut out = Vec::new();
        for e in &self.gate_errors {
            if !e.gates.iter().any(|g| g == name) {
                continue;
            }
            if let Some(qs) = &e.qubits {
                if !operands.iter().all(|q| qs.contains(q)) {
                    continue;
                }
            }
            let k = e.channel.num_qubits();
            if k == 1 {
                out.extend(operands.iter().map(|&q| (&e.channel, vec![q])));
            } else if k == operands.len() {
                out.push((&e.channel, operands.to_vec()));
            }
        }
        out
    }
}
