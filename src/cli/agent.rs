//! `fnox agent start|stop|status|lock` (and the hidden `serve`, the agent
//! process itself, which `start` launches). See docs/agent.md.

use std::{
    io::{BufRead as _, BufReader},
    os::unix::process::CommandExt as _,
    process::{Command as Process, Stdio},
    time::Duration,
};

use fnox_core::{
    Environment,
    agent::{
        self, Agent, Client, ClientError, Settings, Status,
        client::WAIT,
        protocol::{Request, Response},
    },
};

use super::{error::CommandError, ui::Ui};
use crate::exit_codes::{ExitStatus, FAILURE};

/// Keep decrypted key-service and age values in memory for a while, so
/// that the next commands make no key-service request.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox agent start                      keep values 15 min idle, 8 h at most
  fnox agent start --idle-timeout 1h    keep them an hour after their last use
  fnox agent status --names             which secrets it holds
  fnox agent lock                       forget them all now
  FNOX_AGENT=off fnox exec -- ./run     one command without the agent

The socket is in $FNOX_AGENT_DIR, else $XDG_RUNTIME_DIR/fnox, else
$TMPDIR/fnox-agent-UID (a 0700 directory). See docs/agent.md.")]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Start the agent in the background (nothing happens if it runs).
    Start(Timeouts),
    /// Wipe every value and stop the agent.
    Stop,
    /// Show the agent's process, settings, and how many values it holds
    /// and for how long (never the values).
    Status {
        /// Also list the provider and secret name of each value.
        #[arg(long)]
        names: bool,
    },
    /// Wipe every value now; the agent keeps running.
    Lock,
    /// The agent process itself (what `start` runs).
    #[command(hide = true)]
    Serve(Timeouts),
}

#[derive(Debug, clap::Args)]
struct Timeouts {
    /// Wipe a value not used for this long (`90s`, `15m`, `2h`; a bare
    /// number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// Wipe a value this long after it was decrypted, used or not.
    #[arg(long, value_name = "DURATION", default_value = "8h", value_parser = parse_duration)]
    max_lifetime: Duration,
}

impl Timeouts {
    fn settings(&self) -> Settings {
        Settings { idle_timeout: self.idle_timeout, max_lifetime: self.max_lifetime }
    }
}

/// `90`, `90s`, `15m`, `8h`: a positive number of seconds, minutes, hours.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (digits, unit) =
        text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("`{text}` is not a duration: use e.g. 90s, 15m or 8h")),
    };
    match digits.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n.saturating_mul(scale))),
        _ => Err(format!("`{text}` is not a duration: use e.g. 90s, 15m or 8h (more than 0)")),
    }
}

