//! The loops of fused blocks ([`crate::sim::block`]) on AVX-512 (four amplitudes per
//! register) and AVX2 (two), written once over the [`Wide`] register type.
//!
//! **Dense.** A register holds `W` consecutive amplitudes; the block's qubits below
//! `log₂ W` (its *lane qubits*, `L` of them) vary inside it, the others (`H`) select one of
//! `2^H` registers `v_y` at fixed offsets from a base. With `P_s` the lane permutation by
//! which every lane reads the lane whose lane-qubit bits are `s` (`2^L` of them), the others
//! its own,
//!
//! `out_y = Σ_{y', s} C[y][y'][s] ⊙ P_s(v_{y'})`,
//!
//! where lane `l` of `C[y][y'][s]` is `M[row(l, y)][row(l|s, y')]` (`l|s`: `l` with its
//! lane-qubit bits set to `s`). The terms go in the order of the input's local index `s +
//! 2^L y'`, the same for every lane and every register width, and the first term is a
//! product: AVX-512, AVX2 and the single-precision widths give the same bits for the same
//! block whichever of its qubits are lane qubits. A complex lane-wise
//! product `c ⊙ v` is `Re c·v + Im c·(−im, re)` with `v = (re, im)` per amplitude, so each
//! output sums `Σ Re c·v` and `Σ Im c·(−im, re)` in two accumulators and adds them once.
//! Without lane qubits every lane has the same coefficient: the loop broadcasts the entries
//! and negates the real half of each swapped input once. Otherwise it loads per-lane
//! coefficient registers whose imaginary parts carry that sign (`−Im` in the real half). Sign
//! flips are exact, so the sum has the bits of `a ∓ b` formed by a `fmaddsub`, one operation
//! instead of the three the compiler makes of it. Two fused multiply-adds per term, `2^{k−1}`
//! per amplitude for a `k`-qubit block on AVX-512.
//!
//! **Diagonal.** One row of 16 factors per value of the block's qubits from 4 up; a group of
//! 16 amplitudes is multiplied lane-wise by its row.

use super::Cpu;
use crate::aligned::Aligned;
use num_complex::Complex64 as C64;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Coefficient registers of a dense block for one register width: for each `(y, y', s)`,
/// real parts then signed imaginary parts (`−Im` in the real half of each lane, `+Im` in the
/// imaginary half), `2·W` doubles each.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LaneTable {
    /// From a cache line, as the states: each register-sized entry loads from one line.
    coef: Aligned<f64>,
}

/// A dense block's entries as `(re, im)` pairs, row-major: what the loop broadcasts when no
/// lane qubit is in the block (every lane then has the same coefficient).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalars {
    entries: Vec<f64>,
}

/// The precomputed forms of a dense block for both register widths, and the lane qubits
/// they assume.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DenseLanes {
    /// The block's qubits below 2, as a bit mask.
    low2: usize,
    /// Its qubits below 1 (AVX2's lane qubit).
    low1: usize,
    w4: LaneTable,
    w2: LaneTable,
    scalars: Scalars,
}

/// Lane qubits (as a mask over the qubits below `log₂ w`), the local positions of the lane
/// qubits and of the others, for a block on `qubits` with `w` amplitudes per register.
fn split_lanes(qubits: &[usize], w: usize) -> (usize, Vec<usize>, Vec<usize>) {
    let bits = w.trailing_zeros() as usize;
    let low: Vec<usize> = (0..qubits.len()).filter(|&j| qubits[j] < bits).collect();
    let high: Vec<usize> = (0..qubits.len()).filter(|&j| qubits[j] >= bits).collect();
    let mask = low.iter().map(|&j| 1 << qubits[j]).sum();
    (mask, low, high)
}

impl LaneTable {
    fn new(qubits: &[usize], m: &[C64], w: usize) -> LaneTable {
        let dim = 1usize << qubits.len();
        let (_, low, high) = split_lanes(qubits, w);
        let (nh, nl) = (1usize << high.len(), 1usize << low.len());
        // The lanes of `s`: bit i of s sets lane qubit low[i]; `mask` has every lane qubit.
        let choice = |s: usize| -> usize {
            (0..low.len())
                .filter(|i| s >> i & 1 == 1)
                .map(|i| 1 << qubits[low[i]])
                .sum()
        };
        let mask = choice(nl - 1);
        // The local index of lane `l` in register `y`.
        let local = |l: usize, y: usize| -> usize {
            let lanes: usize = low.iter().map(|&j| ((l >> qubits[j]) & 1) << j).sum();
            let regs: usize = high
                .iter()
                .enumerate()
                .map(|(h, &j)| ((y >> h) & 1) << j)
                .sum();
            lanes | regs
        };
        let mut coef = Vec::with_capacity(nh * nh * nl * 4 * w);
        for y in 0..nh {
            for y2 in 0..nh {
                for s in 0..nl {
                    let mut re = vec![0.0; 2 * w];
                    let mut im = vec![0.0; 2 * w];
                    for l in 0..w {
                        let z = m[local(l, y) * dim + local((l & !mask) | choice(s), y2)];
                        re[2 * l] = z.re;
                        re[2 * l + 1] = z.re;
                        im[2 * l] = -z.im;
                        im[2 * l + 1] = z.im;
                    }
                    coef.extend(re);
                    coef.extend(im);
                }
            }
        }
        LaneTable {
            coef: Aligned::from_vec(coef),
        }
    }
}

