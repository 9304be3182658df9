//! The review session: the settlement owner's walk through every line item before close.
//!
//! A [`Review`] holds one month's inputs, its current [`Attribution`](crate::calc::Attribution)
//! and the [`Session`]: per line a decision (pending, approved, adjusted, disputed) with who
//! and when, notes, adjustments kept as separate lines, acknowledged rejected rows, and the
//! history of recalculations with their causes. Every action saves the session atomically, so
//! that a crash loses nothing and reopening the month resumes where the reviewer stopped.
//!
//! This layer knows nothing of terminals: the TUI and any other front end drive it through
//! the methods of [`Review`].

pub mod adjusted;
pub mod breakdown;
pub mod change;
pub mod checklist;
pub mod decision;
pub mod diff;
pub mod explore;
mod export;
pub mod inputs;
pub mod queue;
pub mod session;
pub mod signoff;
pub mod store;
mod workspace;

pub use change::Change;
pub use checklist::{Check, Checklist, Outcome};
pub use decision::{Adjustment, Decision, LineKey, LineReview, Note};
pub use diff::{LineMove, Recalculation};
pub use export::{Exported, Peek, SourceCheck, peek};
pub use inputs::Sources;
pub use session::{RejectRef, Session};
pub use signoff::{Role, SignOff};
pub use store::Store;
pub use workspace::{ROW_LIMIT, ReloadRequest, Reloaded, Review, RowQuery, SourceRow};

/// What can go wrong while reviewing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration could not be read or is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A source or the ledger could not be read.
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    /// The session file could not be read or written.
    #[error("session '{path}': {message}")]
    Session {
        /// The session file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A file of the review (the session, a policy, the archive) could not be written: the
    /// place is unusable, not the inputs, so a front end says so apart from bad input.
    #[error("cannot write '{path}': {message}")]
    Unwritable {
        /// The file or folder.
        path: String,
        /// What the system said.
        message: String,
    },
    /// An action that does not apply (an unknown department, a line that does not exist).
    #[error("{0}")]
    Invalid(String),
}

/// The result of a review action.
pub type Result<T> = std::result::Result<T, Error>;
