//! Noise channels against their Kraus definitions and known results; the density matrix
//! against the statevector (`docs/conventions.md`, "Noise channels").

use num_complex::Complex64 as C;
use qloop::noise::{completeness_defect, Channel, DensityMatrix, ReadoutError};
use qloop::{Circuit, StateVector};

fn channels() -> Vec<Channel> {
    vec![
        Channel::Depolarizing { qubits: 1, p: 0.3 },
        Channel::Depolarizing { qubits: 2, p: 0.05 },
        Channel::Depolarizing { qubits: 3, p: 1.0 },
        Channel::AmplitudeDamping { gamma: 0.2 },
        Channel::PhaseDamping { lambda: 0.7 },
        Channel::Pauli {
            px: 0.1,
            py: 0.2,
            pz: 0.3,
        },
        Channel::ThermalRelaxation {
            t1: 50.0,
            t2: 70.0,
            time: 5.0,
        },
        Channel::ThermalRelaxation {
            t1: 50.0,
            t2: 100.0,
            time: 30.0,
        },
        Channel::ThermalRelaxation {
            t1: 50.0,
            t2: 10.0,
            time: 3.0,
        },
    ]
}

/// The pure one-qubit state with these (real, non-negative) density-matrix entries.
fn one(rho: [[f64; 2]; 2]) -> DensityMatrix {
    let (a, b) = (rho[0][0], rho[1][1]);
    let c = rho[0][1];
    let psi =
        StateVector::from_amplitudes(vec![C::new(a.sqrt(), 0.0), C::new(b.sqrt(), 0.0)]).unwrap();
    let rho_psi = DensityMatrix::from_pure(&psi).unwrap();
    assert!(
        (rho_psi.get(0, 1).re - c).abs() < 1e-15,
        "test states are pure"
    );
    rho_psi
}

fn close(rho: &DensityMatrix, want: [[f64; 2]; 2]) {
    for (r, row) in want.iter().enumerate() {
        for (c, &w) in row.iter().enumerate() {
            let got = rho.get(r, c);
            assert!(
                (got.re - w).abs() < 1e-14 && got.im.abs() < 1e-14,
                "({r},{c}): got {got}, want {w}"
            );
        }
    }
}

#[test]
fn every_channel_is_trace_preserving() {
    for ch in channels() {
        let ops = ch.kraus().unwrap();
        let dim = 1usize << ch.num_qubits();
        let defect = completeness_defect(dim, &ops);
        assert!(defect < 1e-14, "{ch:?}: {defect}");
    }
}

#[test]
fn one_qubit_channels_act_on_basis_and_plus_states_as_defined() {
    let zero = [[1.0, 0.0], [0.0, 0.0]];
    let onev = [[0.0, 0.0], [0.0, 1.0]];
    let plus = [[0.5, 0.5], [0.5, 0.5]];
    let apply = |ch: &Channel, rho: [[f64; 2]; 2]| {
        let mut d = one(rho);
        d.apply_channel(ch, &[0]).unwrap();
        d
    };
    let (g, l, p) = (0.2, 0.7, 0.3);
    let ad = Channel::AmplitudeDamping { gamma: g };
    close(&apply(&ad, zero), zero);
    close(&apply(&ad, onev), [[g, 0.0], [0.0, 1.0 - g]]);
    let s = (1.0 - g).sqrt() / 2.0;
    close(&apply(&ad, plus), [[0.5 + g / 2.0, s], [s, 0.5 - g / 2.0]]);
    let pd = Channel::PhaseDamping { lambda: l };
    close(&apply(&pd, onev), onev);
    let s = (1.0 - l).sqrt() / 2.0;
    close(&apply(&pd, plus), [[0.5, s], [s, 0.5]]);
    let dep = Channel::Depolarizing { qubits: 1, p };
    close(&apply(&dep, zero), [[1.0 - p / 2.0, 0.0], [0.0, p / 2.0]]);
    close(
        &apply(&dep, plus),
        [[0.5, 0.5 * (1.0 - p)], [0.5 * (1.0 - p), 0.5]],
    );
    // Pauli: X and Y flip populations, Y and Z flip the sign of the coherence.
    let pauli = Channel::Pauli {
        px: 0.1,
        py: 0.2,
        pz: 0.3,
    };
    close(&apply(&pauli, zero), [[0.7, 0.0], [0.0, 0.3]]);
    let coherence = 0.5 * (0.4 + 0.1 - 0.2 - 0.3);
    close(&apply(&pauli, plus), [[0.5, coherence], [coherence, 0.5]]);
}

