//! Consul's flags are Go-style: one dash for long names (`-dev`, `-http-port=8501`).
//! clap wants two, so argv is rewritten before parsing.
//!
//! The rewrite follows the command tree clap defines and Go's `flag` package rules, so
//! that values are never mistaken for flags:
//! - only names the current (sub)command defines are rewritten (`-recurse` under
//!   `kv get`, but `-x` or `-dev` there stay as they are);
//! - the argument after a flag that takes a value is that value and is kept verbatim
//!   (`-separator -` or `-token -abc`);
//! - like Go, single-dash flags are only recognized before the first positional
//!   argument, so `kv put key -cas` writes the value `-cas`; double-dash flags still
//!   work anywhere, as clap parses them;
//! - nothing is rewritten after a bare `--`.
//!
//! `-v`, `-version` and `--version` as the only command become `version`, as in Consul.

use std::ffi::OsString;

use clap::Command;

/// The argv clap should parse for a Go-style `argv`.
pub fn rewrite_go_style_flags(
    argv: impl IntoIterator<Item = OsString>,
    command: &Command,
) -> Vec<OsString> {
    let mut argv = argv.into_iter();
    let mut out: Vec<OsString> = argv.next().into_iter().collect();
    let mut current = command;
    let mut positional_seen = false;
    let mut done = false;
    let mut value_expected = false;
    let mut first = true;
    for arg in argv {
        let is_first = std::mem::take(&mut first);
        if done || value_expected {
            value_expected = false;
            out.push(arg);
            continue;
        }
        let Some(text) = arg.to_str() else {
            positional_seen = true;
            out.push(arg);
            continue;
        };
        if text == "--" {
            done = true;
            out.push(arg);
            continue;
        }
        if is_first && matches!(text, "-v" | "-version" | "--version") {
            out.push(OsString::from("version"));
            continue;
        }
        if let Some(rest) = text.strip_prefix("--") {
            // Already clap's spelling; still note whether it consumes the next argument.
            let (name, inline) = split_flag(rest);
            value_expected = !inline && takes_value(current, name);
            out.push(arg);
            continue;
        }
        if let Some(rest) = text.strip_prefix('-') {
            let (name, inline) = split_flag(rest);
            if !positional_seen && name.len() > 1 && is_long_flag(current, name) {
                value_expected = !inline && takes_value(current, name);
                out.push(OsString::from(format!("-{text}")));
            } else {
                out.push(arg);
            }
            continue;
        }
        if !positional_seen && let Some(sub) = current.find_subcommand(text) {
            current = sub;
            out.push(arg);
            continue;
        }
        positional_seen = true;
        out.push(arg);
    }
    out
}

/// `name=value` → (`name`, true); `name` → (`name`, false).
fn split_flag(text: &str) -> (&str, bool) {
    match text.split_once('=') {
        Some((name, _)) => (name, true),
        None => (text, false),
    }
}

fn is_long_flag(command: &Command, name: &str) -> bool {
    name == "help"
        || command
            .get_arguments()
            .any(|arg| arg.get_long() == Some(name) || has_alias(arg, name))
}

fn has_alias(arg: &clap::Arg, name: &str) -> bool {
    arg.get_all_aliases()
        .is_some_and(|aliases| aliases.contains(&name))
}

fn takes_value(command: &Command, name: &str) -> bool {
    command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(name) || has_alias(arg, name))
        .is_some_and(|arg| arg.get_action().takes_values())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction};

    fn command() -> Command {
        Command::new("p")
            .subcommand(
                Command::new("agent")
                    .arg(Arg::new("dev").long("dev").action(ArgAction::SetTrue))
                    .arg(Arg::new("http-port").long("http-port"))
                    .arg(Arg::new("node").long("node")),
            )
            .subcommand(
                Command::new("kv").subcommand(
                    Command::new("put")
                        .arg(Arg::new("cas").long("cas").action(ArgAction::SetTrue))
                        .arg(Arg::new("token").long("token"))
                        .arg(Arg::new("key"))
                        .arg(Arg::new("value").allow_hyphen_values(true)),
                ),
            )
            .subcommand(Command::new("version"))
    }

    fn rewrite(args: &[&str]) -> Vec<String> {
        rewrite_go_style_flags(args.iter().map(OsString::from), &command())
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn single_dash_long_flags_become_double_dash() {
        assert_eq!(
            rewrite(&["p", "agent", "-dev", "-http-port=1", "-node", "n"]),
            ["p", "agent", "--dev", "--http-port=1", "--node", "n"]
        );
        assert_eq!(
            rewrite(&["p", "kv", "put", "-cas", "-token=t", "k", "v"]),
            ["p", "kv", "put", "--cas", "--token=t", "k", "v"]
        );
    }

    #[test]
    fn double_dash_flags_and_help_work_too() {
        assert_eq!(
            rewrite(&["p", "agent", "--dev", "-http-port", "2"]),
            ["p", "agent", "--dev", "--http-port", "2"]
        );
        assert_eq!(rewrite(&["p", "-help"]), ["p", "--help"]);
        assert_eq!(rewrite(&["p", "agent", "-help"]), ["p", "agent", "--help"]);
        assert_eq!(rewrite(&["p", "agent", "-h"]), ["p", "agent", "-h"]);
    }

    #[test]
    fn flags_of_other_commands_and_unknown_names_are_kept() {
        // `-cas` is a `kv put` flag, not an `agent` one.
        assert_eq!(rewrite(&["p", "agent", "-cas"]), ["p", "agent", "-cas"]);
        assert_eq!(rewrite(&["p", "-x", "-"]), ["p", "-x", "-"]);
    }

    #[test]
    fn values_are_never_rewritten() {
        // A value that looks like a flag, after a flag that takes one.
        assert_eq!(
            rewrite(&["p", "agent", "-node", "-dev"]),
            ["p", "agent", "--node", "-dev"]
        );
        assert_eq!(
            rewrite(&["p", "kv", "put", "--token", "-cas", "k"]),
            ["p", "kv", "put", "--token", "-cas", "k"]
        );
        // Positional values: after the first positional, like Go's flag package.
        assert_eq!(
            rewrite(&["p", "kv", "put", "k", "-cas"]),
            ["p", "kv", "put", "k", "-cas"]
        );
        assert_eq!(
            rewrite(&["p", "kv", "put", "k", "-"]),
            ["p", "kv", "put", "k", "-"]
        );
        // A positional that happens to be a subcommand's name is still a value.
        assert_eq!(
            rewrite(&["p", "kv", "put", "agent", "-cas"]),
            ["p", "kv", "put", "agent", "-cas"]
        );
    }

    #[test]
    fn nothing_after_double_dash() {
        assert_eq!(
            rewrite(&["p", "kv", "put", "--", "-cas", "x"]),
            ["p", "kv", "put", "--", "-cas", "x"]
        );
    }

    #[test]
    fn version_flags_become_the_version_command() {
        for flag in ["-v", "-version", "--version"] {
            assert_eq!(rewrite(&["p", flag]), ["p", "version"]);
        }
        assert_eq!(rewrite(&["p", "agent", "-v"]), ["p", "agent", "-v"]);
    }
}
