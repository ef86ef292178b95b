//! The dense and select updates with four amplitudes per 512-bit register. The arithmetic is
//! [`super::avx2`]'s, lane for lane (the same fused operations in the same order), so both
//! paths give the same bits; only the shuffles differ. Registers start at multiples of four
//! amplitudes: a gate on qubit 0 or 1 has whole blocks in one register (the halves are
//! exchanged by a shuffle), a gate on a higher qubit pairs registers `2^t` apart. A control on qubit 0 or 1
//! varies within a register (lane-wise coefficients); a higher one is constant over runs of
//! registers (two coefficient sets).

use num_complex::Complex64 as C64;
use std::arch::x86_64::*;

/// A complex coefficient per amplitude slot (four per register): real and imaginary parts,
/// each over both lanes of its slot.
#[derive(Clone, Copy)]
pub(super) struct Coeff {
    re: __m512d,
    im: __m512d,
}

/// Slot `s` of the register gets `z[s]`'s real part in both its lanes.
#[inline(always)]
unsafe fn real_lanes(z: [C64; 4]) -> __m512d {
    _mm512_setr_pd(
        z[0].re, z[0].re, z[1].re, z[1].re, z[2].re, z[2].re, z[3].re, z[3].re,
    )
}

#[inline(always)]
unsafe fn coeff(z: [C64; 4]) -> Coeff {
    Coeff {
        re: real_lanes(z),
        im: _mm512_setr_pd(
            z[0].im, z[0].im, z[1].im, z[1].im, z[2].im, z[2].im, z[3].im, z[3].im,
        ),
    }
}

/// How an update's coefficients multiply the amplitudes: [`Complex`] in general, [`Real`]
/// when every imaginary part is zero (H, X, CX and their products): two fused operations
/// per register instead of four, and no swaps. Both give the same values (a zero imaginary
/// part contributes exact zeros), so the choice never changes a result.
pub(super) trait Arith {
    type C: Copy;
    unsafe fn coeff(z: [C64; 4]) -> Self::C;
    /// `p·a + q·b` slot-wise.
    unsafe fn mul_add(p: Self::C, a: __m512d, q: Self::C, b: __m512d) -> __m512d;
}

pub(super) struct Complex;
pub(super) struct Real;

impl Arith for Complex {
    type C = Coeff;
    #[inline(always)]
    unsafe fn coeff(z: [C64; 4]) -> Coeff {
        coeff(z)
    }
    /// As `avx2::mul_add`, lane for lane.
    #[inline(always)]
    unsafe fn mul_add(p: Coeff, a: __m512d, q: Coeff, b: __m512d) -> __m512d {
        let swapped = _mm512_fmadd_pd(
            q.im,
            _mm512_permute_pd::<0b0101_0101>(b),
            _mm512_mul_pd(p.im, _mm512_permute_pd::<0b0101_0101>(a)),
        );
        _mm512_fmadd_pd(p.re, a, _mm512_fmaddsub_pd(q.re, b, swapped))
    }
}

impl Arith for Real {
    type C = __m512d;
    #[inline(always)]
    unsafe fn coeff(z: [C64; 4]) -> __m512d {
        real_lanes(z)
    }
    /// [`Complex::mul_add`] with its (zero) imaginary terms left out: the same rounding.
    #[inline(always)]
    unsafe fn mul_add(p: __m512d, a: __m512d, q: __m512d, b: __m512d) -> __m512d {
        _mm512_fmadd_pd(p, a, _mm512_mul_pd(q, b))
    }
}

/// The entries `[m00, m01, m10, m11]` as coefficients, slot `s` taking its matrix from
/// `m[select[s]]`.
#[inline(always)]
unsafe fn entries<A: Arith>(m: &[[C64; 4]; 2], [a, b, c, d]: [usize; 4]) -> [A::C; 4] {
    // Written out: closures here would be compiled without the target features.
    [
        A::coeff([m[a][0], m[b][0], m[c][0], m[d][0]]),
        A::coeff([m[a][1], m[b][1], m[c][1], m[d][1]]),
        A::coeff([m[a][2], m[b][2], m[c][2], m[d][2]]),
        A::coeff([m[a][3], m[b][3], m[c][3], m[d][3]]),
    ]
}

