//! The request ids seen so far, to reject a call that the sources list twice, in memory that
//! does not grow with the month.
//!
//! A duplicate can come at any distance from the call it repeats, so an exact set of every id
//! would grow with every row. Instead each id is marked in a fixed-size filter as the rows are
//! taken in file order. A mark that finds the id's bits already set makes the row a
//! *suspect*: most likely a repeat, rarely another id whose bits happen to collide. Suspects
//! are held out of the buckets, and once every source is read the sources are read again for
//! the suspects' ids alone ([`Dataset::settle_duplicates`](super::Dataset::settle_duplicates)):
//! the first occurrence of each id is kept and every later one is rejected, naming the first.
//! Memory is the filter (128 MiB) and the suspects, whatever the number of rows.

use rustc_hash::FxHashSet;

use super::UsageRecord;
use crate::calc::bucket::SourceId;

/// The hash of a request id: a 128-bit key (XXH3-128), with a collision chance far below one
/// in a trillion for a month of any realistic size. Two ids with one key would be taken as
/// one request.
pub fn request_key(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

/// Blocks of the filter: 2^21 blocks of 512 bits, 128 MiB.
const BLOCK_BITS: u32 = 21;

/// Bits set per id: one in each word of the id's block, so that a mark touches one cache
/// line. Once ten million ids are marked, a new id finds all of its bits set by others about
/// once in a billion marks, so that up to months of that size the second reading is, as a
/// rule, for real repeats alone (and stops after the first row of the last of them). With
/// many more ids, collisions grow common: the figures stay exact, the second reading gets
/// longer and the suspects take more memory.
const BITS_PER_ID: u32 = 8;

/// Bytes of one block: 512 bits, one cache line, as eight words.
const BLOCK_BYTES: usize = 64;

/// The ids marked so far, as bits of a blocked Bloom filter. The filter is allocated at the
/// first mark, so that a load of sources without request ids never holds it.
#[derive(Debug, Clone)]
pub struct RequestFilter {
    memory: Option<FilterMemory>,
    block_bits: u32,
    spread: u32,
}

impl Default for RequestFilter {
    fn default() -> Self {
        RequestFilter::with_block_bits(BLOCK_BITS)
    }
}

impl RequestFilter {
    /// A filter of 2^`block_bits` blocks.
    fn with_block_bits(block_bits: u32) -> RequestFilter {
        RequestFilter {
            memory: None,
            block_bits: block_bits.min(BLOCK_BITS),
            spread: 63,
        }
    }

    /// A filter of one block whose ids fall on the first four bits of each word: nearly
    /// every id collides with others, which tests how collisions are settled.
    #[cfg(test)]
    pub fn colliding() -> RequestFilter {
        RequestFilter {
            spread: 3,
            ..RequestFilter::with_block_bits(0)
        }
    }

    /// Marks `key`; `true` when it may have been marked before (always so for a key marked
    /// before, rarely so for a new one).
    pub fn mark(&mut self, key: u128) -> bool {
        let (block, bits) = place(key, self.block_bits, self.spread);
        let block = &mut self.blocks()[block * BLOCK_BYTES..][..BLOCK_BYTES];
        let mut seen = true;
        for (word, mask) in bits {
            let word = &mut block[word * 8..][..8];
            let value = u64::from_ne_bytes(word.try_into().unwrap_or_default());
            seen &= value & mask == mask;
            word.copy_from_slice(&(value | mask).to_ne_bytes());
        }
        seen
    }

    /// Marks `keys` in order, as [`RequestFilter::mark`] would one by one, and returns the
    /// positions of those that may have been marked before. The keys' blocks are first read
    /// in groups, so that the fetches from memory overlap rather than follow one another.
    pub fn mark_all(&mut self, keys: &[u128]) -> Vec<usize> {
        const GROUP: usize = 32;
        let (block_bits, spread) = (self.block_bits, self.spread);
        let mut seen = Vec::new();
        for (group, keys) in keys.chunks(GROUP).enumerate() {
            let bytes = self.blocks();
            let touched = keys.iter().fold(0u8, |acc, &key| {
                acc | bytes[place(key, block_bits, spread).0 * BLOCK_BYTES]
            });
            std::hint::black_box(touched);
            for (index, &key) in keys.iter().enumerate() {
                if self.mark(key) {
                    seen.push(group * GROUP + index);
                }
            }
        }
        seen
    }

    /// Gives the memory back, once every source was read.
    pub fn clear(&mut self) {
        self.memory = None;
    }

    /// The bytes of the blocks, zeroed at first use.
    fn blocks(&mut self) -> &mut [u8] {
        let bytes = (1 << self.block_bits) * BLOCK_BYTES;
        self.memory
            .get_or_insert_with(|| FilterMemory::zeroed(bytes))
            .bytes()
    }
}

/// The filter's memory. It is mapped from the system, which hands it out zeroed, page by
/// page, and on Linux it is asked for huge pages: a mark then costs one cache miss instead of
/// a miss and a walk of the page tables, and the 128 MiB are faulted in 64 steps instead of
/// 32,768. Where no map can be made, the heap serves, only slower.
enum FilterMemory {
    Mapped(memmap2::MmapMut),
    Heap(Vec<u8>),
}

impl FilterMemory {
    /// `bytes` zeroed bytes.
    fn zeroed(bytes: usize) -> FilterMemory {
        match memmap2::MmapMut::map_anon(bytes) {
            Ok(map) => {
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                FilterMemory::Mapped(map)
            }
            Err(_) => FilterMemory::Heap(vec![0; bytes]),
        }
    }

    fn bytes(&mut self) -> &mut [u8] {
        match self {
            FilterMemory::Mapped(map) => map,
            FilterMemory::Heap(bytes) => bytes,
        }
    }
}

impl Clone for FilterMemory {
    fn clone(&self) -> Self {
        let bytes: &[u8] = match self {
            FilterMemory::Mapped(map) => map,
            FilterMemory::Heap(bytes) => bytes,
        };
        let mut copy = FilterMemory::zeroed(bytes.len());
        copy.bytes().copy_from_slice(bytes);
        copy
    }
}

impl std::fmt::Debug for FilterMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FilterMemory")
    }
}

