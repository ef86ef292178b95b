//! Sampling benchmarks (seeded): 1,000,000 shots from a 20-qubit state, as a histogram over
//! basis indices and as Qiskit-keyed counts.

use criterion::{criterion_group, criterion_main, Criterion};
use num_complex::Complex64 as C64;
use qloop::measure::{rng_from_seed, sample_histogram};
use qloop::{Counts, StateVector};
use rand::{Rng, SeedableRng};
use std::hint::black_box;

/// A random (Gaussian-like) normalized state: every basis state has non-zero probability.
fn random_state(n: usize) -> StateVector {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let mut amps: Vec<C64> = (0..1 << n)
        .map(|_| C64::new(rng.random::<f64>() - 0.5, rng.random::<f64>() - 0.5))
        .collect();
    let norm = amps.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
    amps.iter_mut().for_each(|a| *a /= norm);
    StateVector::from_amplitudes(amps).unwrap()
}

fn sampling(c: &mut Criterion) {
    let psi = random_state(20);
    let probs = psi.probabilities();
    let mut group = c.benchmark_group("sampling");
    group.sample_size(20);
    group.bench_function("histogram_1M_shots_n20", |b| {
        let mut rng = rng_from_seed(1);
        b.iter(|| black_box(sample_histogram(&probs, 1_000_000, &mut rng)))
    });
    group.bench_function("probabilities_plus_histogram_1M_shots_n20", |b| {
        let mut rng = rng_from_seed(1);
        b.iter(|| black_box(sample_histogram(&psi.probabilities(), 1_000_000, &mut rng)))
    });
    group.bench_function("counts_1M_shots_n20", |b| {
        b.iter(|| black_box(Counts::sample(&psi, &[], 0, 1_000_000, 1).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, sampling);
criterion_main!(benches);
