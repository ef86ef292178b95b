//! The spiking layers against closed forms and qloop's full simulator: LIF's first spike and
//! firing period under a constant current, its exact membrane integration, the pair states
//! against `Circuit` statevectors and their entropies against the entropy module, pair spike
//! statistics against the simulated two-qubit probabilities (chi-square at a fixed seed), the
//! zero-angle pair against independent neurons, the classical control against the entangled
//! pair, and seeded training at 1 and 2 threads.

use ndarray::{Array1, Array2};
use qloop::entropy::LogBase;
use qloop::rng::Stream;
use qloop::train::{
    optimize, spiking, Activation, Coupling, Decode, Dense, Layer, Lif, Loss, Membrane, Network,
    QLifPair, Reset, RunOptions, SequenceSet, SequenceSupervised, Spsa, TimeStep,
};
use qloop::Circuit;
use std::f64::consts::PI;

/// LIF parameters with `U = 0`, bias `current` and `τ` per neuron.
fn constant_current(inputs: usize, current: &[f64], tau: &[f64]) -> Vec<f64> {
    let mut p = vec![0.0; current.len() * inputs];
    p.extend(current);
    p.extend(tau.iter().map(|t| t.ln()));
    p
}

#[test]
fn first_spike_and_period_follow_the_closed_form_response_to_a_constant_current() {
    // V(t) = τI(1 − e^{−t/τ}) crosses θ = 1 at t* = τ ln(τI/(τI − 1)).
    let (current, tau) = ([1.5, 2.0, 4.0, 0.9, 12.0], [1.0, 0.5, 0.3, 1.0, 0.05]);
    let substeps = 200;
    for reset in [Reset::To, Reset::Subtract] {
        let membrane = Membrane {
            substeps,
            reset,
            decode: Decode::FirstSpike,
            ..Membrane::default()
        };
        let lif = Lif::new(1, 5).unwrap().with_membrane(membrane).unwrap();
        let p = constant_current(1, &current, &tau);
        let first = lif.forward(&p, Array2::zeros((1, 1)).view(), None).unwrap();
        let rate = Lif::new(1, 5)
            .unwrap()
            .with_membrane(Membrane {
                decode: Decode::Rate,
                ..membrane
            })
            .unwrap()
            .forward(&p, Array2::zeros((1, 1)).view(), None)
            .unwrap();
        let delta = 1.0 / substeps as f64;
        for i in 0..5 {
            let v_inf = tau[i] * current[i];
            let t_star = tau[i] * (v_inf / (v_inf - 1.0)).ln();
            if v_inf <= 1.0 || t_star > 1.0 {
                assert_eq!(
                    first[[0, i]],
                    0.0,
                    "neuron {i} does not reach threshold in T = 1"
                );
                assert_eq!(rate[[0, i]], 0.0);
                continue;
            }
            let k = (t_star / delta).ceil();
            // The spike's sub-step began at (k − 1)δ; T = 1.
            let expected = 1.0 - (k - 1.0) * delta;
            assert!(
                (first[[0, i]] - expected).abs() < 1e-12,
                "neuron {i}: {} vs {expected}",
                first[[0, i]]
            );
            if reset == Reset::To {
                // Reset to rest repeats the same trajectory: one spike every k sub-steps.
                let spikes = (substeps as f64 / k).floor();
                assert_eq!(rate[[0, i]], spikes / substeps as f64, "neuron {i}");
            }
        }
    }
}

#[test]
fn membrane_integration_is_exact_and_refractory_neurons_hold() {
    let membrane = Membrane {
        substeps: 7,
        refractory: 3,
        reset: Reset::To,
        v_reset: -0.25,
        decode: Decode::Spikes,
        ..Membrane::default()
    };
    let lif = Lif::new(2, 2).unwrap().with_membrane(membrane).unwrap();
    // Neuron 0: I = 0.15 + 0.5·x₀ with τ = 2 stays below threshold (V∞ = 0.8 for x₀ = 0.5).
    // Neuron 1: I = 100 with τ = 1 spikes in its first sub-step.
    let p = vec![0.5, 0.0, 0.0, 0.0, 0.15, 100.0, 2f64.ln(), 0.0];
    let net = Network::new(vec![lif.into()]).unwrap();
    let mut state = Array2::zeros((1, net.state_width()));
    let dts = [0.4, 1.3];
    let mut v0 = 0.0;
    for dt in dts {
        let y = net
            .step(
                &p,
                ndarray::array![[0.5, 9.0]].view(),
                &mut state,
                Array1::from_elem(1, dt).view(),
                Stream::new(1),
            )
            .unwrap();
        v0 = 0.8 + (v0 - 0.8) * (-dt / 2.0f64).exp();
        assert!((state[[0, 0]] - v0).abs() < 1e-14, "exact exponential step");
        assert_eq!(y[[0, 0]], 0.0);
        // Neuron 1 spikes at sub-step 1, holds 3, spikes again at 5: 2 spikes of 7.
        assert_eq!(y[[0, 1]], 2.0 / 7.0);
    }
}

