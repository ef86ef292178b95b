//! The exact gradient of a 12-qubit, 20-layer hardware-efficient ansatz (RY and RZ on every
//! qubit, then a CNOT chain, per layer: 480 weights) for the transverse-field Ising energy, by
//! adjoint differentiation, on one thread; `benches/peers/adjoint_gradient.py` times
//! pennylane-lightning's adjoint method on the same circuit and observable.
//!
//! `RAYON_NUM_THREADS=1 cargo bench --bench gradient`

use criterion::{criterion_group, criterion_main, Criterion};
use qloop::gradient::AdjointEnergy;
use qloop::{Circuit, Param, PauliSum};

/// The ansatz and `H = −Σ Z_q Z_{q+1} − Σ X_q` (open chain).
pub fn problem(n: usize, layers: usize) -> (Circuit, PauliSum) {
    let mut circuit = Circuit::new(n);
    for l in 0..layers {
        for q in 0..n {
            circuit = circuit
                .ry(Param::weight(format!("y{l}_{q}")), q)
                .rz(Param::weight(format!("z{l}_{q}")), q);
        }
        for q in 0..n - 1 {
            circuit = circuit.cx(q, q + 1);
        }
    }
    let mut terms: Vec<String> = (0..n - 1).map(|q| format!("-1*Z{q}*Z{}", q + 1)).collect();
    terms.extend((0..n).map(|q| format!("-1*X{q}")));
    (circuit, terms.join(" + ").parse().unwrap())
}

fn gradient(c: &mut Criterion) {
    let (circuit, h) = problem(12, 20);
    let energy = AdjointEnergy::new(&circuit, h).unwrap();
    let weights: Vec<f64> = (0..energy.num_weights())
        .map(|k| 0.1 + 0.37 * k as f64)
        .collect();
    let (e, g) = energy.value_and_gradient(&weights, &[]).unwrap();
    println!(
        "E = {e:.12}, |∇E|² = {:.12}",
        g.iter().map(|x| x * x).sum::<f64>()
    );
    c.bench_function("gradient/adjoint_hea_12x20", |b| {
        b.iter(|| energy.value_and_gradient(&weights, &[]).unwrap())
    });
}

criterion_group!(benches, gradient);
criterion_main!(benches);
