//! Prints, as JSON, the action of each noise channel on a few states, for the independent
//! cross-check against qiskit-aer in `benches/peers/noise_crosscheck.py`.
//!
//! `cargo run --release --example noise_channels > /tmp/qloop_noise.json`

use qloop::noise::{Channel, DensityMatrix};
use qloop::Circuit;

fn main() -> qloop::Result<()> {
    let one_qubit = [
        ("depolarizing", Channel::Depolarizing { qubits: 1, p: 0.3 }),
        (
            "amplitude_damping",
            Channel::AmplitudeDamping { gamma: 0.2 },
        ),
        ("phase_damping", Channel::PhaseDamping { lambda: 0.7 }),
        (
            "pauli",
            Channel::Pauli {
                px: 0.1,
                py: 0.2,
                pz: 0.3,
            },
        ),
        (
            "thermal_t2_below_t1",
            Channel::ThermalRelaxation {
                t1: 50.0,
                t2: 30.0,
                time: 7.0,
            },
        ),
        (
            "thermal_t2_above_t1",
            Channel::ThermalRelaxation {
                t1: 50.0,
                t2: 90.0,
                time: 7.0,
            },
        ),
    ];
    // Input states: |0⟩, |1⟩, and a state with complex coherences.
    let inputs = [
        Circuit::new(1),
        Circuit::new(1).x(0),
        Circuit::new(1).ry(1.1, 0).rz(0.4, 0),
    ];
    let mut records = Vec::new();
    for (name, channel) in &one_qubit {
        for (k, prep) in inputs.iter().enumerate() {
            let mut rho = DensityMatrix::zero(1)?;
            rho.apply_circuit(prep)?;
            rho.apply_channel(channel, &[0])?;
            records.push(record(name, k, &rho));
        }
    }
    let two = Circuit::new(2).h(0).cx(0, 1).ry(0.3, 1).rz(0.9, 0);
    let mut rho = DensityMatrix::zero(2)?;
    rho.apply_circuit(&two)?;
    rho.apply_channel(&Channel::Depolarizing { qubits: 2, p: 0.15 }, &[0, 1])?;
    rho.apply_channel(&Channel::AmplitudeDamping { gamma: 0.25 }, &[1])?;
    records.push(record("depolarizing2_then_amplitude_damping_q1", 0, &rho));
    println!("[{}]", records.join(",\n"));
    Ok(())
}

fn record(name: &str, input: usize, rho: &DensityMatrix) -> String {
    let entries: Vec<String> = rho
        .entries()
        .iter()
        .map(|z| format!("[{:e}, {:e}]", z.re, z.im))
        .collect();
    format!(
        "{{\"channel\": \"{name}\", \"input\": {input}, \"rho\": [{}]}}",
        entries.join(", ")
    )
}