/// The coefficient sets of a select update on pair runs with control `c` below the
/// target: for `c` < 2 one lane-wise set (used for every register), else one set per
/// control value.
#[inline(always)]
unsafe fn pair_sets<A: Arith>(m: &[[C64; 4]; 2], c: usize) -> [[A::C; 4]; 2] {
    match c {
        0 => {
            let set = entries::<A>(m, [0, 1, 0, 1]);
            [set, set]
        }
        1 => {
            let set = entries::<A>(m, [0, 0, 1, 1]);
            [set, set]
        }
        _ => [entries::<A>(m, [0; 4]), entries::<A>(m, [1; 4])],
    }
}

/// The select update on runs `lo`, `hi` (aligned to `2^{c+1}`) with [`pair_sets`].
#[inline(always)]
unsafe fn select_pairs_with<A: Arith>(
    lo: &mut [C64],
    hi: &mut [C64],
    c: usize,
    sets: &[[A::C; 4]; 2],
) {
    if c < 2 {
        return pairs_run::<A>(lo, hi, &sets[0]);
    }
    for (k, (x, y)) in lo
        .chunks_exact_mut(1 << c)
        .zip(hi.chunks_exact_mut(1 << c))
        .enumerate()
    {
        pairs_run::<A>(x, y, &sets[k & 1]);
    }
}

/// The two coefficients `(C₀, C₁)` of an in-register update (`t` = 0 or 1): slot `s`
/// computes row `row(s)` of `m[select[s]]` from the shuffled inputs `A` and `B`.
#[inline(always)]
unsafe fn in_register<A: Arith>(m: &[[C64; 4]; 2], t: usize, select: [usize; 4]) -> [A::C; 2] {
    // t = 0: slots (lo, hi, lo, hi) of two pairs; t = 1: (lo, lo, hi, hi) of one block.
    let [r0, r1, r2, r3] = if t == 0 { [0, 2, 0, 2] } else { [0, 0, 2, 2] };
    let [a, b, c, d] = select;
    [
        A::coeff([m[a][r0], m[b][r1], m[c][r2], m[d][r3]]),
        A::coeff([m[a][r0 + 1], m[b][r1 + 1], m[c][r2 + 1], m[d][r3 + 1]]),
    ]
}

/// `lo ← c₀·lo + c₁·hi`, `hi ← c₂·lo + c₃·hi` over runs of whole registers.
#[inline(always)]
unsafe fn pairs_run<A: Arith>(lo: &mut [C64], hi: &mut [C64], c: &[A::C; 4]) {
    for (x, y) in lo.chunks_exact_mut(4).zip(hi.chunks_exact_mut(4)) {
        let (px, py) = (x.as_mut_ptr() as *mut f64, y.as_mut_ptr() as *mut f64);
        let (a, b) = (_mm512_loadu_pd(px), _mm512_loadu_pd(py));
        _mm512_storeu_pd(px, A::mul_add(c[0], a, c[1], b));
        _mm512_storeu_pd(py, A::mul_add(c[2], a, c[3], b));
    }
}

/// The update of a gate on qubit `t` ∈ {0, 1} over whole registers: `A`, `B` hold each
/// slot's pair partners (lo and hi), the result is `C₀·A + C₁·B`.
#[inline(always)]
unsafe fn in_register_run<A: Arith>(x: &mut [C64], t: usize, [c0, c1]: [A::C; 2]) {
    for r in x.chunks_exact_mut(4) {
        let p = r.as_mut_ptr() as *mut f64;
        let v = _mm512_loadu_pd(p);
        let (a, b) = if t == 0 {
            (_mm512_permutex_pd::<0x44>(v), _mm512_permutex_pd::<0xEE>(v))
        } else {
            (
                _mm512_shuffle_f64x2::<0x44>(v, v),
                _mm512_shuffle_f64x2::<0xEE>(v, v),
            )
        };
        _mm512_storeu_pd(p, A::mul_add(c0, a, c1, b));
    }
}

