//! The `fnox` binary: harden the process, read the environment once, run
//! the command, exit.

mod cli;
mod exit_codes;
mod hygiene;

fn main() {
    hygiene::return_large_buffers();
    if let Err(e) = hygiene::harden_process() {
        // Nothing to protect yet, and nothing to gain by refusing to run;
        // but it is said.
        eprintln!("warning: cannot disable core dumps for fnox\n  cause: {e}");
    }
    let code = match std::env::current_dir() {
        Ok(cwd) => {
            // SAFETY: geteuid has no preconditions and cannot fail.
            let uid = unsafe { libc::geteuid() };
            let environment =
                fnox_core::Environment::from_vars(cwd, std::env::vars_os(), cli::CLI_VARIABLES)
                    .with_home(dirs::home_dir())
                    .with_user_config_dir(dirs::config_dir())
                    .with_uid(uid);
            cli::main(std::env::args_os(), environment)
        }
        Err(e) => {
            eprintln!("error: cannot read the current directory\n  cause: {e}");
            exit_codes::FAILURE
        }
    };
    std::process::exit(code);
}
