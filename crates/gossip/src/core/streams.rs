//! Sealing (AES-GCM or plaintext, per `verify_incoming`/`verify_outgoing`) and the TCP side
//! of the core: push-pull state exchange and join, the fallback ping, and keyring
//! operations performed on this member.

use std::time::Duration;

use foca::{Codec, Member as FocaMember, Message, PostcardCodec, State};
use rand::RngExt;

use crate::error::GossipError;
use crate::identity::NodeId;
use crate::keyring;
use crate::wire::{self, KeyringAnswer, KeyringRequest, PushPullState, StreamMsg};

use super::broadcast::lock;
use super::{Core, Output};

impl Core {
    pub(super) fn seal(&mut self, body: &[u8]) -> Vec<u8> {
        match &self.keyring {
            Some(ring) if self.verify_outgoing => ring.seal(self.rng.random(), body),
            _ => {
                let mut out = Vec::with_capacity(body.len() + 1);
                out.push(wire::PLAIN);
                out.extend_from_slice(body);
                out
            }
        }
    }

    pub(super) fn unseal(&self, data: &[u8]) -> Option<Vec<u8>> {
        match *data.first()? {
            wire::PLAIN => {
                let accept = self.keyring.is_none() || !self.verify_incoming;
                accept.then(|| data[1..].to_vec())
            }
            keyring::SEALED_VERSION => self.keyring.as_ref()?.open(data),
            _ => None,
        }
    }

    pub(super) fn seal_msg(&mut self, msg: &StreamMsg) -> Vec<u8> {
        let body = postcard::to_allocvec(msg).unwrap_or_default();
        self.seal(&body)
    }

    /// Unseals and decodes a stream frame.
    pub fn open_frame(&self, frame: &[u8]) -> Result<StreamMsg, GossipError> {
        let body = self.unseal(frame).ok_or_else(|| {
            GossipError::Protocol(
                "message could not be decrypted (wrong or missing gossip key?)".into(),
            )
        })?;
        postcard::from_bytes(&body).map_err(|e| GossipError::Protocol(e.to_string()))
    }

    /// This member's whole state.
    pub fn state(&self) -> PushPullState {
        let mut members: Vec<FocaMember<NodeId>> =
            self.foca.iter_membership_state().cloned().collect();
        if !self.left {
            members.push(FocaMember::new(
                self.id.clone(),
                self.incarnation,
                State::Alive,
            ));
        }
        let s = lock(&self.shared);
        PushPullState {
            from: self.id.clone(),
            members,
            items: s.items(),
            member_time: s.clock.time(),
        }
    }

    /// The frame that starts a push-pull.
    pub fn push_pull_frame(&mut self, join: bool) -> Vec<u8> {
        let state = self.state();
        self.seal_msg(&StreamMsg::PushPull { join, state })
    }

    /// The frame that asks a member to perform a keyring operation.
    pub fn keyring_frame(&mut self, request: KeyringRequest) -> Vec<u8> {
        self.seal_msg(&StreamMsg::Keyring(request))
    }

    /// Merges a member's state (push-pull, join).
    pub fn merge_state(&mut self, now: Duration, state: PushPullState) {
        self.set_now(now);
        if self.left {
            return;
        }
        {
            let mut s = lock(&self.shared);
            s.clock.witness(state.member_time);
            for item in state.items {
                s.apply_item(item);
            }
        }
        if let Err(e) = self
            .foca
            .apply_many(state.members.into_iter(), true, &mut self.rt)
        {
            tracing::debug!(error = %e, "gossip: push-pull state refused");
        }
        self.after_call();
    }

    /// Starts from a known membership without re-gossiping it (simulations start clusters
    /// of thousands this way instead of thousands of joins).
    pub fn bootstrap(&mut self, now: Duration, state: PushPullState) {
        self.set_now(now);
        {
            let mut s = lock(&self.shared);
            s.clock.witness(state.member_time);
            for item in state.items {
                s.apply_item(item);
            }
        }
        let others = state.members.into_iter().filter(|m| m.id() != &self.id);
        if let Err(e) = self.foca.apply_many(others, false, &mut self.rt) {
            tracing::debug!(error = %e, "gossip: bootstrap state refused");
        }
        self.after_call();
    }

    /// Answers a TCP fallback ping: the acks foca produces go back on the stream.
    pub(super) fn answer_ping(&mut self, body: &[u8]) -> Vec<Vec<u8>> {
        let Some((foca_part, _)) = wire::decode_datagram(body) else {
            return Vec::new();
        };
        let Ok(header) = Codec::<NodeId>::decode_header(&mut PostcardCodec, foca_part) else {
            return Vec::new();
        };
        if !matches!(header.message, Message::Ping(_)) {
            return Vec::new();
        }
        self.capture = Some((header.src.name.clone(), Vec::new()));
        self.handle_body(body, false);
        self.capture
            .take()
            .map(|(_, acks)| acks)
            .unwrap_or_default()
    }

    /// Serves a request frame received on a stream; returns the reply frame.
    pub fn handle_request(&mut self, now: Duration, frame: &[u8]) -> Vec<u8> {
        self.set_now(now);
        let reply = match self.open_frame(frame) {
            Err(e) => StreamMsg::Error(e.to_string()),
            Ok(StreamMsg::PushPull { state, .. }) => {
                if self.left {
                    StreamMsg::Error("node has left".into())
                } else {
                    let ours = self.state();
                    self.merge_state(now, state);
                    StreamMsg::PushPullReply(ours)
                }
            }
            Ok(StreamMsg::Ping(body)) => StreamMsg::PingReply(self.answer_ping(&body)),
            Ok(StreamMsg::Keyring(request)) => StreamMsg::KeyringReply(self.keyring_local(request)),
            Ok(_) => StreamMsg::Error("unexpected request".into()),
        };
        self.seal_msg(&reply)
    }

    /// Handles the reply to a fallback ping (its acks, as if received by UDP but no RTT).
    pub fn handle_ping_reply(&mut self, now: Duration, bodies: Vec<Vec<u8>>) {
        self.set_now(now);
        for body in bodies {
            self.handle_body(&body, false);
        }
    }

    /// Performs a keyring operation on this member.
    pub fn keyring_local(&mut self, request: KeyringRequest) -> KeyringAnswer {
        let node = self.id.name.to_string();
        let Some(ring) = self.keyring.as_mut() else {
            return KeyringAnswer {
                node,
                error: Some("keyring is empty (gossip encryption is not enabled)".into()),
                keys: Vec::new(),
                primary: None,
            };
        };
        let result = match &request {
            KeyringRequest::List => Ok(false),
            KeyringRequest::Install(k) => keyring::decode_key(k)
                .and_then(|k| ring.install(k))
                .map(|_| true),
            KeyringRequest::Use(k) => keyring::decode_key(k)
                .and_then(|k| ring.use_key(&k))
                .map(|_| true),
            KeyringRequest::Remove(k) => keyring::decode_key(k)
                .and_then(|k| ring.remove(&k))
                .map(|_| true),
        };
        let keys = ring.keys_base64();
        let primary = keys.first().cloned();
        match result {
            Ok(changed) => {
                if changed {
                    self.outputs.push(Output::KeyringChanged(keys.clone()));
                }
                KeyringAnswer {
                    node,
                    error: None,
                    keys,
                    primary,
                }
            }
            Err(e) => KeyringAnswer {
                node,
                error: Some(e.to_string()),
                keys,
                primary,
            },
        }
    }
}
