//! The code `fnox activate` prints, and the part of `fnox deactivate` that
//! removes it. `fnox` becomes a shell function so that `fnox deactivate`
//! can change the shell; every other use runs the program.

use super::Shell;

/// The activation code for `shell`, running the fnox at `exe`.
pub fn activate(shell: Shell, exe: &str) -> String {
    let fnox = shell.quote(exe);
    match shell {
        Shell::Bash => format!(
            r#"__fnox_hook() {{
  local __fnox_status=$?
  eval "$({fnox} hook-env bash)"
  return $__fnox_status
}}
fnox() {{
  if [ "${{1-}}" = deactivate ]; then
    eval "$({fnox} deactivate bash)"
  else
    {fnox} "$@"
  fi
}}
if [[ ";${{PROMPT_COMMAND-}};" != *";__fnox_hook;"* ]]; then
  PROMPT_COMMAND="__fnox_hook${{PROMPT_COMMAND:+;$PROMPT_COMMAND}}"
fi
__fnox_hook
"#
        ),
        Shell::Zsh => format!(
            r#"__fnox_hook() {{
  eval "$({fnox} hook-env zsh)"
}}
fnox() {{
  if [ "${{1-}}" = deactivate ]; then
    eval "$({fnox} deactivate zsh)"
  else
    {fnox} "$@"
  fi
}}
typeset -ga precmd_functions
if (( ! ${{precmd_functions[(I)__fnox_hook]}} )); then
  precmd_functions=(__fnox_hook $precmd_functions)
fi
__fnox_hook
"#
        ),
        Shell::Fish => format!(
            r#"function __fnox_hook --on-event fish_prompt
    {fnox} hook-env fish | source
end
function fnox
    if test "$argv[1]" = deactivate
        {fnox} deactivate fish | source
    else
        {fnox} $argv
    end
end
__fnox_hook
"#
        ),
    }
}

/// The code that removes the hook and the `fnox` function.
pub fn remove(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => {
            "PROMPT_COMMAND=\"${PROMPT_COMMAND//__fnox_hook;/}\"\nPROMPT_COMMAND=\"${PROMPT_COMMAND//__fnox_hook/}\"\nunset -f __fnox_hook fnox\n"
        }
        Shell::Zsh => {
            "precmd_functions=(${precmd_functions:#__fnox_hook})\nunfunction __fnox_hook fnox\n"
        }
        Shell::Fish => "functions -e __fnox_hook fnox\n",
    }
}