/// `(re, im)` of every entry, row-major ([`Scalars`]).
fn scalar_entries(m: &[C64]) -> Vec<f64> {
    m.iter().flat_map(|z| [z.re, z.im]).collect()
}

impl DenseLanes {
    pub(crate) fn new(qubits: &[usize], m: &[C64]) -> DenseLanes {
        DenseLanes {
            low2: split_lanes(qubits, 4).0,
            low1: split_lanes(qubits, 2).0,
            w4: LaneTable::new(qubits, m, 4),
            w2: LaneTable::new(qubits, m, 2),
            scalars: Scalars {
                entries: scalar_entries(m),
            },
        }
    }
}

/// The rows of a diagonal block: `rows[16·y + i]` is the entry of amplitude `i` (bits 0–3)
/// when the block's qubits from 4 up read `y`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DiagonalRows {
    /// The block's qubits below 4, as a bit mask.
    low4: usize,
    /// From a cache line: each register of a row loads from one line.
    rows: Aligned<C64>,
}

/// Amplitudes per diagonal row.
const ROW: usize = 16;

impl DiagonalRows {
    pub(crate) fn new(qubits: &[usize], d: &[C64]) -> DiagonalRows {
        let (low4, _, high) = split_lanes(qubits, ROW);
        let mut rows = Vec::with_capacity(ROW << high.len());
        for y in 0..1usize << high.len() {
            for i in 0..ROW {
                let local = (0..qubits.len()).fold(0, |r, j| {
                    let bit = match high.iter().position(|&h| h == j) {
                        Some(h) => (y >> h) & 1,
                        None => (i >> qubits[j]) & 1,
                    };
                    r | bit << j
                });
                rows.push(d[local]);
            }
        }
        DiagonalRows {
            low4,
            rows: Aligned::from_vec(rows),
        }
    }

    /// Whether the rows hold for the block on `qubits` over a state of `len` amplitudes.
    pub(crate) fn holds(&self, qubits: &[usize], len: usize) -> bool {
        len >= ROW && split_lanes(qubits, ROW).0 == self.low4
    }

    /// Multiplies `x` (the amplitudes from index `first`, a multiple of 16, on) by the
    /// block on `qubits`, whose high qubits' bits select the row of each 16 amplitudes.
    pub(crate) fn apply(&self, first: usize, x: &mut [C64], qubits: &[usize], cpu: Cpu) {
        let high: Vec<usize> = qubits.iter().copied().filter(|&q| q >= 4).collect();
        #[cfg(target_arch = "x86_64")]
        if cpu.avx512() {
            // SAFETY: AVX-512F is present.
            return unsafe { rows_avx512(first, x, &high, &self.rows) };
        }
        let _ = cpu;
        rows_loop(first, x, &high, &self.rows)
    }
}

/// The row of the 16 amplitudes from index `i`: the bits of the high qubits.
#[inline(always)]
fn row_index(i: usize, high: &[usize]) -> usize {
    high.iter()
        .enumerate()
        .fold(0, |y, (h, &q)| y | ((i >> q) & 1) << h)
}