/// The probabilities `|⟨s|Ψ⟩|²` of qloop's full simulator for the pair circuit.
fn simulated(theta_a: f64, theta_b: f64, phi: f64) -> Vec<f64> {
    Circuit::new(2)
        .ry(theta_a, 0)
        .ry(theta_b, 1)
        .rxx(phi, 0, 1)
        .statevector()
        .unwrap()
        .amplitudes()
        .iter()
        .map(|a| a.norm_sqr())
        .collect()
}

#[test]
fn pair_states_and_entropies_match_the_full_simulator() {
    let layer = QLifPair::new(1, 1).unwrap();
    for (va, vb, phi) in [
        (0.0, 0.0, 0.0),
        (0.3, 0.8, 0.4),
        (1.5, -0.2, PI / 2.0),
        (0.5, 0.5, 2.0),
        (0.99, 0.01, -1.1),
    ] {
        let psi = layer.pair_state(va, vb, phi);
        let angle = |v: f64| PI * f64::clamp(v, 0.0, 1.0);
        let reference = Circuit::new(2)
            .ry(angle(va), 0)
            .ry(angle(vb), 1)
            .rxx(phi, 0, 1)
            .statevector()
            .unwrap();
        for (a, b) in psi.iter().zip(reference.amplitudes()) {
            assert!((a - b).norm() < 1e-15, "{va} {vb} {phi}: {a} vs {b}");
        }
        let s = reference
            .entanglement()
            .von_neumann(&[0], LogBase::E)
            .unwrap();
        assert!((spiking::pair_entropy(&psi) - s).abs() < 1e-12, "{s}");
    }
    // RXX(π/2)|00⟩ is a Bell state: ln 2.
    let bell = layer.pair_state(0.0, 0.0, PI / 2.0);
    assert!((spiking::pair_entropy(&bell) - 2f64.ln()).abs() < 1e-15);
}

/// A pair layer of one pair with one sub-step, spikes decoded, whose membranes after the
/// sub-step are `v_a`, `v_b`: `U = 0`, `τ = 1`, bias `v/(1 − e^{−1})`.
fn one_pair(coupling: Coupling, v_a: f64, v_b: f64, phi: f64) -> (QLifPair, Vec<f64>) {
    let layer = QLifPair::new(1, 1)
        .unwrap()
        .with_membrane(Membrane {
            substeps: 1,
            decode: Decode::Spikes,
            threshold: 1.0,
            ..Membrane::default()
        })
        .unwrap()
        .with_coupling(coupling);
    let g = 1.0 - (-1.0f64).exp();
    let mut p = vec![0.0, 0.0, v_a / g, v_b / g, 0.0, 0.0];
    if coupling != Coupling::Independent {
        p.push(phi);
    }
    (layer, p)
}

/// Joint spike counts `[00, 10, 01, 11]` (index `s_A + 2 s_B`) of `samples` independent
/// draws of the layer inside a sequence step.
fn joint_counts(layer: &QLifPair, p: &[f64], samples: usize, seed: u64) -> [f64; 4] {
    let mut state = Array2::zeros((samples, layer.state_width()));
    let x = Array2::zeros((samples, 1));
    let dt = Array1::from_elem(samples, 1.0);
    let y = layer
        .forward(
            p,
            x.view(),
            Some(TimeStep {
                state: state.view_mut(),
                dt: dt.view(),
                draws: Stream::new(seed),
            }),
        )
        .unwrap();
    let mut counts = [0.0; 4];
    for r in 0..samples {
        counts[(y[[r, 0]] + 2.0 * y[[r, 1]]) as usize] += 1.0;
    }
    counts
}

/// Pearson's chi-square of `counts` against `probabilities` (cells of expected count < 5
/// merged into none: the cases below keep every cell populated or exactly empty).
fn chi_square(counts: &[f64; 4], probabilities: &[f64]) -> f64 {
    let n: f64 = counts.iter().sum();
    counts
        .iter()
        .zip(probabilities)
        .map(|(c, p)| {
            if *p * n < 1e-9 {
                assert_eq!(*c, 0.0, "an impossible outcome was drawn");
                0.0
            } else {
                (c - p * n).powi(2) / (p * n)
            }
        })
        .sum()
}

/// The chi-square critical value for 3 degrees of freedom at p = 0.001.
const CHI2_3_P001: f64 = 16.27;

#[test]
fn pair_spikes_follow_the_simulated_two_qubit_probabilities() {
    for (va, vb, phi) in [(0.3, 0.7, 0.9), (0.0, 0.0, 1.2), (0.5, 0.2, PI / 2.0)] {
        let probabilities = simulated(PI * va, PI * vb, phi);
        for (coupling, seed) in [(Coupling::Entangled, 11), (Coupling::Classical, 12)] {
            let (layer, p) = one_pair(coupling, va, vb, phi);
            let counts = joint_counts(&layer, &p, 20_000, seed);
            let chi2 = chi_square(&counts, &probabilities);
            assert!(
                chi2 < CHI2_3_P001,
                "{coupling:?} at ({va}, {vb}, {phi}): χ² = {chi2}, counts {counts:?} vs {probabilities:?}"
            );
        }
    }
}

