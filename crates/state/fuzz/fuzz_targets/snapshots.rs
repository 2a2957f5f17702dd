//! What a server reads back as its state: Raft snapshots (`from_snapshot`), backups
//! (`from_backup`) and `consul snapshot` archives (`from_saved`). Any bytes are read or
//! refused, never panicked on; whatever is read can be snapshotted again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proconsul_state::State;

fuzz_target!(|data: &[u8]| {
    if let Ok(state) = State::from_snapshot(data) {
        let _ = state.to_snapshot();
    }
    if let Ok((_, state)) = State::from_backup(data) {
        let _ = state.to_backup();
    }
    let _ = State::from_saved(data);
});
