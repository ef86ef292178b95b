//! Adjoint gradients against central finite differences of the exact energy, on random
//! circuits with every gate of the set, shared weights, affine angles and a data input.

use qloop::gradient::{AdjointEnergy, EnergyGradient, ShiftEnergy};
use qloop::rng::Stream;
use qloop::{Angle, Circuit, Gate, Param, PauliSum};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A random circuit of `depth` gates drawn from the whole gate set, every angle an affine
/// expression of up to two of `weights` weights and sometimes the input `x`.
fn random_circuit(rng: &mut Xoshiro256PlusPlus, n: usize, depth: usize, weights: usize) -> Circuit {
    let all = Gate::all();
    let mut circuit = Circuit::new(n);
    for _ in 0..depth {
        let mut gate = all[rng.random_range(0..all.len())].clone();
        if gate.num_qubits() > n {
            continue;
        }
        for angle in gate.angles_mut() {
            let mut a = Angle::constant(rng.random_range(-1.0..1.0));
            for _ in 0..rng.random_range(1..3) {
                let w = Param::weight(format!("w{}", rng.random_range(0..weights)));
                a = a + rng.random_range(-2.0..2.0) * &w;
            }
            if rng.random_bool(0.2) {
                a = a + 0.5 * &Param::input("x");
            }
            *angle = a;
        }
        let mut qubits: Vec<usize> = (0..n).collect();
        for i in 0..gate.num_qubits() {
            let j = rng.random_range(i..n);
            qubits.swap(i, j);
        }
        qubits.truncate(gate.num_qubits());
        circuit = circuit.gate(gate, &qubits);
    }
    circuit
}

fn hamiltonian(n: usize) -> PauliSum {
    let mut terms = Vec::new();
    for q in 0..n {
        terms.push(format!("{:.3}*X{q}", 0.3 + 0.1 * q as f64));
        if n > 1 {
            terms.push(format!(
                "{:.3}*Z{q}*Z{}",
                1.0 - 0.05 * q as f64,
                (q + 1) % n
            ));
        }
        if n > 2 {
            terms.push(format!("0.2*Y{q}*X{}", (q + 2) % n));
        }
    }
    terms.join(" + ").replace("+ -", "- ").parse().unwrap()
}

#[test]
fn adjoint_gradient_equals_central_differences() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    for (n, depth) in [(1, 12), (2, 30), (3, 60), (5, 80), (7, 60)] {
        let circuit = random_circuit(&mut rng, n, depth, 6);
        let h = hamiltonian(n);
        let energy = AdjointEnergy::new(&circuit, h.clone()).unwrap();
        let program = circuit.compile().unwrap();
        let layout = program.layout().clone();
        let w: Vec<f64> = (0..layout.weights.len())
            .map(|_| rng.random_range(-3.0..3.0))
            .collect();
        let x: Vec<f64> = (0..layout.inputs.len()).map(|_| 0.7).collect();
        let exact = |w: &[f64]| h.expectation(&program.statevector(w, &x).unwrap()).unwrap();
        let (e, g) = energy.value_and_gradient(&w, &x).unwrap();
        assert!((e - exact(&w)).abs() < 1e-12, "energy {e} vs {}", exact(&w));
        let step = 1e-5;
        for k in 0..w.len() {
            let (mut plus, mut minus) = (w.clone(), w.clone());
            plus[k] += step;
            minus[k] -= step;
            let fd = (exact(&plus) - exact(&minus)) / (2.0 * step);
            assert!(
                (g[k] - fd).abs() < 1e-7 * (1.0 + fd.abs()),
                "n = {n}, weight {} ({}): adjoint {} vs differences {fd}",
                k,
                layout.weights[k],
                g[k]
            );
        }
    }
}

#[test]
fn gradient_of_a_known_energy() {
    // ⟨Z₀Z₁⟩ after RY(a)⊗RY(b) is cos a · cos b.
    let (a, b) = (Param::weight("a"), Param::weight("b"));
    let circuit = Circuit::new(2).ry(a, 0).ry(b, 1);
    let energy = AdjointEnergy::new(&circuit, "Z0*Z1".parse().unwrap()).unwrap();
    let (e, g) = energy.value_and_gradient(&[0.4, -1.1], &[]).unwrap();
    assert!((e - 0.4f64.cos() * 1.1f64.cos()).abs() < 1e-15);
    assert!((g[0] + 0.4f64.sin() * 1.1f64.cos()).abs() < 1e-15);
    assert!((g[1] - 0.4f64.cos() * 1.1f64.sin()).abs() < 1e-15);
}

#[test]
fn dynamic_circuits_are_refused() {
    let circuit = Circuit::with_clbits(2, 1).h(0).measure(0, 0).x(0);
    let err = AdjointEnergy::new(&circuit, "Z0".parse().unwrap()).unwrap_err();
    assert!(err.to_string().contains("measure"), "{err}");
}

