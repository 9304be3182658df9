//! End-to-end tests of the binary: the sample month, exit codes, and the starter configuration.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

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
    json_of(&output)
}

/// The JSON a run that succeeded printed.
fn json_of(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
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

fn decimal(value: &Value) -> rust_decimal::Decimal {
    value.as_str().unwrap().parse().unwrap()
}

#[test]
fn the_sample_month_settles_exactly_and_conserves_rows() {
    let json = sample_json();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["period"]["month"], "2026-11");
    assert_eq!(json["period"]["data_through"], "2026-11-25");
    assert_eq!(json["amount_to_settle"], json["settled"]);
    let sum: rust_decimal::Decimal = json["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| decimal(&d["settled"]))
        .sum();
    assert_eq!(sum, decimal(&json["amount_to_settle"]));

    let c = &json["conservation"];
    let read = c["rows_read"].as_u64().unwrap();
    assert_eq!(read, 24_003);
    assert_eq!(
        read,
        c["attributed"].as_u64().unwrap()
            + c["unattributed"].as_u64().unwrap()
            + c["rejected"].as_u64().unwrap()
    );
    assert_eq!(c["rejected"], 3);
    assert_eq!(
        json["disclaimer"],
        "weights reflect complexity differences only and do not replace financial settlement rules"
    );
}

#[test]
fn the_sample_month_shows_what_it_was_built_to_show() {
    let json = sample_json();
    let marketing = department(&json, "Marketing");
    assert_eq!(marketing["status"], "warning");
    assert!(
        marketing["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "spike_month")
    );
    assert!(
        marketing["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "spike_day")
    );
    let data_science = department(&json, "Data Science");
    assert!(
        data_science["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "over_budget")
    );
    assert_eq!(department(&json, "Legal")["status"], "fuse");
    assert_eq!(department(&json, "UNATTRIBUTED")["status"], "warning");

    let kinds: Vec<&str> = json["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"ledger") && kinds.contains(&"price") && kinds.contains(&"total"),
        "{kinds:?}"
    );
    let projected = decimal(&department(&json, "Research")["projection"]["at_close"]);
    assert!(
        projected > decimal(&department(&json, "Research")["settled"]),
        "logs end before the month"
    );
}

#[test]
fn no_arguments_reports_the_sample_month() {
    apportion()
        .assert()
        .success()
        .stdout(predicate::str::contains("Northwind Analytics"))
        .stdout(predicate::str::contains("Conservation: rows read 24003"))
        .stdout(predicate::str::contains(
            "do not replace financial settlement rules",
        ));
}

#[test]
fn check_exits_with_the_worst_status() {
    apportion()
        .arg("check")
        .assert()
        .code(2)
        .stdout(predicate::str::contains("fuse\tLegal\tillegal call"))
        .stdout(predicate::str::contains(
            "warning\tData Science\tover budget",
        ));
}

#[test]
fn every_format_carries_the_disclaimer() {
    for format in ["table", "csv", "json", "markdown"] {
        apportion()
            .args(["report", "--format", format])
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "do not replace financial settlement rules",
            ));
    }
}

#[test]
fn rejects_are_listed_with_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rejects.csv");
    apportion()
        .args(["report", "--rejects"])
        .arg(&path)
        .assert()
        .success();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("file,line,reason\n"));
    assert!(text.contains("gateway-2026-11.csv,24002,duplicate of request 'req_000000042' first seen at gateway-2026-11.csv:43"), "{text}");
    assert!(text.contains("outside the period"));
    assert_eq!(text.lines().count(), 4);
}

#[test]
fn init_writes_a_valid_starter_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("apportion.toml");
    apportion().arg("init").arg(&path).assert().success();
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("[[departments]]")
    );
    apportion()
        .arg("init")
        .arg(&path)
        .assert()
        .code(4)
        .stderr(predicate::str::contains("already exists"));

    let logs = dir.path().join("logs.csv");
    std::fs::write(&logs, "timestamp,api_key,model,input_tokens,output_tokens\n2026-11-03T10:00:00Z,sk-research-1,gpt-4o,1000,100\n").unwrap();
    apportion()
        .args(["report", "--config"])
        .arg(&path)
        .arg(&logs)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "rows read 1 = attributed 1 + unattributed 0 + rejected 0",
        ));
}

