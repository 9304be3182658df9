//! Reading one CSV source on every core.
//!
//! The calling thread reads the file once, front to back, hashing it and cutting it into
//! chunks of whole records ([`super::chunks`]). Worker threads fold each chunk into a [`Part`]
//! of their own: buckets, rejects and the request ids met. The calling thread takes the parts
//! back in file order, so that callers and models are interned, rejects listed and request ids
//! marked exactly as a single reader would. A row whose id may have been met before is read
//! again from its chunk, taken back out of the buckets and held until every source was read
//! ([`super::requests`]); such rows are rare, so this costs nothing on ordinary files.
//!
//! Memory stays at a few chunks and their parts, whatever the size of the file.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::chunks::{Chunk, Splitter};
use super::{Dataset, Reject, UsageRecord};
use crate::calc::bucket::{Buckets, SourceId};

/// What one chunk adds to the dataset.
#[derive(Debug, Default)]
pub struct Part {
    /// The chunk's accepted rows, folded.
    pub buckets: Buckets,
    /// Rows refused, with their line and reason, in file order.
    pub rejects: Vec<(u64, String)>,
    /// Keys of the request ids of the accepted rows, with the line and byte offset where each
    /// row begins, in file order (on a second reading, only those of the ids looked for).
    /// Several rows can begin on one line (where carriage returns alone end them), so a row
    /// is found again by its offset.
    pub request_keys: Vec<(u128, u64, u64)>,
    /// Rows accepted.
    pub accepted: u64,
    /// The latest call accepted.
    pub last_timestamp: Option<DateTime<Utc>>,
    /// Rows converted at each configured exchange rate.
    pub rates: BTreeMap<String, u64>,
    /// The chunk could not be read as CSV; it is read again row by row to say why.
    pub unreadable: bool,
}

impl Part {
    /// Refuses a row.
    pub fn reject(&mut self, line: u64, reason: impl Into<String>) {
        self.rejects.push((line, reason.into()));
    }
}

/// The chunks in flight per worker: enough to keep every core busy while the file is read.
const CHUNKS_PER_WORKER: usize = 2;

/// How a source's chunks are read: `fold` turns a chunk into a part on a worker thread;
/// `in_order` reads a chunk row by row into the dataset, for the rare chunk whose CSV the fast
/// split could not read; `reread` gives the records of the chunk at the lines asked for, with
/// the keys of their request ids.
pub struct ChunkReaders<F, G, H> {
    /// Folds a chunk into a part.
    pub fold: F,
    /// Reads a chunk row by row.
    pub in_order: G,
    /// Reads the rows at some offsets of a chunk again.
    pub reread: H,
}

/// Reads the rest of a source. `first` is its first chunk of records (after the header).
pub fn read_chunks<R, F, G, H>(
    dataset: &mut Dataset,
    source: SourceId,
    first: Chunk,
    splitter: &mut Splitter<R>,
    readers: ChunkReaders<F, G, H>,
) -> io::Result<()>
where
    R: Read,
    F: Fn(&Chunk) -> Part + Sync,
    G: FnMut(&mut Dataset, &Chunk),
    H: FnMut(&Chunk, &[u64]) -> Vec<(u128, UsageRecord)>,
{
    let ChunkReaders {
        fold,
        mut in_order,
        mut reread,
    } = readers;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let (work_sender, work_receiver) = mpsc::sync_channel::<(u64, Chunk)>(workers);
    let work_receiver = Arc::new(Mutex::new(work_receiver));
    let (done_sender, done_receiver) = mpsc::channel::<(u64, Chunk, Part)>();

    std::thread::scope(|scope| {
        for _ in 0..workers {
            let work = Arc::clone(&work_receiver);
            let done = done_sender.clone();
            let fold = &fold;
            scope.spawn(move || work_on_chunks(&work, &done, fold));
        }
        drop(done_sender);

        let mut order = InOrder::default();
        let mut next = Some(first);
        let mut sent = 0u64;
        let mut spare = Vec::new();
        loop {
            while order.in_flight(sent) < workers * CHUNKS_PER_WORKER {
                let Some(chunk) = next.take() else { break };
                if work_sender.send((sent, chunk)).is_err() {
                    break;
                }
                sent += 1;
                next = splitter.next_chunk(spare.pop())?;
            }
            if order.in_flight(sent) == 0 {
                break;
            }
            let Ok((seq, chunk, part)) = done_receiver.recv() else {
                break;
            };
            for (chunk, part) in order.arrived(seq, chunk, part) {
                match part.unreadable {
                    true => in_order(dataset, &chunk),
                    false => take_part(dataset, source, &chunk, part, &mut reread),
                }
                spare.push(chunk.bytes);
            }
            if dataset.probe.as_ref().is_some_and(|probe| probe.settled()) {
                break;
            }
        }
        drop(work_sender);
        Ok(())
    })
}

