//! Buffers that start on a cache line.
//!
//! The system allocator hands out a large block 16 bytes past a page boundary, so a `Vec`
//! of amplitudes puts every 64-byte register of the vector kernels across two cache lines
//! (a split load and a split store each time) and every 256-byte piece of a cache-blocking
//! gather across five lines instead of four. [`Aligned`] allocates one line more and starts
//! at the first element on a line boundary: quantum volume at 24 qubits ran 13–17 % faster in
//! double precision and 18–27 % in single (`docs/performance.md`, "General circuits").

use std::collections::TryReserveError;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// Bytes per cache line.
const LINE: usize = 64;

/// `len` elements in a vector whose first element starts a cache line (where the element
/// size allows: 8 or 16 bytes here), dereferencing to a slice.
pub(crate) struct Aligned<A> {
    buf: Vec<A>,
    start: usize,
    len: usize,
}

impl<A: Copy> Aligned<A> {
    /// No elements, no allocation.
    pub(crate) const fn new() -> Self {
        Aligned {
            buf: Vec::new(),
            start: 0,
            len: 0,
        }
    }

    /// Elements allocated beyond `len`: one line's worth.
    fn pad() -> usize {
        (LINE / std::mem::size_of::<A>().max(1)).max(1)
    }

    /// `len` copies of `value`; `before_fill` sees the reserved, untouched vector (to advise
    /// the kernel on its pages). A failed allocation is an error, not an abort.
    pub(crate) fn try_filled(
        len: usize,
        value: A,
        before_fill: impl FnOnce(&Vec<A>),
    ) -> Result<Self, TryReserveError> {
        let mut buf = Vec::new();
        buf.try_reserve_exact(len + Self::pad())?;
        before_fill(&buf);
        buf.resize(len + Self::pad(), value);
        let start = Self::first_aligned(&buf);
        Ok(Aligned { buf, start, len })
    }

    /// `len` copies of `value` (aborts where the allocator fails, as `vec!` does).
    pub(crate) fn filled(len: usize, value: A) -> Self {
        let buf = vec![value; len + Self::pad()];
        let start = Self::first_aligned(&buf);
        Aligned { buf, start, len }
    }

    /// The elements of `v`, kept in place when `v` already starts a line.
    pub(crate) fn from_vec(v: Vec<A>) -> Self {
        if (v.as_ptr() as usize).is_multiple_of(LINE) || v.is_empty() {
            let len = v.len();
            return Aligned {
                buf: v,
                start: 0,
                len,
            };
        }
        Self::from_slice(&v)
    }

    /// A copy of `x`.
    fn from_slice(x: &[A]) -> Self {
        match x.first() {
            None => Self::new(),
            Some(&first) => {
                let mut a = Self::filled(x.len(), first);
                a.copy_from_slice(x);
                a
            }
        }
    }

    /// `len` elements, reallocated (as copies of `value`) only when the length changes.
    pub(crate) fn resize(&mut self, len: usize, value: A) {
        if len != self.len {
            *self = Self::filled(len, value);
        }
    }

    /// The index of the first element on a line boundary within the padding (0 when none
    /// is: an allocation not a multiple of the element size from a line).
    fn first_aligned(buf: &[A]) -> usize {
        let size = std::mem::size_of::<A>().max(1);
        let gap = (LINE - buf.as_ptr() as usize % LINE) % LINE;
        if gap.is_multiple_of(size) && gap / size < Self::pad() {
            gap / size
        } else {
            0
        }
    }
}

impl<A> Deref for Aligned<A> {
    type Target = [A];
    #[inline(always)]
    fn deref(&self) -> &[A] {
        &self.buf[self.start..self.start + self.len]
    }
}

impl<A> DerefMut for Aligned<A> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [A] {
        &mut self.buf[self.start..self.start + self.len]
    }
}

impl<A: Copy> Clone for Aligned<A> {
    fn clone(&self) -> Self {
        Self::from_slice(self)
    }
}

impl<A: PartialEq> PartialEq for Aligned<A> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<A: fmt::Debug> fmt::Debug for Aligned<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_complex::{Complex32, Complex64};

    #[test]
    fn every_buffer_starts_a_line_and_keeps_its_elements() {
        for len in [1usize, 3, 64, 1000, 1 << 16] {
            let a = Aligned::filled(len, Complex64::new(1.0, 2.0));
            assert_eq!(a.as_ptr() as usize % LINE, 0, "double, {len}");
            assert_eq!(a.len(), len);
            let b = Aligned::filled(len, Complex32::new(1.0, 2.0));
            assert_eq!(b.as_ptr() as usize % LINE, 0, "single, {len}");
            let v: Vec<Complex64> = (0..len).map(|i| Complex64::new(i as f64, 0.5)).collect();
            let c = Aligned::from_vec(v.clone());
            assert_eq!(c.as_ptr() as usize % LINE, 0, "from a vector, {len}");
            assert_eq!(&*c, &v[..]);
            let d = c.clone();
            assert_eq!(d.as_ptr() as usize % LINE, 0, "a clone, {len}");
            assert_eq!(d, c);
        }
        let mut e = Aligned::<Complex64>::new();
        assert!(e.is_empty());
        e.resize(100, Complex64::new(0.0, 0.0));
        assert_eq!((e.len(), e.as_ptr() as usize % LINE), (100, 0));
    }
}
