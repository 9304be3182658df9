//! Writing files safely: every file apportion writes appears whole or not at all.
//!
//! The errors give the system's reason only, never the name of the temporary file staged
//! beside the target (a name the user never chose and will not find); the caller names the
//! file it was writing, once.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use tempfile::NamedTempFile;

/// The folder a file is written into: its parent, or the current directory for a bare name.
fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The error without the temporary file's path that `tempfile` appends to it (`… at path
/// "/dir/.tmpXXXX"`), so that the message says why and not where: the caller names the file.
/// `tempfile` keeps the system's error out of reach, so the path is cut from the text.
fn without_temp_path(error: std::io::Error) -> std::io::Error {
    let text = error.to_string();
    match text.rfind(" at path \"") {
        Some(at) if error.get_ref().is_some() => std::io::Error::new(error.kind(), &text[..at]),
        _ => error,
    }
}

/// A temporary file beside `path` holding `bytes`, flushed to disk and readable by others as
/// an ordinary file would be (temporary files are created private).
fn staged(path: &Path, bytes: &[u8]) -> std::io::Result<NamedTempFile> {
    let dir = folder_of(path);
    if !dir.is_dir() {
        let message = format!("the folder '{}' does not exist", dir.display());
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, message));
    }
    let stage = || -> std::io::Result<NamedTempFile> {
        let mut temp = NamedTempFile::new_in(dir)?;
        temp.write_all(bytes)?;
        set_ordinary_permissions(temp.as_file())?;
        temp.as_file().sync_all()?;
        Ok(temp)
    };
    stage().map_err(without_temp_path)
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

/// The error of a rename that must not replace the target: plain words when the target is
/// already there, the system's reason otherwise.
fn not_replaced(error: tempfile::PersistError) -> std::io::Error {
    match error.error.kind() {
        std::io::ErrorKind::AlreadyExists => std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "it already exists; not overwriting it",
        ),
        _ => without_temp_path(error.error),
    }
}

/// Writes a new file atomically and refuses to replace an existing one.
pub fn create_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    staged(path, bytes)?
        .persist_noclobber(path)
        .map_err(not_replaced)?;
    Ok(())
}

/// Writes a new read-only file atomically, refusing to replace an existing one: for records
/// that must not change once written (the archive).
pub fn create_read_only(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let staged = staged(path, bytes)?;
    let mut permissions = staged.as_file().metadata()?.permissions();
    permissions.set_readonly(true);
    staged.as_file().set_permissions(permissions)?;
    staged.persist_noclobber(path).map_err(not_replaced)?;
    Ok(())
}

/// Makes sure files can be created in `dir`, creating it (and its parents) when missing.
///
/// A command that writes several outputs calls this for each before writing the first, so
/// that an unusable place stops it with nothing written rather than half-way. A temporary
/// file is created and removed again, because only trying tells a read-only folder apart.
pub fn prepare_folder(dir: &Path) -> std::io::Result<()> {
    let existing = dir.ancestors().find(|a| a.exists());
    if let Some(file) = existing.filter(|a| !a.is_dir()) {
        let message = format!("'{}' is a file, not a folder", file.display());
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            message,
        ));
    }
    std::fs::create_dir_all(dir)?;
    NamedTempFile::new_in(dir)
        .map(drop)
        .map_err(without_temp_path)
}

/// Makes sure `path` can be written: its folder as [`prepare_folder`] leaves it, the path not
/// a folder, and not there yet unless `replace` allows replacing it.
pub fn prepare_file(path: &Path, replace: bool) -> std::io::Result<()> {
    prepare_folder(folder_of(path))?;
    if path.is_dir() {
        let message = "it is a folder; name a file";
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            message,
        ));
    }
    if !replace && path.exists() {
        let message = "it already exists; not overwriting it";
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            message,
        ));
    }
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

    #[test]
    fn a_prepared_folder_is_made_and_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("a/b");
        prepare_file(&folder.join("out.csv"), true).unwrap();
        assert!(folder.is_dir());
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
    }

    #[test]
    fn a_file_where_a_folder_is_needed_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        let error = prepare_file(&file.join("sub/out.csv"), true).unwrap_err();
        assert!(
            error.to_string().contains("is a file, not a folder"),
            "{error}"
        );
        assert!(error.to_string().contains("plain"), "{error}");
        let error = prepare_file(&file, false).unwrap_err();
        assert!(error.to_string().contains("already exists"), "{error}");
        let error = prepare_file(dir.path(), true).unwrap_err();
        assert!(error.to_string().contains("is a folder"), "{error}");
    }

    /// `/proc` takes no new files, even from root, which a read-only folder does not stop.
    #[cfg(target_os = "linux")]
    #[test]
    fn errors_do_not_name_the_temporary_file() {
        let error = atomic(Path::new("/proc/self/out.csv"), b"x").unwrap_err();
        assert!(!error.to_string().contains(".tmp"), "{error}");
        let error = prepare_folder(Path::new("/proc/self")).unwrap_err();
        assert!(!error.to_string().contains(".tmp"), "{error}");
    }
}
