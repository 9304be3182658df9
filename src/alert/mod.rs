//! Alerts: for every department in warning or fuse, a message to its contact with a snapshot
//! of its month and a chart, written as a standard `.eml` file into an outbox folder and,
//! when the configuration names a mail server, sent through it.
//!
//! Messages are built once ([`prepare`]); the same bytes are written to the outbox and sent,
//! so the outbox is also the record of what was sent.

pub mod chart;
pub mod snapshot;

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};

use crate::calc::{Attribution, DepartmentSummary, Status};
use crate::config::{Settings, Smtp, SmtpSecurity};
use crate::review::store::slug;

/// The sender when the configuration has no `[alerts]` section.
pub const DEFAULT_FROM: &str = "apportion <apportion@localhost>";

/// Why alerts could not be prepared, written or sent.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// A chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] chart::ChartError),
    /// An address in the configuration is not a mail address.
    #[error("{key} '{text}' is not a mail address")]
    Address {
        /// Where it is configured.
        key: String,
        /// What was found.
        text: String,
    },
    /// A message could not be built.
    #[error("cannot build the alert of {department}: {message}")]
    Build {
        /// The department.
        department: String,
        /// What went wrong.
        message: String,
    },
    /// A file of the outbox could not be written.
    #[error("cannot write '{}': {message}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        message: String,
    },
    /// The mail server could not be used.
    #[error("cannot send through {server}: {message}")]
    Send {
        /// `host:port`.
        server: String,
        /// What went wrong.
        message: String,
    },
}

/// One alert, ready to write and send.
#[derive(Debug, Clone)]
pub struct Alert {
    /// The department it is about.
    pub department: String,
    /// Its status.
    pub status: Status,
    /// The name of its file in the outbox.
    pub file_name: String,
    /// The message.
    pub message: Message,
}

/// The alerts of a month, and the departments that need one but have nobody to send it to.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    /// The alerts, in department order.
    pub alerts: Vec<Alert>,
    /// Departments in warning or fuse with no contact and no settlement contact configured.
    pub unaddressed: Vec<String>,
}

/// Builds the alert of every department in warning or fuse.
pub fn prepare(settings: &Settings, a: &Attribution) -> Result<Outbox, AlertError> {
    let from = sender(settings)?;
    let mut outbox = Outbox::default();
    for d in a.departments.iter().filter(|d| d.status != Status::Normal) {
        match recipient(settings, d)? {
            Some(to) => outbox.alerts.push(alert(settings, a, d, &from, to)?),
            None => outbox.unaddressed.push(d.name.clone()),
        }
    }
    Ok(outbox)
}

fn sender(settings: &Settings) -> Result<Mailbox, AlertError> {
    let (key, text) = match &settings.config.alerts {
        Some(alerts) => ("alerts.from", alerts.from.as_str()),
        None => ("the default sender", DEFAULT_FROM),
    };
    mailbox(key, text)
}

fn mailbox(key: &str, text: &str) -> Result<Mailbox, AlertError> {
    text.trim().parse().map_err(|_| AlertError::Address {
        key: key.to_string(),
        text: text.to_string(),
    })
}

/// The department's contact, named after its owner; else the settlement owner's address,
/// for usage no department head can answer for.
fn recipient(settings: &Settings, d: &DepartmentSummary) -> Result<Option<Mailbox>, AlertError> {
    if let Some(department) = settings.department(&d.name) {
        if !department.contact.trim().is_empty() {
            let key = format!("the contact of department '{}'", d.name);
            let mut to = mailbox(&key, &department.contact)?;
            if to.name.is_none() && !department.owner.trim().is_empty() {
                to.name = Some(department.owner.trim().to_string());
            }
            return Ok(Some(to));
        }
    }
    let fallback = settings
        .config
        .alerts
        .as_ref()
        .and_then(|alerts| alerts.settlement_contact.as_deref());
    fallback
        .map(|text| mailbox("alerts.settlement_contact", text))
        .transpose()
}

fn alert(
    settings: &Settings,
    a: &Attribution,
    d: &DepartmentSummary,
    from: &Mailbox,
    to: Mailbox,
) -> Result<Alert, AlertError> {
    let png = chart::render(a, d)?;
    let chart_name = format!("{}-{}.png", a.period.month, slug(&d.name));
    let message = Message::builder()
        .message_id(None)
        .from(from.clone())
        .to(to)
        .subject(snapshot::subject(a, d))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(snapshot::body(settings, a, d)))
                .singlepart(Attachment::new(chart_name).body(
                    png,
                    ContentType::parse("image/png").map_err(|e| build_error(d, e))?,
                )),
        )
        .map_err(|e| build_error(d, e))?;
    Ok(Alert {
        department: d.name.clone(),
        status: d.status,
        file_name: format!(
            "{}-{}-{}.eml",
            a.period.month,
            slug(&d.name),
            d.status.label()
        ),
        message,
    })
}

fn build_error(d: &DepartmentSummary, e: impl std::fmt::Display) -> AlertError {
    AlertError::Build {
        department: d.name.clone(),
        message: e.to_string(),
    }
}

/// Writes every alert as an `.eml` file into `dir` (created if missing), each atomically,
/// and returns the files written.
pub fn write_outbox(dir: &Path, outbox: &Outbox) -> Result<Vec<PathBuf>, AlertError> {
    std::fs::create_dir_all(dir).map_err(|e| AlertError::Write {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut written = Vec::new();
    for alert in &outbox.alerts {
        let path = dir.join(&alert.file_name);
        crate::write::atomic(&path, &alert.message.formatted()).map_err(|e| AlertError::Write {
            path: path.clone(),
            message: e.to_string(),
        })?;
        written.push(path);
    }
    Ok(written)
}

/// Sends every alert through the configured server, stopping at the first failure (the
/// outbox still holds every message, so nothing is lost).
pub fn send(smtp: &Smtp, outbox: &Outbox) -> Result<usize, AlertError> {
    let server = format!("{}:{}", smtp.host, smtp.port);
    let fail = |message: String| AlertError::Send {
        server: server.clone(),
        message,
    };
    let transport = transport(smtp).map_err(&fail)?;
    for alert in &outbox.alerts {
        transport
            .send(&alert.message)
            .map_err(|e| fail(format!("the alert of {}: {e}", alert.department)))?;
    }
    Ok(outbox.alerts.len())
}

/// The SMTP connection the configuration describes; the password comes from the environment
/// variable it names.
fn transport(smtp: &Smtp) -> Result<SmtpTransport, String> {
    let builder = match smtp.security {
        SmtpSecurity::Starttls => {
            SmtpTransport::starttls_relay(&smtp.host).map_err(|e| e.to_string())?
        }
        SmtpSecurity::Tls => SmtpTransport::relay(&smtp.host).map_err(|e| e.to_string())?,
        SmtpSecurity::None => SmtpTransport::builder_dangerous(&smtp.host),
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(smtp.timeout_seconds)));
    if let (Some(user), Some(variable)) = (&smtp.username, &smtp.password_env) {
        let password = std::env::var(variable).map_err(|_| {
            format!(
                "the password is read from the environment variable {variable}, which is not set"
            )
        })?;
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slug("Data Science"), "data-science");
        assert_eq!(slug("R&D / Labs"), "r-d-labs");
        assert_eq!(slug("UNATTRIBUTED"), "unattributed");
    }
}