/// [`TINY_INDICES`] for control `c` (4: none), target `t`, register `r`, coefficient `k`.
const fn tiny_indices() -> [[[[i64; 8]; 4]; 4]; 20] {
    let mut table = [[[[0; 8]; 4]; 4]; 20];
    let mut entry = 0;
    while entry < 20 {
        let (c, t) = (entry / 4, entry % 4);
        let mut r = 0;
        while r < 4 {
            let mut lane = 0;
            while lane < 8 {
                // Lane pair (2j, 2j + 1) holds amplitude i = 4r + j: row b = bit t of i of
                // the matrix m[s], s = bit c of i, whose entries (m_b0, m_b1) start at
                // double 8s + 4b of [m[0], m[1]].
                let i = 4 * r + lane / 2;
                let b = (i >> t) & 1;
                let s = if c == 4 { 0 } else { (i >> c) & 1 };
                let mut k = 0;
                while k < 4 {
                    table[entry][r][k][lane] = (8 * s + 4 * b + k) as i64;
                    k += 1;
                }
                lane += 1;
            }
            r += 1;
        }
        entry += 1;
    }
    table
}

/// For each (control or none, target) below 4 and each register, the index vectors that
/// pick `(Re P, Im P, Re Q, Im Q)` from `[m[0], m[1]]` (16 doubles), both lanes of a slot
/// alike: amplitude `i` becomes `P·ψ_{i with bit t clear} + Q·ψ_{i with bit t set}`.
static TINY_INDICES: [[[[i64; 8]; 4]; 4]; 20] = tiny_indices();

/// The eight complex entries `z[0..4]`, `z[4..8]` as two registers, loaded 128 bits at a
/// time: a matrix just written entry by entry (a kernel built on the way here) forwards
/// from those stores, where one 512-bit load would wait for them to retire.
#[inline(always)]
unsafe fn load_entries(z: *const C64) -> __m512d {
    // Written out: closures here would be compiled without the target features.
    let low = _mm512_castpd128_pd512(_mm_loadu_pd(z as *const f64));
    let low = _mm512_insertf64x2::<1>(low, _mm_loadu_pd(z.add(1) as *const f64));
    let low = _mm512_insertf64x2::<2>(low, _mm_loadu_pd(z.add(2) as *const f64));
    _mm512_insertf64x2::<3>(low, _mm_loadu_pd(z.add(3) as *const f64))
}

/// [`super::tiny_select`]: `x` holds 4, 8 or 16 amplitudes and qubits `c`, `t`.
#[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
pub(super) unsafe fn tiny_select(x: &mut [C64], c: Option<usize>, t: usize, m: &[[C64; 4]; 2]) {
    let (m0, m1) = (load_entries(m[0].as_ptr()), load_entries(m[1].as_ptr()));
    tiny_update(x, c, t, m0, m1);
}

/// [`super::tiny_affine`]: `parts` are `[c, a, b]` of 4 (uncontrolled) or 8 entries.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn tiny_affine(
    x: &mut [C64],
    c: Option<usize>,
    t: usize,
    parts: [&[C64]; 3],
    (sin, cos): (f64, f64),
) {
    let (sin, cos) = (_mm512_set1_pd(sin), _mm512_set1_pd(cos));
    let m0 = affine_half(parts, 0, sin, cos);
    let m1 = match parts[0].len() {
        8 => affine_half(parts, 4, sin, cos),
        _ => m0,
    };
    tiny_update(x, c, t, m0, m1);
}