/// TFIM-4 with the RY + CNOT ansatz of `circuits/hea4.json` from seeded random starts:
/// L-BFGS on exact gradients reaches the ground energy, Adam gets close, and a budget is
/// never exceeded.
#[test]
fn exact_gradient_descent_solves_tfim4() {
    use qloop::train::{ansatz, minimize, Descent};
    let circuit = qloop::Circuit::load(std::path::Path::new("circuits/hea4.json")).unwrap();
    let h: PauliSum = ansatz::tfim(4, 1.0, 1.0).parse().unwrap();
    let energy = AdjointEnergy::new(&circuit, h).unwrap();
    let exact = -4.758770483143634;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let mut lbfgs = Vec::new();
    for _ in 0..9 {
        let init: Vec<f64> = (0..energy.num_weights())
            .map(|_| rng.random_range(-std::f64::consts::PI..std::f64::consts::PI))
            .collect();
        let run = minimize(
            &energy,
            Stream::new(0),
            init.clone(),
            Descent::LBFGS,
            500,
            400,
            1e-10,
        )
        .unwrap();
        assert!(run.evaluations <= 400);
        lbfgs.push(run.energy);
        let budget = minimize(
            &energy,
            Stream::new(0),
            init,
            Descent::ADAM,
            10_000,
            37,
            0.0,
        )
        .unwrap();
        assert_eq!(budget.evaluations, 37, "{}", budget.termination);
    }
    lbfgs.sort_by(f64::total_cmp);
    let median = lbfgs[lbfgs.len() / 2];
    assert!((median - exact).abs() < 1e-6, "median {median}: {lbfgs:?}");
}

/// The parameter-shift rules (two-term, and four-term for controlled rotations) are exact:
/// without shots they give the adjoint gradient on random circuits of every gate kind.
#[test]
fn parameter_shifts_without_shots_equal_the_adjoint_gradient() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(23);
    for (n, depth) in [(2, 25), (3, 40), (4, 40)] {
        let circuit =
            random_circuit(&mut rng, n, depth, 5).bind(|p| (p.name == "x").then_some(0.3));
        let h = hamiltonian(n);
        let shift = ShiftEnergy::new(&circuit, h.clone(), None).unwrap();
        let adjoint = AdjointEnergy::new(&circuit, h).unwrap();
        let w: Vec<f64> = (0..shift.num_weights())
            .map(|_| rng.random_range(-3.0..3.0))
            .collect();
        let (e, g) = shift.value_and_gradient(&w, Stream::new(1)).unwrap();
        let (ea, ga) = adjoint.value_and_gradient(&w, &[]).unwrap();
        assert!((e - ea).abs() < 1e-12);
        for (k, (a, b)) in g.iter().zip(&ga).enumerate() {
            assert!(
                (a - b).abs() < 1e-10,
                "n = {n}, weight {k}: shifts {a} vs adjoint {b}"
            );
        }
    }
}

/// With shots, Adam on parameter-shift gradients lowers the TFIM-4 energy within a budget of
/// circuit evaluations, and a seeded run repeats exactly.
#[test]
fn adam_on_shot_gradients_descends_within_budget() {
    use qloop::train::{ansatz, minimize, Descent};
    let circuit = qloop::Circuit::load(std::path::Path::new("circuits/hea4.json")).unwrap();
    let h: PauliSum = ansatz::tfim(4, 1.0, 1.0).parse().unwrap();
    let shift = ShiftEnergy::new(&circuit, h.clone(), Some(500)).unwrap();
    assert_eq!(shift.evaluations_per_call(), 33);
    let init = vec![0.3; 16];
    let exact = AdjointEnergy::new(&circuit, h).unwrap();
    let start = exact.value_and_gradient(&init, &[]).unwrap().0;
    let run = |seed| {
        minimize(
            &shift,
            Stream::new(seed),
            init.clone(),
            Descent::ADAM,
            10_000,
            3300,
            0.0,
        )
        .unwrap()
    };
    let (a, b) = (run(4), run(4));
    assert_eq!(a, b);
    assert!(
        a.evaluations <= 3300 && a.evaluations > 3300 - 33,
        "{}",
        a.evaluations
    );
    let end = exact.value_and_gradient(&a.params, &[]).unwrap().0;
    assert!(end < start - 0.5 && end < -4.5, "{start} → {end}");
}

