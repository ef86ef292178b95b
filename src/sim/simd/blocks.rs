//! The loops of fused blocks ([`crate::sim::block`]) on AVX-512 (four amplitudes per
//! register) and AVX2 (two), written once over the [`Wide`] register type.
//!
//! **Dense.** A register holds `W` consecutive amplitudes; the block's qubits below
//! `log₂ W` (its *lane qubits*, `L` of them) vary inside it, the others (`H`) select one of
//! `2^H` registers `v_y` at fixed offsets from a base. With `P_s` the lane permutation that
//! flips the lane qubits in `s` (`2^L` of them),
//!
//! `out_y = Σ_{y', s} C[y][y'][s] ⊙ P_s(v_{y'})`,
//!
//! where lane `l` of `C[y][y'][s]` is `M[row(l, y)][row(l ⊕ s, y')]`. A complex lane-wise
//! product `c ⊙ v` is `Re c·v ∓ Im c·swap(v)` (minus in the real half of each amplitude), so
//! each output sums `Σ Re c·v` and `Σ Im c·swap(v)` in two accumulators, combined once by a
//! `fmaddsub`: two fused multiply-adds per term, `2^{k−1}` per amplitude for a `k`-qubit block
//! on AVX-512. Without lane qubits every lane has the same coefficient and the loop broadcasts
//! the entries; otherwise it loads per-lane coefficient registers.
//!
//! **Diagonal.** One row of 16 factors per value of the block's qubits from 4 up; a group of
//! 16 amplitudes is multiplied lane-wise by its row.

use super::Cpu;
use num_complex::Complex64 as C64;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Coefficient registers of a dense block for one register width: for each `(y, y', s)`,
/// real parts then imaginary parts, each over both halves of every lane, `2·W` doubles each.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LaneTable {
    coef: Vec<f64>,
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
        // The lane flip of `s`: bit i of s flips lane qubit low[i].
        let flip = |s: usize| -> usize {
            (0..low.len())
                .filter(|i| s >> i & 1 == 1)
                .map(|i| 1 << qubits[low[i]])
                .sum()
        };
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
                        let z = m[local(l, y) * dim + local(l ^ flip(s), y2)];
                        re[2 * l] = z.re;
                        re[2 * l + 1] = z.re;
                        im[2 * l] = z.im;
                        im[2 * l + 1] = z.im;
                    }
                    coef.extend(re);
                    coef.extend(im);
                }
            }
        }
        LaneTable { coef }
    }
}

