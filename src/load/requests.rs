//! The request ids seen so far, to reject a call that a source lists twice.
//!
//! This is the one part of a load whose memory grows with the number of rows: a duplicate can
//! come at any distance from the call it repeats, so every id must be remembered. Each id is
//! kept as its 128-bit hash with the source and line where it was first seen: 24 bytes.

use rustc_hash::FxHashMap;

use crate::calc::bucket::SourceId;

/// The hash of a request id: a 128-bit key (XXH3-128), so that a month of ids costs sixteen
/// bytes each rather than their text, with a collision chance far below one in a trillion for
/// a month of any realistic size.
pub fn request_key(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

/// Bits of a place given to the line; the rest hold the source.
const LINE_BITS: u32 = 40;

/// The ids seen, each with the source and line where it was first seen.
#[derive(Debug, Clone, Default)]
pub struct SeenRequests {
    places: FxHashMap<(u64, u64), u64>,
}

impl SeenRequests {
    /// Records `key` as first seen at `source`:`line`, unless it was seen before: then the
    /// place where it was first seen.
    pub fn claim(&mut self, key: u128, source: SourceId, line: u64) -> Result<(), (SourceId, u64)> {
        match self.places.entry(split(key)) {
            std::collections::hash_map::Entry::Occupied(first) => Err(unpack(*first.get())),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(pack(source, line));
                Ok(())
            }
        }
    }

    /// Forgets `key` again.
    pub fn release(&mut self, key: u128) {
        self.places.remove(&split(key));
    }
}

/// The key as two words, which pack into 24-byte entries with the place, where a `u128`
/// would be aligned to 32.
fn split(key: u128) -> (u64, u64) {
    ((key >> 64) as u64, key as u64)
}

/// A source and line in one word. Lines past 2^40 (a trillion) and sources past 2^24 do not
/// occur in practice; should they, they are held at the largest value rather than wrapped.
fn pack(source: SourceId, line: u64) -> u64 {
    let source = u64::from(source).min((1 << (64 - LINE_BITS)) - 1);
    let line = line.min((1 << LINE_BITS) - 1);
    (source << LINE_BITS) | line
}

fn unpack(place: u64) -> (SourceId, u64) {
    (
        (place >> LINE_BITS) as SourceId,
        place & ((1 << LINE_BITS) - 1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_names_the_first_place() {
        let mut seen = SeenRequests::default();
        let key = request_key("req_1");
        assert_eq!(seen.claim(key, 2, 41), Ok(()));
        assert_eq!(seen.claim(key, 0, 99), Err((2, 41)));
        assert_eq!(seen.claim(request_key("req_2"), 0, 99), Ok(()));
        seen.release(key);
        assert_eq!(seen.claim(key, 1, 7), Ok(()));
    }

    #[test]
    fn places_pack_without_loss() {
        assert_eq!(unpack(pack(3, 1_234_567)), (3, 1_234_567));
        assert_eq!(unpack(pack(0, 1)), (0, 1));
    }
}
