//! Alerts of `apportion export --alerts`: the messages in the outbox are read back with a mail
//! parser and compared with the report to the cent, and sending is checked against a real
//! SMTP server started on loopback for the test.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use mail_parser::{Message, MessageParser, MimeHeaders};
use predicates::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;

const DISCLAIMER: &str =
    "weights reflect complexity differences only and do not replace financial settlement rules";

fn apportion() -> Command {
    let mut cmd = Command::cargo_bin("apportion").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn sample_json() -> Value {
    let output = apportion()
        .args(["report", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}

fn department<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap()
}

/// The messages of a folder, by file name.
fn messages(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    found.sort();
    found
}

fn parse(bytes: &[u8]) -> Message<'_> {
    MessageParser::default()
        .parse(bytes)
        .expect("a mail message")
}

fn recipient(message: &Message<'_>) -> String {
    message
        .to()
        .and_then(|to| to.first())
        .and_then(|a| a.address())
        .unwrap()
        .to_string()
}

/// The amount on the line of the body that starts with `label`, e.g. `Settled  186.30 USD`.
fn figure(body: &str, label: &str) -> Decimal {
    let line = body
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no line {label} in\n{body}"));
    let value = line.trim_start()[label.len()..]
        .split_whitespace()
        .next()
        .unwrap();
    value.replace(',', "").parse().unwrap()
}

/// The PNG attachment's width and height.
fn png_size(message: &Message<'_>) -> (u32, u32) {
    let attachment = message.attachments().next().expect("an attachment");
    let content_type = attachment.content_type().unwrap();
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("image", Some("png"))
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(attachment.contents()));
    let reader = decoder.read_info().expect("a PNG image");
    (reader.info().width, reader.info().height)
}

/// Every API key shown is masked: `sk-leg-…2083`, never the whole key.
fn assert_keys_masked(body: &str) {
    for word in body.split_whitespace().filter(|w| w.contains("sk-")) {
        assert!(word.contains('…'), "unmasked key '{word}'");
    }
}

#[test]
fn the_outbox_holds_one_message_per_department_in_warning_or_fuse() {
    let json = sample_json();
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    apportion()
        .arg("export")
        .arg("--alerts")
        .arg(&outbox)
        .assert()
        .success();

    let found = messages(&outbox);
    let names: Vec<&str> = found.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "2026-11-data-science-warning.eml",
            "2026-11-legal-fuse.eml",
            "2026-11-marketing-warning.eml",
            "2026-11-unattributed-warning.eml",
        ]
    );
    for (name, bytes) in &found {
        let message = parse(bytes);
        let body = message.body_text(0).unwrap().into_owned();
        let d = json["departments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| {
                message
                    .subject()
                    .unwrap()
                    .contains(&format!("] {}:", d["name"].as_str().unwrap()))
            })
            .unwrap_or_else(|| panic!("{name}: no department in the subject"));
        let settled: Decimal = d["settled"].as_str().unwrap().parse().unwrap();
        assert_eq!(figure(&body, "Settled"), settled, "{name}");
        for reason in d["reasons"].as_array().unwrap() {
            assert!(
                body.contains(reason["text"].as_str().unwrap()),
                "{name}: {reason}"
            );
        }
        assert!(body.contains(DISCLAIMER), "{name}");
        assert_keys_masked(&body);
        assert_eq!(png_size(&message), (900, 420), "{name}");
    }
}

