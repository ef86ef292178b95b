//! Cache blocking: a schedule that applies many gates per pass over memory.
//!
//! A gate that touches only qubits in a set Q (|Q| = k) maps every group of 2^k amplitudes that
//! agree on all bits outside Q into itself. So a *stage* — a qubit set Q and a run of steps that
//! touch only Q — can be applied chunk by chunk: gather the 2^k amplitudes of one chunk into a
//! cache-resident buffer (local qubit j stands for Q\[j\], Q ascending), apply every step of the
//! stage there, scatter back. The state crosses the memory bus once per stage instead of once
//! per gate.
//!
//! The planner is greedy over the dependency order. It scans the remaining steps in program
//! order and takes a step when no earlier remaining step shares a qubit with it and its qubits
//! fit in Q (Q grows up to the block size as steps need it); a step it cannot take blocks its
//! qubits for the rest of the stage, so every step still follows all earlier steps on its
//! qubits. Q always holds the lowest [`LOW_QUBITS`] qubits, so a gather copies runs of
//! 2^LOW contiguous amplitudes, and is padded with the lowest free qubits up to the block
//! size; when Q = {0, …, k−1} a chunk is a contiguous slice, updated in place. Growing Q in
//! program order can fill it with qubits that the next steps do not need, so a stage may
//! also start from a *lookahead* seed (the first remaining step's qubits and those the next
//! few remaining steps touch most) and keep whichever start takes more steps; the whole
//! program is planned with a few such rules and the plan with the fewest stages kept.
//!
//! Steps on disjoint qubits may run in another order than the circuit's; they commute, so
//! results agree with the unblocked path to rounding (tested to 1e-12 on random circuits).
//!
//! The block size, [`Blocking::DEFAULT_QUBITS`], was chosen with `cargo bench --bench
//! simulator -- blocking` on the reference machine (see `docs/performance.md`).

use super::kernels::{Kernel, Subspace};
use super::precision::Amplitude;
use super::simd::Cpu;
use crate::par::Par;
use rayon::prelude::*;

/// The lowest qubits every stage keeps local: gathers then copy 2^4 · 16 B = 256 B runs.
pub const LOW_QUBITS: usize = 4;

/// Whether and how a [`crate::Program`] blocks its steps for cache.
///
/// ```
/// use qloop::{Blocking, Circuit};
/// let mut c = Circuit::new(20);
/// for q in 0..20 { c = c.h(q); }
/// for q in 0..19 { c = c.cx(q, q + 1); }
/// let program = c.compile().unwrap();
/// // Each CX absorbs the H on its target: 1 + 19 steps.
/// assert_eq!(program.num_steps(), 20);
/// assert!(program.num_passes() < 5);
/// assert_eq!(program.with_blocking(Blocking::Off).num_passes(), 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocking {
    /// One pass over the state per step (the reference path).
    Off,
    /// Stages whose chunks hold 2^k amplitudes (k is raised to [`LOW_QUBITS`] plus the
    /// widest step's qubits, at least 3, if smaller); states of at most k qubits run
    /// unblocked.
    Qubits(usize),
}

impl Default for Blocking {
    fn default() -> Self {
        Blocking::Qubits(Self::DEFAULT_QUBITS)
    }
}

impl Blocking {
    /// 2^16 amplitudes · 16 B = 1 MiB per chunk, a quarter of the 4 MiB L2 of the reference
    /// machine.
    pub const DEFAULT_QUBITS: usize = 16;
}

/// One stage: its local qubits and the steps it applies, in an order valid for the circuit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stage {
    /// Global qubit of each local qubit, ascending.
    qubits: Vec<usize>,
    /// `qubits[..low] == [0, 1, …, low − 1]`.
    low: usize,
    /// Global offset of each run of `2^low` amplitudes in a chunk (local index `h << low`).
    offsets: Vec<usize>,
    /// Step indices into the program, with their subspaces in local qubits.
    steps: Vec<(usize, Subspace)>,
}

/// A blocked schedule: every step of the program in exactly one stage.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    stages: Vec<Stage>,
}

impl Plan {
    /// Plans `steps` (the subspace of each step, in program order) on `num_qubits` qubits in
    /// chunks of `2^block` amplitudes; `None` when the state fits one chunk.
    pub fn new(num_qubits: usize, steps: &[Subspace], block: usize) -> Option<Plan> {
        // The widest step on fresh qubits must fit a stage that starts with the low qubits
        // (a fused block has up to 8).
        let widest = steps.iter().map(|s| s.qubits().count()).max().unwrap_or(0);
        let block = block.max(LOW_QUBITS + widest.max(3));
        if num_qubits <= block {
            return None;
        }
        // Every lookahead rule plans the whole program; the fewest stages wins (the plain
        // greedy rule on ties).
        LOOKAHEADS
            .iter()
            .map(|windows| plan_with(num_qubits, steps, block, windows))
            .min_by_key(|plan| plan.stages.len())
    }

