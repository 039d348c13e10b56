//! `command` and `shell` as background jobs (`async` with `poll: 0`): the task starts the
//! command on the host and returns at once; `async_status` reads how it ended. A job still
//! running at its `async` seconds is killed (`timeout -s KILL`) and reads as "Timeout
//! exceeded", as Ansible's `async_wrapper` ends one.
//!
//! The job runs the same script as a task (`command_run`), detached from the connection's
//! serving shell: its output goes to files in `~/.ansible_async/` (Ansible's `async_dir`),
//! named by the job id, and its exit status is written last (to a temporary name, then
//! renamed), so a status check that finds the `.rc` file finds the whole output beside it. The
//! script's end line carries the host's clock, and the job's first act writes it to `.start`:
//! `start`, `end` and `delta` are the host's, as for any command.

use super::command_run::{command_script, parse_request, split_markers, MARK};
use super::common::{HostTime, DATE_NOW};
use crate::remote::{shell_quote, RemoteError};
use crate::{Args, ModuleCtx, ModuleResult};

/// Where the job's files are: `$HOME/.ansible_async/JID` (shell code).
fn job_path(jid: &str) -> String {
    format!("\"${{HOME:-/tmp}}/.ansible_async/\"{}", shell_quote(jid))
}

/// Starts the command of `args` as job `jid`; the result says the job started, or why the
/// request was refused before anything ran.
pub async fn start(
    args: &Args,
    ctx: &mut ModuleCtx<'_>,
    shell: bool,
    (jid, secs): (&str, u64),
) -> Result<ModuleResult, RemoteError> {
    let req = match parse_request(args, shell) {
        Ok(req) => req,
        Err(refused) => return Ok(refused),
    };
    let script = command_script(&req, false, false);
    let j = job_path(jid);
    let input = match &req.stdin {
        Some(_) => "\"$__j.in\"",
        None => "/dev/null",
    };
    let wrapper = format!(
        "__j={j}; mkdir -p \"${{HOME:-/tmp}}/.ansible_async\" || exit 1\n\
         {DATE_NOW} > \"$__j.start\"\n\
         {stdin}\
         ( timeout -s KILL {secs} sh -c {script} > \"$__j.out\" 2> \"$__j.err\" < {input}; \
           __rc=$?; [ $__rc = 137 ] && : > \"$__j.timedout\"; \
           echo $__rc > \"$__j.rc.tmp\"; mv -f \"$__j.rc.tmp\" \"$__j.rc\" ) > /dev/null 2>&1 < /dev/null &\n",
        script = shell_quote(&script),
        stdin = if req.stdin.is_some() {
            "cat > \"$__j.in\"\n"
        } else {
            ""
        },
    );
    let out = match &req.stdin {
        Some(data) => ctx.sh_with_input(&wrapper, data).await?,
        None => ctx.sh(&wrapper).await?,
    };
    if out.rc != 0 {
        return Ok(ModuleResult::fail(format!(
            "could not start the job: {}",
            out.stderr_text().trim()
        )));
    }
    Ok(ModuleResult::changed()
        .with("ansible_job_id", jid)
        .with("started", true)
        .with("finished", false))
}

/// How job `jid` (started from `args`) stands: `None` while it runs, else the command's result
/// as a task would have given it; a job the host has no trace of fails as Ansible's does.
pub async fn status(
    args: &Args,
    ctx: &mut ModuleCtx<'_>,
    shell: bool,
    jid: &str,
) -> Result<Option<ModuleResult>, RemoteError> {
    let req = match parse_request(args, shell) {
        Ok(req) => req,
        Err(refused) => return Ok(Some(refused)),
    };
    let j = job_path(jid);
    let state = ctx
        .sh(&format!(
            "__j={j}; if [ -e \"$__j.rc\" ]; then cat \"$__j.rc\"; \
             elif [ -e \"$__j.start\" ]; then echo running; else echo missing; fi"
        ))
        .await?
        .stdout_text();
    let rc: i32 = match state.trim() {
        "running" => return Ok(None),
        "missing" => return Ok(Some(ModuleResult::fail("could not find job"))),
        text => text.parse().unwrap_or(-1),
    };
    let timed_out = ctx
        .sh(&format!("[ -e {j}.timedout ]", j = job_path(jid)))
        .await?
        .rc
        == 0;
    if timed_out {
        // killed at its `async` seconds, as Ansible's async_wrapper ends a job
        return Ok(Some(ModuleResult::fail("Timeout exceeded")));
    }
    let read = |suffix: &str| format!("cat {j}.{suffix} 2>/dev/null; exit 0", j = job_path(jid));
    let stdout = ctx.sh(&read("out")).await?.stdout_text();
    let stderr = ctx.sh(&read("err")).await?.stdout_text();
    let started = ctx.sh(&read("start")).await?.stdout_text();
    if let Some(rest) = stderr.strip_prefix(MARK) {
        return Ok(Some(req.stopped_before_running(rest, false)));
    }
    let (stderr, ended) = split_markers(&stderr);
    let times = HostTime::parse(started.trim()).zip(ended);
    Ok(Some(req.finished(rc, stdout, stderr, times)))
}

/// `async_status mode=cleanup`: the job's files removed.
pub async fn cleanup(ctx: &mut ModuleCtx<'_>, jid: &str) -> Result<(), RemoteError> {
    let j = job_path(jid);
    ctx.sh(&format!(
        "rm -f {j}.start {j}.out {j}.err {j}.rc {j}.rc.tmp {j}.in {j}.timedout"
    ))
    .await?;
    Ok(())
}
