//! A fixed-size byte queue.

pub struct Ring<const N: usize> {
    buf: [u8; N],
    head: usize,
    len: usize,
}

impl<const N: usize> Default for Ring<N> {
    fn default() -> Self {
        Ring::new()
    }
}

impl<const N: usize> Ring<N> {
    pub const fn new() -> Ring<N> {
        Ring { buf: [0; N], head: 0, len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn free(&self) -> usize {
        N - self.len
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Appends as much of `bytes` as fits; returns how many were taken.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.free());
        for &b in &bytes[..n] {
            self.buf[(self.head + self.len) % N] = b;
            self.len += 1;
        }
        n
    }

    /// Copies up to `out.len()` bytes from the front without removing them.
    pub fn peek(&self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len);
        for (i, o) in out[..n].iter_mut().enumerate() {
            *o = self.buf[(self.head + i) % N];
        }
        n
    }

    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = (self.head + n) % N;
        self.len -= n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_around_and_refuses_what_does_not_fit() {
        let mut r: Ring<8> = Ring::new();
        assert_eq!(r.push(&[1, 2, 3, 4, 5, 6]), 6);
        let mut out = [0u8; 4];
        assert_eq!(r.peek(&mut out), 4);
        r.consume(4);
        assert_eq!(r.push(&[7, 8, 9, 10, 11]), 5);
        assert_eq!(r.push(&[12]), 1);
        assert_eq!(r.push(&[13]), 0);
        let mut all = [0u8; 8];
        assert_eq!(r.peek(&mut all), 8);
        assert_eq!(all, [5, 6, 7, 8, 9, 10, 11, 12]);
    }
}
