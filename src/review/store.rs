//! Where sessions are saved: one JSON file per organization and month in the data directory.

use std::path::{Path, PathBuf};

use super::session::Session;
use super::{Error, Result};

/// The environment variable that overrides the data directory (tests point it at a
/// temporary folder).
pub const DATA_ENV: &str = "APPORTION_DATA";

/// The data directory: `APPORTION_DATA` when set, else the platform's data directory for
/// apportion (`~/.local/share/apportion` on Linux).
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(DATA_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "apportion").map(|d| d.data_dir().to_path_buf())
}

/// The session file of one organization and month.
#[derive(Debug, Clone)]
pub struct Store {
    data_dir: PathBuf,
    path: PathBuf,
    /// The file's bytes as this store last read or wrote them (`None`: no file). A save
    /// compares them with the file first, so that a change another process made (a headless
    /// sign-off while the review is open) is never overwritten unseen.
    seen: Option<Vec<u8>>,
}

impl Store {
    /// The file for an organization's month inside a data directory.
    pub fn new(data_dir: &Path, organization: &str, month: &str) -> Store {
        let name = format!("{}-{month}.json", slug(organization));
        Store {
            data_dir: data_dir.to_path_buf(),
            path: data_dir.join("sessions").join(name),
            seen: None,
        }
    }

    /// The data directory the session is saved in.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Where the session is saved.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved session, if there is one.
    pub fn load(&mut self) -> Result<Option<Session>> {
        self.seen = self.read()?;
        let Some(bytes) = &self.seen else {
            return Ok(None);
        };
        serde_json::from_slice(bytes)
            .map(Some)
            .map_err(|e| self.error(e))
    }

    /// Saves atomically: the file on disk is always a whole session, the old or the new one.
    /// A file changed since this store read it is refused rather than overwritten.
    pub fn save(&mut self, session: &Session) -> Result<()> {
        if self.read()? != self.seen {
            return Err(Error::Invalid(format!(
                "the session {} was changed by another run of apportion (a sign-off from the \
                 command line, another window) since this review read it, so this change was \
                 not saved: quit and open the review again to take that change in",
                self.path.display()
            )));
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.unwritable(e))?;
        }
        let text = serde_json::to_vec_pretty(session).map_err(|e| self.error(e))?;
        crate::write::atomic(&self.path, &text).map_err(|e| self.unwritable(e))?;
        self.seen = Some(text);
        Ok(())
    }

    /// The file's bytes; `None` when there is none yet.
    fn read(&self) -> Result<Option<Vec<u8>>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    /// The session cannot be written where the data directory says: the place is at fault.
    fn unwritable(&self, error: std::io::Error) -> Error {
        Error::Unwritable {
            path: self.path.display().to_string(),
            message: error.to_string(),
        }
    }

    fn error(&self, error: impl std::fmt::Display) -> Error {
        Error::Session {
            path: self.path.display().to_string(),
            message: error.to_string(),
        }
    }
}

/// A file-name-safe form of a name: lower-case letters and digits, other runs as `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "organization".into()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_safe_for_files() {
        assert_eq!(slug("Acme Corp. (EU)"), "acme-corp-eu");
        assert_eq!(slug("///"), "organization");
    }

    #[test]
    fn a_missing_session_is_none_and_a_saved_one_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::new(dir.path(), "Acme", "2026-11");
        assert!(store.load().unwrap().is_none());
        let session = Session::new("Acme", "2026-11", "ana");
        store.save(&session).unwrap();
        assert_eq!(store.load().unwrap(), Some(session));
    }

    #[test]
    fn a_session_another_run_changed_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let mut review = Store::new(dir.path(), "Acme", "2026-11");
        let mut headless = review.clone();
        let session = Session::new("Acme", "2026-11", "ana");
        review.save(&session).unwrap();
        review.save(&session).unwrap();

        headless.load().unwrap();
        let theirs = Session::new("Acme", "2026-11", "bo");
        headless.save(&theirs).unwrap();

        let refused = review.save(&session).unwrap_err().to_string();
        assert!(refused.contains("was changed by another run"), "{refused}");
        assert_eq!(review.clone().load().unwrap(), Some(theirs), "theirs stays");

        // Read again, the store saves over it.
        review.load().unwrap();
        review.save(&session).unwrap();
    }
}
