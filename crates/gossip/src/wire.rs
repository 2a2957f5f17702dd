//! What goes on the wire besides foca's own packets: the datagram envelope (foca packet plus
//! extras such as the coordinate riding on an ack, nacks and suspicion notices), the custom
//! broadcasts (intents, tags, coordinates, suspicions), and the TCP stream messages
//! (push-pull, fallback ping, keyring operations). Everything is postcard; sealing
//! (AES-GCM) wraps the whole envelope.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::identity::NodeId;

/// First byte of an unsealed envelope (a sealed one starts with `keyring::SEALED_VERSION`).
pub(crate) const PLAIN: u8 = 0;
/// Largest datagram sent or accepted (memberlist's `UDPBufferSize`).
pub const MAX_DATAGRAM: usize = 1400;
/// foca's share of a datagram; the rest is left for the envelope, an ack's coordinate
/// (≤ 128 bytes), a suspicion notice and sealing.
pub(crate) const FOCA_MAX_PACKET: usize = 1200;
/// Largest coordinate blob carried.
pub const MAX_COORDINATE: usize = 128;
/// Largest encoded tags (memberlist's `MetaMaxSize`).
pub const MAX_TAGS: usize = 512;
/// Largest TCP frame (memberlist's push-pull state limit).
pub(crate) const MAX_FRAME: usize = 20 * 1024 * 1024;

/// Something a datagram carries beside (or instead of) a foca packet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Extra {
    /// The sender's current coordinate, on acks (serf puts it in the ack payload).
    Coordinate(Vec<u8>),
    /// Lifeguard nack: `from` relayed an indirect probe of `target` and got no ack in time.
    Nack {
        target: Arc<str>,
        probe_number: u8,
        from: Arc<str>,
    },
    /// "`from` suspects you at this incarnation": the suspect refutes at once.
    Suspected { incarnation: u16, from: Arc<str> },
}

/// Encodes a datagram body: `[u16 BE foca length][foca packet][postcard extras]`.
pub(crate) fn encode_datagram(foca: &[u8], extras: &[Extra]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + foca.len() + 16);
    out.extend_from_slice(&(foca.len() as u16).to_be_bytes());
    out.extend_from_slice(foca);
    if !extras.is_empty() {
        // Extras are small, bounded types: encoding cannot fail.
        if let Ok(bytes) = postcard::to_allocvec(extras) {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

/// Splits a datagram body into its foca packet and extras.
pub(crate) fn decode_datagram(body: &[u8]) -> Option<(&[u8], Vec<Extra>)> {
    if body.len() < 2 {
        return None;
    }
    let len = u16::from_be_bytes([body[0], body[1]]) as usize;
    let rest = &body[2..];
    if rest.len() < len {
        return None;
    }
    let (foca, tail) = rest.split_at(len);
    let extras = if tail.is_empty() {
        Vec::new()
    } else {
        postcard::from_bytes(tail).ok()?
    };
    Some((foca, extras))
}

/// Whether a membership intent announces a join or a leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum IntentKind {
    Join,
    Leave { prune: bool },
}

/// Serf's join/leave intent, ordered by (generation, Lamport time) so that reordered
/// messages resolve the same everywhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Intent {
    pub node: Arc<str>,
    pub generation: u64,
    pub ltime: u64,
    pub kind: IntentKind,
}

/// A member's tags, versioned within its generation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tags {
    pub node: Arc<str>,
    pub generation: u64,
    pub version: u64,
    pub tags: BTreeMap<String, String>,
}

/// A member's opaque coordinate blob, versioned within its generation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Coordinate {
    pub node: Arc<str>,
    pub generation: u64,
    pub version: u64,
    pub blob: Vec<u8>,
}

/// "`from` failed to probe `node` at `incarnation`": independent accusations shorten the
/// suspicion (Lifeguard).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Suspicion {
    pub node: Arc<str>,
    pub incarnation: u16,
    pub from: Arc<str>,
}

/// A custom broadcast item disseminated by foca.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
/// Shared (`Arc`): a member keeps the latest of each per member, and push-pull and the
/// simulator hand the same ones to many members.
pub(crate) enum Item {
    Intent(Arc<Intent>),
    Tags(Arc<Tags>),
    Coordinate(Arc<Coordinate>),
    Suspicion(Suspicion),
}

/// Encoded size of tags, as checked against `MAX_TAGS`.
pub(crate) fn tags_len(tags: &BTreeMap<String, String>) -> usize {
    postcard::to_allocvec(tags)
        .map(|b| b.len())
        .unwrap_or(usize::MAX)
}

/// A member's whole state, exchanged in push-pull.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PushPullState {
    /// The sender.
    pub from: NodeId,
    /// foca's membership, the sender included (alive).
    pub members: Vec<foca::Member<NodeId>>,
    /// The latest intent, tags and coordinate of every member the sender knows.
    pub items: Vec<Item>,
    /// The sender's membership Lamport clock.
    pub member_time: u64,
}

/// A cluster-wide keyring request as one member receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum KeyringRequest {
    List,
    Install(String),
    Use(String),
    Remove(String),
}

/// One member's answer to a keyring request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeyringAnswer {
    pub node: String,
    pub error: Option<String>,
    pub keys: Vec<String>,
    pub primary: Option<String>,
}

/// A message on a TCP stream (each one a sealed frame).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum StreamMsg {
    /// Full state exchange; `join` when the sender is joining through us.
    PushPull { join: bool, state: PushPullState },
    /// The answer to `PushPull`.
    PushPullReply(PushPullState),
    /// TCP fallback probe: a datagram body holding a foca ping.
    Ping(Vec<u8>),
    /// The answer to `Ping`: datagram bodies holding the ack.
    PingReply(Vec<Vec<u8>>),
    /// A keyring operation to perform locally.
    Keyring(KeyringRequest),
    /// The answer to `Keyring`.
    KeyringReply(KeyringAnswer),
    /// The peer refused the request.
    Error(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagram_round_trip() {
        let extras = vec![
            Extra::Coordinate(vec![1, 2, 3]),
            Extra::Nack {
                target: "b".into(),
                probe_number: 7,
                from: "c".into(),
            },
        ];
        let body = encode_datagram(b"foca", &extras);
        let (foca, back) = decode_datagram(&body).unwrap();
        assert_eq!(foca, b"foca");
        assert_eq!(back, extras);
        let body = encode_datagram(b"x", &[]);
        assert_eq!(decode_datagram(&body).unwrap(), (&b"x"[..], vec![]));
        assert!(decode_datagram(&[0, 9, 1]).is_none());
    }
}
