//! The QINN layers against their slow references: the CSR forward against `Dense` on the
//! masked weights (batch 1 and larger, every activation), sparsity 0 against `Dense` itself,
//! magnitude pruning against its definition, the entangled block against a dense trunk and
//! stacked dense heads, masks from seeds, and corrupt masks refused.

use ndarray::Array2;
use qloop::rng::Stream;
use qloop::train::{
    Activation, AnyLayer, Dense, EntangledBlock, Layer, Mask, Network, SparseDense,
};

fn input(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(r, c)| {
        ((r * 31 + c * 17 + seed as usize) % 23) as f64 / 11.0 - 1.0
    })
}

fn max_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn csr_forward_equals_the_dense_forward_of_the_masked_weights() {
    for (inputs, outputs, sparsity) in [(7, 5, 0.5), (64, 33, 0.9), (300, 20, 0.99), (9, 9, 0.0)] {
        for activation in [
            Activation::Identity,
            Activation::Tanh,
            Activation::PhaseTanh,
            Activation::Cnot,
            Activation::Softmax,
        ] {
            let layer =
                SparseDense::random(inputs, outputs, sparsity, activation, Stream::new(3)).unwrap();
            let mut p = layer.init(Stream::new(4));
            // Non-zero biases and phases.
            let n = p.len();
            for (k, v) in p[layer.mask.nnz()..n].iter_mut().enumerate() {
                *v = 0.1 * k as f64 - 0.3;
            }
            let (dense, dp) = layer.to_dense(&p);
            for batch in [1, 2, 32] {
                let x = input(batch, inputs, batch as u64);
                let fast = layer.forward(&p, x.view(), None).unwrap();
                let slow = dense.forward(&dp, x.view(), None).unwrap();
                let tol = 1e-14 * (inputs as f64).sqrt();
                assert!(
                    max_diff(&fast, &slow) < tol,
                    "{inputs}×{outputs} at {sparsity}, {activation:?}, batch {batch}"
                );
            }
        }
    }
}

#[test]
fn sparsity_zero_is_the_dense_layer() {
    let (inputs, outputs) = (12, 6);
    let layer =
        SparseDense::random(inputs, outputs, 0.0, Activation::Tanh, Stream::new(1)).unwrap();
    assert_eq!(layer.mask.nnz(), inputs * outputs);
    assert_eq!(layer.sparsity(), 0.0);
    let dense = Dense::new(inputs, outputs, Activation::Tanh).unwrap();
    // With every weight kept, the CSR order is the dense row-major order.
    let p = dense.init(Stream::new(2));
    assert_eq!(layer.num_params(), dense.num_params());
    let x = input(5, inputs, 1);
    let a = layer.forward(&p, x.view(), None).unwrap();
    let b = dense.forward(&p, x.view(), None).unwrap();
    assert!(max_diff(&a, &b) < 1e-15);
}

#[test]
fn masks_keep_the_rounded_share_of_every_row_and_follow_the_seed() {
    let m = Mask::random(200, 10, 0.95, Stream::new(8)).unwrap();
    for i in 0..10 {
        assert_eq!(m.row(i).len(), 10);
        assert!(m.row(i).windows(2).all(|w| w[0] < w[1]));
    }
    assert_eq!(m, Mask::random(200, 10, 0.95, Stream::new(8)).unwrap());
    assert_ne!(m, Mask::random(200, 10, 0.95, Stream::new(9)).unwrap());
    // No unit is cut off, however sparse.
    let tiny = Mask::random(10, 4, 0.99, Stream::new(1)).unwrap();
    assert!((0..4).all(|i| tiny.row(i).len() == 1));
    for bad in [1.0, -0.1, f64::NAN] {
        let e = Mask::random(10, 4, bad, Stream::new(1)).unwrap_err();
        assert!(e.to_string().contains("sparsity"), "{e}");
    }
}