    /// Number of stages (passes over the state).
    pub fn num_stages(&self) -> usize {
        self.stages.len()
    }

    /// Applies every stage; `kernel_of(i)` is the kernel of step `i` in global qubits.
    /// `scratch` holds the local kernels of one stage, prepared for the amplitude type
    /// (reused, so a run allocates once).
    pub(crate) fn apply<A: Amplitude>(
        &self,
        amps: &mut [A],
        par: Par,
        scratch: &mut Vec<(A::Kernel, Subspace)>,
        cpu: Cpu,
        kernel_of: impl FnMut(usize) -> Kernel,
    ) {
        let stream = std::mem::size_of_val(amps) >= STREAM_BYTES;
        self.apply_streaming(amps, par, scratch, cpu, kernel_of, stream)
    }

    /// [`Plan::apply`], scattering with streaming stores or not.
    fn apply_streaming<A: Amplitude>(
        &self,
        amps: &mut [A],
        par: Par,
        scratch: &mut Vec<(A::Kernel, Subspace)>,
        cpu: Cpu,
        mut kernel_of: impl FnMut(usize) -> Kernel,
        stream: bool,
    ) {
        for stage in &self.stages {
            let mut global_to_local = [0usize; usize::BITS as usize];
            for (j, &q) in stage.qubits.iter().enumerate() {
                global_to_local[q] = j;
            }
            scratch.clear();
            scratch.extend(stage.steps.iter().map(|&(i, sub)| {
                let local = kernel_of(i).remap(|q| global_to_local[q]);
                (A::prepare(local, &sub, cpu), sub)
            }));
            stage.apply(amps, par, scratch, cpu, stream);
        }
    }
}

/// The lookahead rules [`Plan::new`] tries: for each, the windows (in multiples of the qubit
/// count) of the [`busiest`] seeds that compete with the plain greedy seed at every stage.
/// Over 42 circuits of 18–24 qubits (`benches/peers/planner_circuits.py` and the general
/// circuits benchmark: quantum volume, random, QFT, EfficientSU2 and RealAmplitudes ansätze,
/// W1) the plain rule made 329 passes, these rules together 294 (`examples/plan_passes`,
/// `docs/performance.md`).
const LOOKAHEADS: [&[usize]; 4] = [&[], &[2], &[4], &[2, 4]];

/// The plan whose every stage takes the most steps of the greedy stages grown from the low
/// qubits and from the [`busiest`] seeds of `windows`.
fn plan_with(num_qubits: usize, steps: &[Subspace], block: usize, windows: &[usize]) -> Plan {
    let mut done = vec![false; steps.len()];
    let mut first = 0;
    let mut stages = Vec::new();
    let low: Vec<usize> = (0..LOW_QUBITS).collect();
    while first < steps.len() {
        let mut best = grow(num_qubits, steps, &done, first, block, &low);
        for &window in windows {
            let seed = busiest(num_qubits, steps, &done, first, block, window * num_qubits);
            let candidate = grow(num_qubits, steps, &done, first, block, &seed);
            if candidate.1.len() > best.1.len() {
                best = candidate;
            }
        }
        let (qubits, taken) = best;
        taken.iter().for_each(|&i| done[i] = true);
        stages.push(Stage::new(qubits, &taken, steps));
        while first < steps.len() && done[first] {
            first += 1;
        }
    }
    Plan { stages }
}

/// One stage by the greedy rule from the local set `seed` (which it may grow up to `block`
/// qubits): the local qubits, ascending, and the steps taken, in program order.
fn grow(
    num_qubits: usize,
    steps: &[Subspace],
    done: &[bool],
    first: usize,
    block: usize,
    seed: &[usize],
) -> (Vec<usize>, Vec<usize>) {
    let mut local = vec![false; num_qubits];
    seed.iter().for_each(|&q| local[q] = true);
    let mut size = seed.len();
    let mut blocked = vec![false; num_qubits];
    let mut taken = Vec::new();
    for (index, sub) in steps.iter().enumerate().skip(first) {
        if done[index] {
            continue;
        }
        let fresh = sub.qubits().filter(|&q| !local[q]).count();
        if sub.qubits().any(|q| blocked[q]) || size + fresh > block {
            sub.qubits().for_each(|q| blocked[q] = true);
            continue;
        }
        sub.qubits().for_each(|q| local[q] = true);
        size += fresh;
        taken.push(index);
    }
    for is_local in local.iter_mut().filter(|l| !**l) {
        if size < block {
            *is_local = true;
            size += 1;
        }
    }
    ((0..num_qubits).filter(|&q| local[q]).collect(), taken)
}