#[test]
fn check_exits_1_on_a_warning_such_as_an_unpriced_model() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("apportion.toml");
    std::fs::write(&config, apportion::config::STARTER).unwrap();
    let logs = dir.path().join("logs.csv");
    let header = "timestamp,api_key,model,input_tokens,output_tokens\n";
    let priced = "2026-11-03T10:00:00Z,sk-research-1,gpt-4o,1000,100\n";
    std::fs::write(&logs, format!("{header}{priced}")).unwrap();
    apportion()
        .args(["check", "--config"])
        .arg(&config)
        .arg(&logs)
        .assert()
        .code(0)
        .stdout("");

    // A model no price table knows: never costed at zero in silence, the department is in
    // warning and `check` says so.
    let unknown = "2026-11-03T11:00:00Z,sk-research-1,mystery-model-9,5000,500\n";
    std::fs::write(&logs, format!("{header}{priced}{unknown}")).unwrap();
    apportion()
        .args(["check", "--config"])
        .arg(&config)
        .arg(&logs)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "warning\tResearch\tunpriced model 'mystery-model-9': 1 calls and 5500 tokens",
        ));
    apportion()
        .args(["report", "--config"])
        .arg(&config)
        .arg(&logs)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "model 'mystery-model-9' has no price",
        ));
}

#[test]
fn check_warns_of_rejected_rows_until_the_review_acknowledges_them() {
    use apportion::review::{Review, Sources};

    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = dir.path().join("apportion.toml");
    std::fs::write(&config, apportion::config::STARTER).unwrap();
    let logs = dir.path().join("logs.csv");
    let rows = "timestamp,api_key,model,input_tokens,output_tokens\n\
                2026-11-03T10:00:00Z,sk-research-1,gpt-4o,1000,100\n\
                2026-11-03T11:00:00Z,sk-research-1,gpt-4o,many,100\n";
    std::fs::write(&logs, rows).unwrap();
    let check = || {
        let mut cmd = apportion();
        cmd.env("APPORTION_DATA", data.path())
            .args(["check", "--config"])
            .arg(&config)
            .arg(&logs);
        cmd
    };
    let warned = format!(
        "warning\t(rejected rows)\t1 of 1 rejected rows not acknowledged: {}:3\n",
        logs.display()
    );
    check().assert().code(1).stdout(warned);

    let sources = Sources {
        config: Some(config.clone()),
        files: vec![logs.clone()],
        ..Sources::default()
    };
    let loaded = Review::load(sources.clone(), Default::default()).unwrap();
    let now = chrono::Utc::now();
    let mut review = Review::open(sources, loaded, data.path(), "ana", now).unwrap();
    review.acknowledge(0, now).unwrap();
    check().assert().code(0).stdout("");
}

#[test]
fn a_command_line_that_cannot_be_parsed_is_bad_input_not_a_fuse() {
    apportion()
        .args(["check", "--bogus"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("unexpected argument '--bogus'"));
    apportion().arg("--help").assert().code(0);
}

#[test]
fn sources_without_a_configuration_are_refused_clearly() {
    apportion()
        .args(["report", "some.csv"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--config"));
}

#[test]
fn an_invalid_configuration_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let text = apportion::config::STARTER
        .replace(
            "time_zone = \"Europe/Berlin\"",
            "time_zone = \"Mars/Olympus\"",
        )
        .replace("budget = 12000", "budget = -5")
        .replace("department = \"Support\"", "department = \"Sales\"");
    std::fs::write(&path, text).unwrap();
    apportion()
        .args(["check", "--config"])
        .arg(&path)
        .arg("x.csv")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("has 3 problems"))
        .stderr(predicate::str::contains(
            "organization.time_zone: 'Mars/Olympus' is not an IANA time zone",
        ))
        .stderr(predicate::str::contains(
            "departments[0].budget: expected zero or more, found '-5'",
        ))
        .stderr(predicate::str::contains(
            "mapping[1].department: 'Sales' is not a department",
        ));
}

#[test]
fn a_configuration_without_sources_is_refused_rather_than_run_on_the_sample_logs() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("apportion.toml");
    apportion().arg("init").arg(&config).assert().success();
    apportion()
        .env("APPORTION_DATA", dir.path())
        .args(["report", "--config"])
        .arg(&config)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("was given without sources"));
}

