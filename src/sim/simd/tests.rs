use super::*;

fn random(len: usize, seed: u64) -> Vec<C64> {
    // A small LCG keeps this test independent of the rand streams used elsewhere.
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    (0..len).map(|_| C64::new(next(), next())).collect()
}

fn assert_close(a: &[C64], b: &[C64]) {
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).norm() <= 4.0 * f64::EPSILON, "{x} vs {y}");
    }
}

/// On a CPU with AVX-512, its paths give the AVX2 paths' bits for every placement.
#[test]
#[cfg(target_arch = "x86_64")]
fn avx512_paths_equal_avx2_bit_for_bit() {
    if !Cpu::detect().avx512() {
        return;
    }
    let m2 = [M, [M[3], M[0], M[1], M[2]]];
    let bits = |x: &[C64]| -> Vec<(u64, u64)> {
        x.iter().map(|a| (a.re.to_bits(), a.im.to_bits())).collect()
    };
    for len in [4usize, 8, 64] {
        for t in (0..len.trailing_zeros() as usize).take(5) {
            let x = random(len, (len + t) as u64);
            let (mut wide, mut narrow) = (x.clone(), x.clone());
            // SAFETY: both feature sets are present (checked above).
            unsafe {
                avx512::select_blocks::<avx512::Complex>(&mut wide, None, t, &[M, M]);
                avx2::dense_blocks(&mut narrow, t, &M);
            }
            assert_eq!(bits(&wide), bits(&narrow), "dense on {t}, {len} amplitudes");
            for c in (0..len.trailing_zeros() as usize).filter(|&c| c != t) {
                let (mut wide, mut narrow) = (x.clone(), x.clone());
                unsafe {
                    avx512::select_blocks::<avx512::Complex>(&mut wide, Some(c), t, &m2);
                    avx2::select_dense_blocks(&mut narrow, c, t, &m2);
                }
                assert_eq!(bits(&wide), bits(&narrow), "select {c} → {t}, {len}");
            }
        }
        let (lo, hi) = (random(len, 5), random(len, 6));
        for c in (0..len.trailing_zeros() as usize).take(4) {
            let (mut wl, mut wh, mut nl, mut nh) = (lo.clone(), hi.clone(), lo.clone(), hi.clone());
            unsafe {
                avx512::select_pairs::<avx512::Complex>(&mut wl, &mut wh, c, &m2);
                avx2::select_dense_pairs(&mut nl, &mut nh, c, &m2);
            }
            assert_eq!(
                (bits(&wl), bits(&wh)),
                (bits(&nl), bits(&nh)),
                "pairs, control {c}"
            );
        }
        let (mut wl, mut wh, mut nl, mut nh) = (lo.clone(), hi.clone(), lo.clone(), hi.clone());
        unsafe {
            avx512::dense::<avx512::Complex>(&mut wl, &mut wh, &M);
            avx2::dense(&mut nl, &mut nh, &M);
        }
        assert_eq!((bits(&wl), bits(&wh)), (bits(&nl), bits(&nh)), "dense runs");
        let (mut wide, mut narrow) = (lo.clone(), lo.clone());
        unsafe {
            avx512::scale_by_table(&mut wide, &hi, M[1]);
            avx2::scale_by_table(&mut narrow, &hi, M[1]);
        }
        assert_eq!(bits(&wide), bits(&narrow), "table");
    }
}