/// The low qubits, the first remaining step's qubits, then the qubits that the next `window`
/// remaining steps touch most often, up to `block`.
fn busiest(
    num_qubits: usize,
    steps: &[Subspace],
    done: &[bool],
    first: usize,
    block: usize,
    window: usize,
) -> Vec<usize> {
    let mut count = vec![0usize; num_qubits];
    let mut pending = (first..steps.len()).filter(|&i| !done[i]);
    let mut seed: Vec<usize> = (0..LOW_QUBITS).collect();
    if let Some(i) = pending.next() {
        seed.extend(steps[i].qubits().filter(|&q| q >= LOW_QUBITS));
    }
    for i in pending.take(window) {
        steps[i].qubits().for_each(|q| count[q] += 1);
    }
    let mut order: Vec<usize> = (0..num_qubits).filter(|q| !seed.contains(q)).collect();
    order.sort_by_key(|&q| std::cmp::Reverse(count[q]));
    for q in order {
        if seed.len() >= block || count[q] == 0 {
            break;
        }
        seed.push(q);
    }
    seed
}

/// How many pieces ahead a gather or scatter asks for: the pieces lie far apart in memory,
/// so the hardware prefetchers do not follow, and one piece at a time leaves the memory
/// system mostly idle.
const PREFETCH_AHEAD: usize = 32;

/// A raw pointer to a state's amplitudes, shared by threads that touch disjoint sets of them.
#[derive(Clone, Copy)]
pub(crate) struct Shared<A>(pub(crate) *mut A);
// SAFETY: every user (`Stage::apply`'s chunks, `block::dense_groups`'s groups) hands each set
// of indices, disjoint from every other set, to exactly one call.
unsafe impl<A> Send for Shared<A> {}
unsafe impl<A> Sync for Shared<A> {}

impl<A> Shared<A> {
    #[inline(always)]
    pub(crate) fn ptr(&self, i: usize) -> *mut A {
        self.0.wrapping_add(i)
    }
}

/// From this state size on, a gathered stage writes its chunks back with streaming
/// (non-temporal) stores: the state is far larger than any cache, so an ordinary store first
/// reads each line back from memory (a read for ownership) only to overwrite it. A pass of
/// 256-byte pieces over 256 MiB took 71–89 ms instead of 117–136 ms (one thread, this
/// machine, `docs/performance.md`). Below it the state may stay in the last-level cache
/// between passes, which streaming stores would defeat.
const STREAM_BYTES: usize = 64 << 20;

/// Writes `piece` to `dst` with streaming stores (no read for ownership); the caller fences.
///
/// # Safety
/// `dst` is 64-byte aligned and valid for `size_of_val(piece)` bytes, a multiple of 64.
#[inline(always)]
unsafe fn stream_piece<A>(piece: &[A], dst: *mut A) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_load_si128, _mm_stream_si128};
        let bytes = std::mem::size_of_val(piece);
        let (src, dst) = (piece.as_ptr() as *const __m128i, dst as *mut __m128i);
        // SAFETY (of the loads): the chunk buffer is line-aligned and `piece` a whole number
        // of lines of it.
        for i in 0..bytes / 16 {
            _mm_stream_si128(dst.add(i), _mm_load_si128(src.add(i)));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    std::ptr::copy_nonoverlapping(piece.as_ptr(), dst, piece.len());
}

