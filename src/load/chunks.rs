//! Cuts a CSV stream into chunks that begin and end on record boundaries, so that several
//! threads can parse one file while it is read (and hashed) once, front to back.
//!
//! A record boundary is a line feed outside quotes. Counting quotes from the start of the
//! stream tells which line feeds are outside quotes, but only while every quote sits where
//! RFC 4180 puts it: at the start of a field, at its end, or doubled inside a quoted field.
//! A stray quote in an unquoted field (`ab"c`) is a literal character to a CSV reader and would
//! throw the count off, so from the first such quote on, boundaries are found by a real CSV
//! parser instead: slower, but never wrong.
//!
//! The records of a chunk are read with the csv crate, which skips empty lines (and the line
//! feed of a CRLF) but reports a record's position as the place where the skipping began;
//! [`each_record`] moves each position past them, so that every row is named by its own line.

use std::io::{self, Read};

use csv::ByteRecord;

use super::hashing::{Hashing, HashingReader};

/// A piece of the stream that holds whole records only.
#[derive(Debug)]
pub struct Chunk {
    /// The bytes, from the start of a record to the end of a record.
    pub bytes: Vec<u8>,
    /// The line (1-based) on which `bytes` begins.
    pub first_line: u64,
    /// The byte offset in the stream at which `bytes` begins.
    pub first_offset: u64,
}

/// Reads a stream and hands it out as chunks of about `target` bytes.
pub struct Splitter<R> {
    reader: HashingReader<R>,
    target: usize,
    carry: Vec<u8>,
    carry_line: u64,
    carry_offset: u64,
    eof: bool,
    quotes_reliable: bool,
}

impl<R: Read> Splitter<R> {
    /// Starts reading `reader`, aiming at chunks of `target` bytes.
    pub fn new(reader: R, target: usize) -> Splitter<R> {
        Splitter::hashing(reader, target, Hashing::Sha256)
    }

    /// Starts reading `reader` as [`Splitter::new`] does, hashing it or only counting it.
    pub fn hashing(reader: R, target: usize, hashing: Hashing) -> Splitter<R> {
        Splitter {
            reader: HashingReader::with(reader, hashing),
            target: target.max(1),
            carry: Vec::new(),
            carry_line: 1,
            carry_offset: 0,
            eof: false,
            quotes_reliable: true,
        }
    }

    /// The next chunk, `None` at the end of the stream. `recycled` is a buffer the caller is
    /// done with, reused so that memory stays at a few chunks however long the stream is.
    pub fn next_chunk(&mut self, recycled: Option<Vec<u8>>) -> io::Result<Option<Chunk>> {
        // A recycled buffer keeps its length: its old bytes are overwritten rather than
        // zeroed first, which would cost as much as reading them.
        let mut buffer = recycled.unwrap_or_default();
        let mut filled = self.carry.len();
        if buffer.len() < filled {
            buffer.resize(filled, 0);
        }
        buffer[..filled].copy_from_slice(&self.carry);
        self.carry.clear();
        let mut want = self.target;

        loop {
            self.fill(&mut buffer, &mut filled, want)?;
            if filled == 0 {
                return Ok(None);
            }
            let end = match self.eof {
                true => None,
                false => match self.boundary(&buffer[..filled]) {
                    Some(end) => Some(end),
                    None => {
                        want = filled * 2;
                        continue;
                    }
                },
            };
            buffer.truncate(filled);
            return Ok(Some(self.cut(buffer, end)));
        }
    }

    /// Starts reading a CSV stream: the splitter, the header record, and the first chunk of
    /// records after it (empty when there are none).
    pub fn start(reader: R, target: usize) -> io::Result<(Splitter<R>, ByteRecord, Chunk)> {
        Splitter::start_hashing(reader, target, Hashing::Sha256)
    }

    /// Starts reading a CSV stream as [`Splitter::start`] does, hashing it or only counting it.
    pub fn start_hashing(
        reader: R,
        target: usize,
        hashing: Hashing,
    ) -> io::Result<(Splitter<R>, ByteRecord, Chunk)> {
        let mut splitter = Splitter::hashing(reader, target, hashing);
        let mut first = splitter.next_chunk(None)?.unwrap_or(Chunk {
            bytes: Vec::new(),
            first_line: 1,
            first_offset: 0,
        });
        let header = split_header(&mut first);
        Ok((splitter, header, first))
    }

    /// Hands `first` and every chunk after it to `take`, in order, on this thread.
    pub fn for_each_chunk(&mut self, first: Chunk, mut take: impl FnMut(&Chunk)) -> io::Result<()> {
        let mut next = Some(first);
        while let Some(chunk) = next {
            take(&chunk);
            next = self.next_chunk(Some(chunk.bytes))?;
        }
        Ok(())
    }

    /// Size and SHA-256 (empty when not hashed) of the whole stream, once every chunk was
    /// taken.
    pub fn finish(self) -> io::Result<(u64, String)> {
        self.reader.finish()
    }

