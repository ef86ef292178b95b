//! Drawing a 20-qubit, 1,000-gate circuit (seeded random mix of one- and two-qubit gates,
//! parameterized and not): layout alone, standard and Feynman SVG, and text.
//!
//! `cargo bench --bench draw`

use criterion::{criterion_group, criterion_main, Criterion};
use qloop::draw::{Layout, Style, View};
use qloop::{Circuit, Param};
use rand::{Rng, SeedableRng};
use std::hint::black_box;

fn circuit() -> Circuit {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let n = 20;
    let mut c = Circuit::new(n);
    for k in 0..1000 {
        let q = rng.random_range(0..n);
        let r = (q + rng.random_range(1..n)) % n;
        c = match rng.random_range(0..6) {
            0 => c.h(q),
            1 => c.rz(rng.random::<f64>(), q),
            2 => c.ry(Param::weight(format!("theta{k}")), q),
            3 => c.cx(q, r),
            4 => c.rzz(std::f64::consts::FRAC_PI_4, q, r),
            _ => c.cp(0.3, q, r),
        };
    }
    c.measure_all()
}

fn draw(c: &mut Criterion) {
    let circuit = circuit();
    let mut group = c.benchmark_group("draw_n20_1000_gates");
    group.sample_size(20);
    group.bench_function("layout", |b| b.iter(|| black_box(Layout::of(&circuit))));
    group.bench_function("standard_svg", |b| {
        b.iter(|| black_box(circuit.to_svg(&Style::default())))
    });
    group.bench_function("feynman_svg", |b| {
        let style = Style {
            view: View::Feynman,
            ..Style::default()
        };
        b.iter(|| black_box(circuit.to_svg(&style)))
    });
    group.bench_function("text", |b| b.iter(|| black_box(circuit.to_text(Some(80)))));
    group.finish();
}

criterion_group!(benches, draw);
criterion_main!(benches);