/// Prefetches the cache lines of the piece at `base | offset` (if any) of `run` amplitudes.
#[inline(always)]
fn prefetch_piece<A>(shared: &Shared<A>, base: usize, offset: Option<&usize>, run: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(&off) = offset {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = shared.ptr(base | off) as *const i8;
        for line in (0..run * std::mem::size_of::<A>()).step_by(64) {
            // SAFETY: a prefetch is a hint; it never faults and the address is in bounds.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(line)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (shared, base, offset, run);
}

impl Stage {
    fn new(qubits: Vec<usize>, taken: &[usize], steps: &[Subspace]) -> Stage {
        let low = qubits
            .iter()
            .enumerate()
            .take_while(|&(j, &q)| j == q)
            .count();
        let high = &qubits[low..];
        let offsets = (0..1usize << high.len())
            .map(|h| {
                high.iter()
                    .enumerate()
                    .filter(|&(bit, _)| h >> bit & 1 == 1)
                    .fold(0, |acc, (_, &q)| acc | 1 << q)
            })
            .collect();
        let local_of = |q: usize| qubits.iter().position(|&g| g == q).expect("planned local");
        let steps = taken
            .iter()
            .map(|&i| (i, steps[i].remap(local_of)))
            .collect();
        Stage {
            qubits,
            low,
            offsets,
            steps,
        }
    }

    /// The first global index of chunk `c`: the bits of `c` spread over the non-local qubits.
    fn chunk_base(&self, mut c: usize) -> usize {
        for &q in &self.qubits {
            c = ((c >> q) << (q + 1)) | (c & ((1 << q) - 1));
        }
        c
    }

    fn apply<A: Amplitude>(
        &self,
        amps: &mut [A],
        par: Par,
        kernels: &[(A::Kernel, Subspace)],
        cpu: Cpu,
        stream: bool,
    ) {
        let k = self.qubits.len();
        let run_steps = |chunk: &mut [A]| {
            for (kernel, sub) in kernels {
                A::apply(chunk, kernel, sub, Par::Seq, cpu);
            }
        };
        if self.low == k {
            match par {
                Par::Seq => amps.chunks_exact_mut(1 << k).for_each(run_steps),
                Par::Rayon => amps.par_chunks_exact_mut(1 << k).for_each(run_steps),
            }
            return;
        }
        let num_chunks = amps.len() >> k;
        let run = 1usize << self.low;
        let shared = Shared(amps.as_mut_ptr());
        // Whole cache lines only: a partly written line makes a streaming store slow.
        let stream = stream
            && (run * std::mem::size_of::<A>()).is_multiple_of(64)
            && (amps.as_ptr() as usize).is_multiple_of(64);
        let one_chunk = |c: usize| {
            let base = self.chunk_base(c);
            // One chunk buffer per thread, grown on first use and then reused.
            A::with_chunk(|buf| {
                buf.resize(1 << k, A::ZERO);
                // SAFETY: chunks are disjoint sets of indices (they differ in the bits outside
                // Q), every index is in bounds, and each chunk is handled by one call.
                unsafe {
                    for (k, (piece, &off)) in
                        buf.chunks_exact_mut(run).zip(&self.offsets).enumerate()
                    {
                        prefetch_piece(&shared, base, self.offsets.get(k + PREFETCH_AHEAD), run);
                        let src = std::slice::from_raw_parts(shared.ptr(base | off), run);
                        piece.copy_from_slice(src);
                    }
                    run_steps(buf);
                    if stream {
                        for (piece, &off) in buf.chunks_exact(run).zip(&self.offsets) {
                            stream_piece(piece, shared.ptr(base | off));
                        }
                        // Streaming stores are weakly ordered: done before the chunk is.
                        #[cfg(target_arch = "x86_64")]
                        std::arch::x86_64::_mm_sfence();
                    } else {
                        for (k, (piece, &off)) in
                            buf.chunks_exact(run).zip(&self.offsets).enumerate()
                        {
                            prefetch_piece(
                                &shared,
                                base,
                                self.offsets.get(k + PREFETCH_AHEAD),
                                run,
                            );
                            let dst = std::slice::from_raw_parts_mut(shared.ptr(base | off), run);
                            dst.copy_from_slice(piece);
                        }
                    }
                }
            })
        };
        match par {
            Par::Seq => (0..num_chunks).for_each(one_chunk),
            Par::Rayon => (0..num_chunks).into_par_iter().for_each(one_chunk),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random list of 1-, 2- and 3-qubit subspaces.
    fn random_steps(n: usize, count: usize, seed: u64) -> Vec<Subspace> {
        let mut s = seed;
        let mut next = |m: usize| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as usize % m
        };
        (0..count)
            .map(|_| {
                let arity = 1 + next(3);
                let mut qubits: Vec<usize> = Vec::new();
                while qubits.len() < arity {
                    let q = next(n);
                    if !qubits.contains(&q) {
                        qubits.push(q);
                    }
                }
                let (controls, targets) = qubits.split_at(arity - 1);
                Subspace::new(controls, targets)
            })
            .collect()
    }

    #[test]
    fn every_step_once_in_an_order_that_respects_shared_qubits() {
        for (n, block, seed) in [(9, 7, 1), (12, 8, 2), (16, 10, 3), (20, 16, 4), (10, 3, 5)] {
            let steps = random_steps(n, 300, seed);
            let plan = Plan::new(n, &steps, block).expect("state larger than a block");
            let order: Vec<usize> = plan
                .stages
                .iter()
                .flat_map(|st| st.steps.iter().map(|&(i, _)| i))
                .collect();
            let mut position = vec![usize::MAX; steps.len()];
            for (pos, &i) in order.iter().enumerate() {
                assert_eq!(position[i], usize::MAX, "step {i} planned twice");
                position[i] = pos;
            }
            assert!(
                position.iter().all(|&p| p != usize::MAX),
                "a step is missing"
            );
            for i in 0..steps.len() {
                for j in i + 1..steps.len() {
                    if steps[i].qubits().any(|q| steps[j].qubits().any(|r| r == q)) {
                        assert!(position[i] < position[j], "steps {i} and {j} reordered");
                    }
                }
            }
            for stage in &plan.stages {
                assert_eq!(stage.qubits.len(), block.max(LOW_QUBITS + 3));
                assert!(stage.qubits.windows(2).all(|w| w[0] < w[1]));
                for &(i, _) in &stage.steps {
                    assert!(steps[i].qubits().all(|q| stage.qubits.contains(&q)));
                }
            }
            assert!(plan.num_stages() < steps.len());
        }
    }

    /// Streaming the chunks back gives the same bits as ordinary stores, in both precisions
    /// and on both thread settings (the path runs only from `STREAM_BYTES` on, so it is
    /// forced here).
    #[test]
    fn streamed_scatter_matches_ordinary_stores() {
        use crate::aligned::Aligned;
        use num_complex::{Complex32, Complex64};
        let n = 12;
        let steps = random_steps(n, 200, 11);
        let plan = Plan::new(n, &steps, 8).expect("state larger than a block");
        assert!(
            plan.stages.iter().any(|s| s.low < s.qubits.len()),
            "some stage gathers"
        );
        let entry = |i: usize| {
            let x = (i * 2654435761 % 1000) as f64 / 1000.0 - 0.5;
            let y = (i * 40503 % 997) as f64 / 997.0 - 0.5;
            Complex64::new(x, y)
        };
        let kernel_of = |i: usize| {
            let sub = steps[i];
            let t = sub
                .qubits()
                .find(|&q| sub.ctrl >> q & 1 == 0)
                .expect("a target");
            Kernel::Dense {
                t,
                m: [
                    entry(4 * i),
                    entry(4 * i + 1),
                    entry(4 * i + 2),
                    entry(4 * i + 3),
                ],
            }
        };
        let cpu = Cpu::detect();
        for par in [Par::Seq, Par::Rayon] {
            let start: Vec<Complex64> = (0..1usize << n).map(|i| entry(i + 7)).collect();
            let run = |stream: bool| {
                let mut amps = Aligned::from_vec(start.clone());
                plan.apply_streaming(&mut amps, par, &mut Vec::new(), cpu, kernel_of, stream);
                amps
            };
            assert_eq!(run(true), run(false), "double, {par:?}");
            let start: Vec<Complex32> = start
                .iter()
                .map(|z| Complex32::new(z.re as f32, z.im as f32))
                .collect();
            let run = |stream: bool| {
                let mut amps = Aligned::from_vec(start.clone());
                plan.apply_streaming(&mut amps, par, &mut Vec::new(), cpu, kernel_of, stream);
                amps
            };
            assert_eq!(run(true), run(false), "single, {par:?}");
        }
    }

    /// The plan kept has no more stages than the plain greedy rule's, and the lookahead
    /// seeds save stages on some of these random programs.
    #[test]
    fn lookahead_plans_never_take_more_passes() {
        let mut saved = 0;
        for (n, block, seed) in [(14, 8, 1), (16, 9, 2), (18, 10, 3), (20, 12, 4), (13, 8, 5)] {
            let steps = random_steps(n, 400, seed);
            let plain = plan_with(n, &steps, block, &[]).num_stages();
            let kept = Plan::new(n, &steps, block).expect("planned").num_stages();
            assert!(kept <= plain, "n {n}: {kept} stages against {plain}");
            saved += plain - kept;
        }
        assert!(saved > 0, "the lookahead never helped");
    }

    #[test]
    fn small_states_need_no_plan() {
        let steps = random_steps(6, 20, 7);
        assert!(Plan::new(6, &steps, 16).is_none());
        assert!(
            Plan::new(7, &steps, 3).is_none(),
            "blocks are at least 7 qubits"
        );
    }
}
