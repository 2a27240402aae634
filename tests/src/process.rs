//! Locating the `vayu` binary and running it with a hard wall-clock limit.
//!
//! A hung binary must fail its test, not hang CI: every run has a deadline after which the
//! child is killed (SIGKILL) and the test panics with whatever the child had printed.

use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The `vayu` binary under test.
///
/// `$VAYU_BIN` if set (to test an installed or release build); otherwise `<dir of the current
/// test executable>/../vayu`: test executables live in `target/<profile>/deps/`, binaries in
/// `target/<profile>/`. Panics if the file is missing: `cargo test -p vayu-tests` alone does
/// not build another package's binary (under `cargo test --workspace` it is built, because
/// vayu-control has integration tests).
pub fn vayu_bin() -> PathBuf {
    let path = expected_vayu_bin();
    assert!(
        path.is_file(),
        "no vayu binary at {}; build it first: cargo build -p vayu-control --bin vayu",
        path.display()
    );
    path
}

/// Where [`vayu_bin`] looks, without checking that the file exists.
pub fn expected_vayu_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("VAYU_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("path of the running test executable");
    let deps = exe
        .parent()
        .expect("a test executable lives in a directory");
    let profile = deps.parent().expect("target/<profile>/deps has a parent");
    profile.join(format!("vayu{}", std::env::consts::EXE_SUFFIX))
}

/// What a finished (or killed) child left behind.
#[derive(Debug)]
pub struct Output {
    /// Exit code; `None` when killed by a signal (including our own deadline kill).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
    /// True when the deadline passed and we killed the child.
    pub timed_out: bool,
    /// The command line, for failure messages.
    pub command: String,
}

impl Output {
    /// Panics (with the child's output) unless it exited on its own with code 0.
    pub fn assert_success(&self) -> &Output {
        assert_eq!(self.code, Some(0), "expected exit 0\n{self}");
        self
    }

    /// stdout parsed as exactly one JSON document (surrounding whitespace allowed, nothing
    /// else: a progress line or a second document on stdout fails here).
    pub fn json(&self) -> Value {
        match serde_json::from_str(&self.stdout) {
            Ok(doc) => doc,
            Err(err) => panic!("stdout is not exactly one JSON document ({err})\n{self}"),
        }
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "command: {}", self.command)?;
        writeln!(
            f,
            "exit: {:?}, elapsed: {:?}, killed at deadline: {}",
            self.code, self.elapsed, self.timed_out
        )?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

/// A child that is running, with its stdout/stderr drained by threads so a chatty child can
/// never block on a full pipe.
#[derive(Debug)]
pub struct Running {
    child: Child,
    started: Instant,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
    command: String,
}

/// Spawns `cmd` with stdin closed and stdout/stderr captured.
pub fn spawn(mut cmd: Command) -> Running {
    let command = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|err| panic!("cannot spawn {command}: {err}"));
    let out: ChildStdout = child.stdout.take().expect("stdout was piped");
    let err: ChildStderr = child.stderr.take().expect("stderr was piped");
    Running {
        child,
        started,
        stdout: drain(out),
        stderr: drain(err),
        command,
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        // A read error just ends the capture; the bytes so far are still worth showing.
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

impl Running {
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("pids fit in pid_t")
    }

    /// Sends `signal` (e.g. `libc::SIGINT`) to the child.
    pub fn signal(&self, signal: i32) {
        // Safety: kill(2) takes plain integers and has no memory-safety preconditions. The pid
        // is our own child which has not been reaped yet (we hold `Child` and only reap in
        // `wait`), so it cannot have been recycled for an unrelated process.
        let rc = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(
            rc,
            0,
            "kill({}, {signal}): {}",
            self.pid(),
            std::io::Error::last_os_error()
        );
    }

    /// Waits for the child to exit; kills it once `limit` (counted from spawn) has passed.
    pub fn wait(mut self, limit: Duration) -> Output {
        let deadline = self.started + limit;
        let mut timed_out = false;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() >= deadline => {
                    timed_out = true;
                    let _ = self.child.kill();
                    break self.child.wait().ok();
                }
                Ok(None) => thread::sleep(Duration::from_millis(10)),
                Err(err) => panic!("waiting for {}: {err}", self.command),
            }
        };
        let elapsed = self.started.elapsed();
        Output {
            code: status.and_then(|s| s.code()),
            stdout: self.stdout.join().unwrap_or_default(),
            stderr: self.stderr.join().unwrap_or_default(),
            elapsed,
            timed_out,
            command: self.command,
        }
    }
}

/// A `vayu run <args...>` command (not started).
pub fn vayu_run_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(vayu_bin());
    cmd.arg("run").args(args);
    cmd
}

/// Runs `vayu run <args...>` and returns its output; panics if it is still running after
/// `limit` (a hung binary is a failure, whatever the test expected).
pub fn run(args: &[&str], limit: Duration) -> Output {
    let out = spawn(vayu_run_command(args)).wait(limit);
    assert!(
        !out.timed_out,
        "vayu did not finish within {limit:?} and was killed\n{out}"
    );
    out
}

/// Runs `vayu run <args...> --json` (adding `--json` if absent), requires exit 0 and returns the
/// report parsed from stdout.
pub fn run_json(args: &[&str], limit: Duration) -> Value {
    let mut args = args.to_vec();
    if !args.contains(&"--json") {
        args.push("--json");
    }
    let out = run(&args, limit);
    out.assert_success();
    out.json()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(script);
        cmd
    }

    #[test]
    fn captures_code_stdout_and_stderr() {
        let out =
            spawn(sh("echo '{\"a\": 1}'; echo oops >&2; exit 3")).wait(Duration::from_secs(10));
        assert!(!out.timed_out);
        assert_eq!(out.code, Some(3));
        assert_eq!(out.stderr, "oops\n");
        assert_eq!(out.json(), serde_json::json!({"a": 1}));
    }

    #[test]
    fn kills_a_child_that_outlives_its_deadline() {
        let out = spawn(sh("exec sleep 30")).wait(Duration::from_millis(300));
        assert!(out.timed_out);
        assert_eq!(out.code, None, "killed by SIGKILL, so no exit code");
        assert!(out.elapsed < Duration::from_secs(20), "{:?}", out.elapsed);
    }

    #[test]
    fn signals_reach_the_child() {
        let child = spawn(sh(
            "trap 'echo got-int; exit 0' INT; while :; do sleep 0.05; done",
        ));
        thread::sleep(Duration::from_millis(300)); // let the shell install its trap
        child.signal(libc::SIGINT);
        let out = child.wait(Duration::from_secs(10));
        assert!(!out.timed_out, "{out}");
        assert_eq!(out.code, Some(0), "{out}");
        assert_eq!(out.stdout, "got-int\n");
    }

    #[test]
    #[should_panic(expected = "not exactly one JSON document")]
    fn two_documents_on_stdout_are_rejected() {
        spawn(sh("echo '{}'; echo '{}'"))
            .wait(Duration::from_secs(10))
            .json();
    }

    #[test]
    fn the_binary_is_looked_up_next_to_deps() {
        if std::env::var_os("VAYU_BIN").is_some() {
            return; // overridden on purpose; nothing to check about the default lookup
        }
        let path = expected_vayu_bin();
        let exe = std::env::current_exe().expect("current exe");
        assert_eq!(
            exe.parent().and_then(|d| d.file_name()),
            Some("deps".as_ref())
        );
        assert_eq!(path.parent(), exe.parent().and_then(|d| d.parent()));
        assert_eq!(path.file_stem(), Some("vayu".as_ref()));
    }
}
