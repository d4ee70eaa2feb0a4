//! Asking before a command changes things (`apply`, `delete` without `--yes`), as `gh`
//! and `terraform` do: on a terminal the question goes to stderr and one line is read
//! from stdin (`y` or `yes`, any case, proceeds; anything else, or end of input, changes
//! nothing); without a terminal nothing is asked and the command is refused (status 2),
//! naming `--yes`.
//!
//! [`ask`] takes the input, the prompt's writer and whether they are a terminal, so that
//! tests can answer it; [`ask_terminal`] is it on the process's stdin and stderr.

use std::io::{BufRead, IsTerminal, Write};

use crate::exit::{usage, Failure, PARTIAL};

/// Asks `question` (`Delete m-1?`) and reads the answer. `Ok(true)`: proceed;
/// `Ok(false)`: declined. Not a terminal: `refusal` (status 2), without asking.
pub fn ask(
    question: &str,
    refusal: &str,
    terminal: bool,
    input: &mut dyn BufRead,
    prompt: &mut dyn Write,
) -> Result<bool, Failure> {
    if !terminal {
        return Err(usage(refusal));
    }
    write!(prompt, "{question} [y/N] ")
        .and_then(|()| prompt.flush())
        .map_err(Failure::output)?;
    let mut line = String::new();
    // A read error or end of input is a "no": nothing is changed.
    if input.read_line(&mut line).unwrap_or(0) == 0 {
        let _ = writeln!(prompt);
    }
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// True when a question can be asked: stdin and stderr are both a terminal.
pub fn terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// [`ask`] on stdin and stderr, a terminal when both are ([`terminal`]).
pub fn ask_terminal(question: &str, refusal: &str) -> Result<bool, Failure> {
    ask(
        question,
        refusal,
        terminal(),
        &mut std::io::stdin().lock(),
        &mut std::io::stderr(),
    )
}

/// The failure of a declined question: `what` was not done (status 5: cancelled; nothing
/// was changed).
pub fn declined(what: &str) -> Failure {
    Failure::new(
        PARTIAL,
        format!("{what}: cancelled at the prompt, nothing was changed"),
    )
    .kind("cancelled")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(terminal: bool, typed: &str) -> (Result<bool, Failure>, String) {
        let mut prompt = Vec::new();
        let r = ask(
            "Delete m-1?",
            "refused: give --yes",
            terminal,
            &mut typed.as_bytes(),
            &mut prompt,
        );
        (r, String::from_utf8(prompt).unwrap())
    }

    #[test]
    fn only_yes_on_a_terminal_proceeds() {
        for yes in ["y\n", "Y\n", "yes\n", " YES \n", "y"] {
            let (r, prompt) = answer(true, yes);
            assert!(r.ok().unwrap(), "{yes:?}");
            assert_eq!(prompt, "Delete m-1? [y/N] ");
        }
        for no in ["n\n", "\n", "", "no\n", "yes please\n", "1\n"] {
            assert!(!answer(true, no).0.ok().unwrap(), "{no:?}");
        }
        // No terminal: refused without a question, whatever the input says.
        let (r, prompt) = answer(false, "y\n");
        let f = r.err().unwrap();
        assert_eq!(f.code, crate::exit::USAGE);
        assert!(f.message.contains("--yes"), "{}", f.message);
        assert!(prompt.is_empty());
        assert_eq!(declined("not deleted").code, PARTIAL);
    }
}
