//! The real binary in a pseudo-terminal on the sample month: a line approved before quitting
//! is still approved after a restart, and a sign-off given in the departments screen is in
//! the saved session.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

/// The binary running in a pseudo-terminal, its screen kept up to date by a reader thread.
struct Session {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    _master: Box<dyn MasterPty + Send>,
}

impl Session {
    fn start(data: &Path) -> Session {
        Session::start_with(data, &[])
    }

    fn start_with(data: &Path, args: &[&str]) -> Session {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_apportion"));
        command.args(args);
        command.env("APPORTION_DATA", data);
        command.env("APPORTION_REVIEWER", "ana");
        command.env("LANG", "C.UTF-8");
        command.env("TERM", "xterm-256color");
        let child = pty.slave.spawn_command(command).unwrap();
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(24, 80, 0)));
        let shared = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                shared.lock().unwrap().process(&buffer[..n]);
            }
        });
        Session {
            child,
            writer,
            screen,
            _master: pty.master,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `text`, failing with the screen after a while.
    fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.contents().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the screen never showed '{text}':\n{}", self.contents());
    }

    fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }

    /// Quits with `q` and waits for the process to end.
    fn quit(mut self) {
        self.press("q");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status:?}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the program did not quit on q");
    }
}

#[test]
fn an_approval_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();

    let mut first = Session::start(data.path());
    first.wait_for("0 of 36 lines decided");
    first.press("2");
    first.wait_for("Lines, riskiest first");
    first.press("a");
    first.wait_for("approved Legal / gpt-4.1");
    first.quit();

    let saved = std::fs::read_to_string(
        data.path()
            .join("sessions/northwind-analytics-2026-11.json"),
    )
    .unwrap();
    assert!(saved.contains("\"approved\""));

    let mut second = Session::start(data.path());
    second.wait_for("1 of 36 lines decided");
    second.press("2");
    second.wait_for("approved by ana");
    second.quit();
    assert!(
        data.path().join("apportion.log").exists(),
        "logs go to the data directory"
    );
}

#[test]
fn a_sign_off_given_on_the_departments_screen_is_saved() {
    let data = tempfile::tempdir().unwrap();
    let mut session = Session::start(data.path());
    session.wait_for("0 of 36 lines decided");
    session.press("3");
    session.wait_for("sign-offs");
    // Legal, the fused department, is the eighth row of the sample month.
    session.press("jjjjjjj");
    session.wait_for("┌ Legal ");
    session.press("o");
    session.wait_for("Sign Legal off: role");
    session.press("\r");
    session.wait_for("Sign Legal off as finance");
    session.press("Henrik Lund\r");
    session.press("\r");
    session.wait_for("Henrik Lund signed Legal off as finance");
    session.quit();

    let saved = std::fs::read_to_string(
        data.path()
            .join("sessions/northwind-analytics-2026-11.json"),
    )
    .unwrap();
    let saved: serde_json::Value = serde_json::from_str(&saved).unwrap();
    let signoff = &saved["signoffs"][0];
    assert_eq!(signoff["department"], "Legal");
    assert_eq!(signoff["role"], "finance");
    assert_eq!(signoff["name"], "Henrik Lund");
}

#[test]
fn quitting_while_loading_or_with_ctrl_c_ends_cleanly() {
    let data = tempfile::tempdir().unwrap();
    let mut session = Session::start(data.path());
    session.wait_for("apportion");
    session.press("\x03");
    let deadline = Instant::now() + Duration::from_secs(20);
    while session.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "Ctrl-C did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The alternate screen was left: the shell's screen is back.
    assert!(!session.screen.lock().unwrap().screen().alternate_screen());
}

#[test]
fn one_key_from_the_overview_charts_the_department_that_spiked() {
    let data = tempfile::tempdir().unwrap();
    let mut session = Session::start(data.path());
    session.wait_for("0 of 36 lines decided");
    session.press("e");
    session.wait_for("exploring Marketing: spiked on Nov 17");
    session.wait_for("█ spike day");
    session.quit();
}

#[test]
fn a_month_that_cannot_be_opened_exits_with_an_error() {
    let data = tempfile::tempdir().unwrap();
    let missing = data.path().join("no-such-config.toml");
    let mut session = Session::start_with(
        data.path(),
        &["review", "--config", missing.to_str().unwrap()],
    );
    session.wait_for("could not be opened");
    session.press("q");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = session.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the program did not quit on q");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "exit status {status:?}");
    assert_eq!(status.exit_code(), 3);
}

/// Waits for the process to end and returns its exit code.
fn exit_code(session: &mut Session) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(status) = session.child.try_wait().unwrap() {
            return status.exit_code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = session.child.kill();
    panic!("the program did not end:\n{}", session.contents());
}

#[test]
fn a_data_directory_that_cannot_hold_the_log_is_an_error_not_a_panic() {
    let data = tempfile::tempdir().unwrap();
    // The log file's name is taken by a folder, so the log cannot be opened.
    std::fs::create_dir(data.path().join("apportion.log")).unwrap();
    let mut session = Session::start(data.path());
    assert_eq!(exit_code(&mut session), 4, "{}", session.contents());
    let screen = session.contents();
    assert!(screen.contains("cannot use the data directory"), "{screen}");
    assert!(!screen.contains("panicked"), "{screen}");

    let file = data.path().join("not-a-folder");
    std::fs::write(&file, "").unwrap();
    let mut session = Session::start(&file);
    assert_eq!(exit_code(&mut session), 4, "{}", session.contents());
    assert!(session.contents().contains("cannot use the data directory"));
}