/// The hybrid model's full gradient (circuit angles and every network parameter) against
/// central differences of its exact loss, for every readout, loss and differentiable layer
/// and activation, on random circuits that re-use weights and read two data inputs.
#[test]
fn hybrid_gradient_equals_central_differences() {
    use ndarray::Array2;
    use qloop::train::{
        Activation, AnyLayer, Dense, EntangledBlock, HybridModel, Loss, Network, Readout,
        ReadoutSpec, SparseDense, Supervised,
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let n = 3;
    let readouts = [
        Readout::ExpectationZ,
        Readout::Probabilities,
        Readout::Observables(vec![hamiltonian(n), "Y0*Y2 - 0.5*X1".parse().unwrap()]),
    ];
    let cases: Vec<(Vec<Activation>, Loss, usize)> = vec![
        (vec![Activation::Tanh, Activation::Identity], Loss::Mse, 2),
        (
            vec![Activation::Relu, Activation::Sigmoid],
            Loss::BinaryCrossEntropy,
            1,
        ),
        (
            vec![Activation::PhaseTanh, Activation::Softmax],
            Loss::CrossEntropy,
            3,
        ),
        (
            vec![Activation::Cnot, Activation::Softmax],
            Loss::CrossEntropy,
            3,
        ),
    ];
    for (r, readout) in readouts.iter().enumerate() {
        for (c, (activations, loss, outputs)) in cases.iter().enumerate() {
            let mut circuit = random_circuit(&mut rng, n, 25, 5);
            for q in 0..n {
                circuit = circuit.ry(Param::input(format!("x{}", q % 2)), q);
            }
            let spec = ReadoutSpec::exact(readout.clone());
            let width = spec.width(n);
            let stream = Stream::new(r as u64 * 10 + c as u64);
            let layers: Vec<AnyLayer> = vec![
                Dense::new(width, 5, activations[0]).unwrap().into(),
                SparseDense::random(5, 6, 0.4, activations[0], stream.child(1))
                    .unwrap()
                    .into(),
                EntangledBlock::new(6, 4, 2, 2, Activation::Tanh)
                    .unwrap()
                    .into(),
                Dense::new(4, *outputs, activations[1]).unwrap().into(),
            ];
            let model = HybridModel::new(circuit, spec, Network::new(layers).unwrap()).unwrap();
            let samples = 4;
            let inputs = model.num_inputs();
            let x = Array2::from_shape_fn((samples, inputs), |_| rng.random_range(-1.5..1.5));
            let targets = Array2::from_shape_fn((samples, *outputs), |(i, k)| match loss {
                Loss::Mse => rng.random_range(-1.0..1.0),
                Loss::BinaryCrossEntropy => (i % 2) as f64,
                Loss::CrossEntropy => ((i % outputs) == k) as u8 as f64,
            });
            let objective = Supervised::new(model, x, targets, *loss, None).unwrap();
            let p: Vec<f64> = objective
                .model
                .init_params(stream)
                .iter()
                .map(|v| v + rng.random_range(-0.3..0.3))
                .collect();
            let (value, g) = objective.loss_and_gradient(&p, Stream::new(0)).unwrap();
            let loss_at = |p: &[f64]| objective.loss(p, Stream::new(0)).unwrap();
            assert!((value - loss_at(&p)).abs() < 1e-14);
            let step = 1e-6;
            let scale = g.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
            for k in 0..p.len() {
                let (mut plus, mut minus) = (p.clone(), p.clone());
                plus[k] += step;
                minus[k] -= step;
                let fd = (loss_at(&plus) - loss_at(&minus)) / (2.0 * step);
                assert!(
                    (fd - g[k]).abs() < 1e-6 * scale,
                    "readout {r} case {c}: ∂L/∂p[{k}] = {} by adjoint + backprop, {fd} by differences",
                    g[k]
                );
            }
        }
    }
}

/// What has no exact gradient says so, naming the part.
#[test]
fn hybrid_gradient_refuses_shots_and_spiking_layers() {
    use qloop::train::{
        ansatz, Activation, Dense, HybridModel, Lif, Network, Readout, ReadoutSpec,
    };
    let x = ndarray::array![[0.1, 0.2]];
    let ones = |y: ndarray::ArrayView2<f64>| Ok(ndarray::Array2::ones(y.dim()));
    let net = Network::dense(&[2, 1], Activation::Tanh, Activation::Identity).unwrap();
    let shots = HybridModel::new(
        ansatz::reuploading(2, 1, 2),
        ReadoutSpec::sampled(Readout::ExpectationZ, 100),
        net,
    )
    .unwrap();
    let p = shots.init_params(Stream::new(0));
    let e = shots.gradient(&p, x.view(), ones).unwrap_err().to_string();
    assert!(e.contains("shots"), "{e}");
    let lif = Network::new(vec![
        Lif::new(2, 3).unwrap().into(),
        Dense::new(3, 1, Activation::Identity).unwrap().into(),
    ])
    .unwrap();
    let spiking = HybridModel::new(
        ansatz::reuploading(2, 1, 2),
        ReadoutSpec::exact(Readout::ExpectationZ),
        lif,
    )
    .unwrap();
    let p = spiking.init_params(Stream::new(0));
    let e = spiking
        .gradient(&p, x.view(), ones)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no exact gradient"), "{e}");
}
