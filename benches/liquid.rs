//! One step of the liquid layers at batch 1, the unit of a 1 kHz control loop: LTC (32 units,
//! 6 unfolds), CfC (32 units, backbone 32) and QS-LTC (32 units, 6 unfolds, S = 1, 2, 4, 8),
//! each reading 8 inputs and carrying its state.
//!
//! `cargo bench --bench liquid`

use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::{Array1, Array2};
use qloop::rng::Stream;
use qloop::train::{AnyLayer, Cfc, Ltc, Network, QsLtc};

fn bench_step(c: &mut Criterion, name: &str, layer: AnyLayer) {
    let net = Network::new(vec![layer]).unwrap();
    let params = net.init(Stream::new(1));
    let x = Array2::from_shape_fn((1, 8), |(_, k)| 0.1 * k as f64 - 0.3);
    let dt = Array1::from_elem(1, 1e-3);
    let mut state = Array2::zeros((1, net.state_width()));
    c.bench_function(name, |b| {
        b.iter(|| {
            net.step(&params, x.view(), &mut state, dt.view(), Stream::new(0))
                .unwrap()
        })
    });
}

fn liquid(c: &mut Criterion) {
    bench_step(c, "liquid/ltc_32x6", Ltc::new(8, 32, 6).unwrap().into());
    bench_step(c, "liquid/cfc_32", Cfc::new(8, 32, 32).unwrap().into());
    for s in [1, 2, 4, 8] {
        let layer = QsLtc::new(8, 32, 6, s).unwrap().into();
        bench_step(c, &format!("liquid/qs_ltc_32x6_s{s}"), layer);
    }
}

criterion_group!(benches, liquid);
criterion_main!(benches);