#[test]
fn magnitude_pruning_keeps_the_largest_weights() {
    let dense = Dense::new(3, 2, Activation::Identity).unwrap();
    // W = [[0.1, -0.9, 0.3], [0.5, -0.2, 0.05]], b = [1, 2].
    let p = [0.1, -0.9, 0.3, 0.5, -0.2, 0.05, 1.0, 2.0];
    let (sparse, sp) = SparseDense::prune(&dense, &p, 0.5).unwrap();
    // Keeps |w| ∈ {0.9, 0.5, 0.3}.
    assert_eq!(sparse.mask.row(0), [1, 2]);
    assert_eq!(sparse.mask.row(1), [0]);
    assert_eq!(sp, [-0.9, 0.3, 0.5, 1.0, 2.0]);
    let x = input(4, 3, 2);
    let (back, bp) = sparse.to_dense(&sp);
    assert_eq!(bp, [0.0, -0.9, 0.3, 0.5, 0.0, 0.0, 1.0, 2.0]);
    let a = sparse.forward(&sp, x.view(), None).unwrap();
    let b = back.forward(&bp, x.view(), None).unwrap();
    assert!(max_diff(&a, &b) < 1e-15);
}

#[test]
fn an_entangled_block_is_a_dense_trunk_with_stacked_heads() {
    let (inputs, hidden, heads, outs) = (5, 8, 3, 2);
    let block = EntangledBlock::new(inputs, hidden, heads, outs, Activation::Tanh).unwrap();
    let p = block.init(Stream::new(6));
    // The same function as Dense(5 → 8, tanh) then Dense(8 → 6) with the heads stacked.
    let trunk = hidden * (inputs + 1);
    let mut stacked: Vec<f64> = p[..trunk].to_vec();
    let head = outs * (hidden + 1);
    for j in 0..heads {
        stacked.extend(&p[trunk + j * head..trunk + j * head + outs * hidden]);
    }
    for j in 0..heads {
        stacked.extend(&p[trunk + j * head + outs * hidden..trunk + (j + 1) * head]);
    }
    let net = Network::new(vec![
        Dense::new(inputs, hidden, Activation::Tanh).unwrap().into(),
        Dense::new(hidden, heads * outs, Activation::Identity)
            .unwrap()
            .into(),
    ])
    .unwrap();
    let x = input(7, inputs, 3);
    let a = block.forward(&p, x.view(), None).unwrap();
    let b = net.forward(&stacked, x.view()).unwrap();
    assert!(max_diff(&a, &b) < 1e-14);
    // One trunk for three heads: H·I + k·O·H multiply-adds per sample.
    let (_, count) = qloop::train::ops::counted(|| block.forward(&p, x.view(), None));
    assert_eq!(
        count.mul_add as usize,
        7 * (hidden * inputs + heads * outs * hidden)
    );
}

#[test]
fn sparse_networks_round_trip_through_json_and_corrupt_masks_are_refused() {
    let layer = SparseDense::random(6, 4, 0.5, Activation::Relu, Stream::new(1)).unwrap();
    let net = Network::new(vec![
        layer.clone().into(),
        EntangledBlock::new(4, 3, 2, 1, Activation::Tanh)
            .unwrap()
            .into(),
    ])
    .unwrap();
    let json = serde_json::to_string(&net).unwrap();
    assert!(json.contains("\"kind\":\"sparse\"") && json.contains("entangled-block"));
    let back: Network = serde_json::from_str(&json).unwrap();
    assert_eq!(back, net);
    let mut bad = layer.clone();
    let last = bad.mask.nnz() - 1;
    bad.mask.columns[last] = 6;
    let e = Network::new(vec![AnyLayer::from(bad)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("column 6 of only 6 inputs"), "{e}");
    let mut bad = layer.clone();
    bad.mask.row_start.pop();
    assert!(Network::new(vec![AnyLayer::from(bad)]).is_err());
    let mut bad = layer;
    bad.mask.columns.swap(0, 1);
    let e = Network::new(vec![AnyLayer::from(bad)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("ascend"), "{e}");
}
