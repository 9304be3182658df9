//! apportion: a month of AI/LLM API usage turned into an exact, explained settlement across
//! departments.
//!
//! The modules, by layer:
//!
//! - core, with no terminal dependency:
//!   - [`config`]: departments, mapping rules, prices, weights, thresholds, invoice, sources;
//!   - [`load`]: reading exports into buckets, rejects with file and line, the prior ledger;
//!   - [`calc`]: pricing, weights, allocation, statuses, projection, mismatches;
//!   - [`report`]: the attribution as a table, CSV, JSON or Markdown, the routing table
//!     (CSV, workbook), the accounting journal and the fuse policies;
//!   - [`archive`]: the approved, tamper-evident archive, read back as next month's ledger;
//!   - [`alert`]: messages with a chart to the departments in warning or fuse;
//!   - [`sample`]: the bundled sample month and its generator;
//!   - [`review`]: the review session: decisions, adjustments, recalculations, autosave,
//!     the checklist, sign-offs and the archive export;
//!   - [`outputs`]: the settlement outputs (routing table, journal, alerts) written from one
//!     attribution, for every front end;
//! - front ends: the review in the terminal ([`tui`]) and the command line in `main.rs`
//!   ([`cli`]).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alert;
pub mod archive;
pub mod calc;
pub mod cli;
pub mod config;
pub mod load;
pub mod outputs;
pub mod report;
pub mod review;
pub mod sample;
pub mod tui;
pub mod write;