    /// Reads until `buffer` holds `want` bytes (`filled` says how many it holds) or the
    /// stream ends. Only bytes past the buffer's length are zeroed before they are read into.
    fn fill(&mut self, buffer: &mut Vec<u8>, filled: &mut usize, want: usize) -> io::Result<()> {
        if buffer.len() < want {
            buffer.resize(want, 0);
        }
        while *filled < want && !self.eof {
            match self.reader.read(&mut buffer[*filled..want]) {
                Ok(0) => self.eof = true,
                Ok(n) => *filled += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Where the last whole record in `buffer` ends, if one does.
    fn boundary(&mut self, buffer: &[u8]) -> Option<usize> {
        if self.quotes_reliable {
            match last_boundary_by_quotes(buffer) {
                Ok(end) => return end,
                Err(StrayQuote) => self.quotes_reliable = false,
            }
        }
        last_boundary_by_parser(buffer)
    }

    /// Hands out `buffer[..end]` (all of it without `end`) and keeps the rest for later.
    fn cut(&mut self, mut buffer: Vec<u8>, end: Option<usize>) -> Chunk {
        if let Some(end) = end {
            self.carry.extend_from_slice(&buffer[end..]);
            buffer.truncate(end);
        }
        let chunk = Chunk {
            first_line: self.carry_line,
            first_offset: self.carry_offset,
            bytes: buffer,
        };
        // A chunk the parser cut can end between the carriage return and the line feed of a
        // CRLF: the byte after it, kept for the next chunk, says whether a line ended there.
        self.carry_line += line_breaks(&chunk.bytes, self.carry.first());
        self.carry_offset += chunk.bytes.len() as u64;
        chunk
    }
}

/// Takes the header record off the front of the first chunk.
fn split_header(first: &mut Chunk) -> ByteRecord {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(&first.bytes[..]);
    let header = reader.byte_headers().cloned().unwrap_or_default();
    let end = (reader.position().byte() as usize).min(first.bytes.len());
    drop(reader);

    first.first_line += line_breaks(&first.bytes[..end], first.bytes.get(end));
    first.first_offset += end as u64;
    first.bytes.drain(..end);
    header
}

/// Hands every record of `chunk` to `take` with the line and byte offset in the file where it
/// begins. A chunk held in memory cannot fail to be read as CSV (every byte sequence is some
/// CSV to a flexible reader of byte records), but should it ever, `take` is given the reason
/// and the rest of the chunk is left.
pub fn each_record(chunk: &Chunk, mut take: impl FnMut(Result<&ByteRecord, String>, (u64, u64))) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(&chunk.bytes[..]);
    let mut record = ByteRecord::new();
    let mut lines = LineCounter::default();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return,
            Ok(true) => {
                let place = record.position().map(|p| lines.place_in(chunk, p));
                take(
                    Ok(&record),
                    place.unwrap_or((chunk.first_line, chunk.first_offset)),
                );
            }
            Err(error) => {
                let place = error.position().map(|p| lines.place_in(chunk, p));
                let reason = format!("not a readable CSV row: {error}");
                take(
                    Err(reason),
                    place.unwrap_or((chunk.first_line, chunk.first_offset)),
                );
                return;
            }
        }
    }
}

/// Counts the lines of a chunk up to each record, front to back. A line ends at a line feed,
/// or at a carriage return that no line feed follows, as in files written with carriage
/// returns alone: the CSV reader ends records there too, and without counting those
/// every record of such a file would be named line 1.
#[derive(Default)]
struct LineCounter {
    counted_to: usize,
    lines: u64,
}

impl LineCounter {
    /// The line and byte offset in the file of a position a reader of `chunk` reported (the
    /// positions must come in order).
    fn place_in(&mut self, chunk: &Chunk, position: &csv::Position) -> (u64, u64) {
        let at = skip_line_endings(&chunk.bytes, position.byte() as usize);
        let at = at.max(self.counted_to);
        self.lines += line_breaks(&chunk.bytes[self.counted_to..at], chunk.bytes.get(at));
        self.counted_to = at;
        (
            chunk.first_line + self.lines,
            chunk.first_offset + at as u64,
        )
    }
}

/// The line endings in `bytes`: line feeds, and carriage returns that no line feed follows
/// (`next` is the byte after `bytes`, if any).
fn line_breaks(bytes: &[u8], next: Option<&u8>) -> u64 {
    let line_feeds = memchr::memchr_iter(b'\n', bytes).count();
    let lone_returns = memchr::memchr_iter(b'\r', bytes)
        .filter(|&at| bytes.get(at + 1).or(next) != Some(&b'\n'))
        .count();
    (line_feeds + lone_returns) as u64
}

/// The fields of one CSV row, however the row was split.
pub trait Fields {
    /// How many fields the row has.
    fn field_count(&self) -> usize;

    /// The text of field `index` (empty past the last field), or `Err` when it is not UTF-8.
    fn text(&self, index: usize) -> Result<&str, std::str::Utf8Error>;

    /// Whether every field is empty or white space.
    fn is_blank(&self) -> bool;

    /// Whether a field holds a line break, which only a quoted field can: a line without
    /// quotes needs no look, and a quoted row is looked at in one pass over its bytes.
    fn has_line_breaks(&self) -> bool;
}

impl Fields for ByteRecord {
    fn field_count(&self) -> usize {
        ByteRecord::len(self)
    }

    fn text(&self, index: usize) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(self.get(index).unwrap_or_default())
    }

    fn is_blank(&self) -> bool {
        self.iter()
            .all(|field| field.iter().all(u8::is_ascii_whitespace))
    }

    fn has_line_breaks(&self) -> bool {
        memchr::memchr2(b'\n', b'\r', self.as_slice()).is_some()
    }
}

/// A row of a chunk without quotes: its line, and where each field begins in it.
pub struct PlainRow<'a> {
    line: &'a str,
    /// Where field `i` begins is `starts[i]`, and it ends just before `starts[i + 1]` (at
    /// its comma); the last entry is one past the end of the line, as if a comma followed.
    /// Both ends of a field are then read from one place, whatever its index.
    starts: &'a [u32],
}