#[test]
fn thermal_relaxation_decays_population_with_t1_and_coherence_with_t2() {
    let (t1, t2) = (50.0, 80.0);
    for time in [0.0, 1.0, 10.0, 100.0] {
        let ch = Channel::ThermalRelaxation { t1, t2, time };
        let mut excited = one([[0.0, 0.0], [0.0, 1.0]]);
        excited.apply_channel(&ch, &[0]).unwrap();
        let pop = (-time / t1).exp();
        assert!((excited.get(1, 1).re - pop).abs() < 1e-14);
        let mut plus = one([[0.5, 0.5], [0.5, 0.5]]);
        plus.apply_channel(&ch, &[0]).unwrap();
        assert!((plus.get(0, 1).re - 0.5 * (-time / t2).exp()).abs() < 1e-14);
    }
}

#[test]
fn depolarized_bell_state_keeps_fidelity_one_minus_three_quarters_p() {
    let bell = Circuit::new(2).h(0).cx(0, 1);
    let psi = bell.compile().unwrap().statevector(&[], &[]).unwrap();
    for p in [0.0, 0.1, 0.5, 1.0] {
        let mut rho = DensityMatrix::zero(2).unwrap();
        rho.apply_circuit(&bell).unwrap();
        rho.apply_channel(&Channel::Depolarizing { qubits: 2, p }, &[0, 1])
            .unwrap();
        let f = rho.fidelity_with_pure(&psi).unwrap();
        assert!((f - (1.0 - 0.75 * p)).abs() < 1e-14, "p = {p}: {f}");
        assert!((rho.trace() - 1.0).abs() < 1e-14);
    }
}

#[test]
fn a_noiseless_density_matrix_is_the_projector_on_the_statevector() {
    let circuit = Circuit::new(4)
        .h(0)
        .rx(0.3, 1)
        .cx(0, 2)
        .ry(1.1, 3)
        .ccx(1, 2, 3)
        .rzz(0.7, 3, 0)
        .u(0.4, 0.5, 0.6, 2)
        .cswap(0, 1, 3);
    let psi = circuit.compile().unwrap().statevector(&[], &[]).unwrap();
    let want = DensityMatrix::from_pure(&psi).unwrap();
    let mut rho = DensityMatrix::zero(4).unwrap();
    rho.apply_circuit(&circuit).unwrap();
    for (a, b) in rho.entries().iter().zip(want.entries()) {
        assert!((a - b).norm() < 1e-12);
    }
    assert!((rho.purity() - 1.0).abs() < 1e-12);
}

#[test]
fn bad_parameters_are_refused_by_key() {
    let bad = [
        (Channel::Depolarizing { qubits: 1, p: 1.5 }, "p "),
        (Channel::AmplitudeDamping { gamma: -0.1 }, "gamma"),
        (Channel::PhaseDamping { lambda: f64::NAN }, "lambda"),
        (
            Channel::Pauli {
                px: 0.5,
                py: 0.5,
                pz: 0.5,
            },
            "px + py + pz",
        ),
        (
            Channel::ThermalRelaxation {
                t1: 10.0,
                t2: 30.0,
                time: 1.0,
            },
            "t2",
        ),
        (
            Channel::ThermalRelaxation {
                t1: 0.0,
                t2: 0.0,
                time: 1.0,
            },
            "t1",
        ),
        (Channel::Depolarizing { qubits: 9, p: 0.1 }, "qubits"),
        (
            Channel::Kraus {
                qubits: 1,
                operators: vec![vec![
                    C::new(0.9, 0.0),
                    C::new(0.0, 0.0),
                    C::new(0.0, 0.0),
                    C::new(1.0, 0.0),
                ]],
            },
            "trace preserving",
        ),
        (
            Channel::Kraus {
                qubits: 1,
                operators: vec![vec![C::new(1.0, 0.0); 3]],
            },
            "kraus[0]",
        ),
    ];
    for (ch, key) in bad {
        let e = ch.validate().unwrap_err().to_string();
        assert!(e.contains(key) && !e.contains('\n'), "{ch:?}: {e}");
    }
}

