//! Simulator benchmarks (seeded). Groups:
//! - `bandwidth`: in-place read+write of a 2^n-amplitude state (the memory bound per gate);
//! - `layers` (workload W1): 10 layers of [H on every qubit, CNOT chain, RZ(θ) on every qubit],
//!   n = 16, 20, 24, cache-blocked (the default) and, at n = 16 and 20, one pass per gate;
//!   throughput is 32·2^n bytes per gate, so criterion's GiB/s compares with `bandwidth`;
//! - `small` (W2): 3 such layers at n = 4, 8, 12 with new random angles per evaluation, ⟨Z₀⟩,
//!   one at a time (`eval_z0`) and 1024 per `run_batch` on every thread (`batch_z0`);
//! - `blocking`: the W1 circuit at n = 22 for several chunk sizes (chooses the default);
//! - `threshold`: one dense gate, serial vs rayon, n = 10..=18 (chooses `Par::THRESHOLD_QUBITS`);
//! - `fusion`: fixed circuits at n = 20, fused (`compile`) against unfused (`compile_unfused`):
//!   quantum-volume-like layers (random pairs, each `u u cx u u cx u u cx u u`, seeded) and the
//!   QFT as `h` + `cp` + `swap`.
//!
//! Filter with e.g. `cargo bench --bench simulator -- small`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use num_complex::Complex64 as C64;
use qloop::batch::{BatchStates, BatchValues};
use qloop::train::ansatz::seed_layers;
use qloop::{Blocking, Circuit, Par, StateVector};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::hint::black_box;

fn bandwidth(c: &mut Criterion) {
    let mut group = c.benchmark_group("bandwidth");
    group.sample_size(10);
    for n in [20, 24] {
        let mut amps = vec![C64::new(0.5, 0.25); 1 << n];
        group.throughput(Throughput::Bytes(32 << n));
        let factor = C64::new(0.0, 1.0);
        group.bench_function(BenchmarkId::new("scale_in_place_rayon", n), |b| {
            b.iter(|| {
                amps.par_chunks_mut(1 << 13)
                    .for_each(|ch| ch.iter_mut().for_each(|a| *a *= factor))
            })
        });
        group.bench_function(BenchmarkId::new("scale_in_place_seq", n), |b| {
            b.iter(|| amps.iter_mut().for_each(|a| *a *= factor))
        });
    }
    group.finish();
}

/// The W1 program at `n` qubits with seeded angles.
fn w1(n: usize, blocking: Blocking) -> (qloop::Program, Vec<f64>) {
    let program = seed_layers(n, 10)
        .compile()
        .unwrap()
        .with_blocking(blocking);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let weights = (0..program.layout().weights.len())
        .map(|_| rng.random::<f64>())
        .collect();
    (program, weights)
}

fn layers(c: &mut Criterion) {
    let mut group = c.benchmark_group("layers");
    group.sample_size(10);
    for n in [16, 20, 24] {
        let gates = (10 * (3 * n - 1)) as u64;
        let mut state = StateVector::zero(n).unwrap();
        group.throughput(Throughput::Bytes(gates * (32 << n)));
        let mut variants = vec![("blocked", Blocking::default())];
        if n < 24 {
            variants.push(("unblocked", Blocking::Off));
        }
        for (label, blocking) in variants {
            let (program, weights) = w1(n, blocking);
            for (name, par) in [("rayon", Par::Rayon), ("seq", Par::Seq)] {
                group.bench_function(BenchmarkId::new(format!("{label}_{name}"), n), |b| {
                    b.iter(|| program.run(&weights, &[], &mut state, par).unwrap())
                });
            }
        }
    }
    group.finish();
}

