//! Programs run on a pseudo-terminal, answering their prompts as a person
//! would: each answer is typed once its prompt has appeared and the program
//! has turned echo off (a reader prints its prompt, then turns echo off).

use crate::common::TestEnv;

const HARNESS: &str = r#"
import json, os, pty, sys, termios, time
script = json.loads(sys.argv[1])
def echo_off(fd):
    end = time.time() + 10
    while time.time() < end:
        if not termios.tcgetattr(fd)[3] & termios.ECHO:
            return
        time.sleep(0.01)
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
seen, done, pos = b"", 0, 0
end = time.time() + 60
while time.time() < end:
    try:
        data = os.read(fd, 1024)
    except OSError:
        break
    if not data:
        break
    seen += data
    while done < len(script):
        at = seen.find(script[done][0].encode(), pos)
        if at < 0:
            break
        pos = at + len(script[done][0])
        echo_off(fd)
        os.write(fd, script[done][1].encode() + b"\n")
        done += 1
if time.time() >= end:
    # Still waiting for input nobody gives: say so, and end it.
    seen += b"\n[pty harness: no end after 60 s; killed]\n"
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;

/// Runs `program ARGS` (with `env`'s environment) on a pseudo-terminal,
/// answering each `(prompt, answer)` of `script` in order; returns what the
/// terminal showed (without carriage returns) and the exit code.
pub fn converse(
    env: &TestEnv,
    program: &str,
    args: &[&str],
    script: &[(&str, &str)],
) -> (String, i32) {
    let script: Vec<[&str; 2]> = script.iter().map(|(p, a)| [*p, *a]).collect();
    let script = serde_json::to_string(&script).unwrap();
    let out =
        env.program("python3").args(["-c", HARNESS, &script, program]).args(args).output().unwrap();
    (String::from_utf8_lossy(&out.stdout).replace('\r', ""), out.status.code().unwrap_or(-1))
}

/// [`converse`] with fnox.
pub fn fnox(env: &TestEnv, args: &[&str], script: &[(&str, &str)]) -> (String, i32) {
    converse(env, &crate::common::bin().display().to_string(), args, script)
}