/// A generated month of 2,000 rows in a folder of its own, and a data directory.
struct Month {
    folder: tempfile::TempDir,
    data: tempfile::TempDir,
    config: std::path::PathBuf,
    logs: std::path::PathBuf,
}

impl Month {
    fn new() -> Month {
        let folder = tempfile::tempdir().unwrap();
        apportion::sample::generate::write_month(folder.path(), 2_000, 7).unwrap();
        Month {
            config: folder.path().join(apportion::sample::CONFIG_NAME),
            logs: folder.path().join(apportion::sample::LOGS_NAME),
            data: tempfile::tempdir().unwrap(),
            folder,
        }
    }

    /// Saves the month's review session, as opening the review does.
    fn save_session(&self) {
        use apportion::review::{Review, Sources};
        let sources = Sources {
            config: Some(self.config.clone()),
            files: vec![self.logs.clone()],
            today: Some(apportion::sample::TODAY),
            ..Sources::default()
        };
        let loaded = Review::load(sources.clone(), Default::default()).unwrap();
        Review::open(sources, loaded, self.data.path(), "ana", chrono::Utc::now()).unwrap();
    }
}

/// `report` reads the sources without hashing them unless the month has a saved review
/// session; with one, it hashes them and says which changed since the session was saved.
#[test]
fn a_report_over_a_saved_session_names_a_changed_source() {
    let month = Month::new();
    let (data, config, logs) = (&month.data, &month.config, &month.logs);
    let report = || {
        let output = apportion()
            .env("APPORTION_DATA", data.path())
            .arg("report")
            .arg("--format")
            .arg("json")
            .arg("--config")
            .arg(config)
            .arg(logs)
            .output()
            .unwrap();
        json_of(&output)
    };
    let unchanged = |json: &Value| checklist_check(json, "sources_unchanged");

    let before = report();
    assert_eq!(before["conservation"]["rows_read"], 2_003);

    month.save_session();
    assert_eq!(unchanged(&report())["outcome"], "pass");

    let text = std::fs::read_to_string(logs).unwrap();
    let kept: Vec<&str> = text.lines().take(1_500).collect();
    std::fs::write(logs, kept.join("\n") + "\n").unwrap();
    let after = unchanged(&report());
    assert_eq!(after["outcome"], "fail", "{after}");
    assert!(after.to_string().contains("gateway-2026-11.csv"), "{after}");
}