/// `3725` seconds as `1h 2m 5s` (units that are 0 left out).
fn human(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let parts: Vec<String> = [(h, "h"), (m, "m"), (s, "s")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if parts.is_empty() { "0s".into() } else { parts.join(" ") }
}

pub(super) fn run(ui: &Ui, env: &Environment, args: Args) -> Result<ExitStatus, CommandError> {
    let client = Client::new(agent::agent_dir(env), WAIT);
    match args.command {
        Sub::Start(t) => start(ui, &client, &t),
        Sub::Stop => wipe(ui, &client, Request::Stop, "stopped the agent"),
        Sub::Lock => wipe(ui, &client, Request::Lock, "locked the agent"),
        Sub::Status { names } => status(ui, &client, names),
        Sub::Serve(t) => serve(&client, &t),
    }
}

/// The agent's answer to `request`; `None` when no agent runs.
fn ask(client: &Client, request: &Request) -> Result<Option<Response>, CommandError> {
    match client.call(request) {
        Ok(r) => Ok(Some(r)),
        Err(ClientError::NotRunning) => Ok(None),
        Err(e) => Err(agent_error("cannot talk to the agent", &e)),
    }
}

fn agent_error(what: &str, e: &(dyn std::error::Error + 'static)) -> CommandError {
    let mut err = CommandError::user(what);
    err.causes = fnox_core::error::chain(e);
    err
}

fn wipe(
    ui: &Ui,
    client: &Client,
    request: Request,
    done: &str,
) -> Result<ExitStatus, CommandError> {
    match ask(client, &request)? {
        Some(Response::Wiped(n)) => {
            ui.report(&format!("{done}: wiped {n} value{}\n", if n == 1 { "" } else { "s" }))?;
        }
        Some(_) => return Err(CommandError::user("the agent's answer does not fit the request")),
        None => ui.report("no agent is running\n")?,
    }
    Ok(ExitStatus::SUCCESS)
}

fn status(ui: &Ui, client: &Client, names: bool) -> Result<ExitStatus, CommandError> {
    let socket = ui.path(&client.dir().join(agent::dir::SOCKET));
    match ask(client, &Request::Status { names })? {
        Some(Response::Status(s)) => {
            ui.report(&status_text(&s, &socket))?;
            Ok(ExitStatus::SUCCESS)
        }
        Some(_) => Err(CommandError::user("the agent's answer does not fit the request")),
        None => {
            ui.report(&format!("no agent is running ({socket})\n"))?;
            Ok(ExitStatus(FAILURE))
        }
    }
}

fn status_text(s: &Status, socket: &str) -> String {
    let mut out = format!("agent running, pid {}, socket {socket}\n", s.pid);
    out += &format!(
        "up {}; idle timeout {}, max lifetime {}\n",
        human(s.uptime),
        human(s.idle_timeout),
        human(s.max_lifetime)
    );
    let n = s.entries.len();
    out += &format!("values: {n}");
    if n > 0 {
        let oldest = s.entries.iter().map(|e| e.age).max().unwrap_or(0);
        let newest = s.entries.iter().map(|e| e.age).min().unwrap_or(0);
        let idle = s.entries.iter().map(|e| e.idle).max().unwrap_or(0);
        out += &format!(
            " (oldest {}, newest {}, longest idle {})",
            human(oldest),
            human(newest),
            human(idle)
        );
        out +=
            if s.memory_locked { "; memory locked" } else { "; memory NOT locked (mlock refused)" };
    }
    out += "\n";
    if s.refused > 0 {
        out += &format!("refused connections from other users: {}\n", s.refused);
    }
    for e in &s.entries {
        if let Some((provider, secret)) = &e.names {
            out +=
                &format!("  {secret} ({provider}): age {}, idle {}\n", human(e.age), human(e.idle));
        }
    }
    out
}

/// Launches `fnox agent serve` in its own session, and waits for it to say
/// it listens (or why it cannot).
fn start(ui: &Ui, client: &Client, t: &Timeouts) -> Result<ExitStatus, CommandError> {
    match client.call(&Request::Status { names: false }) {
        Ok(Response::Status(s)) => {
            ui.report(&format!("the agent is already running (pid {})\n", s.pid))?;
            return Ok(ExitStatus::SUCCESS);
        }
        Err(ClientError::NotRunning) => {}
        Ok(_) => {
            return Err(CommandError::user(
                "cannot start the agent: another program answers on its socket",
            ));
        }
        Err(e) => return Err(agent_error("cannot start the agent", &e)),
    }
    let exe =
        std::env::current_exe().map_err(|e| CommandError::io("cannot find the fnox binary", e))?;
    let mut cmd = Process::new(exe);
    cmd.args(["agent", "serve", "--idle-timeout"])
        .arg(format!("{}", t.idle_timeout.as_secs()))
        .arg("--max-lifetime")
        .arg(format!("{}", t.max_lifetime.as_secs()))
        .current_dir("/")
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // The directory as resolved here (FNOX_AGENT_DIR, XDG_RUNTIME_DIR,
    // TMPDIR): the agent needs nothing else from the environment.
    cmd.env(agent::dir::DIR_VAR, client.dir());
    // SAFETY: setsid is async-signal-safe and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| CommandError::io("cannot start the agent", e))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    match line.trim_end().strip_prefix("ready ") {
        Some(pid) => {
            let socket = ui.path(&client.dir().join(agent::dir::SOCKET));
            ui.report(&format!(
                "agent started, pid {pid}, socket {socket}; idle timeout {}, max lifetime {}\n",
                human(t.idle_timeout.as_secs()),
                human(t.max_lifetime.as_secs())
            ))?;
            Ok(ExitStatus::SUCCESS)
        }
        None => {
            let _ = child.wait();
            let mut err = CommandError::user("cannot start the agent");
            err.causes =
                line.trim_end().split('\n').map(str::to_string).filter(|l| !l.is_empty()).collect();
            Err(err)
        }
    }
}

/// The agent process: binds, says `ready PID` (or the error) on stdout,
/// serves until stopped; TERM, INT and HUP stop it too (values wiped).
fn serve(client: &Client, t: &Timeouts) -> Result<ExitStatus, CommandError> {
    let agent = match Agent::bind(client.dir(), t.settings()) {
        Ok(a) => a,
        Err(e) => {
            println!("{}", fnox_core::error::chain(&e).join(": "));
            return Ok(ExitStatus(FAILURE));
        }
    };
    let stopper = agent.stopper();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ])
    .map_err(|e| CommandError::io("cannot handle signals", e))?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            // Wipes every value and wakes the accept loop, which then removes the
            // socket; if it cannot be woken (its socket was deleted), end anyway.
            stopper.stop();
            std::thread::sleep(Duration::from_secs(1));
            std::process::exit(0);
        }
    });
    println!("ready {}", std::process::id());
    agent.run();
    Ok(ExitStatus::SUCCESS)
}
