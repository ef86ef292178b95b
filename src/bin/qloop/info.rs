//! `qloop info`: qubits, classical bits, depth, gate counts and parameters.

use crate::common::*;

/// The arguments of `qloop info`.
#[derive(clap::Args)]
pub struct Args {
    /// Circuit file: OpenQASM 2.0, or qloop JSON.
    file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args { file, json } = args;
    let circuit = Circuit::load(&file)?;
    let layout = qloop::ParameterLayout::of(&circuit);
    if json {
        let v = serde_json::json!({
            "num_qubits": circuit.num_qubits(),
            "num_clbits": circuit.num_clbits(),
            "depth": circuit.depth(),
            "size": circuit.len(),
            "gate_counts": circuit.gate_counts(),
            "parameters": {"weights": layout.weights, "inputs": layout.inputs},
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(out, "file:        {}", file.display())?;
        writeln!(out, "qubits:      {}", circuit.num_qubits())?;
        writeln!(out, "clbits:      {}", circuit.num_clbits())?;
        writeln!(out, "depth:       {}", circuit.depth())?;
        writeln!(out, "instructions: {}", circuit.len())?;
        let counts: Vec<String> = circuit
            .gate_counts()
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        writeln!(out, "gate counts: {}", counts.join(", "))?;
        writeln!(out, "weights:     {}", list_or_none(&layout.weights))?;
        writeln!(out, "inputs:      {}", list_or_none(&layout.inputs))?;
    }
    Ok(())
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
