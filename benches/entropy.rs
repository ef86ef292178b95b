//! Entanglement entropy of Haar-random states (full-rank reduced states, the worst case):
//! the half cut by each route (Gram eigenvalues, SVD) and each compiled-in backend at n = 16
//! and 20, a non-contiguous cut (which gathers the matrix first) and the whole profile at
//! n = 20, and the default route at n = 22 and 24.
//!
//! `cargo bench --bench entropy`; `cargo bench --bench entropy -- n24` for the 24-qubit figure
//! only (`benches/peers/entropy.py` times numpy on the same kind of state in the same run); `cargo bench --bench entropy --features lapack -- lapack` for LAPACK (OpenBLAS).

use criterion::{criterion_group, criterion_main, Criterion};
use qloop::entropy::{haar_state, half_cut, Backend, LogBase, Method};
use qloop::measure::rng_from_seed;
use std::hint::black_box;

fn entropy(c: &mut Criterion) {
    let mut group = c.benchmark_group("entropy");
    group.sample_size(10);
    for n in [16usize, 20] {
        let psi = haar_state(n, &mut rng_from_seed(n as u64)).unwrap();
        let a = half_cut(n);
        for backend in Backend::all() {
            for (name, method) in [("gram", Method::Gram), ("svd", Method::Svd)] {
                let id = format!("half_cut_n{n}_{backend:?}_{name}").to_lowercase();
                group.bench_function(id, |b| {
                    let e = psi.entanglement().backend(backend).method(method);
                    b.iter(|| black_box(e.von_neumann(&a, LogBase::E).unwrap()))
                });
            }
        }
    }
    let psi = haar_state(20, &mut rng_from_seed(20)).unwrap();
    let scattered: Vec<usize> = (0..20).step_by(2).collect();
    group.bench_function("scattered_cut_n20", |b| {
        let e = psi.entanglement();
        b.iter(|| black_box(e.von_neumann(&scattered, LogBase::E).unwrap()))
    });
    group.bench_function("profile_n20", |b| {
        let e = psi.entanglement();
        b.iter(|| black_box(e.profile(LogBase::E).unwrap()))
    });
    drop(psi);
    for n in [22, 24] {
        let psi = haar_state(n, &mut rng_from_seed(n as u64)).unwrap();
        group.bench_function(format!("half_cut_n{n}"), |b| {
            let e = psi.entanglement();
            b.iter(|| black_box(e.von_neumann(&half_cut(n), LogBase::E).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, entropy);
criterion_main!(benches);
