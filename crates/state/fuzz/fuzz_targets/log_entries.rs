//! A Raft log entry's command as stored and sent (postcard): any bytes decode to an
//! error or to a command the state machine applies without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proconsul_state::{Command, State};

fuzz_target!(|data: &[u8]| {
    if let Ok(command) = postcard::from_bytes::<Command>(data) {
        let mut state = State::default();
        state.apply(1, &command);
        state.apply(2, &command);
    }
});