fn small(c: &mut Criterion) {
    let mut group = c.benchmark_group("small");
    for n in [4, 8, 12] {
        let program = seed_layers(n, 3).compile().unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let mut weights = vec![0.0; program.layout().weights.len()];
        let mut state = StateVector::zero(n).unwrap();
        group.bench_function(BenchmarkId::new("eval_z0", n), |b| {
            b.iter(|| {
                weights.iter_mut().for_each(|w| *w = rng.random::<f64>());
                program.run(&weights, &[], &mut state, Par::Seq).unwrap();
                black_box(state.expectation_z(0).unwrap())
            })
        });
        // The same evaluations through `run_batch`: one state per thread, rows split between
        // the threads (reported per evaluation).
        let rows = 1024;
        let mut states = BatchStates::per_thread(n).unwrap();
        let mut batch_weights = vec![0.0; rows * weights.len()];
        let mut z0 = vec![0.0; rows];
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(BenchmarkId::new("batch_z0", n), |b| {
            b.iter(|| {
                batch_weights
                    .iter_mut()
                    .for_each(|w| *w = rng.random::<f64>());
                program
                    .run_batch(
                        BatchValues::PerRow(&batch_weights),
                        BatchValues::Shared(&[]),
                        &mut states,
                        &mut z0,
                        1,
                        |_, psi, out| {
                            out[0] = psi.expectation_z(0)?;
                            Ok(())
                        },
                    )
                    .unwrap();
                black_box(z0[0])
            })
        });
        group.throughput(Throughput::Elements(1));
    }
    group.finish();
}

fn blocking(c: &mut Criterion) {
    let mut group = c.benchmark_group("blocking");
    group.sample_size(10);
    let n = 22;
    let mut state = StateVector::zero(n).unwrap();
    for k in [10, 12, 14, 16, 18, 20] {
        let (program, weights) = w1(n, Blocking::Qubits(k));
        group.bench_function(BenchmarkId::new("chunk_qubits", k), |b| {
            b.iter(|| program.run(&weights, &[], &mut state, Par::Rayon).unwrap())
        });
    }
    group.finish();
}

fn threshold(c: &mut Criterion) {
    let mut group = c.benchmark_group("threshold");
    for n in (10..=18).step_by(2) {
        let program = Circuit::new(n)
            .h(0)
            .h(n - 1)
            .cx(0, n - 1)
            .rz(0.3, n / 2)
            .compile()
            .unwrap();
        let mut state = StateVector::zero(n).unwrap();
        for (name, par) in [("seq", Par::Seq), ("rayon", Par::Rayon)] {
            group.bench_function(BenchmarkId::new(name, n), |b| {
                b.iter(|| program.apply(&[], &[], &mut state, par).unwrap())
            });
        }
    }
    group.finish();
}

/// Ten layers of random pairs, each pair `u u cx u u cx u u cx u u` with random angles: the
/// shape of a quantum-volume circuit transpiled to `u` + `cx`.
fn volume_like(n: usize, seed: u64) -> Circuit {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut c = Circuit::new(n);
    let angle = |rng: &mut rand::rngs::StdRng| (rng.random::<f64>() - 0.5) * 6.0;
    for _ in 0..10 {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        for pair in order.chunks_exact(2) {
            let (a, b) = (pair[0], pair[1]);
            for k in 0..4 {
                for q in [a, b] {
                    let (x, y, z) = (angle(&mut rng), angle(&mut rng), angle(&mut rng));
                    c = c.gate(qloop::Gate::U(x.into(), y.into(), z.into()), &[q]);
                }
                if k < 3 {
                    c = c.cx(a, b);
                }
            }
        }
    }
    c
}

/// The QFT: `h`, controlled phases, then the reversing swaps.
fn qft(n: usize) -> Circuit {
    let mut c = Circuit::new(n);
    for j in (0..n).rev() {
        c = c.h(j);
        for k in (0..j).rev() {
            let phase = std::f64::consts::PI / (1u64 << (j - k)) as f64;
            c = c.gate(qloop::Gate::CP(phase.into()), &[k, j]);
        }
    }
    for q in 0..n / 2 {
        c = c.swap(q, n - 1 - q);
    }
    c
}

fn fusion(c: &mut Criterion) {
    let mut group = c.benchmark_group("fusion");
    group.sample_size(10);
    let n = 20;
    let mut state = StateVector::zero(n).unwrap();
    for (name, circuit) in [("volume", volume_like(n, 3)), ("qft", qft(n))] {
        for (how, program) in [
            ("fused", circuit.compile().unwrap()),
            ("unfused", circuit.compile_unfused().unwrap()),
        ] {
            group.bench_function(BenchmarkId::new(format!("{name}_{how}"), n), |b| {
                b.iter(|| program.run(&[], &[], &mut state, Par::Rayon).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bandwidth, layers, small, blocking, threshold, fusion);
criterion_main!(benches);