/// On real matrices the real arithmetic gives the complex arithmetic's values (equal as
/// numbers: only the sign of an exact zero may differ), for every placement.
#[test]
#[cfg(target_arch = "x86_64")]
fn real_arithmetic_equals_complex_on_real_matrices() {
    if !Cpu::detect().avx512() {
        return;
    }
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let r = |x: f64| C64::new(x, 0.0);
    let m2 = [[r(h), r(h), r(h), r(-h)], [r(h), r(-h), r(h), r(h)]];
    let len = 64;
    let x = random(len, 11);
    for t in 0..6 {
        for c in (0..6).map(Some).chain([None]).filter(|&c| c != Some(t)) {
            let (mut real, mut complex) = (x.clone(), x.clone());
            // SAFETY: AVX-512F, AVX2 and FMA are present (checked above).
            unsafe {
                avx512::select_blocks::<avx512::Real>(&mut real, c, t, &m2);
                avx512::select_blocks::<avx512::Complex>(&mut complex, c, t, &m2);
            }
            assert_eq!(real, complex, "control {c:?}, target {t}");
            // The dispatcher takes the real path for these matrices.
            let mut dispatched = x.clone();
            match c {
                Some(c) => select_dense_blocks(&mut dispatched, c, t, &m2, Cpu::detect()),
                None => dense_blocks(&mut dispatched, t, &m2[0], Cpu::detect()),
            }
            assert_eq!(dispatched, real, "dispatched, control {c:?}, target {t}");
        }
    }
    let (lo, hi) = (random(len, 12), random(len, 13));
    for c in 0..5 {
        let (mut rl, mut rh, mut cl, mut ch) = (lo.clone(), hi.clone(), lo.clone(), hi.clone());
        unsafe {
            avx512::select_pairs::<avx512::Real>(&mut rl, &mut rh, c, &m2);
            avx512::select_pairs::<avx512::Complex>(&mut cl, &mut ch, c, &m2);
        }
        assert_eq!((rl, rh), (cl, ch), "pairs, control {c}");
    }
    let (mut rl, mut rh, mut cl, mut ch) = (lo.clone(), hi.clone(), lo.clone(), hi.clone());
    unsafe {
        avx512::dense::<avx512::Real>(&mut rl, &mut rh, &m2[1]);
        avx512::dense::<avx512::Complex>(&mut cl, &mut ch, &m2[1]);
    }
    assert_eq!((rl, rh), (cl, ch), "dense runs");
}

/// The tiny path gives the general AVX2 paths' bits on every placement of 4–16 amplitudes,
/// from a matrix in memory and from an affine form.
#[test]
#[cfg(target_arch = "x86_64")]
fn tiny_paths_equal_the_general_paths_bit_for_bit() {
    if !Cpu::detect().avx512() {
        return;
    }
    let m2 = [M, [M[3], M[0], M[1], M[2]]];
    let bits = |x: &[C64]| -> Vec<(u64, u64)> {
        x.iter().map(|a| (a.re.to_bits(), a.im.to_bits())).collect()
    };
    for len in [4usize, 8, 16] {
        let n = len.trailing_zeros() as usize;
        for t in 0..n {
            for c in (0..n).map(Some).chain([None]).filter(|&c| c != Some(t)) {
                let x = random(len, (7 * len + t) as u64);
                let (mut tiny, mut general) = (x.clone(), x.clone());
                assert!(tiny_select(&mut tiny, c, t, &m2, Cpu::detect()));
                // SAFETY: AVX2 and FMA are present (AVX-512 was checked above).
                unsafe {
                    match c {
                        Some(c) => avx2::select_dense_blocks(&mut general, c, t, &m2),
                        None => avx2::dense_blocks(&mut general, t, &m2[0]),
                    }
                }
                assert_eq!(
                    bits(&tiny),
                    bits(&general),
                    "{len}: control {c:?}, target {t}"
                );
                // The affine form c + a·cos + b·sin with a = b = 0 is the matrix itself.
                let zero = [C64::new(0.0, 0.0); 8];
                let entries: Vec<C64> = match c {
                    Some(_) => m2.iter().flatten().copied().collect(),
                    None => m2[0].to_vec(),
                };
                let k = entries.len();
                let mut affine = x.clone();
                let parts = [&entries[..], &zero[..k], &zero[..k]];
                assert!(tiny_affine(
                    &mut affine,
                    c,
                    t,
                    parts,
                    (0.3, 0.7),
                    Cpu::detect()
                ));
                assert_eq!(bits(&affine), bits(&general), "affine, {len}: {c:?}, {t}");
            }
        }
    }
}

const M: [C64; 4] = [
    C64::new(0.6, 0.1),
    C64::new(-0.3, 0.7),
    C64::new(0.2, -0.5),
    C64::new(0.8, 0.05),
];