#[test]
fn a_zero_entangling_angle_gives_two_independent_neurons() {
    let (va, vb) = (0.4, 0.75);
    let (pa, pb) = ((PI * va / 2.0).sin().powi(2), (PI * vb / 2.0).sin().powi(2));
    let product = [
        (1.0 - pa) * (1.0 - pb),
        pa * (1.0 - pb),
        (1.0 - pa) * pb,
        pa * pb,
    ];
    let (layer, _) = one_pair(Coupling::Entangled, va, vb, 0.0);
    let psi = layer.pair_state(va, vb, 0.0);
    for (a, q) in psi.iter().zip(product) {
        assert!((a.norm_sqr() - q).abs() < 1e-15);
    }
    assert_eq!(spiking::pair_entropy(&psi), 0.0);
    for (coupling, seed) in [(Coupling::Entangled, 3), (Coupling::Independent, 4)] {
        let (layer, p) = one_pair(coupling, va, vb, 0.0);
        let chi2 = chi_square(&joint_counts(&layer, &p, 20_000, seed), &product);
        assert!(chi2 < CHI2_3_P001, "{coupling:?}: χ² = {chi2}");
    }
}

#[test]
fn the_state_keeps_each_pairs_entropy_at_the_last_sub_step() {
    let (layer, p) = one_pair(Coupling::Entangled, 0.1, 0.2, PI / 2.0);
    let mut state = Array2::zeros((1, layer.state_width()));
    let dt = Array1::from_elem(1, 1.0);
    layer
        .forward(
            &p,
            Array2::zeros((1, 1)).view(),
            Some(TimeStep {
                state: state.view_mut(),
                dt: dt.view(),
                draws: Stream::new(1),
            }),
        )
        .unwrap();
    let column = layer.entropy_columns().start;
    let expected = spiking::pair_entropy(&layer.pair_state(0.1, 0.2, PI / 2.0));
    assert!(expected > 0.4, "{expected}");
    assert!((state[[0, column]] - expected).abs() < 1e-12);
}

#[test]
fn stateless_draws_depend_on_the_input_not_its_row() {
    let layer = QLifPair::new(2, 8).unwrap();
    let p = layer.init(Stream::new(3));
    let x = ndarray::array![[0.1, 0.9], [0.5, -0.3], [0.7, 0.2]];
    let swapped = ndarray::array![[0.7, 0.2], [0.1, 0.9], [0.5, -0.3]];
    let (a, b) = (
        layer.forward(&p, x.view(), None).unwrap(),
        layer.forward(&p, swapped.view(), None).unwrap(),
    );
    assert_eq!(a.row(0), b.row(1));
    assert_eq!(a.row(2), b.row(0));
}

#[test]
fn bad_membranes_are_refused_naming_the_field() {
    for (membrane, field) in [
        (
            Membrane {
                tau: -1.0,
                ..Membrane::default()
            },
            "tau",
        ),
        (
            Membrane {
                threshold: 0.0,
                ..Membrane::default()
            },
            "threshold",
        ),
        (
            Membrane {
                substeps: 0,
                ..Membrane::default()
            },
            "substeps",
        ),
        (
            Membrane {
                v_reset: 2.0,
                ..Membrane::default()
            },
            "v_reset",
        ),
    ] {
        let e = Lif::new(2, 3)
            .unwrap()
            .with_membrane(membrane)
            .unwrap_err()
            .to_string();
        assert!(e.contains(field), "{e}");
    }
    assert!(Lif::new(2, 0).unwrap_err().to_string().contains("neurons"));
    assert!(QLifPair::new(0, 3)
        .unwrap_err()
        .to_string()
        .contains("inputs"));
}

#[test]
fn seeded_spiking_training_is_bit_identical_at_one_and_two_threads() {
    let data = qloop::train::Dataset::iris();
    let x = qloop::train::Scaler::fit(&data.features, (0.0, 1.0))
        .transform(&data.features)
        .unwrap();
    let pairs = QLifPair::new(4, 4).unwrap();
    let net = Network::new(vec![
        pairs.into(),
        Dense::new(8, 3, Activation::Softmax).unwrap().into(),
    ])
    .unwrap();
    // Each sample a sequence of one step: the pair layer's stochastic spikes draw from the
    // objective's stream.
    let set = SequenceSet {
        sequences: x
            .rows()
            .into_iter()
            .map(|r| r.to_owned().insert_axis(ndarray::Axis(0)))
            .collect(),
        dt: vec![vec![1.0]; x.nrows()],
        targets: data.one_hot(),
    };
    let objective =
        SequenceSupervised::new(net.clone(), set, Loss::CrossEntropy, Some(16)).unwrap();
    let train = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let options = RunOptions {
                    max_iters: 10,
                    ..Default::default()
                };
                optimize(
                    objective.clone(),
                    Spsa::new(5),
                    net.init(Stream::new(5)),
                    options,
                    vec![],
                )
                .unwrap()
            })
    };
    let (one, two) = (train(1), train(2));
    let bits = |p: &[f64]| p.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.params), bits(&two.params));
    assert!(one.solver.history().first() != one.solver.history().last());
}
