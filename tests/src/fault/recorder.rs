//! Records a workload's operations as they happen, timed by the run's one monotonic
//! clock, and hands out process ids (a client that saw `info` retires its process).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::check::history::{Op, Outcome};

/// The run's clock: nanoseconds since the run started.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn start() -> Clock {
        Clock(Instant::now())
    }

    pub fn now_ns(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}

/// One workload's history, appended to by its clients.
pub struct Recorder<I, O> {
    clock: Clock,
    next_id: AtomicU64,
    ops: Mutex<Vec<Op<I, O>>>,
}

/// An operation in flight: its invocation, to be completed with its outcome.
pub struct Invocation<I> {
    pub process: u64,
    pub key: String,
    pub f: &'static str,
    pub input: I,
    pub invoke_ns: u64,
    pub server: Option<String>,
}

impl<I: Clone, O: Clone> Recorder<I, O> {
    pub fn new(clock: Clock) -> Recorder<I, O> {
        Recorder {
            clock,
            next_id: AtomicU64::new(0),
            ops: Mutex::new(Vec::new()),
        }
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Starts an operation now.
    pub fn invoke(
        &self,
        process: u64,
        key: &str,
        f: &'static str,
        input: I,
        server: Option<String>,
    ) -> Invocation<I> {
        Invocation {
            process,
            key: key.to_string(),
            f,
            input,
            invoke_ns: self.clock.now_ns(),
            server,
        }
    }

    /// Records the operation's end now; `info` completes at +∞.
    pub fn complete(
        &self,
        call: Invocation<I>,
        outcome: Outcome,
        output: Option<O>,
        index: Option<u64>,
    ) {
        let now = self.clock.now_ns();
        let op = Op {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            process: call.process,
            key: call.key,
            f: call.f,
            input: call.input,
            output: if outcome == Outcome::Ok { output } else { None },
            invoke_ns: call.invoke_ns,
            complete_ns: (outcome != Outcome::Info).then_some(now),
            outcome,
            index: if outcome == Outcome::Ok { index } else { None },
            server: call.server,
        };
        self.ops.lock().expect("history").push(op);
    }

    /// Adds an operation recorded elsewhere (a watcher's answer, as a read), giving it
    /// an id of this history.
    pub fn add(&self, mut op: Op<I, O>) {
        op.id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.ops.lock().expect("history").push(op);
    }

    /// The history so far, in completion order.
    pub fn history(&self) -> Vec<Op<I, O>> {
        self.ops.lock().expect("history").clone()
    }
}

/// A client's current process id: `client + clients × retirements`, as in Jepsen.
#[derive(Debug, Clone, Copy)]
pub struct Process {
    pub id: u64,
    clients: u64,
}

impl Process {
    pub fn new(client: u64, clients: u64) -> Process {
        Process {
            id: client,
            clients,
        }
    }

    /// After an `info`: the old process may still be acting, so the client goes on as a
    /// new one.
    pub fn retire(&mut self) {
        self.id += self.clients;
    }
}
