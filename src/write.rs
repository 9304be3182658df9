//! Writing files safely: every file apportion writes appears whole or not at all.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use tempfile::NamedTempFile;

/// A temporary file beside `path` holding `bytes`, flushed to disk and readable by others as
/// an ordinary file would be (temporary files are created private).
fn staged(path: &Path, bytes: &[u8]) -> std::io::Result<NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        let message = format!(
            "cannot write '{}': the folder '{}' does not exist",
            path.display(),
            dir.display()
        );
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, message));
    }
    let mut temp = NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    set_ordinary_permissions(temp.as_file())?;
    temp.as_file().sync_all()?;
    Ok(temp)
}

#[cfg(unix)]
fn set_ordinary_permissions(file: &File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_ordinary_permissions(_file: &File) -> std::io::Result<()> {
    Ok(())
}

/// Writes `bytes` to `path` atomically: into a temporary file beside it, flushed to disk,
/// then renamed over the target, so that a crash leaves either the old file or the new one.
pub fn atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    staged(path, bytes)?.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes a new file atomically and refuses to replace an existing one.
pub fn create_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    staged(path, bytes)?.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            std::io::Error::new(
                e.error.kind(),
                format!("'{}' already exists; not overwriting it", path.display()),
            )
        } else {
            e.error
        }
    })?;
    Ok(())
}

/// Writes a new read-only file atomically, refusing to replace an existing one: for records
/// that must not change once written (the archive).
pub fn create_read_only(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let staged = staged(path, bytes)?;
    let mut permissions = staged.as_file().metadata()?.permissions();
    permissions.set_readonly(true);
    staged.as_file().set_permissions(permissions)?;
    staged.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_new_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        create_new(&path, b"first").unwrap();
        let error = create_new(&path, b"second").unwrap_err();
        assert!(error.to_string().contains("already exists"));
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        atomic(&path, b"third").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"third");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left behind"
        );
    }
}