/// A worker: folds chunks until there are no more.
fn work_on_chunks<F>(
    work: &Mutex<mpsc::Receiver<(u64, Chunk)>>,
    done: &mpsc::Sender<(u64, Chunk, Part)>,
    fold: &F,
) where
    F: Fn(&Chunk) -> Part,
{
    loop {
        let next = match work.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok((seq, chunk)) = next else { return };
        let part = fold(&chunk);
        if done.send((seq, chunk, part)).is_err() {
            return;
        }
    }
}

/// Puts parts that arrive in any order back into file order.
#[derive(Default)]
struct InOrder {
    next: u64,
    waiting: BTreeMap<u64, (Chunk, Part)>,
}

impl InOrder {
    /// Chunks sent and not yet taken.
    fn in_flight(&self, sent: u64) -> usize {
        (sent - self.next) as usize
    }

    /// Takes a part; returns the parts now due, in order.
    fn arrived(&mut self, seq: u64, chunk: Chunk, part: Part) -> Vec<(Chunk, Part)> {
        self.waiting.insert(seq, (chunk, part));
        let mut due = Vec::new();
        while let Some(entry) = self.waiting.remove(&self.next) {
            due.push(entry);
            self.next += 1;
        }
        due
    }
}

/// Adds a part to the dataset: marks its request ids in file order, and holds the rows whose
/// id may have been met before. On a second reading only the ids looked for are noted.
fn take_part<H>(dataset: &mut Dataset, source: SourceId, chunk: &Chunk, part: Part, reread: &mut H)
where
    H: FnMut(&Chunk, &[u64]) -> Vec<(u128, UsageRecord)>,
{
    if let Some(probe) = &mut dataset.probe {
        probe.passed((source, chunk.first_line));
        for &(key, line, _) in &part.request_keys {
            probe.note_key(source, key, line);
        }
        return;
    }
    let keys: Vec<u128> = part.request_keys.iter().map(|&(key, ..)| key).collect();
    let marked = dataset.requests.mark_all(&keys);
    let offsets: Vec<u64> = marked.iter().map(|&i| part.request_keys[i].2).collect();
    dataset.absorb(source, part);
    if !offsets.is_empty() {
        for (key, record) in reread(chunk, &offsets) {
            dataset.hold_folded(source, key, record);
        }
    }
}

impl Dataset {
    /// Adds what a chunk of `source` held.
    fn absorb(&mut self, source: SourceId, part: Part) {
        let rejected = part.rejects.len() as u64;
        let summary = &mut self.sources[source as usize];
        summary.rows_read += part.accepted + rejected;
        summary.accepted += part.accepted;
        summary.rejected += rejected;
        self.progress
            .rows
            .fetch_add(part.accepted + rejected, Ordering::Relaxed);

        self.rejects
            .extend(part.rejects.into_iter().map(|(line, reason)| Reject {
                source,
                line,
                reason,
            }));
        self.last_timestamp = self.last_timestamp.max(part.last_timestamp);
        for (code, rows) in part.rates {
            self.count_rate_use(&code, rows);
        }
        self.buckets.absorb(part.buckets);
    }
}
