//! `proconsul version` (also `-v`, `-version`): the first line is what tools parse.

use std::process::ExitCode;

/// The text `consul version` prints, with Proconsul's name and version.
pub fn text() -> String {
    format!(
        "Proconsul v{}\n\
         Protocol 2 spoken by default, understands 2 to 3 \
         (agent will automatically use protocol >2 when speaking to compatible agents)\n",
        env!("CARGO_PKG_VERSION")
    )
}

pub fn run() -> ExitCode {
    print!("{}", text());
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_line_names_the_version() {
        let text = super::text();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("Proconsul v0.1.0"));
        assert_eq!(
            lines.next(),
            Some(
                "Protocol 2 spoken by default, understands 2 to 3 (agent will automatically use protocol >2 when speaking to compatible agents)"
            )
        );
        assert_eq!(lines.next(), None);
    }
}