#[test]
fn a_fuse_asks_for_the_downgrade_and_two_sign_offs_and_a_warning_for_a_decision() {
    let json = sample_json();
    let dir = tempfile::tempdir().unwrap();
    apportion()
        .arg("export")
        .arg("--alerts")
        .arg(dir.path())
        .assert()
        .success();

    let legal = std::fs::read(dir.path().join("2026-11-legal-fuse.eml")).unwrap();
    let legal = parse(&legal);
    assert_eq!(recipient(&legal), "leg@northwind.example");
    let body = legal.body_text(0).unwrap();
    assert!(body.contains("downgraded to claude-3-5-haiku"), "{body}");
    assert!(body.contains("premium models are paused"));
    assert!(body.contains("two sign-offs by two different people"));
    assert!(body.contains("finance") && body.contains("technical director"));
    let budget: Decimal = department(&json, "Legal")["budget"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(figure(&body, "Budget "), budget);

    let data = std::fs::read(dir.path().join("2026-11-data-science-warning.eml")).unwrap();
    let data = parse(&data);
    assert_eq!(recipient(&data), "dsc@northwind.example");
    let body = data.body_text(0).unwrap();
    assert!(body.contains("expand the budget of Data Science, or throttle"));
    assert!(body.contains("Budget used              103.5 %"), "{body}");

    // Unattributed usage has no head: its alert goes to the settlement owner.
    let unattributed = std::fs::read(dir.path().join("2026-11-unattributed-warning.eml")).unwrap();
    assert_eq!(recipient(&parse(&unattributed)), "finops@northwind.example");
}

/// A configuration for the sample month with an SMTP server, and the sample's files beside it.
fn sample_files(dir: &Path, smtp: &str) -> Vec<PathBuf> {
    let config = dir.join("apportion.toml");
    std::fs::write(&config, format!("{}\n{smtp}", apportion::sample::CONFIG)).unwrap();
    let logs = dir.join(apportion::sample::LOGS_NAME);
    std::fs::write(&logs, apportion::sample::LOGS).unwrap();
    let ledger = dir.join(apportion::sample::LEDGER_NAME);
    std::fs::write(&ledger, apportion::sample::LEDGER).unwrap();
    vec![config, ledger, logs]
}

fn export_with(files: &[PathBuf], outbox: &Path) -> Command {
    let mut cmd = apportion();
    cmd.arg("export")
        .arg("--config")
        .arg(&files[0])
        .arg("--ledger")
        .arg(&files[1])
        .args(["--today", "2026-11-26"])
        .arg(&files[2])
        .arg("--alerts")
        .arg(outbox);
    cmd
}

/// An SMTP server on loopback that stores what it receives in a maildir; stopped on drop.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the SMTP server the tests use is installed; outside CI its absence skips the test
/// with a message, in CI (which installs it) it fails.
fn smtp_server_available() -> bool {
    let found = Process::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the aiosmtpd server is not installed; .ci/run installs it (pip install aiosmtpd)"
        );
        eprintln!(
            "SKIPPED: aiosmtpd is not installed (pip install aiosmtpd); sending was not tested"
        );
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_smtp_server(maildir: PathBuf) -> SmtpServer {
    let port = free_port();
    let child = Process::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = SmtpServer {
        child,
        port,
        maildir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            server.child.try_wait().unwrap().is_none(),
            "the SMTP server stopped"
        );
        assert!(Instant::now() < deadline, "the SMTP server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// Waits until the server has stored `count` messages.
fn received(server: &SmtpServer, count: usize) -> Vec<(String, Vec<u8>)> {
    let new = server.maildir.join("new");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if new.is_dir() && std::fs::read_dir(&new).unwrap().count() >= count {
            return messages(&new);
        }
        assert!(
            Instant::now() < deadline,
            "the server did not receive {count} messages"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn alerts_are_sent_through_the_configured_server() {
    if !smtp_server_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = start_smtp_server(dir.path().join("maildir"));
    let smtp = format!(
        "[alerts.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\ntimeout_seconds = 10\n",
        server.port
    );
    let files = sample_files(dir.path(), &smtp);
    let outbox = dir.path().join("outbox");
    export_with(&files, &outbox)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "sent 4 alert(s) through 127.0.0.1",
        ));

    let arrived = received(&server, 4);
    let mut recipients: Vec<String> = arrived
        .iter()
        .map(|(_, bytes)| recipient(&parse(bytes)))
        .collect();
    recipients.sort();
    assert_eq!(
        recipients,
        [
            "dsc@northwind.example",
            "finops@northwind.example",
            "leg@northwind.example",
            "mkt@northwind.example",
        ]
    );
    // What arrived is what the outbox holds: same subject, body and chart.
    let written = messages(&outbox);
    for (_, bytes) in &arrived {
        let got = parse(bytes);
        let subject = got.subject().unwrap();
        let (_, original) = written
            .iter()
            .find(|(_, b)| parse(b).subject() == Some(subject))
            .unwrap_or_else(|| panic!("'{subject}' is not in the outbox"));
        let original = parse(original);
        // The maildir stores lines with the machine's line ending; the outbox keeps CRLF.
        let text = |m: &Message<'_>| m.body_text(0).unwrap().replace("\r\n", "\n");
        assert_eq!(text(&got), text(&original));
        assert_eq!(
            got.attachments().next().unwrap().contents(),
            original.attachments().next().unwrap().contents()
        );
        assert_eq!(
            got.header_raw("X-MailFrom").map(str::trim),
            Some("apportion@northwind.example")
        );
    }
}

#[test]
fn an_unreachable_server_fails_the_export_but_the_outbox_keeps_every_message() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let smtp = format!(
        "[alerts.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout_seconds = 5\n"
    );
    let files = sample_files(dir.path(), &smtp);
    let outbox = dir.path().join("outbox");
    export_with(&files, &outbox)
        .assert()
        .code(4)
        .stderr(predicate::str::contains(format!(
            "cannot send through 127.0.0.1:{port}"
        )));
    assert_eq!(messages(&outbox).len(), 4);
}

#[test]
fn alert_settings_are_validated_with_their_key_paths() {
    let dir = tempfile::tempdir().unwrap();
    let config = apportion::sample::CONFIG.replace(
        "settlement_contact = \"finops@northwind.example\"",
        "settlement_contact = \"finops at northwind\"",
    );
    let smtp = "[alerts.smtp]\nhost = \"\"\nport = 0\nusername = \"bot\"\n";
    let path = dir.path().join("apportion.toml");
    std::fs::write(&path, format!("{config}\n{smtp}")).unwrap();
    let logs = dir.path().join(apportion::sample::LOGS_NAME);
    std::fs::write(&logs, apportion::sample::LOGS).unwrap();
    apportion()
        .args(["export", "--config"])
        .arg(&path)
        .arg(&logs)
        .arg("--alerts")
        .arg(dir.path().join("outbox"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "alerts.settlement_contact: expected a mail address",
        ))
        .stderr(predicate::str::contains("alerts.smtp.host"))
        .stderr(predicate::str::contains("alerts.smtp.port"))
        .stderr(predicate::str::contains("alerts.smtp.password_env"));
    assert!(!dir.path().join("outbox").exists());
}
