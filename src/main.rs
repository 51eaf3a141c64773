//! The `fnox` binary: harden the process, run the command, exit.

fn main() {
    fnox::hygiene::harden_process();
    let code = fnox::cli::main_with_args(std::env::args_os());
    std::process::exit(code);
}
