//! A reader that hashes what passes through it, so that a source's SHA-256 and size are known
//! once it was read, without reading it twice.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// Wraps a reader and hashes every byte read from it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> HashingReader<R> {
    /// Starts hashing `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// Reads what is left (so the hash covers the whole input) and returns size and hex hash.
    pub fn finish(mut self) -> io::Result<(u64, String)> {
        io::copy(&mut self.by_ref(), &mut io::sink())?;
        Ok((self.size, hex(&self.hasher.finalize())))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
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
}