#[test]
fn readout_error_flips_at_its_stated_rates() {
    let r = ReadoutError::new(0.02, 0.05).unwrap();
    assert_eq!(r.apply([1.0, 0.0]), [0.98, 0.02]);
    assert_eq!(r.apply([0.0, 1.0]), [0.05, 0.95]);
    assert!(ReadoutError::new(1.2, 0.0).is_err());
}

#[cfg(feature = "cli")]
fn model(text: &str) -> qloop::Result<qloop::noise::NoiseModel> {
    let raw: qloop::noise::RawNoiseModel =
        toml::from_str(text).map_err(|e| qloop::Error::Noise {
            key: "toml".into(),
            message: e.message().to_string(),
        })?;
    qloop::noise::NoiseModel::from_raw(raw)
}

#[cfg(feature = "cli")]
#[test]
fn a_noise_model_attaches_channels_after_gates_in_file_order() {
    let m = model(
        r#"
[[gate_error]]
gates = ["cx"]
channel = "depolarizing"
num_qubits = 2
p = 0.1
[[gate_error]]
gates = ["h", "cx"]
qubits = [0, 1]
channel = "amplitude_damping"
gamma = 0.01
[readout_error]
p1_given_0 = 0.02
p0_given_1 = 0.05
"#,
    )
    .unwrap();
    let after_cx = m.after("cx", &[0, 1]);
    assert_eq!(after_cx.len(), 3);
    assert_eq!(after_cx[0].1, vec![0, 1]);
    assert_eq!(
        (after_cx[1].1.clone(), after_cx[2].1.clone()),
        (vec![0], vec![1])
    );
    assert!(m.after("h", &[2]).is_empty());
    assert_eq!(m.readout.unwrap().p0_given_1, 0.05);
    // A Bell pair through the model equals the channels applied by hand.
    let bell = Circuit::new(2).h(0).cx(0, 1);
    let mut noisy = DensityMatrix::zero(2).unwrap();
    noisy.apply_noisy_circuit(&bell, &m).unwrap();
    let mut by_hand = DensityMatrix::zero(2).unwrap();
    let ad = Channel::AmplitudeDamping { gamma: 0.01 };
    by_hand.apply_circuit(&Circuit::new(2).h(0)).unwrap();
    by_hand.apply_channel(&ad, &[0]).unwrap();
    by_hand.apply_circuit(&Circuit::new(2).cx(0, 1)).unwrap();
    by_hand
        .apply_channel(&Channel::Depolarizing { qubits: 2, p: 0.1 }, &[0, 1])
        .unwrap();
    by_hand.apply_channel(&ad, &[0]).unwrap();
    by_hand.apply_channel(&ad, &[1]).unwrap();
    assert_eq!(noisy, by_hand);
}

#[cfg(feature = "cli")]
#[test]
fn bad_noise_models_name_the_entry_and_key() {
    let cases = [
        ("[[gate_error]]\ngates = [\"cx\"]\nchannel = \"depolarizing\"\np = 1.5\n", "gate_error[0].p"),
        ("[[gate_error]]\ngates = [\"x\"]\nchannel = \"thermal_relaxation\"\nt1 = 10.0\nt2 = 30.0\ntime = 1.0\n", "gate_error[0].t2"),
        ("[[gate_error]]\ngates = [\"x\"]\nchannel = \"amplitude_damping\"\ngamma = 0.1\np = 0.2\n", "gate_error[0].p"),
        ("[[gate_error]]\ngates = [\"u3\"]\nchannel = \"phase_damping\"\nlambda = 0.1\n", "gate_error[0].gates"),
        ("[[gate_error]]\ngates = [\"x\"]\nchannel = \"kraus\"\nkraus = [[[[0.9, 0.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 0.0]]]]\n", "trace preserving"),
        ("[[gate_error]]\ngates = [\"x\"]\nchannel = \"nope\"\n", "gate_error[0].channel"),
        ("[readout_error]\np1_given_0 = -0.1\np0_given_1 = 0.0\n", "readout_error.p1_given_0"),
        ("[[gate_error]]\ngates = [\"x\"]\nchannel = \"pauli\"\npx = 0.1\ncolour = 1\n", "colour"),
    ];
    for (text, key) in cases {
        let e = model(text).unwrap_err().to_string();
        assert!(e.contains(key) && !e.contains('\n'), "{text}: {e}");
    }
}
