//! The one record format of the hub's files (segments and journal): each record framed with
//! what it is, its key (an application id, a device, a batch), its lengths and a CRC-32, so
//! that the index can be rebuilt from the files and a damaged stretch costs only itself.
//!
//! ```text
//! magic "DSHFRAME" (8) | kind (1) | key length (u16 LE) | meta length (u32 LE)
//! | body length (u32 LE) | CRC-32 of everything after the magic but the CRC (u32 LE)
//! | key | meta (JSON) | body
//! ```
//!
//! A reader that meets a frame that does not check (a write cut short, a flipped bit, bytes
//! nobody wrote) looks for the next magic and goes on from there; the magic inside an
//! envelope's ciphertext is caught by the CRC.

/// Starts every frame.
pub(super) const MAGIC: &[u8; 8] = b"DSHFRAME";
/// magic, kind, key length, meta length, body length, CRC.
pub(super) const HEADER: usize = 8 + 1 + 2 + 4 + 4 + 4;
/// The longest key taken (ids are 36 characters, a device and batch id well under this).
const MAX_KEY: usize = 1024;
/// The longest meta taken (the facts and receipt of an envelope, a manifest's decisions).
const MAX_META: usize = 16 * 1024 * 1024;

/// What a frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// An envelope: key its application id, meta its facts and receipt, body its bytes.
    Envelope,
    /// A supervisor's manifest: key device and batch, meta the decisions, body its bytes.
    Manifest,
    /// A device bound to its signing key (journal): key the device, body the key.
    DeviceKey,
    /// A status set outside a manifest, a verdict (journal): key the id, meta the status.
    Status,
    /// An appointment as added or changed (journal): key its id, meta the booking (JSON).
    Appointment,
    /// A feedback as received or changed (journal): key its id, meta what the hub holds of it
    /// in clear (JSON), body the sealed feedback when it was received (empty for a change).
    Feedback,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Envelope => b'E',
            Kind::Manifest => b'M',
            Kind::DeviceKey => b'K',
            Kind::Status => b'V',
            Kind::Appointment => b'A',
            Kind::Feedback => b'F',
        }
    }

    fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            b'E' => Kind::Envelope,
            b'M' => Kind::Manifest,
            b'K' => Kind::DeviceKey,
            b'V' => Kind::Status,
            b'A' => Kind::Appointment,
            b'F' => Kind::Feedback,
            _ => return None,
        })
    }
}

/// A frame's bytes, and where its body starts within them.
pub(super) fn encode(kind: Kind, key: &[u8], meta: &[u8], body: &[u8]) -> (Vec<u8>, usize) {
    let mut out = head(kind, key, meta, body);
    let body_at = out.len();
    out.extend_from_slice(body);
    (out, body_at)
}

/// A frame's bytes up to its body (its CRC covers the body too): written before the body,
/// so that an envelope is not copied to be framed.
pub(super) fn head(kind: Kind, key: &[u8], meta: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + key.len() + meta.len());
    out.extend_from_slice(MAGIC);
    out.push(kind.byte());
    out.extend_from_slice(&(key.len() as u16).to_le_bytes());
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(key);
    out.extend_from_slice(meta);
    let mut h = crc32fast::Hasher::new();
    h.update(&out[8..HEADER - 4]);
    h.update(&out[HEADER..]);
    h.update(body);
    out[HEADER - 4..HEADER].copy_from_slice(&h.finalize().to_le_bytes());
    out
}

/// CRC-32 of a frame's bytes after the magic, its own four bytes left out.
fn checksum(frame: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&frame[8..HEADER - 4]);
    h.update(&frame[HEADER..]);
    h.finalize()
}

/// A frame found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Frame<'a> {
    /// Where the frame starts in the file.
    pub at: u64,
    pub kind: Kind,
    pub key: &'a [u8],
    pub meta: &'a [u8],
    pub body: &'a [u8],
    /// Where the body starts in the file.
    pub body_at: u64,
    /// Where the frame ends in the file.
    pub end: u64,
}

/// What a scan of a file finds, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Found<'a> {
    Frame(Frame<'a>),
    /// Bytes that are not a whole, checked frame: `len` bytes from `at`.
    Damaged {
        at: u64,
        len: u64,
    },
}