/// `check` judges the settlement `report` shows: with the month's review session applied.
#[test]
fn check_judges_the_settlement_of_the_saved_session() {
    use apportion::review::change::Change;
    use apportion::review::{Review, Sources};
    let month = Month::new();
    let check = || {
        let output = apportion()
            .env("APPORTION_DATA", month.data.path())
            .args(["check", "--today", "2026-11-26", "--config"])
            .arg(&month.config)
            .arg(&month.logs)
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    assert!(check().contains("UNATTRIBUTED"), "{}", check());

    let sources = Sources {
        config: Some(month.config.clone()),
        files: vec![month.logs.clone()],
        today: Some(apportion::sample::TODAY),
        ..Sources::default()
    };
    let now = chrono::Utc::now();
    let loaded = Review::load(sources.clone(), Default::default()).unwrap();
    let mut review = Review::open(sources, loaded, month.data.path(), "ana", now).unwrap();
    let share = Change::ShareUnattributed {
        strategy: apportion::config::Strategy::Proportional,
    };
    review.recalculate(share, now).unwrap();
    review.persist().unwrap();

    assert!(!check().contains("UNATTRIBUTED"), "{}", check());
}

/// A headless finance sign-off of Legal, the sample month's fused department.
const SIGN_OFF_LEGAL: [&str; 7] = [
    "signoff",
    "--department",
    "Legal",
    "--role",
    "finance",
    "--name",
    "Bo",
];

/// The check of a report's checklist with this id.
fn checklist_check(report: &Value, id: &str) -> Value {
    report["checklist"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["id"] == id)
        .cloned()
        .unwrap()
}

/// A source is known by its content: the file the session was saved with, named another way
/// (here relative to the folder, the session having the full path), is not a change, and a
/// headless sign-off on it is not refused for one.
#[test]
fn the_same_file_named_another_way_is_not_a_changed_source() {
    let month = Month::new();
    month.save_session();
    let relative = format!("./{}", apportion::sample::LOGS_NAME);
    let run = |args: &[&str]| {
        apportion()
            .current_dir(month.folder.path())
            .env("APPORTION_DATA", month.data.path())
            .args(args)
            .arg("--config")
            .arg(&month.config)
            .arg(&relative)
            .output()
            .unwrap()
    };

    let report = json_of(&run(&["report", "--format", "json"]));
    let unchanged = checklist_check(&report, "sources_unchanged");
    assert_eq!(unchanged["outcome"], "pass", "{unchanged}");

    let signed = run(&SIGN_OFF_LEGAL);
    let said = String::from_utf8_lossy(&signed.stderr);
    assert!(!said.contains("changed since"), "{said}");
}

/// A pipe can be read only once; it is held in memory so that repeated request ids can
/// still be settled with a second reading.
#[cfg(unix)]
#[test]
fn a_log_read_from_a_pipe_settles_like_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("gateway-2026-11.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .unwrap();
    assert!(made.success());
    let logs = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sample-data/gateway-2026-11.csv"
    ))
    .unwrap();
    let writer = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::write(pipe, logs).unwrap())
    };
    let output = apportion()
        .args(["report", "--format", "json", "--config"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/sample-data/apportion.toml"
        ))
        .arg(&pipe)
        .output()
        .unwrap();
    writer.join().unwrap();
    let piped = json_of(&output);
    let file = sample_json();
    assert_eq!(piped["conservation"], file["conservation"]);
    assert_eq!(piped["settled"], file["settled"]);
}

/// A headless sign-off or archive on sources that changed since the review session was saved
/// is refused: the recalculation that opening makes must be seen in the review first.
#[test]
fn approving_headless_on_changed_sources_is_refused() {
    let month = Month::new();
    let (data, config, logs) = (&month.data, &month.config, &month.logs);
    month.save_session();

    // One digit of one row changes; the file keeps its size.
    let text = std::fs::read_to_string(logs).unwrap();
    let line = text.lines().nth(100).unwrap();
    let digit = line
        .rfind(|c: char| c.is_ascii_digit() && c != '9')
        .unwrap();
    let mut edited = line.to_string();
    let next = (edited.as_bytes()[digit] + 1) as char;
    edited.replace_range(digit..digit + 1, &next.to_string());
    std::fs::write(logs, text.replacen(line, &edited, 1)).unwrap();

    let archive = month.folder.path().join("archive");
    let run = |args: &[&str]| {
        apportion()
            .env("APPORTION_DATA", data.path())
            .args(args)
            .arg("--config")
            .arg(config)
            .arg(logs)
            .assert()
            .failure()
            .stderr(predicate::str::contains(
                "changed since the month's review session was saved",
            ))
            .stderr(predicate::str::contains("gateway-2026-11.csv"));
    };
    run(&["export", "--archive", archive.to_str().unwrap()]);
    assert!(!archive.join("settlement.json").exists());
    run(&SIGN_OFF_LEGAL);
}

