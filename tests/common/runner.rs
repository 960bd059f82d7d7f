//! The real PeerTube runner for the tests: the one in
//! `../shared/peertube-runner/` (from the repository root, as CI has it),
//! else `peertube-runner` installed from npm; without either, `None` and a
//! line saying why.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{nix_kill, patience};

/// How to start the runner: `node <bundle>` or the npm-installed command.
pub fn runner_command() -> Option<Vec<String>> {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/peertube-runner/dist/peertube-runner.js");
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if bundle.is_file() && node_ok {
        return Some(vec!["node".into(), bundle.to_string_lossy().into_owned()]);
    }
    if Command::new("peertube-runner")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some(vec!["peertube-runner".into()]);
    }
    eprintln!(
        "skipped: no PeerTube runner (neither {} with node, nor `peertube-runner` from npm)",
        bundle.display()
    );
    None
}

/// A PeerTube runner with a home of its own, registered with `s`; killed
/// (its whole process group) on drop.
pub struct Runner {
    child: Child,
    home: tempfile::TempDir,
    log: PathBuf,
}

impl Runner {
    /// Starts `peertube-runner server` (after `prefix`, e.g. `nsenter` into
    /// another network), and registers it with `url` as `name`. `bin` goes
    /// first on its PATH (a fake ffmpeg).
    pub fn start(
        url: &str,
        token: &str,
        name: &str,
        bin: Option<&Path>,
        prefix: &[&str],
    ) -> Option<Runner> {
        use std::os::unix::process::CommandExt;
        let cmd: Vec<String> = prefix
            .iter()
            .map(|p| p.to_string())
            .chain(runner_command()?)
            .collect();
        let home = tempfile::tempdir().unwrap();
        let log = home.path().join("runner.log");
        let path = match bin {
            Some(b) => format!("{}:{}", b.display(), std::env::var("PATH").unwrap()),
            None => std::env::var("PATH").unwrap(),
        };
        let home_dir = home.path().to_path_buf();
        let run = |args: &[&str]| {
            let mut c = Command::new(&cmd[0]);
            c.args(&cmd[1..])
                .args(args)
                .env("HOME", &home_dir)
                .env("PATH", &path);
            c
        };
        let child = run(&["server"])
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let r = Runner { child, home, log };
        let socket = r
            .home
            .path()
            .join(".local/share/peertube-runner-nodejs/default/peertube-runner.sock");
        until(20, "the runner's IPC socket", || socket.exists());
        super::succeed(&mut run(&[
            "register",
            "--url",
            url,
            "--registration-token",
            token,
            "--runner-name",
            name,
        ]));
        Some(r)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, sig: &str) {
        nix_kill(self.child.id(), sig);
    }

    pub fn kill_all(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.kill_all();
    }
}

fn until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs * patience());
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
