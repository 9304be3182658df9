//! A reader that hashes what passes through it, so that a source's SHA-256 and size are known
//! once it was read, without reading it twice.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// Whether the sources of a load are hashed as they are read.
///
/// A review, an export and an archive record every source's SHA-256, to tell later whether
/// the figures still belong to the files. A report or a check with no saved review to compare
/// with shows no fingerprint, and on a large log the hash is a sizeable part of the load, so
/// those commands read with [`Hashing::SizeOnly`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hashing {
    /// Size and SHA-256 of every source.
    #[default]
    Sha256,
    /// Sizes only; the hashes are left empty.
    SizeOnly,
}

/// Wraps a reader and hashes every byte read from it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
    size: u64,
}

impl<R: Read> HashingReader<R> {
    /// Starts hashing `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader::with(inner, Hashing::Sha256)
    }

    /// Starts reading `inner`, hashing it or only counting its bytes.
    pub fn with(inner: R, hashing: Hashing) -> Self {
        HashingReader {
            inner,
            hasher: (hashing == Hashing::Sha256).then(Sha256::new),
            size: 0,
        }
    }

    /// Reads what is left (so the hash covers the whole input) and returns size and hex hash,
    /// empty when only the size was counted.
    pub fn finish(mut self) -> io::Result<(u64, String)> {
        io::copy(&mut self.by_ref(), &mut io::sink())?;
        let hash = self.hasher.map(|h| hex(&h.finalize())).unwrap_or_default();
        Ok((self.size, hash))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        self.size += n as u64;
        Ok(n)
    }
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a byte slice, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_covers_unread_rest() {
        let mut reader = HashingReader::new(&b"abc"[..]);
        let mut first = [0u8; 1];
        reader.read_exact(&mut first).unwrap();
        let (size, hash) = reader.finish().unwrap();
        assert_eq!(size, 3);
        assert_eq!(hash, sha256_hex(b"abc"));
        assert!(hash.starts_with("ba7816bf"));
    }

    #[test]
    fn size_only_counts_without_hashing() {
        let reader = HashingReader::with(&b"abcd"[..], Hashing::SizeOnly);
        assert_eq!(reader.finish().unwrap(), (4, String::new()));
    }
}
