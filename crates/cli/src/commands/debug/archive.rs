//! The bundle on disk: JSON files as Go's `json.MarshalIndent(v, "", "\t")` writes
//! them, and the directory packed into `<output>.tar.gz` (entries under the directory's
//! own name, directories included, written to a temporary file renamed into place),
//! after which the directory is removed, as Consul does.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// `<output>.tar.gz`.
pub fn archive_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".tar.gz");
    PathBuf::from(name)
}

/// Writes `value` to `path`, indented with tabs.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), String> {
    let mut bytes = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
    value
        .serialize(&mut serializer)
        .map_err(|error| error.to_string())?;
    std::fs::write(path, bytes).map_err(|error| format!("{}: {error}", path.display()))
}

/// Packs `output` into `<output>.tar.gz` and removes the directory.
pub fn create(output: &Path) -> Result<(), String> {
    let path = archive_path(output);
    let temporary = {
        let mut name = path.as_os_str().to_owned();
        name.push(".tmp");
        PathBuf::from(name)
    };
    let packed = pack(output, &temporary);
    if let Err(error) = packed {
        let _ = std::fs::remove_file(&temporary);
        return Err(format!("failed to create compressed archive: {error}"));
    }
    std::fs::rename(&temporary, &path).map_err(|error| error.to_string())?;
    std::fs::remove_dir_all(output)
        .map_err(|error| format!("failed to remove archived directory: {error}"))
}

fn pack(output: &Path, into: &Path) -> std::io::Result<()> {
    let file = std::fs::File::create(into)?;
    let gzip = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gzip);
    let name = output
        .file_name()
        .map_or_else(|| PathBuf::from("debug"), PathBuf::from);
    tar.append_dir_all(&name, output)?;
    let gzip = tar.into_inner()?;
    let file = gzip.finish()?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_becomes_a_tar_gz_of_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("bundle");
        std::fs::create_dir_all(output.join("sub")).unwrap();
        write_json(
            &output.join("index.json"),
            &serde_json::json!({"Version": 1}),
        )
        .unwrap();
        std::fs::write(output.join("sub/x.log"), "line\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(output.join("index.json")).unwrap(),
            "{\n\t\"Version\": 1\n}"
        );
        create(&output).unwrap();
        assert!(!output.exists());
        let file = std::fs::File::open(dir.path().join("bundle.tar.gz")).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|entry| entry.unwrap().path().unwrap().display().to_string())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "bundle/",
                "bundle/index.json",
                "bundle/sub",
                "bundle/sub/x.log"
            ]
        );
    }
}
