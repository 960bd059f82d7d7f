//! `--on-job-done`: a command run when a job ends, without a shell, with
//! the job in `PIMEDIA_JOB_*` variables. It runs on its own task with a
//! time limit, so a slow or failing hook never holds up the queue.

use std::time::Duration;

use super::Job;

const LIMIT: Duration = Duration::from_secs(60);

pub fn run(command: &[String], job: &Job) {
    let Some((program, args)) = command.split_first() else {
        return;
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env("PIMEDIA_JOB_ID", job.id.to_string())
        .env("PIMEDIA_JOB_SOURCE", &job.source)
        .env("PIMEDIA_JOB_OUTPUT", job.output.as_deref().unwrap_or(""))
        .env("PIMEDIA_JOB_STATE", job.state.name())
        .env("PIMEDIA_JOB_ERROR", job.error.as_deref().unwrap_or(""))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let id = job.id;
    tokio::spawn(async move {
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("--on-job-done could not start for job {id}: {e}");
                return;
            }
        };
        match tokio::time::timeout(LIMIT, child.wait()).await {
            Ok(Ok(s)) if s.success() => {}
            Ok(Ok(s)) => tracing::warn!("--on-job-done for job {id} exited with {s}"),
            Ok(Err(e)) => tracing::warn!("--on-job-done for job {id}: {e}"),
            Err(_) => {
                tracing::warn!("--on-job-done for job {id} took over {LIMIT:?}; stopped");
                let _ = child.kill().await;
            }
        }
    });
}
