//! Consistent Overhead Byte Stuffing: removes every 0x00 from a block so 0x00 can delimit
//! frames. Overhead: one byte per 254, plus one.

/// The most bytes `cobs_encode` writes for `len` input bytes (without the delimiter).
pub const fn cobs_max_encoded_len(len: usize) -> usize {
    len + len / 254 + 1
}

/// Encodes `input` into `out`; returns the length, or `None` if `out` is too small.
pub fn cobs_encode(input: &[u8], out: &mut [u8]) -> Option<usize> {
    if out.len() < cobs_max_encoded_len(input.len()) {
        return None;
    }
    let mut code_index = 0;
    let mut write = 1;
    let mut code: u8 = 1;
    for &b in input {
        if b == 0 {
            out[code_index] = code;
            code_index = write;
            write += 1;
            code = 1;
        } else {
            out[write] = b;
            write += 1;
            code += 1;
            if code == 0xFF {
                out[code_index] = code;
                code_index = write;
                write += 1;
                code = 1;
            }
        }
    }
    out[code_index] = code;
    Some(write)
}

/// Decodes a COBS block (without its delimiter) into `out`; `None` if it is malformed (a
/// zero byte, a code pointing past the end) or `out` is too small.
pub fn cobs_decode(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut read = 0;
    let mut write = 0;
    while read < input.len() {
        let code = input[read];
        if code == 0 {
            return None;
        }
        read += 1;
        let run = usize::from(code) - 1;
        if read + run > input.len() {
            return None;
        }
        for &b in &input[read..read + run] {
            if b == 0 || write >= out.len() {
                return None;
            }
            out[write] = b;
            write += 1;
        }
        read += run;
        if code != 0xFF && read < input.len() {
            if write >= out.len() {
                return None;
            }
            out[write] = 0;
            write += 1;
        }
    }
    Some(write)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    fn enc(input: &[u8]) -> Vec<u8> {
        let mut out = std::vec![0u8; cobs_max_encoded_len(input.len())];
        let n = cobs_encode(input, &mut out).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn known_examples() {
        // From the COBS paper / Wikipedia's examples.
        assert_eq!(enc(&[0x00]), [0x01, 0x01]);
        assert_eq!(enc(&[0x00, 0x00]), [0x01, 0x01, 0x01]);
        assert_eq!(enc(&[0x11, 0x22, 0x00, 0x33]), [0x03, 0x11, 0x22, 0x02, 0x33]);
        assert_eq!(enc(&[0x11, 0x22, 0x33, 0x44]), [0x05, 0x11, 0x22, 0x33, 0x44]);
        let run: Vec<u8> = (1..=254).collect();
        let e = enc(&run);
        assert_eq!(e[0], 0xFF);
        assert_eq!(e.len(), 256);
    }

    proptest::proptest! {
        #[test]
        fn round_trip_without_zeros(input in proptest::collection::vec(proptest::num::u8::ANY, 0..700)) {
            let e = enc(&input);
            proptest::prop_assert!(!e.contains(&0));
            proptest::prop_assert!(e.len() <= cobs_max_encoded_len(input.len()));
            let mut out = std::vec![0u8; input.len() + 1];
            let n = cobs_decode(&e, &mut out).unwrap();
            proptest::prop_assert_eq!(&out[..n], &input[..]);
        }

        #[test]
        fn decoding_garbage_never_panics(input in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let mut out = [0u8; 64];
            let _ = cobs_decode(&input, &mut out);
        }
    }
}