/// The frame at the start of `bytes`, if it is whole and checks.
fn frame_at(bytes: &[u8], base: u64) -> Option<Frame<'_>> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return None;
    }
    let kind = Kind::from_byte(bytes[8])?;
    let key_len = u16::from_le_bytes([bytes[9], bytes[10]]) as usize;
    let meta_len = u32::from_le_bytes(bytes[11..15].try_into().ok()?) as usize;
    let body_len = u32::from_le_bytes(bytes[15..19].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(bytes[19..23].try_into().ok()?);
    if key_len > MAX_KEY || meta_len > MAX_META {
        return None;
    }
    let len = HEADER.checked_add(key_len)?.checked_add(meta_len)?.checked_add(body_len)?;
    let whole = bytes.get(..len)?;
    if checksum(whole) != crc {
        return None;
    }
    let (key, rest) = whole[HEADER..].split_at(key_len);
    let (meta, body) = rest.split_at(meta_len);
    let body_at = base + (HEADER + key_len + meta_len) as u64;
    Some(Frame { at: base, kind, key, meta, body, body_at, end: base + len as u64 })
}

/// Every frame in `bytes` (a file's contents from `start`), and the stretches between them
/// that are not frames.
pub(super) fn scan(bytes: &[u8], start: u64) -> Vec<Found<'_>> {
    let mut found = Vec::new();
    let mut pos = 0usize;
    let mut damaged_from: Option<usize> = None;
    while pos < bytes.len() {
        match frame_at(&bytes[pos..], start + pos as u64) {
            Some(f) => {
                if let Some(from) = damaged_from.take() {
                    found.push(Found::Damaged { at: start + from as u64, len: (pos - from) as u64 });
                }
                pos = (f.end - start) as usize;
                found.push(Found::Frame(f));
            }
            None => {
                damaged_from.get_or_insert(pos);
                // On to the next magic, if there is one.
                pos = match bytes[pos + 1..].windows(MAGIC.len()).position(|w| w == MAGIC) {
                    Some(p) => pos + 1 + p,
                    None => bytes.len(),
                };
            }
        }
    }
    if let Some(from) = damaged_from {
        found.push(Found::Damaged { at: start + from as u64, len: (bytes.len() - from) as u64 });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(found: &[Found<'_>]) -> Vec<(Kind, Vec<u8>, Vec<u8>)> {
        found
            .iter()
            .filter_map(|f| match f {
                Found::Frame(f) => Some((f.kind, f.key.to_vec(), f.body.to_vec())),
                Found::Damaged { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_damaged_stretch_costs_only_itself() {
        let (a, body_at) = encode(Kind::Envelope, b"id-a", b"{}", b"the first envelope");
        let (b, _) = encode(Kind::Manifest, b"dev\0batch", b"[]", b"a manifest");
        let (c, _) = encode(Kind::Envelope, b"id-c", b"{}", b"the third, whose magic is inside DSHFRAME");
        assert_eq!(&a[body_at..], b"the first envelope");
        let mut file = [a.clone(), b.clone(), c.clone()].concat();
        let whole = scan(&file, 16);
        assert_eq!(frames(&whole).len(), 3);
        assert!(whole.iter().all(|f| matches!(f, Found::Frame(_))));
        // A flipped bit in the second, garbage between, and the third cut short.
        let second = a.len();
        file[second + HEADER + 3] ^= 1;
        let mut damaged = file[..a.len() + b.len()].to_vec();
        damaged.extend_from_slice(b"garbage DSHFRAME garbage");
        damaged.extend_from_slice(&c);
        damaged.extend_from_slice(&a[..a.len() - 1]);
        let found = scan(&damaged, 0);
        assert_eq!(
            frames(&found),
            vec![
                (Kind::Envelope, b"id-a".to_vec(), b"the first envelope".to_vec()),
                (Kind::Envelope, b"id-c".to_vec(), b"the third, whose magic is inside DSHFRAME".to_vec()),
            ]
        );
        let holes: Vec<(u64, u64)> = found
            .iter()
            .filter_map(|f| match f {
                Found::Damaged { at, len } => Some((*at, *len)),
                Found::Frame(_) => None,
            })
            .collect();
        let after_c = (a.len() + b.len() + 24 + c.len()) as u64;
        assert_eq!(holes, vec![(a.len() as u64, (b.len() + 24) as u64), (after_c, a.len() as u64 - 1)]);
        assert_eq!(scan(&[], 0), vec![]);
    }
}
