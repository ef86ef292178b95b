//! Entanglement entropy of Haar-random states (full-rank reduced states, the worst case):
//! the half cut by each route (Gram eigenvalues, SVD) at n = 16 and 20, the Gram route at
//! n = 24, and a non-contiguous cut (which gathers the matrix first) at n = 20.
//!
//! `cargo bench --bench entropy`; `cargo bench --bench entropy -- n24` for the 24-qubit figure
//! only.

use criterion::{criterion_group, criterion_main, Criterion};
use qloop::entropy::{haar_state, half_cut, LogBase, Method};
use qloop::measure::rng_from_seed;
use std::hint::black_box;

fn entropy(c: &mut Criterion) {
    let mut group = c.benchmark_group("entropy");
    group.sample_size(10);
    for n in [16usize, 20] {
        let psi = haar_state(n, &mut rng_from_seed(n as u64)).unwrap();
        let a = half_cut(n);
        for (name, method) in [("gram", Method::Gram), ("svd", Method::Svd)] {
            group.bench_function(format!("half_cut_n{n}_{name}"), |b| {
                let e = psi.entanglement().method(method);
                b.iter(|| black_box(e.von_neumann(&a, LogBase::E).unwrap()))
            });
        }
    }
    let psi = haar_state(20, &mut rng_from_seed(20)).unwrap();
    let scattered: Vec<usize> = (0..20).step_by(2).collect();
    group.bench_function("scattered_cut_n20_gram", |b| {
        let e = psi.entanglement();
        b.iter(|| black_box(e.von_neumann(&scattered, LogBase::E).unwrap()))
    });
    group.bench_function("profile_n20", |b| {
        let e = psi.entanglement();
        b.iter(|| black_box(e.profile(LogBase::E).unwrap()))
    });
    drop(psi);
    let psi = haar_state(24, &mut rng_from_seed(24)).unwrap();
    group.bench_function("half_cut_n24_gram", |b| {
        let e = psi.entanglement();
        b.iter(|| black_box(e.von_neumann(&half_cut(24), LogBase::E).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, entropy);
criterion_main!(benches);