impl Fields for PlainRow<'_> {
    #[inline]
    fn field_count(&self) -> usize {
        self.starts.len() - 1
    }

    #[inline]
    fn text(&self, index: usize) -> Result<&str, std::str::Utf8Error> {
        match self.starts.get(index..) {
            Some([start, next, ..]) => Ok(&self.line[*start as usize..*next as usize - 1]),
            _ => Ok(""),
        }
    }

    fn is_blank(&self) -> bool {
        self.line
            .bytes()
            .all(|b| b == b',' || b.is_ascii_whitespace())
    }

    fn has_line_breaks(&self) -> bool {
        false
    }
}

/// A row with quotes, split by the CSV parser: the fields' bytes one after the other, and
/// where each ends.
pub struct QuotedRow<'a> {
    bytes: &'a [u8],
    ends: &'a [usize],
}

impl Fields for QuotedRow<'_> {
    fn field_count(&self) -> usize {
        self.ends.len()
    }

    fn text(&self, index: usize) -> Result<&str, std::str::Utf8Error> {
        let Some(&end) = self.ends.get(index) else {
            return Ok("");
        };
        let start = index.checked_sub(1).map_or(0, |i| self.ends[i]);
        std::str::from_utf8(&self.bytes[start..end])
    }

    fn is_blank(&self) -> bool {
        self.bytes.iter().all(u8::is_ascii_whitespace)
    }

    fn has_line_breaks(&self) -> bool {
        memchr::memchr2(b'\n', b'\r', self.bytes).is_some()
    }
}

