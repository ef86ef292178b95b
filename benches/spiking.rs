//! One step of the spiking layers at batch 1 with one sub-step (one membrane update and one
//! spike decision per neuron), each reading 8 inputs and carrying its state: LIF of 1,024
//! neurons, and 64 qLIF pairs in each coupling (entangled: a two-qubit state per pair;
//! classical control; independent).
//!
//! `cargo bench --bench spiking`

use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::{Array1, Array2};
use qloop::rng::Stream;
use qloop::train::{AnyLayer, Coupling, Lif, Membrane, Network, QLifPair};

fn bench_step(c: &mut Criterion, name: &str, layer: AnyLayer) {
    let net = Network::new(vec![layer]).unwrap();
    let params = net.init(Stream::new(1));
    let x = Array2::from_shape_fn((1, 8), |(_, k)| 0.1 * k as f64 - 0.3);
    let dt = Array1::from_elem(1, 0.05);
    let mut state = Array2::zeros((1, net.state_width()));
    c.bench_function(name, |b| {
        b.iter(|| {
            net.step(&params, x.view(), &mut state, dt.view(), Stream::new(0))
                .unwrap()
        })
    });
}

fn spiking(c: &mut Criterion) {
    let membrane = Membrane {
        substeps: 1,
        ..Membrane::default()
    };
    let lif = Lif::new(8, 1024).unwrap().with_membrane(membrane).unwrap();
    bench_step(c, "spiking/lif_1024", lif.into());
    for (name, coupling) in [
        ("entangled", Coupling::Entangled),
        ("classical", Coupling::Classical),
        ("independent", Coupling::Independent),
    ] {
        let pairs = QLifPair::new(8, 64)
            .unwrap()
            .with_membrane(membrane)
            .unwrap()
            .with_coupling(coupling);
        bench_step(c, &format!("spiking/qlif_64_{name}"), pairs.into());
    }
}

criterion_group!(benches, spiking);
criterion_main!(benches);
