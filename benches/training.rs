//! Training throughput: circuit evaluations per second inside the SPSA loop.
//!
//! The 4-qubit model of `recursive_qnn` that learns (Iris features as RY inputs, H, CNOT chain,
//! RZ(θ), H, ⟨Z_q⟩ exact or from 1000 shots, dense 4 → 4 → 4 → 3), cross-entropy on a minibatch
//! of 64 samples, SPSA with one resampling and no blocking: each iteration evaluates the model
//! at θ ± c·Δ, i.e. 2 × 64 circuits. Throughput is reported in circuit evaluations (elements)
//! per second; the ± pair runs on two threads.
//!
//! `cargo bench --bench training`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qloop::train::{
    optimize, Activation, Dataset, HybridModel, Loss, Network, Readout, ReadoutSpec, RunOptions,
    Scaler, Spsa, Stream, Supervised,
};
use qloop::{Circuit, Param};

const ITERATIONS: u64 = 50;
const BATCH: usize = 64;

fn model(shots: Option<usize>) -> HybridModel {
    let mut c = Circuit::new(4);
    for q in 0..4 {
        c = c.ry(Param::input(format!("x{q}")), q).h(q);
    }
    for q in 0..3 {
        c = c.cx(q, q + 1);
    }
    for q in 0..4 {
        c = c.rz(Param::weight(format!("theta{q}")), q).h(q);
    }
    let net = Network::dense(&[4, 4, 4, 3], Activation::Tanh, Activation::Softmax).unwrap();
    HybridModel::new(
        c,
        ReadoutSpec {
            readout: Readout::ExpectationZ,
            shots,
        },
        net,
    )
    .unwrap()
}

fn spsa_throughput(c: &mut Criterion) {
    let iris = Dataset::iris();
    let x = Scaler::fit(&iris.features, (0.0, std::f64::consts::PI))
        .transform(&iris.features)
        .unwrap();
    let mut group = c.benchmark_group("spsa_loop");
    group.sample_size(20);
    group.throughput(Throughput::Elements(ITERATIONS * 2 * BATCH as u64));
    for (name, shots) in [("exact", None), ("shots1000", Some(1000))] {
        let m = model(shots);
        let init = m.init_params(Stream::new(1));
        let objective = Supervised::new(
            m,
            x.clone(),
            iris.one_hot(),
            Loss::CrossEntropy,
            Some(BATCH),
        )
        .unwrap();
        let solver = Spsa::new(3)
            .resamplings(1)
            .blocking(None)
            .calibration_samples(1);
        group.bench_function(format!("4q_batch64_{name}"), |b| {
            b.iter(|| {
                let options = RunOptions {
                    max_iters: ITERATIONS,
                    ..Default::default()
                };
                optimize(
                    objective.clone(),
                    solver.clone(),
                    init.clone(),
                    options,
                    vec![],
                )
                .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, spsa_throughput);
criterion_main!(benches);
