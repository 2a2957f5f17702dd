//! Tier 2: the Wing–Gong linearizability search with Lowe's memoisation (Porcupine's
//! algorithm). Operations' calls and returns form a doubly linked list in time order;
//! the search linearizes the earliest pending call whose step the spec allows, lifts it
//! out of the list, and backtracks at a return whose call could not be placed. A cache
//! of (linearized set, state) pairs already explored keeps it from repeating work. Run
//! it per key: linearizability is compositional, so a history is linearizable iff every
//! key's sub-history is.

use std::collections::HashSet;
use std::time::Instant;

use super::history::Op;
use super::spec::Spec;

/// The search's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    /// No order explains the history; the text says how far the best attempt got.
    Violation(String),
    /// The deadline passed first.
    Unknown(String),
}

const NIL: usize = usize::MAX;

/// The call/return list with dancing-links removal and reinsertion.
struct EventList {
    /// `(op, is_return)` per event, in time order; the head sentinel is `events.len()`.
    events: Vec<(usize, bool)>,
    next: Vec<usize>,
    prev: Vec<usize>,
    /// Each op's return event.
    returns: Vec<usize>,
}

impl EventList {
    fn new<I, O>(ops: &[Op<I, O>]) -> EventList {
        let mut timed: Vec<(u64, bool, usize)> = Vec::with_capacity(ops.len() * 2);
        for (i, op) in ops.iter().enumerate() {
            timed.push((op.invoke_ns, false, i));
            timed.push((op.complete(), true, i));
        }
        // Calls before returns at the same instant: touching operations are concurrent.
        timed.sort();
        let events: Vec<(usize, bool)> = timed.iter().map(|(_, ret, op)| (*op, *ret)).collect();
        let head = events.len();
        let mut next = vec![NIL; head + 1];
        let mut prev = vec![NIL; head + 1];
        let mut returns = vec![0; ops.len()];
        let mut last = head;
        for (e, (op, is_return)) in events.iter().enumerate() {
            if *is_return {
                returns[*op] = e;
            }
            next[last] = e;
            prev[e] = last;
            last = e;
        }
        EventList {
            events,
            next,
            prev,
            returns,
        }
    }

    fn head(&self) -> usize {
        self.events.len()
    }

    fn first(&self) -> usize {
        self.next[self.head()]
    }

    fn unlink(&mut self, e: usize) {
        let (prev, next) = (self.prev[e], self.next[e]);
        self.next[prev] = next;
        if next != NIL {
            self.prev[next] = prev;
        }
    }

    fn relink(&mut self, e: usize) {
        let (prev, next) = (self.prev[e], self.next[e]);
        self.next[prev] = e;
        if next != NIL {
            self.prev[next] = e;
        }
    }

    /// Takes a call and its return out of the list.
    fn lift(&mut self, call: usize) {
        let ret = self.returns[self.events[call].0];
        self.unlink(call);
        self.unlink(ret);
    }

    /// Puts them back, in the reverse order.
    fn unlift(&mut self, call: usize) {
        let ret = self.returns[self.events[call].0];
        self.relink(ret);
        self.relink(call);
    }

    /// The ops whose calls come before the first return still in the list: the ones
    /// that could go next.
    fn pending(&self) -> (Vec<usize>, Option<usize>) {
        let mut calls = Vec::new();
        let mut e = self.first();
        while e != NIL {
            let (op, is_return) = self.events[e];
            if is_return {
                return (calls, Some(op));
            }
            calls.push(op);
            e = self.next[e];
        }
        (calls, None)
    }
}

/// A set of op numbers.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
}

/// The deepest point the search reached, for the error message.
struct Best {
    depth: usize,
    order: Vec<usize>,
    pending: Vec<usize>,
    blocking: Option<usize>,
}

/// Checks one key's history (no `fail` operations) against `spec`, giving up at
/// `deadline`.
pub fn check<S: Spec>(spec: &S, ops: &[Op<S::Input, S::Output>], deadline: Instant) -> Verdict {
    let mut list = EventList::new(ops);
    let mut state = spec.init();
    let mut linearized = Bits::new(ops.len());
    let mut cache: HashSet<(Bits, S::State)> = HashSet::new();
    let mut stack: Vec<(usize, S::State)> = Vec::new();
    let mut best = Best {
        depth: 0,
        order: Vec::new(),
        pending: Vec::new(),
        blocking: None,
    };
    let mut entry = list.first();
    let mut steps = 0u64;
    loop {
        if list.first() == NIL {
            return Verdict::Linearizable;
        }
        steps += 1;
        if steps.is_multiple_of(4096) && Instant::now() > deadline {
            return Verdict::Unknown(format!(
                "gave up after {steps} steps; {} of {} operations linearized at best",
                best.depth,
                ops.len()
            ));
        }
        let (op, is_return) = list.events[entry];
        if !is_return {
            if let Some(next) = spec.step(&state, &ops[op]) {
                let mut with = linearized.clone();
                with.set(op);
                if cache.insert((with.clone(), next.clone())) {
                    stack.push((entry, std::mem::replace(&mut state, next)));
                    linearized = with;
                    list.lift(entry);
                    entry = list.first();
                    continue;
                }
            }
            entry = list.next[entry];
            continue;
        }
        if stack.len() >= best.depth {
            let (pending, blocking) = list.pending();
            best = Best {
                depth: stack.len(),
                order: stack.iter().map(|(call, _)| list.events[*call].0).collect(),
                pending,
                blocking,
            };
        }
        let Some((call, previous)) = stack.pop() else {
            return Verdict::Violation(explain(spec, ops, &best));
        };
        linearized.clear(list.events[call].0);
        state = previous;
        list.unlift(call);
        entry = list.next[call];
    }
}

fn explain<S: Spec>(spec: &S, ops: &[Op<S::Input, S::Output>], best: &Best) -> String {
    let mut state = spec.init();
    for op in &best.order {
        if let Some(next) = spec.step(&state, &ops[*op]) {
            state = next;
        }
    }
    let tail: Vec<String> = best
        .order
        .iter()
        .rev()
        .take(5)
        .rev()
        .map(|op| format!("    {}", ops[*op].describe()))
        .collect();
    let pending: Vec<String> = best
        .pending
        .iter()
        .take(8)
        .map(|op| format!("    {}", ops[*op].describe()))
        .collect();
    let blocking = best
        .blocking
        .map(|op| ops[op].describe())
        .unwrap_or_default();
    format!(
        "not linearizable: at best {} of {} operations could be ordered, ending with\n{}\n\
         leaving the state {:?}, from which none of these could go next:\n{}\n\
         and {blocking} had to take effect by then",
        best.depth,
        ops.len(),
        tail.join("\n"),
        state,
        pending.join("\n"),
    )
}
