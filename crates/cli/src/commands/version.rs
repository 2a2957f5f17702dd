//! `proconsul version` (also `-v`, `-version`): the first line is what tools parse.
//! `-format=json` prints the object `consul version -format=json` prints, whose
//! `Version` is the Consul release Proconsul is compatible with
//! ([`proconsul_agent::CONSUL_COMPAT_VERSION`]), so that tools that gate features on
//! Consul's version (HashiCorp's sdk/testutil among them) see a current Consul.

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format: pretty or json.
    #[arg(long, default_value = "pretty")]
    format: String,
}

/// The text `consul version` prints, with Proconsul's name and version.
pub fn text() -> String {
    format!(
        "Proconsul v{}\n\
         Consul API compatibility: v{}\n\
         Protocol 2 spoken by default, understands 2 to 3 \
         (agent will automatically use protocol >2 when speaking to compatible agents)\n",
        env!("CARGO_PKG_VERSION"),
        proconsul_agent::CONSUL_COMPAT_VERSION,
    )
}

/// `consul version -format=json`'s object (its keys), plus `Proconsul`, this build's own
/// version.
pub fn json() -> String {
    let value = serde_json::json!({
        "Version": proconsul_agent::CONSUL_COMPAT_VERSION,
        "Revision": "",
        "Prerelease": "",
        "FIPS": "",
        "BuildDate": "1970-01-01T00:00:01Z",
        "RPC": {"Default": 2, "Min": 2, "Max": 3},
        "Proconsul": env!("CARGO_PKG_VERSION"),
    });
    serde_json::to_string_pretty(&value).expect("a JSON value encodes") + "\n"
}

pub fn run(args: &VersionArgs) -> ExitCode {
    match args.format.as_str() {
        "pretty" => print!("{}", text()),
        "json" => print!("{}", json()),
        other => {
            eprintln!("Invalid format: {other}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_line_names_the_version() {
        let text = super::text();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("Proconsul v0.1.0"));
        assert_eq!(lines.next(), Some("Consul API compatibility: v1.22.0"));
        assert_eq!(
            lines.next(),
            Some(
                "Protocol 2 spoken by default, understands 2 to 3 (agent will automatically use protocol >2 when speaking to compatible agents)"
            )
        );
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn json_has_consuls_keys() {
        let value: serde_json::Value = serde_json::from_str(&super::json()).unwrap();
        assert_eq!(value["Version"], "1.22.0");
        for key in ["Revision", "Prerelease", "FIPS", "BuildDate", "RPC"] {
            assert!(value.get(key).is_some(), "{key}");
        }
    }
}