/// The block of a key and the bits to set in it, as (word, mask) pairs: one bit in each word,
/// chosen by six bits of the key below those that choose the block.
fn place(key: u128, block_bits: u32, spread: u32) -> (usize, [(usize, u64); BITS_PER_ID as usize]) {
    let block = key.checked_shr(128 - block_bits).unwrap_or(0) as usize;
    let mut bits = [(0, 0); BITS_PER_ID as usize];
    for (word, bit) in bits.iter_mut().enumerate() {
        let position = ((key >> (6 * word)) as u32) & spread;
        *bit = (word, 1u64 << position);
    }
    (block, bits)
}

/// A row whose request id may have been met before: held out of the buckets until every
/// source was read and its fate is known.
#[derive(Debug, Clone)]
pub struct Suspect {
    /// The source it came from.
    pub source: SourceId,
    /// Its request id's key.
    pub key: u128,
    /// The row, as read.
    pub record: UsageRecord,
}

/// The keys of the suspects, which a second reading looks for.
pub type Wanted = FxHashSet<u128>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_mark_is_seen() {
        let mut filter = RequestFilter::default();
        let key = request_key("req_1");
        assert!(!filter.mark(key));
        assert!(filter.mark(key));
        assert!(!filter.mark(request_key("req_2")));
    }

    #[test]
    fn marking_together_finds_what_marking_one_by_one_finds() {
        let keys: Vec<u128> = ["a", "b", "a", "c", "b", "a"]
            .iter()
            .map(|id| request_key(id))
            .collect();
        let mut together = RequestFilter::default();
        assert_eq!(together.mark_all(&keys), vec![2, 4, 5]);
        let mut one_by_one = RequestFilter::default();
        let seen: Vec<usize> = (0..keys.len())
            .filter(|&i| one_by_one.mark(keys[i]))
            .collect();
        assert_eq!(seen, vec![2, 4, 5]);
    }

    #[test]
    fn new_ids_rarely_look_seen() {
        let mut filter = RequestFilter::default();
        let collisions = (0..200_000)
            .filter(|i| filter.mark(request_key(&format!("req_{i}"))))
            .count();
        assert!(collisions < 5, "{collisions} new ids looked seen");
    }
}
