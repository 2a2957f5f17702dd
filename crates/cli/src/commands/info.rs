//! `proconsul info`: `agent/self`'s `Stats` as `consul info` prints them: each section
//! as `name:`, then its keys sorted, one `\tkey = value` line each, sections sorted.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::process::ExitCode;

use clap::Args;
use proconsul_api::client::QueryOptions;
use serde_json::Value;

use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    http: HttpArgs,
}

pub async fn run(args: InfoArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let me: Value = match client
        .get_json("/v1/agent/self", &QueryOptions::default())
        .await
    {
        Ok((me, _)) => me,
        Err(error) => return Ok(fail(format!("Error querying agent: {error}"))),
    };
    print!("{}", render(&me["Stats"]));
    Ok(ExitCode::SUCCESS)
}

/// The sections of `stats` as text, sorted as Consul sorts them.
fn render(stats: &Value) -> String {
    let mut out = String::new();
    let sections: BTreeMap<&String, &Value> = stats.as_object().into_iter().flatten().collect();
    for (name, section) in sections {
        out.push_str(name);
        out.push_str(":\n");
        let keys: BTreeMap<&String, &Value> = section.as_object().into_iter().flatten().collect();
        for (key, value) in keys {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let _ = writeln!(out, "\t{key} = {value}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sections_and_keys_are_sorted_and_indented_with_a_tab() {
        let stats = serde_json::json!({
            "raft": {"term": "2", "applied_index": "10"},
            "agent": {"services": "1", "checks": "0"},
        });
        assert_eq!(
            super::render(&stats),
            "agent:\n\tchecks = 0\n\tservices = 1\nraft:\n\tapplied_index = 10\n\tterm = 2\n"
        );
    }
}
