//! A server's identity across restarts: `data_dir/node-id` holds its node ID (a UUID,
//! as Consul keeps it), from which its Raft ID is derived, so a restarted server is the
//! same voter.

use std::path::Path;

const FILE: &str = "node-id";

/// The node ID stored in `data_dir`, created on first start.
pub fn load_or_create(data_dir: &Path) -> Result<uuid::Uuid, String> {
    let path = data_dir.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => uuid::Uuid::parse_str(text.trim())
            .map_err(|error| format!("{} is not a node ID: {error}", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let id = uuid::Uuid::new_v4();
            std::fs::create_dir_all(data_dir)
                .and_then(|()| std::fs::write(&path, id.to_string()))
                .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
            Ok(id)
        }
        Err(error) => Err(format!("cannot read {}: {error}", path.display())),
    }
}

/// The Raft ID of a node ID: its first eight bytes (never 0).
pub fn raft_id(node_id: &uuid::Uuid) -> u64 {
    let bytes = node_id.as_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(first).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_id_survives_a_restart() {
        let dir = std::env::temp_dir().join(format!("proconsul-node-id-{}", uuid::Uuid::new_v4()));
        let first = load_or_create(&dir).unwrap();
        assert_eq!(load_or_create(&dir).unwrap(), first);
        assert_ne!(raft_id(&first), 0);
        std::fs::write(dir.join(FILE), "garbage").unwrap();
        assert!(
            load_or_create(&dir)
                .unwrap_err()
                .contains("is not a node ID")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
