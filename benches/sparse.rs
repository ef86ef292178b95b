//! The sparse layer's kernel against the dense layer and against `sprs` (CSR matrix ×
//! dense batch) on the same masked weights: 4,096 × 4,096 at 95 % sparsity, batch 1, and
//! 1,024 × 1,024 at 90 %, batch 32. The full sparsity × size × batch table is
//! `cargo run --release --example claims -- sparse`.
//!
//! `cargo bench --bench sparse`

use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array2;
use qloop::rng::Stream;
use qloop::train::{Activation, Layer, SparseDense};
use sprs::CsMatView;

fn case(c: &mut Criterion, units: usize, sparsity: f64, batch: usize) {
    let layer =
        SparseDense::random(units, units, sparsity, Activation::Identity, Stream::new(1)).unwrap();
    let p = layer.init(Stream::new(2));
    let (dense, dp) = layer.to_dense(&p);
    let x = Array2::from_shape_fn((batch, units), |(r, k)| ((r + 3 * k) % 7) as f64 * 0.1);
    let tag = format!("{units}_s{}_b{batch}", (sparsity * 100.0).round());
    c.bench_function(&format!("sparse/dense_{tag}"), |b| {
        b.iter(|| dense.forward(&dp, x.view(), None).unwrap())
    });
    c.bench_function(&format!("sparse/csr_{tag}"), |b| {
        b.iter(|| layer.forward(&p, x.view(), None).unwrap())
    });
    let indptr: Vec<usize> = layer.mask.row_start.iter().map(|&v| v as usize).collect();
    let indices: Vec<usize> = layer.mask.columns.iter().map(|&v| v as usize).collect();
    let w = &p[..layer.mask.nnz()];
    let xt = x.t().as_standard_layout().into_owned();
    c.bench_function(&format!("sparse/sprs_{tag}"), |b| {
        b.iter(|| {
            let m = CsMatView::new((units, units), &indptr, &indices, w);
            &m * &xt
        })
    });
}

fn sparse(c: &mut Criterion) {
    case(c, 4096, 0.95, 1);
    case(c, 1024, 0.9, 32);
}

criterion_group!(benches, sparse);
criterion_main!(benches);
