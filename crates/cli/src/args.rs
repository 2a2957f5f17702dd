//! Consul's flags are Go-style: one dash for long names (`-dev`, `-http-port=8501`).
//! clap wants two, so known long flag names given with one dash are rewritten before
//! parsing. Only names clap knows are touched, so a value such as `-x` passed as a KV
//! value stays as it is.

use std::collections::BTreeSet;
use std::ffi::OsString;

use clap::Command;

/// Rewrites `-name` and `-name=value` to `--name...` for every long flag `command` (or
/// any of its subcommands) defines. Stops at a bare `--`.
pub fn rewrite_go_style_flags(
    argv: impl IntoIterator<Item = OsString>,
    command: &Command,
) -> Vec<OsString> {
    let mut known = BTreeSet::new();
    collect_long_flags(command, &mut known);
    let mut done = false;
    argv.into_iter()
        .map(|arg| {
            if done {
                return arg;
            }
            let Some(text) = arg.to_str() else {
                return arg;
            };
            if text == "--" {
                done = true;
                return arg;
            }
            let Some(rest) = text.strip_prefix('-') else {
                return arg;
            };
            if rest.starts_with('-') {
                return arg;
            }
            let name = rest.split_once('=').map_or(rest, |(name, _)| name);
            if name.len() > 1 && known.contains(name) {
                OsString::from(format!("-{text}"))
            } else {
                arg
            }
        })
        .collect()
}

fn collect_long_flags(command: &Command, known: &mut BTreeSet<String>) {
    for arg in command.get_arguments() {
        if let Some(long) = arg.get_long() {
            known.insert(long.to_string());
        }
    }
    known.insert("help".to_string());
    known.insert("version".to_string());
    for sub in command.get_subcommands() {
        collect_long_flags(sub, known);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction};

    fn command() -> Command {
        Command::new("p").subcommand(
            Command::new("agent")
                .arg(Arg::new("dev").long("dev").action(ArgAction::SetTrue))
                .arg(Arg::new("http-port").long("http-port")),
        )
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
            rewrite(&["p", "agent", "-dev", "-http-port=1", "-http-port", "2"]),
            ["p", "agent", "--dev", "--http-port=1", "--http-port", "2"]
        );
    }

    #[test]
    fn unknown_names_values_and_after_double_dash_are_kept() {
        assert_eq!(
            rewrite(&["p", "-x", "-", "--dev", "-h"]),
            ["p", "-x", "-", "--dev", "-h"]
        );
        assert_eq!(rewrite(&["p", "--", "-dev"]), ["p", "--", "-dev"]);
        assert_eq!(rewrite(&["p", "-help"]), ["p", "--help"]);
    }
}