/// Entries `k..k + 4` of `(c + a·cos) + b·sin`, `parts = [c, a, b]`, rounded as the
/// program's scalar `Affine::at` rounds them (no fused operations): the same matrix.
#[inline(always)]
unsafe fn affine_half(parts: [&[C64]; 3], k: usize, sin: __m512d, cos: __m512d) -> __m512d {
    let [c, a, b] = parts.map(|part| part[k..k + 4].as_ptr() as *const f64);
    let (c, a, b) = (_mm512_loadu_pd(c), _mm512_loadu_pd(a), _mm512_loadu_pd(b));
    _mm512_add_pd(
        _mm512_add_pd(c, _mm512_mul_pd(a, cos)),
        _mm512_mul_pd(b, sin),
    )
}

/// The tiny select update with the matrices `m[0]`, `m[1]` in registers.
#[inline(always)]
unsafe fn tiny_update(x: &mut [C64], c: Option<usize>, t: usize, m0: __m512d, m1: __m512d) {
    let p = x.as_mut_ptr() as *mut f64;
    let indices = &TINY_INDICES[4 * c.unwrap_or(4) + t];
    // Register count and target as constants, so that the state stays in registers.
    match (x.len() / 4, t) {
        (1, 0) => tiny_registers::<1, 0>(p, indices, m0, m1),
        (1, _) => tiny_registers::<1, 1>(p, indices, m0, m1),
        (2, 0) => tiny_registers::<2, 0>(p, indices, m0, m1),
        (2, 1) => tiny_registers::<2, 1>(p, indices, m0, m1),
        (2, _) => tiny_registers::<2, 2>(p, indices, m0, m1),
        (_, 0) => tiny_registers::<4, 0>(p, indices, m0, m1),
        (_, 1) => tiny_registers::<4, 1>(p, indices, m0, m1),
        (_, 2) => tiny_registers::<4, 2>(p, indices, m0, m1),
        (_, _) => tiny_registers::<4, 3>(p, indices, m0, m1),
    }
}

/// [`tiny_update`] on `R` registers at `p`, target `T`.
#[inline(always)]
unsafe fn tiny_registers<const R: usize, const T: usize>(
    p: *mut f64,
    indices: &[[[i64; 8]; 4]; 4],
    m0: __m512d,
    m1: __m512d,
) {
    let mut v = [_mm512_setzero_pd(); R];
    for (r, reg) in v.iter_mut().enumerate() {
        *reg = _mm512_loadu_pd(p.add(8 * r));
    }
    let mut out = [_mm512_setzero_pd(); R];
    for (r, reg) in out.iter_mut().enumerate() {
        let (a, b) = match T {
            0 => (
                _mm512_permutex_pd::<0x44>(v[r]),
                _mm512_permutex_pd::<0xEE>(v[r]),
            ),
            1 => (
                _mm512_shuffle_f64x2::<0x44>(v[r], v[r]),
                _mm512_shuffle_f64x2::<0xEE>(v[r], v[r]),
            ),
            _ => (v[r & !(1 << (T - 2))], v[r | 1 << (T - 2)]),
        };
        let [pr, pi, qr, qi] = &indices[r];
        let (pr, pi) = (
            _mm512_loadu_epi64(pr.as_ptr()),
            _mm512_loadu_epi64(pi.as_ptr()),
        );
        let (qr, qi) = (
            _mm512_loadu_epi64(qr.as_ptr()),
            _mm512_loadu_epi64(qi.as_ptr()),
        );
        let coeff_p = Coeff {
            re: _mm512_permutex2var_pd(m0, pr, m1),
            im: _mm512_permutex2var_pd(m0, pi, m1),
        };
        let coeff_q = Coeff {
            re: _mm512_permutex2var_pd(m0, qr, m1),
            im: _mm512_permutex2var_pd(m0, qi, m1),
        };
        *reg = Complex::mul_add(coeff_p, a, coeff_q, b);
    }
    for (r, reg) in out.iter().enumerate() {
        _mm512_storeu_pd(p.add(8 * r), *reg);
    }
}