/// Every instruction set this CPU has, and the portable loops.
fn every_cpu() -> Vec<Cpu> {
    let cpu = Cpu::detect();
    let mut all = vec![Cpu::portable()];
    if cpu.avx2() {
        all.push(cpu.without_avx512());
    }
    if cpu.avx512() {
        all.push(cpu);
    }
    all
}

#[test]
fn dispatched_loops_match_the_portable_formulas() {
    for cpu in every_cpu() {
        dispatched_loops_match_on(cpu);
    }
}

fn dispatched_loops_match_on(cpu: Cpu) {
    for len in [0, 1, 2, 3, 4, 7, 8, 33] {
        let (x, y) = (random(len, 1), random(len, 2));
        let (mut lo, mut hi) = (x.clone(), y.clone());
        dense(&mut lo, &mut hi, &M, cpu);
        let want_lo: Vec<C64> = x.iter().zip(&y).map(|(a, b)| M[0] * a + M[1] * b).collect();
        let want_hi: Vec<C64> = x.iter().zip(&y).map(|(a, b)| M[2] * a + M[3] * b).collect();
        assert_close(&lo, &want_lo);
        assert_close(&hi, &want_hi);

        let mut scaled = x.clone();
        scale(&mut scaled, M[1], cpu);
        let want: Vec<C64> = x.iter().map(|a| M[1] * a).collect();
        assert_close(&scaled, &want);
    }
    let m2 = [M, [M[3], M[0], M[1], M[2]]];
    for (c, t) in [
        (0, 1),
        (1, 0),
        (0, 3),
        (3, 0),
        (1, 2),
        (2, 1),
        (1, 3),
        (3, 1),
        (2, 3),
    ] {
        let x = random(32, (10 * c + t) as u64);
        let want: Vec<C64> = (0..32usize)
            .map(|i| {
                let (a, b) = (x[i & !(1 << t)], x[i | 1 << t]);
                let m = &m2[i >> c & 1];
                if i >> t & 1 == 0 {
                    m[0] * a + m[1] * b
                } else {
                    m[2] * a + m[3] * b
                }
            })
            .collect();
        let mut blocks = x.clone();
        select_dense_blocks(&mut blocks, c, t, &m2, cpu);
        assert_close(&blocks, &want);
        if c < t {
            let mut pairs = x.clone();
            for block in pairs.chunks_exact_mut(2 << t) {
                let (lo, hi) = block.split_at_mut(1 << t);
                select_dense_pairs(lo, hi, c, &m2, cpu);
            }
            assert_close(&pairs, &want);
        }
    }
    for len in [1, 2, 4, 8, 64, 256] {
        let x = random(len, 9);
        for q in 0..len.trailing_zeros() as usize {
            let want: f64 = x
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    if i >> q & 1 == 0 {
                        a.norm_sqr()
                    } else {
                        -a.norm_sqr()
                    }
                })
                .sum();
            assert!(
                (z_sum(&x, q, cpu) - want).abs() <= 1e-14,
                "len {len}, qubit {q}"
            );
        }
    }
    for len in [1, 2, 5, 64] {
        let (x, table) = (random(len, 7), random(len, 8));
        let mut scaled = x.clone();
        scale_by_table(&mut scaled, &table, M[2], cpu);
        let want: Vec<C64> = x.iter().zip(&table).map(|(a, t)| t * M[2] * a).collect();
        assert_close(&scaled, &want);
    }
    for t in 0..4 {
        let x = random(32, t as u64 + 3);
        let bit = |i: usize| i >> t & 1;
        for d in [[M[0], M[3]], [C64::new(1.0, 0.0), M[2]]] {
            let mut diag = x.clone();
            diagonal_blocks(&mut diag, t, d, cpu);
            let want: Vec<C64> = x.iter().enumerate().map(|(i, a)| d[bit(i)] * a).collect();
            assert_close(&diag, &want);
        }
        let mut blocks = x.clone();
        dense_blocks(&mut blocks, t, &M, cpu);
        let want: Vec<C64> = (0..32)
            .map(|i| {
                let (a, b) = (x[i & !(1 << t)], x[i | 1 << t]);
                if bit(i) == 0 {
                    M[0] * a + M[1] * b
                } else {
                    M[2] * a + M[3] * b
                }
            })
            .collect();
        assert_close(&blocks, &want);
    }
}