impl DenseLanes {
    pub(crate) fn new(qubits: &[usize], m: &[C64]) -> DenseLanes {
        DenseLanes {
            low2: split_lanes(qubits, 4).0,
            low1: split_lanes(qubits, 2).0,
            w4: LaneTable::new(qubits, m, 4),
            w2: LaneTable::new(qubits, m, 2),
            scalars: Scalars {
                entries: m.iter().flat_map(|z| [z.re, z.im]).collect(),
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
    rows: Vec<C64>,
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
        DiagonalRows { low4, rows }
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
    type V: Copy;
    /// Amplitudes per register.
    const W: usize;
    unsafe fn zero() -> Self::V;
    unsafe fn load(p: *const f64) -> Self::V;
    unsafe fn store(p: *mut f64, v: Self::V);
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn splat(x: f64) -> Self::V;
    /// `a − b` in the real half of every amplitude, `a + b` in the imaginary half.
    unsafe fn combine(a: Self::V, b: Self::V) -> Self::V;
    /// Exchanges re and im in every amplitude.
    unsafe fn swap(v: Self::V) -> Self::V;
    /// Permutes the amplitudes: lane `l` takes lane `l ⊕ flip`.
    unsafe fn flip(v: Self::V, flip: usize) -> Self::V;
}

#[cfg(target_arch = "x86_64")]
struct W4;
#[cfg(target_arch = "x86_64")]
struct W2;

#[cfg(target_arch = "x86_64")]
impl Wide for W4 {
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
    unsafe fn splat(x: f64) -> __m512d {
        _mm512_set1_pd(x)
    }
    #[inline(always)]
    unsafe fn combine(a: __m512d, b: __m512d) -> __m512d {
        _mm512_fmaddsub_pd(_mm512_set1_pd(1.0), a, b)
    }
    #[inline(always)]
    unsafe fn swap(v: __m512d) -> __m512d {
        _mm512_permute_pd::<0b0101_0101>(v)
    }
    #[inline(always)]
    unsafe fn flip(v: __m512d, flip: usize) -> __m512d {
        let v = if flip & 1 == 1 {
            _mm512_permutex_pd::<0b01_00_11_10>(v)
        } else {
            v
        };
        if flip & 2 == 2 {
            _mm512_shuffle_f64x2::<0b01_00_11_10>(v, v)
        } else {
            v
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl Wide for W2 {
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
    unsafe fn splat(x: f64) -> __m256d {
        _mm256_set1_pd(x)
    }
    #[inline(always)]
    unsafe fn combine(a: __m256d, b: __m256d) -> __m256d {
        _mm256_fmaddsub_pd(_mm256_set1_pd(1.0), a, b)
    }
    #[inline(always)]
    unsafe fn swap(v: __m256d) -> __m256d {
        _mm256_permute_pd::<0b0101>(v)
    }
    #[inline(always)]
    unsafe fn flip(v: __m256d, flip: usize) -> __m256d {
        if flip & 1 == 1 {
            _mm256_permute2f128_pd::<0x01>(v, v)
        } else {
            v
        }
    }
}

/// Where a dense block's registers are: the base of register group `g` is `g·W` with a zero
/// inserted at every high qubit; register `y` of the group is `offsets[y]` further.
#[cfg(target_arch = "x86_64")]
struct Groups<'a> {
    high: &'a [usize],
    offsets: &'a [usize],
    flips: &'a [usize],
}

#[cfg(target_arch = "x86_64")]
impl Groups<'_> {
    #[inline(always)]
    fn base(&self, g: usize, w: usize) -> usize {
        self.high.iter().fold(g * w, |k, &q| {
            let low = k & ((1usize << q) - 1);
            ((k >> q) << (q + 1)) | low
        })
    }
}

/// The dense loop over the register groups `range` of `amps`, with `NH = 2^H` registers
/// per group and `NL = 2^L` lane permutations. Each output sums into two accumulators,
/// `Σ Re c·v` and `Σ Im c·swap(v)`, combined as `a ∓ b` in the real and imaginary halves.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn dense_loop<X: Wide, const NH: usize, const NL: usize>(
    amps: *mut C64,
    range: std::ops::Range<usize>,
    at: &Groups,
    lanes: &[f64],
    scalars: &[f64],
) {
    let step = 2 * X::W;
    // The coefficient of output register y, input register y2 and lane flip s. Without lane
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
    for g in range {
        let base = at.base(g, X::W);
        if NL == 1 && NH <= 8 {
            // Inputs outer: 2·NH independent accumulators, each input loaded once.
            let mut a = [X::zero(); NH];
            let mut b = [X::zero(); NH];
            for y2 in 0..NH {
                let p = X::load(amps.add(base + at.offsets[y2]) as *const f64);
                let sw = X::swap(p);
                for y in 0..NH {
                    let (re, im) = coefficient(y, y2, 0);
                    a[y] = X::fmadd(re, p, a[y]);
                    b[y] = X::fmadd(im, sw, b[y]);
                }
            }
            for y in 0..NH {
                X::store(
                    amps.add(base + at.offsets[y]) as *mut f64,
                    X::combine(a[y], b[y]),
                );
            }
            continue;
        }
        // Outputs outer: the (flipped, swapped) inputs held, two accumulators at a time.
        let mut p = [[X::zero(); NL]; NH];
        let mut sw = [[X::zero(); NL]; NH];
        for y in 0..NH {
            let v = X::load(amps.add(base + at.offsets[y]) as *const f64);
            for s in 0..NL {
                p[y][s] = X::flip(v, at.flips[s]);
                sw[y][s] = X::swap(p[y][s]);
            }
        }
        for y in 0..NH {
            let (mut a, mut b) = (X::zero(), X::zero());
            for y2 in 0..NH {
                for s in 0..NL {
                    let (re, im) = coefficient(y, y2, s);
                    a = X::fmadd(re, p[y2][s], a);
                    b = X::fmadd(im, sw[y2][s], b);
                }
            }
            X::store(amps.add(base + at.offsets[y]) as *mut f64, X::combine(a, b));
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
unsafe fn dense_avx512<const NH: usize, const NL: usize>(
    amps: *mut C64,
    range: std::ops::Range<usize>,
    at: &Groups,
    lanes: &[f64],
    scalars: &[f64],
) {
    dense_loop::<W4, NH, NL>(amps, range, at, lanes, scalars)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dense_avx2<const NH: usize, const NL: usize>(
    amps: *mut C64,
    range: std::ops::Range<usize>,
    at: &Groups,
    lanes: &[f64],
    scalars: &[f64],
) {
    dense_loop::<W2, NH, NL>(amps, range, at, lanes, scalars)
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
        let high: Vec<usize> = qubits.iter().copied().filter(|&q| q >= bits).collect();
        let low: Vec<usize> = qubits.iter().copied().filter(|&q| q < bits).collect();
        let groups = amps.len() >> (high.len() + bits);
        if groups == 0 {
            return false;
        }
        // Register y of a group is at the offset of local index y over the high qubits; lane
        // flip s is the offset of local index s over the lane qubits.
        let offsets = super::super::block::local_offsets(&high);
        let flips = super::super::block::local_offsets(&low);
        let at = Groups {
            high: &high,
            offsets: &offsets,
            flips: &flips,
        };
        let shared = super::super::kernels::SharedAmps(amps.as_mut_ptr());
        let coef = &table.coef[..];
        let scalars = &lanes.scalars.entries[..];
        let (nh, nl) = (high.len(), low.len());
        let run = |range: std::ops::Range<usize>| {
            let ptr = shared.ptr(0);
            // SAFETY: the CPU has the features (checked above); register groups are
            // disjoint and in bounds (`groups` counts whole groups of this state), and
            // each range is handed to one call.
            unsafe {
                macro_rules! dispatch {
                    ($f:ident; $(($h:literal, $l:literal, $nh:literal, $nl:literal)),*) => {
                        match (nh, nl) {
                            $(($h, $l) => $f::<$nh, $nl>(ptr, range, &at, coef, scalars),)*
                            _ => unreachable!("blocks have at most 5 qubits"),
                        }
                    };
                }
                macro_rules! all {
                    ($f:ident) => {
                        dispatch!($f;
                            (0, 1, 1, 2), (0, 2, 1, 4),
                            (1, 0, 2, 1), (1, 1, 2, 2), (1, 2, 2, 4),
                            (2, 0, 4, 1), (2, 1, 4, 2), (2, 2, 4, 4),
                            (3, 0, 8, 1), (3, 1, 8, 2), (3, 2, 8, 4),
                            (4, 0, 16, 1), (4, 1, 16, 2),
                            (5, 0, 32, 1))
                    };
                }
                if w == 4 {
                    all!(dense_avx512)
                } else {
                    all!(dense_avx2)
                }
            }
        };
        let per_task = (super::super::block::TASK_LEN >> (nh + bits)).max(1);
        match par {
            crate::par::Par::Seq => run(0..groups),
            crate::par::Par::Rayon => {
                use rayon::prelude::*;
                (0..groups.div_ceil(per_task))
                    .into_par_iter()
                    .for_each(|t| run(t * per_task..((t + 1) * per_task).min(groups)))
            }
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (amps, qubits, lanes, par, cpu);
        false
    }
}