fn rows_loop(first: usize, x: &mut [C64], high: &[usize], rows: &[C64]) {
    for (g, amps) in x.chunks_exact_mut(ROW).enumerate() {
        let y = row_index(first + g * ROW, high);
        for (a, d) in amps.iter_mut().zip(&rows[ROW * y..ROW * (y + 1)]) {
            *a *= d;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn rows_avx512(first: usize, x: &mut [C64], high: &[usize], rows: &[C64]) {
    for (g, amps) in x.chunks_exact_mut(ROW).enumerate() {
        let y = row_index(first + g * ROW, high);
        let row = rows.as_ptr().add(ROW * y) as *const f64;
        let p = amps.as_mut_ptr() as *mut f64;
        for r in 0..ROW / 4 {
            let d = _mm512_loadu_pd(row.add(8 * r));
            let v = _mm512_loadu_pd(p.add(8 * r));
            let out = _mm512_fmaddsub_pd(
                _mm512_movedup_pd(d),
                v,
                _mm512_mul_pd(
                    _mm512_permute_pd::<0b1111_1111>(d),
                    _mm512_permute_pd::<0b0101_0101>(v),
                ),
            );
            _mm512_storeu_pd(p.add(8 * r), out);
        }
    }
}

/// A register type of `W` amplitudes and the operations the dense loop needs.
#[cfg(target_arch = "x86_64")]
trait Wide {
    /// The real type: `f64` in double precision, `f32` in single.
    type S: Copy;
    type V: Copy;
    /// Amplitudes per register.
    const W: usize;
    unsafe fn zero() -> Self::V;
    unsafe fn load(p: *const Self::S) -> Self::V;
    unsafe fn store(p: *mut Self::S, v: Self::V);
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn splat(x: Self::S) -> Self::V;
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// Exchanges re and im in every amplitude.
    unsafe fn swap(v: Self::V) -> Self::V;
    /// `(−im, re)` of every amplitude `(re, im)`.
    unsafe fn swap_signed(v: Self::V) -> Self::V;
    /// Permutes the amplitudes: lane `l` takes lane `(l & !mask) | t` (`t ⊆ mask`), so every
    /// lane reads the member `t` of its set of lanes that differ only in `mask`.
    unsafe fn select(v: Self::V, mask: usize, t: usize) -> Self::V;
}

#[cfg(target_arch = "x86_64")]
struct W4;
#[cfg(target_arch = "x86_64")]
struct W2;

#[cfg(target_arch = "x86_64")]
impl Wide for W4 {
    type S = f64;
    type V = __m512d;
    const W: usize = 4;
    #[inline(always)]
    unsafe fn zero() -> __m512d {
        _mm512_setzero_pd()
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> __m512d {
        _mm512_loadu_pd(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f64, v: __m512d) {
        _mm512_storeu_pd(p, v)
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m512d, b: __m512d, c: __m512d) -> __m512d {
        _mm512_fmadd_pd(a, b, c)
    }
    #[inline(always)]
    unsafe fn mul(a: __m512d, b: __m512d) -> __m512d {
        _mm512_mul_pd(a, b)
    }
    #[inline(always)]
    unsafe fn splat(x: f64) -> __m512d {
        _mm512_set1_pd(x)
    }
    #[inline(always)]
    unsafe fn add(a: __m512d, b: __m512d) -> __m512d {
        _mm512_add_pd(a, b)
    }
    #[inline(always)]
    unsafe fn swap(v: __m512d) -> __m512d {
        _mm512_permute_pd::<0b0101_0101>(v)
    }
    #[inline(always)]
    unsafe fn swap_signed(v: __m512d) -> __m512d {
        let sign = _mm512_setr_pd(-0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0);
        _mm512_xor_pd(Self::swap(v), sign)
    }
    #[inline(always)]
    unsafe fn select(v: __m512d, mask: usize, t: usize) -> __m512d {
        // Lane qubit 0: the two amplitudes of a 256-bit half; 1: the 128-bit lanes of a half.
        let v = match (mask & 1, t & 1) {
            (0, _) => v,
            (_, 0) => _mm512_permutex_pd::<0b01_00_01_00>(v),
            _ => _mm512_permutex_pd::<0b11_10_11_10>(v),
        };
        match (mask & 2, t & 2) {
            (0, _) => v,
            (_, 0) => _mm512_shuffle_f64x2::<0b01_00_01_00>(v, v),
            _ => _mm512_shuffle_f64x2::<0b11_10_11_10>(v, v),
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl Wide for W2 {
    type S = f64;
    type V = __m256d;
    const W: usize = 2;
    #[inline(always)]
    unsafe fn zero() -> __m256d {
        _mm256_setzero_pd()
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> __m256d {
        _mm256_loadu_pd(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f64, v: __m256d) {
        _mm256_storeu_pd(p, v)
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m256d, b: __m256d, c: __m256d) -> __m256d {
        _mm256_fmadd_pd(a, b, c)
    }
    #[inline(always)]
    unsafe fn mul(a: __m256d, b: __m256d) -> __m256d {
        _mm256_mul_pd(a, b)
    }
    #[inline(always)]
    unsafe fn splat(x: f64) -> __m256d {
        _mm256_set1_pd(x)
    }
    #[inline(always)]
    unsafe fn add(a: __m256d, b: __m256d) -> __m256d {
        _mm256_add_pd(a, b)
    }
    #[inline(always)]
    unsafe fn swap(v: __m256d) -> __m256d {
        _mm256_permute_pd::<0b0101>(v)
    }
    #[inline(always)]
    unsafe fn swap_signed(v: __m256d) -> __m256d {
        _mm256_xor_pd(Self::swap(v), _mm256_setr_pd(-0.0, 0.0, -0.0, 0.0))
    }
    #[inline(always)]
    unsafe fn select(v: __m256d, mask: usize, t: usize) -> __m256d {
        match (mask & 1, t & 1) {
            (0, _) => v,
            (_, 0) => _mm256_permute2f128_pd::<0x00>(v, v),
            _ => _mm256_permute2f128_pd::<0x11>(v, v),
        }
    }
}

/// Where a dense block's registers are: the base of register group `g` is `g·W` with a zero
/// inserted at every high qubit and every fixed qubit, then the fixed bits `set`; register `y`
/// of the group is `offsets[y]` further.
#[cfg(target_arch = "x86_64")]
struct Groups<'a> {
    /// The high and fixed qubits, ascending.
    insert: &'a [usize],
    set: usize,
    offsets: &'a [usize],
    choices: &'a [usize],
}

#[cfg(target_arch = "x86_64")]
impl Groups<'_> {
    #[inline(always)]
    fn base(&self, g: usize, w: usize) -> usize {
        let k = self.insert.iter().fold(g * w, |k, &q| {
            let low = k & ((1usize << q) - 1);
            ((k >> q) << (q + 1)) | low
        });
        k | self.set
    }

    /// How many consecutive groups have bases `W` apart: `2^{q₀}/W` for the lowest inserted
    /// qubit `q₀` (all groups when none is inserted).
    #[inline(always)]
    fn run(&self, w: usize) -> usize {
        self.insert
            .first()
            .map_or(usize::MAX / 2 + 1, |&q| (1usize << q) / w)
    }
}

/// The dense loop over the register groups `range` of `amps`, with `NH = 2^H` registers
/// per group and `NL = 2^L` lane permutations. Each output sums into two accumulators,
/// `Σ Re c·v` and `Σ Im c·(−im, re)` (the sign in the tables where lanes differ), added once.
/// A `REAL` matrix (every imaginary part zero) needs the first sum only: half the work.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
// Register indices run over const bounds and index several arrays at once.
#[allow(clippy::needless_range_loop)]
unsafe fn dense_loop<X: Wide, const NH: usize, const NL: usize, const REAL: bool>(
    amps: *mut X::S,
    range: std::ops::Range<usize>,
    at: &Groups,
    lanes: &[X::S],
    scalars: &[X::S],
) {
    let step = 2 * X::W;
    // The swapped inputs: `(−im, re)` for broadcast coefficients, `(im, re)` for the tables,
    // whose imaginary parts carry the sign.
    let swapped = |v: X::V| {
        if NL == 1 {
            X::swap_signed(v)
        } else {
            X::swap(v)
        }
    };
    // The coefficient of output register y, input register y2 and lane choice s. Without lane
    // qubits (NL = 1) register y is local row y and every lane has the same coefficient:
    // broadcast from the entries.
    let coefficient = |y: usize, y2: usize, s: usize| {
        if NL == 1 {
            let e = scalars.as_ptr().add(2 * (y * NH + y2));
            (X::splat(*e), X::splat(*e.add(1)))
        } else {
            let c = lanes.as_ptr().add(((y * NH + y2) * NL + s) * 2 * step);
            (X::load(c), X::load(c.add(step)))
        }
    };
    // Held in registers (the stores through `amps` could otherwise alias them), in reals.
    let offsets: [usize; NH] = std::array::from_fn(|y| 2 * at.offsets[y]);
    let choices: [usize; NL] = std::array::from_fn(|s| at.choices[s]);
    let mask = choices[NL - 1];
    // Consecutive groups lie `W` apart until the lowest inserted qubit: the base is rebuilt
    // once per such run of groups.
    let run = at.run(X::W);
    let mut next = at.base(range.start, X::W);
    for g in range {
        if g & (run - 1) == 0 {
            next = at.base(g, X::W);
        }
        let group = amps.add(2 * next);
        next += X::W;
        if NL == 1 && NH <= 8 {
            // Inputs outer: 2·NH independent accumulators, each input loaded once.
            // The first input's products start the sums (a product, not a sum with zero:
            // no register copies).
            let mut a = [X::zero(); NH];
            let mut b = [X::zero(); NH];
            for y2 in 0..NH {
                let p = X::load(group.add(offsets[y2]));
                let sw = swapped(p);
                for y in 0..NH {
                    let (re, im) = coefficient(y, y2, 0);
                    a[y] = if y2 == 0 {
                        X::mul(re, p)
                    } else {
                        X::fmadd(re, p, a[y])
                    };
                    if !REAL {
                        b[y] = if y2 == 0 {
                            X::mul(im, sw)
                        } else {
                            X::fmadd(im, sw, b[y])
                        };
                    }
                }
            }
            for y in 0..NH {
                let out = if REAL { a[y] } else { X::add(a[y], b[y]) };
                X::store(group.add(offsets[y]), out);
            }
            continue;
        }
        // Outputs outer: the (permuted, swapped) inputs held, two accumulators at a time.
        let mut p = [[X::zero(); NL]; NH];
        let mut sw = [[X::zero(); NL]; NH];
        for y in 0..NH {
            let v = X::load(group.add(offsets[y]));
            for s in 0..NL {
                p[y][s] = X::select(v, mask, choices[s]);
                sw[y][s] = swapped(p[y][s]);
            }
        }
        for y in 0..NH {
            // The first term's products start the sums, as in the loop above: the same
            // operations in the same order (ascending local input index) for every output,
            // whichever of the block's qubits are lane qubits, so every register width gives
            // the same bits.
            let (re, im) = coefficient(y, 0, 0);
            let mut a = X::mul(re, p[0][0]);
            let mut b = if REAL {
                X::zero()
            } else {
                X::mul(im, sw[0][0])
            };
            for y2 in 0..NH {
                for s in 0..NL {
                    if y2 == 0 && s == 0 {
                        continue;
                    }
                    let (re, im) = coefficient(y, y2, s);
                    a = X::fmadd(re, p[y2][s], a);
                    if !REAL {
                        b = X::fmadd(im, sw[y2][s], b);
                    }
                }
            }
            let out = if REAL { a } else { X::add(a, b) };
            X::store(group.add(offsets[y]), out);
        }
    }
}

/// Single-precision registers: eight amplitudes in 512 bits, four in 256.
#[cfg(target_arch = "x86_64")]
struct W8s;
#[cfg(target_arch = "x86_64")]
struct W4s;

#[cfg(target_arch = "x86_64")]
impl Wide for W8s {
    type S = f32;
    type V = __m512;
    const W: usize = 8;
    #[inline(always)]
    unsafe fn zero() -> __m512 {
        _mm512_setzero_ps()
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        _mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m512) {
        _mm512_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m512, b: __m512, c: __m512) -> __m512 {
        _mm512_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn mul(a: __m512, b: __m512) -> __m512 {
        _mm512_mul_ps(a, b)
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m512 {
        _mm512_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        _mm512_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn swap(v: __m512) -> __m512 {
        _mm512_permute_ps::<0b10_11_00_01>(v)
    }
    #[inline(always)]
    unsafe fn swap_signed(v: __m512) -> __m512 {
        let sign = _mm512_castpd_ps(_mm512_set1_pd(f64::from_bits(0x8000_0000)));
        _mm512_xor_ps(Self::swap(v), sign)
    }
    #[inline(always)]
    unsafe fn select(v: __m512, mask: usize, t: usize) -> __m512 {
        // Lane qubit 0: the two amplitudes of a 128-bit lane; 1: neighbouring 128-bit lanes;
        // 2: the two 256-bit halves.
        let v = match (mask & 1, t & 1) {
            (0, _) => v,
            (_, 0) => _mm512_permute_ps::<0b01_00_01_00>(v),
            _ => _mm512_permute_ps::<0b11_10_11_10>(v),
        };
        let v = match (mask & 2, t & 2) {
            (0, _) => v,
            (_, 0) => _mm512_shuffle_f32x4::<0b10_10_00_00>(v, v),
            _ => _mm512_shuffle_f32x4::<0b11_11_01_01>(v, v),
        };
        match (mask & 4, t & 4) {
            (0, _) => v,
            (_, 0) => _mm512_shuffle_f32x4::<0b01_00_01_00>(v, v),
            _ => _mm512_shuffle_f32x4::<0b11_10_11_10>(v, v),
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl Wide for W4s {
    type S = f32;
    type V = __m256;
    const W: usize = 4;
    #[inline(always)]
    unsafe fn zero() -> __m256 {
        _mm256_setzero_ps()
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        _mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        _mm256_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m256, b: __m256, c: __m256) -> __m256 {
        _mm256_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        _mm256_mul_ps(a, b)
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m256 {
        _mm256_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        _mm256_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn swap(v: __m256) -> __m256 {
        _mm256_permute_ps::<0b10_11_00_01>(v)
    }
    #[inline(always)]
    unsafe fn swap_signed(v: __m256) -> __m256 {
        let sign = _mm256_castpd_ps(_mm256_set1_pd(f64::from_bits(0x8000_0000)));
        _mm256_xor_ps(Self::swap(v), sign)
    }
    #[inline(always)]
    unsafe fn select(v: __m256, mask: usize, t: usize) -> __m256 {
        let v = match (mask & 1, t & 1) {
            (0, _) => v,
            (_, 0) => _mm256_permute_ps::<0b01_00_01_00>(v),
            _ => _mm256_permute_ps::<0b11_10_11_10>(v),
        };
        match (mask & 2, t & 2) {
            (0, _) => v,
            (_, 0) => _mm256_permute2f128_ps::<0x00>(v, v),
            _ => _mm256_permute2f128_ps::<0x11>(v, v),
        }
    }
}

/// One entry point per instruction set and precision: the dense loop compiled with that
/// set's features, for every block shape `(NH, NL)`.
macro_rules! dense_entry {
    ($name:ident, $x:ty, $real:literal, $features:literal) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        unsafe fn $name<const NH: usize, const NL: usize>(
            amps: *mut <$x as Wide>::S,
            range: std::ops::Range<usize>,
            at: &Groups,
            lanes: &[<$x as Wide>::S],
            scalars: &[<$x as Wide>::S],
        ) {
            dense_loop::<$x, NH, NL, $real>(amps, range, at, lanes, scalars)
        }
    };
}

dense_entry!(dense_avx512, W4, false, "avx512f,avx512dq,avx2,fma");
dense_entry!(dense_avx2, W2, false, "avx2,fma");
// Single precision runs every gate as a block: the real ones (H, CX, X, RY, …) get their own
// loops.
dense_entry!(dense_avx512_single, W8s, false, "avx512f,avx512dq,avx2,fma");
dense_entry!(dense_avx2_single, W4s, false, "avx2,fma");
dense_entry!(
    dense_avx512_single_real,
    W8s,
    true,
    "avx512f,avx512dq,avx2,fma"
);
dense_entry!(dense_avx2_single_real, W4s, true, "avx2,fma");

/// Calls one dense entry point for the block shape `(nh, nl)` (high qubits, lane qubits).
macro_rules! dispatch_dense {
    ($f:ident, $nh:expr, $nl:expr, $($arg:expr),*) => {
        dispatch_dense!(@arms $f, ($nh, $nl), ($($arg),*);
            (0, 1, 1, 2), (0, 2, 1, 4), (0, 3, 1, 8),
            (1, 0, 2, 1), (1, 1, 2, 2), (1, 2, 2, 4), (1, 3, 2, 8),
            (2, 0, 4, 1), (2, 1, 4, 2), (2, 2, 4, 4), (2, 3, 4, 8),
            (3, 0, 8, 1), (3, 1, 8, 2), (3, 2, 8, 4),
            (4, 0, 16, 1), (4, 1, 16, 2),
            (5, 0, 32, 1))
    };
    (@arms $f:ident, $shape:expr, $args:tt; $(($h:literal, $l:literal, $nh:literal, $nl:literal)),*) => {
        match $shape {
            $(($h, $l) => dispatch_dense!(@call $f, $nh, $nl, $args),)*
            _ => unreachable!("blocks have at most 5 qubits"),
        }
    };
    (@call $f:ident, $nh:literal, $nl:literal, ($($arg:expr),*)) => {
        $f::<$nh, $nl>($($arg),*)
    };
}

/// A raw pointer to the reals of a state, shared by threads that touch disjoint groups.
#[derive(Clone, Copy)]
struct Reals<S>(*mut S);
// SAFETY: every caller below hands each register group to exactly one call.
unsafe impl<S> Send for Reals<S> {}
unsafe impl<S> Sync for Reals<S> {}

impl<S> Reals<S> {
    /// The pointer (a method, so that closures capture the `Sync` wrapper, not the field).
    #[inline(always)]
    fn get(self) -> *mut S {
        self.0
    }
}

/// The register groups of a dense block on `qubits` over `len` amplitudes with registers of
/// `2^bits` amplitudes, restricted to the indices whose `fixed` qubits (all `≥ bits`, none in
/// `qubits`) read `value`, handed as ranges to `run` on one thread or on rayon's; `false`
/// when the state is smaller than one group.
fn for_each_group(
    len: usize,
    qubits: &[usize],
    (fixed, value): (usize, usize),
    bits: usize,
    par: crate::par::Par,
    run: impl Fn(std::ops::Range<usize>, &Groups) + Sync,
) -> bool {
    let high: Vec<usize> = qubits.iter().copied().filter(|&q| q >= bits).collect();
    let low: Vec<usize> = qubits.iter().copied().filter(|&q| q < bits).collect();
    let mut insert = high.clone();
    insert.extend((bits..usize::BITS as usize).filter(|&q| fixed >> q & 1 == 1));
    insert.sort_unstable();
    let groups = len >> (insert.len() + bits);
    if groups == 0 || fixed & ((1 << bits) - 1) != 0 {
        return false;
    }
    // Register y of a group is at the offset of local index y over the high qubits; lane
    // choice s is the offset of local index s over the lane qubits.
    let offsets = super::super::block::local_offsets(&high);
    let choices = super::super::block::local_offsets(&low);
    let at = Groups {
        insert: &insert,
        set: value & fixed,
        offsets: &offsets,
        choices: &choices,
    };
    let per_task = (super::super::block::TASK_LEN >> (insert.len() + bits)).max(1);
    match par {
        crate::par::Par::Seq => run(0..groups, &at),
        crate::par::Par::Rayon => {
            use rayon::prelude::*;
            (0..groups.div_ceil(per_task))
                .into_par_iter()
                .for_each(|t| run(t * per_task..((t + 1) * per_task).min(groups), &at))
        }
    }
    true
}

/// The block's numbers of high and lane qubits for registers of `2^bits` amplitudes.
fn shape(qubits: &[usize], bits: usize) -> (usize, usize) {
    let low = qubits.iter().filter(|&&q| q < bits).count();
    (qubits.len() - low, low)
}

/// Applies the dense block with forms `lanes` on `qubits` (ascending) to `amps` with the
/// widest registers this CPU has; returns `false` (and does nothing) where no vector form
/// applies: no AVX2, a state smaller than one register group, or lane qubits other than
/// those the forms were built for.
pub(crate) fn dense_block_wide(
    amps: &mut [C64],
    qubits: &[usize],
    lanes: &DenseLanes,
    par: crate::par::Par,
    cpu: Cpu,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let (w, table) = if cpu.avx512() && split_lanes(qubits, 4).0 == lanes.low2 {
            (4, &lanes.w4)
        } else if cpu.avx2() && split_lanes(qubits, 2).0 == lanes.low1 {
            (2, &lanes.w2)
        } else {
            return false;
        };
        let bits = (w as usize).trailing_zeros() as usize;
        let (nh, nl) = shape(qubits, bits);
        let ptr = Reals(amps.as_mut_ptr() as *mut f64);
        let (coef, scalars) = (&table.coef[..], &lanes.scalars.entries[..]);
        for_each_group(amps.len(), qubits, (0, 0), bits, par, |range, at| {
            // SAFETY: the CPU has the features (checked above); register groups are disjoint
            // and in bounds (`for_each_group` counts whole groups of this state), and each
            // range is handed to one call.
            unsafe {
                if w == 4 {
                    dispatch_dense!(dense_avx512, nh, nl, ptr.get(), range, at, coef, scalars)
                } else {
                    dispatch_dense!(dense_avx2, nh, nl, ptr.get(), range, at, coef, scalars)
                }
            }
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (amps, qubits, lanes, par, cpu);
        false
    }
}

/// A dense block's vector form in single precision for the widest registers this CPU has:
/// AVX-512 holds eight amplitudes (lane qubits 0–2), AVX2 four (0–1).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DenseLanesSingle {
    /// Amplitudes per register (8 or 4; 0 where the CPU has neither).
    w: usize,
    /// The block's qubits below `log₂ w`, as a bit mask.
    low: usize,
    coef: Aligned<f32>,
    scalars: Vec<f32>,
    /// Every entry real: the loop skips the imaginary sums.
    real: bool,
}

impl DenseLanesSingle {
    /// The form of the double-precision matrix `m` on `qubits` for `cpu`, rounded to single.
    pub(crate) fn new(qubits: &[usize], m: &[C64], cpu: Cpu) -> DenseLanesSingle {
        let w = match (cpu.avx512(), cpu.avx2()) {
            (true, _) => 8,
            (false, true) => 4,
            (false, false) => 0,
        };
        let coef = match w {
            0 => Aligned::new(),
            w => Aligned::from_vec(
                LaneTable::new(qubits, m, w)
                    .coef
                    .iter()
                    .map(|&x| x as f32)
                    .collect(),
            ),
        };
        DenseLanesSingle {
            w,
            low: split_lanes(qubits, w.max(1)).0,
            coef,
            scalars: scalar_entries(m).into_iter().map(|x| x as f32).collect(),
            real: m.iter().all(|z| z.im == 0.0),
        }
    }
}

/// [`dense_block_wide`] in single precision, on the amplitudes whose `fixed` qubits (a mask
/// of qubits above the lanes) read `value`.
pub(crate) fn dense_block_wide_single(
    amps: &mut [num_complex::Complex32],
    qubits: &[usize],
    fixed: (usize, usize),
    lanes: &DenseLanesSingle,
    par: crate::par::Par,
    cpu: Cpu,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let w = lanes.w;
        let usable = match w {
            8 => cpu.avx512(),
            4 => cpu.avx2(),
            _ => false,
        };
        if !usable || split_lanes(qubits, w).0 != lanes.low {
            return false;
        }
        let bits = w.trailing_zeros() as usize;
        let (nh, nl) = shape(qubits, bits);
        let ptr = Reals(amps.as_mut_ptr() as *mut f32);
        let (coef, scalars) = (&lanes.coef[..], &lanes.scalars[..]);
        for_each_group(amps.len(), qubits, fixed, bits, par, |range, at| {
            // SAFETY: as in `dense_block_wide`.
            unsafe {
                match (w, lanes.real) {
                    (8, false) => dispatch_dense!(
                        dense_avx512_single,
                        nh,
                        nl,
                        ptr.0,
                        range,
                        at,
                        coef,
                        scalars
                    ),
                    (8, true) => dispatch_dense!(
                        dense_avx512_single_real,
                        nh,
                        nl,
                        ptr.0,
                        range,
                        at,
                        coef,
                        scalars
                    ),
                    (_, false) => {
                        dispatch_dense!(
                            dense_avx2_single,
                            nh,
                            nl,
                            ptr.get(),
                            range,
                            at,
                            coef,
                            scalars
                        )
                    }
                    (_, true) => dispatch_dense!(
                        dense_avx2_single_real,
                        nh,
                        nl,
                        ptr.0,
                        range,
                        at,
                        coef,
                        scalars
                    ),
                }
            }
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (amps, qubits, fixed, lanes, par, cpu);
        false
    }
}

/// [`DiagonalRows`] in single precision: the same rows, rounded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DiagonalRowsSingle {
    low4: usize,
    rows: Aligned<num_complex::Complex32>,
}

impl DiagonalRowsSingle {
    pub(crate) fn new(qubits: &[usize], d: &[C64]) -> DiagonalRowsSingle {
        let rows = DiagonalRows::new(qubits, d);
        DiagonalRowsSingle {
            low4: rows.low4,
            rows: Aligned::from_vec(
                rows.rows
                    .iter()
                    .map(|z| num_complex::Complex32::new(z.re as f32, z.im as f32))
                    .collect(),
            ),
        }
    }

    /// Whether the rows hold for the block on `qubits` over a state of `len` amplitudes.
    pub(crate) fn holds(&self, qubits: &[usize], len: usize) -> bool {
        len >= ROW && split_lanes(qubits, ROW).0 == self.low4
    }

    /// [`DiagonalRows::apply`] in single precision.
    pub(crate) fn apply(
        &self,
        first: usize,
        x: &mut [num_complex::Complex32],
        qubits: &[usize],
        cpu: Cpu,
    ) {
        let high: Vec<usize> = qubits.iter().copied().filter(|&q| q >= 4).collect();
        #[cfg(target_arch = "x86_64")]
        if cpu.avx512() {
            // SAFETY: AVX-512F is present.
            return unsafe { rows_avx512_single(first, x, &high, &self.rows) };
        }
        let _ = cpu;
        for (g, amps) in x.chunks_exact_mut(ROW).enumerate() {
            let y = row_index(first + g * ROW, &high);
            for (a, d) in amps.iter_mut().zip(&self.rows[ROW * y..ROW * (y + 1)]) {
                *a *= d;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn rows_avx512_single(
    first: usize,
    x: &mut [num_complex::Complex32],
    high: &[usize],
    rows: &[num_complex::Complex32],
) {
    for (g, amps) in x.chunks_exact_mut(ROW).enumerate() {
        let y = row_index(first + g * ROW, high);
        let row = rows.as_ptr().add(ROW * y) as *const f32;
        let p = amps.as_mut_ptr() as *mut f32;
        for r in 0..ROW / 8 {
            let d = _mm512_loadu_ps(row.add(16 * r));
            let v = _mm512_loadu_ps(p.add(16 * r));
            let out = _mm512_fmaddsub_ps(
                _mm512_moveldup_ps(d),
                v,
                _mm512_mul_ps(_mm512_movehdup_ps(d), _mm512_permute_ps::<0b10_11_00_01>(v)),
            );
            _mm512_storeu_ps(p.add(16 * r), out);
        }
    }
}