/// `d·x` slot-wise, `d` given as a [`Coeff`].
#[inline(always)]
unsafe fn mul(d: Coeff, x: __m512d) -> __m512d {
    _mm512_fmaddsub_pd(
        d.re,
        x,
        _mm512_mul_pd(d.im, _mm512_permute_pd::<0b0101_0101>(x)),
    )
}

#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn scale_by_table(x: &mut [C64], table: &[C64], f: C64) {
    let f = coeff([f; 4]);
    for (r, entry) in x.chunks_exact_mut(4).zip(table.chunks_exact(4)) {
        let p = r.as_mut_ptr() as *mut f64;
        // d = t·f, then d·x with d's parts duplicated over each slot (as `avx`).
        let d = mul(f, _mm512_loadu_pd(entry.as_ptr() as *const f64));
        let d = Coeff {
            re: _mm512_movedup_pd(d),
            im: _mm512_permute_pd::<0b1111_1111>(d),
        };
        _mm512_storeu_pd(p, mul(d, _mm512_loadu_pd(p)));
    }
}

#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn dense<A: Arith>(lo: &mut [C64], hi: &mut [C64], m: &[C64; 4]) {
    pairs_run::<A>(lo, hi, &entries::<A>(&[*m, *m], [0; 4]));
}

/// [`super::select_dense_pairs`] on runs of whole registers.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn select_pairs<A: Arith>(
    lo: &mut [C64],
    hi: &mut [C64],
    c: usize,
    m: &[[C64; 4]; 2],
) {
    select_pairs_with::<A>(lo, hi, c, &pair_sets::<A>(m, c));
}

/// `|0⟩⟨0|_c ⊗ m[0] + |1⟩⟨1|_c ⊗ m[1]` on target `t` of `x` (`c = None`: `m[0]`
/// everywhere), whose length is a multiple of 4 and of `2^{max(c,t)+1}`.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn select_blocks<A: Arith>(
    x: &mut [C64],
    c: Option<usize>,
    t: usize,
    m: &[[C64; 4]; 2],
) {
    if t >= 2 {
        let stride = 1 << t;
        match c {
            None => {
                let set = entries::<A>(m, [0; 4]);
                for block in x.chunks_exact_mut(2 * stride) {
                    let (lo, hi) = block.split_at_mut(stride);
                    pairs_run::<A>(lo, hi, &set);
                }
            }
            Some(c) if c < t => {
                let sets = pair_sets::<A>(m, c);
                for block in x.chunks_exact_mut(2 * stride) {
                    let (lo, hi) = block.split_at_mut(stride);
                    select_pairs_with::<A>(lo, hi, c, &sets);
                }
            }
            Some(c) => {
                // Block k starts at k·2^{t+1}: its bit c picks the matrix.
                let sets = [entries::<A>(m, [0; 4]), entries::<A>(m, [1; 4])];
                for (k, block) in x.chunks_exact_mut(2 * stride).enumerate() {
                    let (lo, hi) = block.split_at_mut(stride);
                    pairs_run::<A>(lo, hi, &sets[(k >> (c - t - 1)) & 1]);
                }
            }
        }
        return;
    }
    match c {
        None => in_register_run::<A>(x, t, in_register::<A>(m, t, [0; 4])),
        // The control is the other of qubits 0 and 1: it varies within each register.
        Some(c) if c < 2 => {
            let select = if t == 0 { [0, 0, 1, 1] } else { [0, 1, 0, 1] };
            in_register_run::<A>(x, t, in_register::<A>(m, t, select));
        }
        Some(c) => {
            let sets = [
                in_register::<A>(m, t, [0; 4]),
                in_register::<A>(m, t, [1; 4]),
            ];
            for (k, run) in x.chunks_exact_mut(1 << c).enumerate() {
                in_register_run::<A>(run, t, sets[k & 1]);
            }
        }
    }
}