/// One row of a chunk, however it was split.
pub enum Row<'a> {
    /// A line without quotes, split at its commas.
    Plain(PlainRow<'a>),
    /// A row with quotes, split by the CSV parser.
    Quoted(QuotedRow<'a>),
    /// A row of a chunk read by the csv crate as a whole.
    Parsed(&'a ByteRecord),
}

// Inlined into the caller, which asks a row for a dozen fields: the variant is then looked
// at where the field is used, not through a call per field.
impl Fields for Row<'_> {
    #[inline]
    fn field_count(&self) -> usize {
        match self {
            Row::Plain(row) => row.field_count(),
            Row::Quoted(row) => row.field_count(),
            Row::Parsed(row) => row.field_count(),
        }
    }

    #[inline]
    fn text(&self, index: usize) -> Result<&str, std::str::Utf8Error> {
        match self {
            Row::Plain(row) => row.text(index),
            Row::Quoted(row) => row.text(index),
            Row::Parsed(row) => Fields::text(*row, index),
        }
    }

    fn is_blank(&self) -> bool {
        match self {
            Row::Plain(row) => row.is_blank(),
            Row::Quoted(row) => row.is_blank(),
            Row::Parsed(row) => Fields::is_blank(*row),
        }
    }

    #[inline]
    fn has_line_breaks(&self) -> bool {
        match self {
            Row::Plain(_) => false,
            Row::Quoted(row) => row.has_line_breaks(),
            Row::Parsed(row) => Fields::has_line_breaks(*row),
        }
    }
}

/// Hands every row of `chunk` to `take`, as [`each_record`] does, with the same rows, fields,
/// lines and offsets, but faster. In a chunk that is UTF-8 and whose carriage returns all end
/// lines, a line without quotes is split at its commas directly, several times faster than
/// the CSV parser, and a row with quotes is given to the parser alone (its quoted fields may
/// hold line feeds). Any other chunk goes to [`each_record`].
pub fn each_row(chunk: &Chunk, take: impl FnMut(Result<Row<'_>, String>, (u64, u64))) {
    walk_rows(chunk, None, take);
}

/// Hands the text of field `index` of every row of `chunk` to `take`, with the row's line and
/// offset: what [`each_row`] gives as `row.text(index)` for the same rows, without splitting
/// the rest of a line. A second reading that looks for a few request ids needs no more.
/// The text is `None` when the field is not UTF-8; `Err` says why the chunk could not be read.
pub fn each_field(
    chunk: &Chunk,
    index: usize,
    mut take: impl FnMut(Result<Option<&str>, String>, (u64, u64)),
) {
    walk_rows(chunk, Some(index + 1), |row, place| match row {
        Ok(row) => take(Ok(row.text(index).ok()), place),
        Err(reason) => take(Err(reason), place),
    });
}

/// The rows of a chunk, as [`each_row`] describes; a line without quotes is split into its
/// first `fields` fields only, when `fields` is given.
fn walk_rows(
    chunk: &Chunk,
    fields: Option<usize>,
    mut take: impl FnMut(Result<Row<'_>, String>, (u64, u64)),
) {
    // Field starts are kept as `u32`, which a line of 4 GiB would overflow.
    let text = plain_text(&chunk.bytes).filter(|text| text.len() < u32::MAX as usize);
    let Some(text) = text else {
        each_record(chunk, |record, place| take(record.map(Row::Parsed), place));
        return;
    };

    let mut lines = LineSplitter::new(chunk, text, fields.unwrap_or(usize::MAX));
    let mut at = 0;
    loop {
        while at < text.len() {
            at = lines.split_block(at, &mut take);
        }
        if lines.line_start >= text.len() {
            return;
        }
        match lines.end_line(text.len(), &mut take) {
            Some(resume) => at = resume,
            None => return,
        }
    }
}

/// Where the commas and line feeds are in the 64 bytes of text from `at`: bit `i` of each
/// mask stands for byte `at + i`, and bytes past the end of the text count as neither.
/// The bytes are compared in a loop the compiler turns into vector compares, and each 8
/// bytes of results are gathered into 8 bits by one multiplication. Walking the bits then
/// finds every field end without a search that restarts at each comma.
struct BlockMarks {
    commas: u64,
    line_feeds: u64,
}

impl BlockMarks {
    fn of(bytes: &[u8], at: usize) -> BlockMarks {
        let block = block_at(bytes, at);

        // 1 for a comma, 2 for a line feed, 0 for any other byte.
        let mut kinds = [0u8; 64];
        for (kind, &byte) in kinds.iter_mut().zip(&block) {
            *kind = (byte == b',') as u8 | ((byte == b'\n') as u8) << 1;
        }

        let mut marks = BlockMarks {
            commas: 0,
            line_feeds: 0,
        };
        for (index, eight) in kinds.chunks_exact(8).enumerate() {
            let word = u64::from_le_bytes(eight.try_into().unwrap_or_default());
            marks.commas |= low_bits(word) << (8 * index);
            marks.line_feeds |= low_bits(word >> 1) << (8 * index);
        }
        marks
    }
}

/// The 64 bytes from `at`, with zeros past the end of `bytes`.
fn block_at(bytes: &[u8], at: usize) -> [u8; 64] {
    match bytes.get(at..at + 64) {
        Some(whole) => whole.try_into().unwrap_or([0; 64]),
        None => {
            let mut padded = [0; 64];
            let rest = &bytes[at.min(bytes.len())..];
            padded[..rest.len()].copy_from_slice(rest);
            padded
        }
    }
}

/// The lowest bit of each byte of `word`, gathered into one byte: the first byte's into bit
/// 0. The multiplication adds a copy of the word shifted so that each byte's bit lands in the
/// top byte, at its own place; no two copies overlap there.
fn low_bits(word: u64) -> u64 {
    const LOW_BIT_OF_EACH_BYTE: u64 = 0x0101_0101_0101_0101;
    const GATHER: u64 = 0x0102_0408_1020_4080;
    (word & LOW_BIT_OF_EACH_BYTE).wrapping_mul(GATHER) >> 56
}

/// Splits the lines of a chunk's text at commas block by block, handing each row on as soon
/// as its line ends; a line with a quote is handed to the CSV parser instead.
struct LineSplitter<'t> {
    text: &'t str,
    first_offset: u64,
    /// The line being split: where it begins in the text, and its number in the file.
    line_start: usize,
    line_number: u64,
    /// Where the fields found so far on the line begin, as [`PlainRow`] holds them.
    starts: Vec<u32>,
    /// How many field ends to find on a line; the rest of the line is not split.
    fields: usize,
    /// The first quote at or after `line_start` (the text's length when there is none):
    /// quotes are rare, so one search finds the next rather than a mask per block.
    next_quote: usize,
    quoted: QuotedSplitter,
}

impl<'t> LineSplitter<'t> {
    fn new(chunk: &Chunk, text: &'t str, fields: usize) -> LineSplitter<'t> {
        let mut lines = LineSplitter {
            text,
            first_offset: chunk.first_offset,
            line_start: 0,
            line_number: chunk.first_line,
            starts: Vec::with_capacity(32),
            fields,
            next_quote: 0,
            quoted: QuotedSplitter::default(),
        };
        lines.find_quote_from(0);
        lines.begin_line(0);
        lines
    }

    /// Splits the 64 bytes from `at`, ending every line that ends in them; returns where the
    /// next block begins (after the row, when a row with quotes was read).
    fn split_block(
        &mut self,
        at: usize,
        take: &mut impl FnMut(Result<Row<'_>, String>, (u64, u64)),
    ) -> usize {
        let BlockMarks {
            mut commas,
            mut line_feeds,
        } = BlockMarks::of(self.text.as_bytes(), at);
        loop {
            let before_line_feed = line_feeds.wrapping_sub(1) & !line_feeds;
            self.add_field_ends(at, commas & before_line_feed);
            if line_feeds == 0 {
                return at + 64;
            }

            let end = at + line_feeds.trailing_zeros() as usize;
            if let Some(resume) = self.end_line(end, take) {
                return resume;
            }

            let through_line_feed = line_feeds ^ line_feeds.wrapping_sub(1);
            commas &= !through_line_feed;
            line_feeds &= !through_line_feed;
        }
    }

    /// Notes a field end at each comma of `commas` (bits of the block at `at`), up to the
    /// number of fields wanted.
    fn add_field_ends(&mut self, at: usize, mut commas: u64) {
        // The block may begin before the line (on the line before it), so this wraps; a
        // field start, which lies on the line, does not.
        let block_in_line = at.wrapping_sub(self.line_start) as u32;
        while commas != 0 && self.starts.len() <= self.fields {
            let comma_in_line = block_in_line.wrapping_add(commas.trailing_zeros());
            self.starts.push(comma_in_line + 1);
            commas &= commas - 1;
        }
    }

    /// Ends the line at `end` (its line feed, or the end of the text) and hands its row to
    /// `take`; returns where to go on when the line had a quote and the parser read the row.
    fn end_line(
        &mut self,
        end: usize,
        take: &mut impl FnMut(Result<Row<'_>, String>, (u64, u64)),
    ) -> Option<usize> {
        let place = (self.line_number, self.first_offset + self.line_start as u64);
        let line = &self.text[self.line_start..end];
        let line = line.strip_suffix('\r').unwrap_or(line);
        if self.next_quote < end {
            let resume = match self.quoted.split_simple(line.as_bytes()) {
                true => self.take_quoted_line(end, place, take),
                false => self.read_quoted_row(place, take),
            };
            self.begin_line(resume);
            return Some(resume);
        }

        if !line.is_empty() {
            if self.starts.len() <= self.fields {
                self.starts.push(line.len() as u32 + 1);
            }
            let row = PlainRow {
                line,
                starts: &self.starts,
            };
            take(Ok(Row::Plain(row)), place);
        }
        self.line_number += 1;
        self.begin_line(end + 1);
        None
    }

    /// Reads the row at the line start with the CSV parser (its quoted fields may hold line
    /// feeds) and hands it to `take`; returns where the row ends.
    fn read_quoted_row(
        &mut self,
        place: (u64, u64),
        take: &mut impl FnMut(Result<Row<'_>, String>, (u64, u64)),
    ) -> usize {
        let rest = &self.text.as_bytes()[self.line_start..];
        let consumed = self.quoted.split(rest);
        take(Ok(Row::Quoted(self.quoted.row())), place);
        self.line_number += memchr::memchr_iter(b'\n', &rest[..consumed]).count() as u64;
        self.line_start + consumed
    }

    /// Hands on the row of a line with quotes that [`QuotedSplitter::split_simple`] split,
    /// as the parser would have; returns where the next line begins.
    fn take_quoted_line(
        &mut self,
        end: usize,
        place: (u64, u64),
        take: &mut impl FnMut(Result<Row<'_>, String>, (u64, u64)),
    ) -> usize {
        take(Ok(Row::Quoted(self.quoted.row())), place);
        if end < self.text.len() {
            self.line_number += 1;
        }
        end + 1
    }

    /// Starts a line at `start`, with no field found on it yet.
    fn begin_line(&mut self, start: usize) {
        self.line_start = start;
        self.starts.clear();
        self.starts.push(0);
        if self.next_quote < start {
            self.find_quote_from(start);
        }
    }

    /// Finds the first quote at or after `start`.
    fn find_quote_from(&mut self, start: usize) {
        let bytes = self.text.as_bytes();
        let rest = bytes.get(start..).unwrap_or_default();
        self.next_quote = memchr::memchr(b'"', rest).map_or(bytes.len(), |at| start + at);
    }
}

/// Splits one row that has quotes with the CSV parser, keeping its buffers from row to row.
struct QuotedSplitter {
    parser: csv_core::Reader,
    output: Vec<u8>,
    ends: Vec<usize>,
    length: usize,
    fields: usize,
}

impl Default for QuotedSplitter {
    fn default() -> Self {
        QuotedSplitter {
            parser: csv_core::Reader::new(),
            output: vec![0; 1024],
            ends: vec![0; 64],
            length: 0,
            fields: 0,
        }
    }
}

impl QuotedSplitter {
    /// Reads the record at the start of `input` into the buffers (the parser gives each
    /// field's end from the start of the record); returns the bytes it took,
    /// up to and including its line ending (of a CRLF, the carriage return only, as the CSV
    /// reader does: the line feed then reads as an empty line).
    fn split(&mut self, input: &[u8]) -> usize {
        let (mut consumed, mut length, mut fields) = (0, 0, 0);
        loop {
            let (result, read, written, ended) = self.parser.read_record(
                &input[consumed..],
                &mut self.output[length..],
                &mut self.ends[fields..],
            );
            consumed += read;
            length += written;
            fields += ended;
            match result {
                csv_core::ReadRecordResult::OutputFull => {
                    self.output.resize(self.output.len() * 2, 0)
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    self.ends.resize(self.ends.len() * 2, 0)
                }
                csv_core::ReadRecordResult::InputEmpty if consumed < input.len() => {}
                csv_core::ReadRecordResult::InputEmpty => {
                    // The chunk ends inside this record: an empty input tells the parser
                    // that the record is complete.
                    let (_, _, written, ended) = self.parser.read_record(
                        &[],
                        &mut self.output[length..],
                        &mut self.ends[fields..],
                    );
                    length += written;
                    fields += ended;
                    self.parser.reset();
                    break;
                }
                csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => break,
            }
        }
        self.length = length;
        self.fields = fields;
        consumed
    }
}

impl QuotedSplitter {
    /// The row split last.
    fn row(&self) -> QuotedRow<'_> {
        QuotedRow {
            bytes: &self.output[..self.length],
            ends: &self.ends[..self.fields],
        }
    }

    /// Splits a line (without its line ending) whose quotes all enclose whole fields, as
    /// `"Sales, EMEA"` does, into the buffers as [`QuotedSplitter::split`] would; `false`,
    /// with nothing split, for any other use of quotes (a doubled quote, a quote inside a
    /// field or after its closing quote, a field that goes on past the line), which is left
    /// to the parser. Such lines are common in logs, and the parser reads them byte by byte.
    fn split_simple(&mut self, line: &[u8]) -> bool {
        let (mut length, mut fields, mut start) = (0, 0, 0);
        loop {
            let Some((content, next)) = simple_field(line, start) else {
                return false;
            };
            let bytes = &line[content];
            if self.output.len() < length + bytes.len() {
                self.output
                    .resize((length + bytes.len()).next_power_of_two(), 0);
            }
            if self.ends.len() <= fields {
                self.ends.resize(self.ends.len() * 2, 0);
            }
            self.output[length..length + bytes.len()].copy_from_slice(bytes);
            length += bytes.len();
            self.ends[fields] = length;
            fields += 1;

            match next {
                Some(next) => start = next,
                None => break,
            }
        }
        self.length = length;
        self.fields = fields;
        true
    }
}

/// The field of `line` that begins at `start`: the range of its text, and where the next
/// field begins (`None` for the last). `None` when quotes are used in it in any way other
/// than around the whole field.
fn simple_field(line: &[u8], start: usize) -> Option<(std::ops::Range<usize>, Option<usize>)> {
    let rest = &line[start..];
    if rest.first() == Some(&b'"') {
        let close = start + 1 + memchr::memchr(b'"', &rest[1..])?;
        return match line.get(close + 1) {
            None => Some((start + 1..close, None)),
            Some(b',') => Some((start + 1..close, Some(close + 2))),
            Some(_) => None,
        };
    }
    match memchr::memchr2(b',', b'"', rest) {
        None => Some((start..line.len(), None)),
        Some(at) if rest[at] == b',' => Some((start..start + at, Some(start + at + 1))),
        Some(_) => None,
    }
}

/// The chunk as text when the fast path reads it as the CSV parser would: UTF-8, and no
/// carriage return other than before a line feed.
fn plain_text(bytes: &[u8]) -> Option<&str> {
    let lone_return = memchr::memchr_iter(b'\r', bytes).any(|at| bytes.get(at + 1) != Some(&b'\n'));
    if lone_return {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// Moves a record start `at` in `bytes` past the line endings there: a record never starts
/// with one, so those are lines the reader skipped.
fn skip_line_endings(bytes: &[u8], at: usize) -> usize {
    let rest = bytes.get(at..).unwrap_or_default();
    at + rest
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count()
}

/// A quote that is not where RFC 4180 quoting puts one.
#[derive(Debug, PartialEq)]
struct StrayQuote;

/// The position just past the last line feed outside quotes, by counting quotes; `Err` when a
/// quote is misplaced, since the count then says nothing. Only the quotes are visited front to
/// back; line feeds are looked at from the end, usually only the last one.
fn last_boundary_by_quotes(buffer: &[u8]) -> Result<Option<usize>, StrayQuote> {
    let quotes: Vec<usize> = memchr::memchr_iter(b'"', buffer).collect();
    for (index, &at) in quotes.iter().enumerate() {
        let closing = index % 2 == 1;
        let neighbour = match closing {
            true => buffer.get(at + 1).copied(),
            false => at.checked_sub(1).map(|p| buffer[p]),
        };
        if !matches!(neighbour, None | Some(b',' | b'\n' | b'\r' | b'"')) {
            return Err(StrayQuote);
        }
    }

    let mut before = quotes.len();
    let mut end = buffer.len();
    while let Some(line_feed) = memchr::memrchr(b'\n', &buffer[..end]) {
        while before > 0 && quotes[before - 1] > line_feed {
            before -= 1;
        }
        if before % 2 == 0 {
            return Ok(Some(line_feed + 1));
        }
        end = line_feed;
    }
    Ok(None)
}

/// The position just past the last record that a CSV parser sees end inside `buffer`.
fn last_boundary_by_parser(buffer: &[u8]) -> Option<usize> {
    let mut parser = csv_core::Reader::new();
    let mut output = vec![0u8; 64 * 1024];
    let mut ends = vec![0usize; 1024];
    let mut consumed = 0;
    let mut last = None;
    loop {
        let (result, read, _, _) = parser.read_record(&buffer[consumed..], &mut output, &mut ends);
        consumed += read;
        match result {
            csv_core::ReadRecordResult::Record => last = Some(consumed),
            csv_core::ReadRecordResult::OutputFull => output.resize(output.len() * 2, 0),
            csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => {
                return last.filter(|&end| end > 0 && end < buffer.len());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks_of(text: &str, target: usize) -> Vec<Chunk> {
        let mut splitter = Splitter::new(text.as_bytes(), target);
        let mut all = Vec::new();
        while let Some(chunk) = splitter.next_chunk(None).unwrap() {
            all.push(chunk);
        }
        all
    }

    #[test]
    fn chunks_end_on_line_feeds_outside_quotes() {
        let text = "a,b\n1,\"x\ny\"\n2,z\n3,w\n";
        let chunks = chunks_of(text, 6);
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.bytes.clone()).collect();
        assert_eq!(joined, text.as_bytes());
        for chunk in &chunks {
            assert!(chunk.bytes.ends_with(b"\n"));
            let text = String::from_utf8_lossy(&chunk.bytes);
            assert_eq!(
                text.matches('"').count() % 2,
                0,
                "split inside quotes: {text:?}"
            );
        }
        assert_eq!(chunks[1].first_line, 2);
        assert_eq!(chunks.last().unwrap().first_line, 5);
    }

    #[test]
    fn a_stray_quote_hands_the_split_to_a_parser() {
        // The stray quote makes the count odd, so counting would split inside the quoted
        // field that follows; the parser does not.
        assert_eq!(
            last_boundary_by_quotes(b"1,ab\"c\n2,\"x\ny\"\n3"),
            Err(StrayQuote)
        );
        let text = "h\n1,ab\"c\n2,\"x\ny\"\n3,z\n";
        for target in 1..text.len() {
            for chunk in chunks_of(text, target) {
                assert!(
                    !chunk.bytes.starts_with(b"y\""),
                    "split inside a quoted field at target {target}"
                );
            }
        }
    }

    #[test]
    fn doubled_quotes_and_crlf_are_ordinary() {
        assert_eq!(
            last_boundary_by_quotes(b"1,\"say \"\"hi\"\"\"\r\n2,x\r\n3"),
            Ok(Some(21))
        );
    }

    /// Each record's text and where it was placed.
    fn places(text: &str, target: usize) -> Vec<(String, (u64, u64))> {
        let (mut splitter, _, first) = Splitter::start(text.as_bytes(), target).unwrap();
        let mut all = Vec::new();
        splitter
            .for_each_chunk(first, |chunk| {
                each_record(chunk, |record, place| {
                    let record = record.unwrap();
                    all.push((String::from_utf8_lossy(&record[0]).to_string(), place));
                })
            })
            .unwrap();
        all
    }

    #[test]
    fn records_ended_by_carriage_returns_alone_are_placed_on_their_own_line() {
        let text = "h\rr1\rr2\r\r\nr3\n\rr4";
        let expected = [
            ("r1", (2, 2)),
            ("r2", (3, 5)),
            ("r3", (5, 10)),
            ("r4", (7, 14)),
        ];
        let expected: Vec<_> = expected.iter().map(|(t, p)| (t.to_string(), *p)).collect();
        for target in [1, 3, 7, 64] {
            assert_eq!(places(text, target), expected, "chunks of {target} bytes");
        }
    }

    #[test]
    fn records_after_blank_lines_and_crlf_are_placed_on_their_own_line() {
        let text = "h\r\nr1\r\n\nr2\n\r\n\n r3\r\nr4";
        let expected = [
            ("r1", (2, 3)),
            ("r2", (4, 8)),
            (" r3", (7, 14)),
            ("r4", (8, 19)),
        ];
        let expected: Vec<_> = expected.iter().map(|(t, p)| (t.to_string(), *p)).collect();
        for target in [1, 3, 7, 64] {
            assert_eq!(places(text, target), expected, "chunks of {target} bytes");
        }
    }

    /// A row's fields and where it begins.
    type Placed = (Vec<String>, (u64, u64));

    /// Each row's fields and place, as the fast path and the parser give them.
    fn rows_both_ways(bytes: &[u8]) -> (Vec<Placed>, Vec<Placed>) {
        let chunk = Chunk {
            bytes: bytes.to_vec(),
            first_line: 2,
            first_offset: 10,
        };
        let fields = |row: &dyn Fields| -> Vec<String> {
            (0..row.field_count())
                .map(|i| row.text(i).unwrap().to_string())
                .collect()
        };
        let mut fast = Vec::new();
        each_row(&chunk, |row, place| {
            fast.push((fields(&row.unwrap()), place))
        });
        let mut parsed = Vec::new();
        each_record(&chunk, |row, place| {
            parsed.push((fields(row.unwrap()), place))
        });
        (fast, parsed)
    }

    #[test]
    fn the_fast_path_splits_rows_as_the_parser_does() {
        for text in [
            "a,b,c\n\n,,\r\n x , y\r\n\r\nlast,",
            "a,\"b,c\"\r\n\"x\ny\",\"say \"\"hi\"\"\"\n\nab\"c,d\n\"open",
            "q,\"\"\r\n\"\",\n\"last\"",
            "\"é\",ü\n",
            "one\n",
            "a,b\r\nc,d",
            "é,ü\n",
            "",
        ] {
            assert!(
                plain_text(text.as_bytes()).is_some(),
                "{text:?} takes the fast path"
            );
            let (fast, parsed) = rows_both_ways(text.as_bytes());
            assert_eq!(fast, parsed, "{text:?}");
        }
    }

    /// Field `index` of every row and its place, as [`each_field`] and [`each_row`] give it.
    fn field_both_ways(bytes: &[u8], index: usize) -> (Vec<Placed>, Vec<Placed>) {
        let chunk = Chunk {
            bytes: bytes.to_vec(),
            first_line: 2,
            first_offset: 10,
        };
        let mut alone = Vec::new();
        each_field(&chunk, index, |field, place| {
            let field = field.map(|text| text.unwrap_or("?").to_string());
            alone.push((vec![field.unwrap_or("?".into())], place))
        });
        let mut whole = Vec::new();
        each_row(&chunk, |row, place| {
            let field = row.map(|row| row.text(index).unwrap_or("?").to_string());
            whole.push((vec![field.unwrap_or("?".into())], place))
        });
        (alone, whole)
    }

    #[test]
    fn one_field_is_split_as_the_whole_row_splits_it() {
        for text in [
            "a,b,c\n\n,,\r\n x , y\r\n\r\nlast,",
            "a,\"b,c\"\r\n\"x\ny\",\"say \"\"hi\"\"\"\n\nab\"c,d\n\"open",
            "a\rb,c\n",
            "one\n",
            "",
        ] {
            for index in 0..4 {
                let (alone, whole) = field_both_ways(text.as_bytes(), index);
                assert_eq!(alone, whole, "{text:?}, field {index}");
            }
        }
        let not_utf8 = b"a,\xff\nb,c\n";
        for index in 0..3 {
            let (alone, whole) = field_both_ways(not_utf8, index);
            assert_eq!(alone, whole, "field {index}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_field_of_any_text_is_split_as_the_whole_row_splits_it(
            text in "[a,\"\r\n é]{0,60}",
            index in 0usize..5,
        ) {
            let (alone, whole) = field_both_ways(text.as_bytes(), index);
            proptest::prop_assert_eq!(alone, whole);
        }
    }

    proptest::proptest! {
        // Lines longer than a 64-byte block, and text that ends anywhere in one.
        #[test]
        fn any_text_is_split_into_rows_as_the_parser_splits_it(
            text in "[a,\"\r\n é0-9]{0,300}",
        ) {
            let (fast, parsed) = rows_both_ways(text.as_bytes());
            proptest::prop_assert_eq!(fast, parsed);
        }

        // Carriage returns only before line feeds, so that the text takes the fast path.
        #[test]
        fn any_text_with_crlf_is_split_into_rows_as_the_parser_splits_it(
            text in "([a,\" é0-9]|\r\n|\n){0,300}",
            index in 0usize..20,
        ) {
            proptest::prop_assert!(plain_text(text.as_bytes()).is_some());
            let (fast, parsed) = rows_both_ways(text.as_bytes());
            proptest::prop_assert_eq!(fast, parsed);
            let (alone, whole) = field_both_ways(text.as_bytes(), index);
            proptest::prop_assert_eq!(alone, whole);
        }

        // Rows of fields that are quoted whole, as logs quote them, with now and then a
        // doubled quote, a quote inside a field or a line feed inside quotes.
        #[test]
        fn rows_of_quoted_fields_are_split_as_the_parser_splits_them(
            rows in proptest::collection::vec(
                proptest::collection::vec("\"[a, é]{0,6}\"|[a é]{0,4}|\"a\"\"b\"|a\"b|\"a\nb\"|\"a\"b", 1..6),
                0..12,
            ),
            crlf in proptest::bool::ANY,
        ) {
            let ending = if crlf { "\r\n" } else { "\n" };
            let text: String = rows.iter().map(|row| row.join(",") + ending).collect();
            let (fast, parsed) = rows_both_ways(text.as_bytes());
            proptest::prop_assert_eq!(fast, parsed);
        }
    }

    /// The boundary as found by walking every quote and line feed in order.
    fn boundary_by_walking(buffer: &[u8]) -> Result<Option<usize>, StrayQuote> {
        let mut inside = false;
        let mut last = None;
        for at in memchr::memchr2_iter(b'"', b'\n', buffer) {
            if buffer[at] == b'\n' {
                if !inside {
                    last = Some(at + 1);
                }
                continue;
            }
            if inside {
                let next = buffer.get(at + 1);
                if !matches!(next, None | Some(b',' | b'\n' | b'\r' | b'"')) {
                    return Err(StrayQuote);
                }
            } else {
                let previous = at.checked_sub(1).map(|p| buffer[p]);
                if !matches!(previous, None | Some(b',' | b'\n' | b'\r' | b'"')) {
                    return Err(StrayQuote);
                }
            }
            inside = !inside;
        }
        Ok(last)
    }

    proptest::proptest! {
        #[test]
        fn counting_quotes_finds_the_boundary_walking_finds(text in "[a,\"\r\n]{0,80}") {
            proptest::prop_assert_eq!(
                last_boundary_by_quotes(text.as_bytes()),
                boundary_by_walking(text.as_bytes())
            );
        }
    }

    #[test]
    fn fields_quoted_whole_are_split_without_the_parser() {
        let mut splitter = QuotedSplitter::default();
        assert!(splitter.split_simple(b"1,\"Sales, EMEA\",,\"\",x,"));
        let fields: Vec<&[u8]> = (0..splitter.fields)
            .map(|i| {
                let start = i.checked_sub(1).map_or(0, |p| splitter.ends[p]);
                &splitter.output[start..splitter.ends[i]]
            })
            .collect();
        let expected: [&[u8]; 6] = [b"1", b"Sales, EMEA", b"", b"", b"x", b""];
        assert_eq!(fields, expected);

        for other in [
            "\"say \"\"hi\"\"\"",
            "ab\"c",
            "\"open",
            "\"a\"b,c",
            " \"a\"",
        ] {
            assert!(!splitter.split_simple(other.as_bytes()), "{other:?}");
        }
    }

    #[test]
    fn lone_returns_and_bad_text_go_to_the_parser() {
        assert!(plain_text(b"a\rb\n").is_none());
        assert!(plain_text(b"a,\xff\n").is_none());
    }

    #[test]
    fn a_header_alone_has_no_records() {
        assert!(places("a,b\n", 64).is_empty());
        assert!(places("", 64).is_empty());
    }

    #[test]
    fn a_stream_without_line_feeds_is_one_chunk() {
        let chunks = chunks_of("a,b\r1,2\r3,4", 2);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].bytes, b"a,b\r1,2\r3,4");
    }

    #[test]
    fn offsets_and_hash_cover_the_stream() {
        let text = "a\n1\n2\n3\n";
        let mut splitter = Splitter::new(text.as_bytes(), 2);
        let mut offsets = Vec::new();
        while let Some(chunk) = splitter.next_chunk(None).unwrap() {
            offsets.push(chunk.first_offset);
        }
        assert_eq!(offsets, vec![0, 2, 4, 6]);
        let (size, hash) = splitter.finish().unwrap();
        assert_eq!(size, 8);
        assert_eq!(hash, super::super::hashing::sha256_hex(text.as_bytes()));
    }
}