/// Naming one file twice would reject every row of the second naming as a repeat; it is
/// refused instead, naming both.
#[test]
fn a_file_named_twice_is_refused() {
    let month = Month::new();
    let again = month
        .folder
        .path()
        .join(".")
        .join(apportion::sample::LOGS_NAME);
    apportion()
        .env("APPORTION_DATA", month.data.path())
        .args(["report", "--config"])
        .arg(&month.config)
        .arg(&month.logs)
        .arg(&again)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("is named twice among the sources"))
        .stderr(predicate::str::contains(month.logs.display().to_string()));
}

/// A folder no file can be created in, whoever runs the tests: a folder made read-only, or,
/// for root (whom permissions do not stop), `/sys`, which takes no new files. `None` when
/// neither refuses a file here.
#[cfg(unix)]
fn read_only_folder() -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("read-only");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
    let refuses =
        |c: &std::path::PathBuf| c.is_dir() && std::fs::write(c.join("probe"), "").is_err();
    let folder = [folder, std::path::PathBuf::from("/sys")]
        .into_iter()
        .find(refuses)?;
    Some((dir, folder))
}

/// A data directory with no session in it, so that a report does not depend on whoever runs
/// the tests.
fn no_session() -> std::path::PathBuf {
    std::env::temp_dir().join("apportion-cli-tests-no-session")
}

/// The rejected rows that cannot be written name the file asked for, not the temporary file
/// staged beside it.
#[cfg(unix)]
#[test]
fn rejects_that_cannot_be_written_name_the_file_asked_for() {
    let Some((_dir, folder)) = read_only_folder() else {
        eprintln!("skipped: no folder here refuses new files");
        return;
    };
    let target = folder.join("r.csv");
    apportion()
        .env("APPORTION_DATA", no_session())
        .args(["report", "--rejects"])
        .arg(&target)
        .assert()
        .code(4)
        .stderr(predicate::str::contains(target.display().to_string()))
        .stderr(predicate::str::contains(".tmp").not());
}

/// A sign-off whose data directory cannot be written fails as an output that cannot be
/// written (exit 4), naming where it tried to write; the inputs are fine.
#[cfg(unix)]
#[test]
fn a_sign_off_into_a_data_folder_that_cannot_be_written_exits_4() {
    let Some((_dir, folder)) = read_only_folder() else {
        eprintln!("skipped: no folder here refuses new files");
        return;
    };
    let data = folder.join("data");
    apportion()
        .env("APPORTION_DATA", &data)
        .args(SIGN_OFF_LEGAL)
        .assert()
        .code(4)
        .stderr(predicate::str::contains(data.display().to_string()));
}

/// A report that cannot be written out says that standard output is what failed, not only
/// the system's reason (a full disk).
#[cfg(target_os = "linux")]
#[test]
fn a_report_to_a_full_standard_output_names_it() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full here");
        return;
    };
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_apportion"))
        .env("APPORTION_DATA", no_session())
        .arg("report")
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("cannot write the report to standard output: No space left on device"),
        "{said}"
    );
}

/// A sign-off for a name that is not a department says so, suggesting the department that
/// differs only in case, or listing the departments.
#[test]
fn a_sign_off_for_an_unknown_department_names_the_departments() {
    let data = tempfile::tempdir().unwrap();
    let sign_off = |department: &str| {
        apportion()
            .env("APPORTION_DATA", data.path())
            .args([
                "signoff",
                "--role",
                "finance",
                "--name",
                "Bo",
                "--department",
            ])
            .arg(department)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("is not fused").not())
    };
    sign_off("Nope")
        .stderr(predicate::str::contains(
            "'Nope' is not a department of the configuration",
        ))
        .stderr(predicate::str::contains("Legal, "));
    sign_off("legal").stderr(predicate::str::contains("did you mean 'Legal'?"));
}
