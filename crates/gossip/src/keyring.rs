//! The gossip keyring: AES-GCM keys of 16, 24 or 32 bytes; the primary key encrypts, every
//! installed key is tried on decrypt (so keys can be rotated without losing members).
//!
//! Sealed format, as memberlist's version 1: `[1][nonce: 12 bytes][ciphertext + 16-byte tag]`.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::aes::Aes192;
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::GossipError;

/// First byte of a sealed (encrypted) message.
pub(crate) const SEALED_VERSION: u8 = 1;
/// Bytes a sealed message adds to its plaintext (version, nonce, tag).
pub(crate) const SEAL_OVERHEAD: usize = 1 + 12 + 16;

type Aes192Gcm = AesGcm<Aes192, aes_gcm::aead::consts::U12>;

/// One key with its cipher ready.
#[derive(Clone)]
struct Key {
    bytes: Vec<u8>,
    cipher: Cipher,
}

#[derive(Clone)]
enum Cipher {
    Aes128(Box<Aes128Gcm>),
    Aes192(Box<Aes192Gcm>),
    Aes256(Box<Aes256Gcm>),
}

impl Key {
    fn new(bytes: Vec<u8>) -> Result<Key, GossipError> {
        let cipher = match bytes.len() {
            16 => Cipher::Aes128(Box::new(
                Aes128Gcm::new_from_slice(&bytes).map_err(key_size)?,
            )),
            24 => Cipher::Aes192(Box::new(
                Aes192Gcm::new_from_slice(&bytes).map_err(key_size)?,
            )),
            32 => Cipher::Aes256(Box::new(
                Aes256Gcm::new_from_slice(&bytes).map_err(key_size)?,
            )),
            _ => return Err(key_size(())),
        };
        Ok(Key { bytes, cipher })
    }

    fn seal(&self, nonce: &[u8; 12], plain: &[u8]) -> Vec<u8> {
        let nonce = Nonce::from_slice(nonce);
        let sealed = match &self.cipher {
            Cipher::Aes128(c) => c.encrypt(nonce, plain),
            Cipher::Aes192(c) => c.encrypt(nonce, plain),
            Cipher::Aes256(c) => c.encrypt(nonce, plain),
        };
        // Encryption only fails for plaintexts beyond GCM's 64 GiB limit.
        sealed.unwrap_or_default()
    }

    fn open(&self, nonce: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let nonce = Nonce::from_slice(nonce);
        match &self.cipher {
            Cipher::Aes128(c) => c.decrypt(nonce, sealed).ok(),
            Cipher::Aes192(c) => c.decrypt(nonce, sealed).ok(),
            Cipher::Aes256(c) => c.decrypt(nonce, sealed).ok(),
        }
    }
}

fn key_size<E>(_: E) -> GossipError {
    GossipError::Keyring("key size must be 16, 24 or 32 bytes".into())
}

/// The installed gossip keys; the first is the primary (encrypting) key.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<Key>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("Keyring")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Keyring {
    /// A keyring holding one key, which is primary.
    pub fn new(primary: Vec<u8>) -> Result<Keyring, GossipError> {
        Ok(Keyring {
            keys: vec![Key::new(primary)?],
        })
    }

    /// A keyring from one base64 key (Consul's `encrypt`).
    pub fn from_base64(key: &str) -> Result<Keyring, GossipError> {
        Keyring::new(decode_key(key)?)
    }

    /// A keyring from keys in order, the first primary (the keyring file's layout).
    pub fn from_keys(keys: Vec<Vec<u8>>) -> Result<Keyring, GossipError> {
        let mut iter = keys.into_iter();
        let primary = iter
            .next()
            .ok_or_else(|| GossipError::Keyring("keyring is empty".into()))?;
        let mut ring = Keyring::new(primary)?;
        for key in iter {
            ring.install(key)?;
        }
        Ok(ring)
    }

    /// Adds a key (no-op if installed); it decrypts at once, encrypts only after `use_key`.
    pub fn install(&mut self, key: Vec<u8>) -> Result<(), GossipError> {
        if !self.keys.iter().any(|k| k.bytes == key) {
            self.keys.push(Key::new(key)?);
        }
        Ok(())
    }

    /// Makes an installed key the primary.
    pub fn use_key(&mut self, key: &[u8]) -> Result<(), GossipError> {
        let at = self
            .keys
            .iter()
            .position(|k| k.bytes == key)
            .ok_or_else(|| GossipError::Keyring("Requested key is not in the keyring".into()))?;
        let chosen = self.keys.remove(at);
        self.keys.insert(0, chosen);
        Ok(())
    }

    /// Removes a key (no-op if absent); the primary cannot be removed.
    pub fn remove(&mut self, key: &[u8]) -> Result<(), GossipError> {
        if self.primary() == key {
            return Err(GossipError::Keyring(
                "Removing the primary key is not allowed".into(),
            ));
        }
        self.keys.retain(|k| k.bytes != key);
        Ok(())
    }

    /// Every installed key, primary first.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.keys.iter().map(|k| k.bytes.clone()).collect()
    }

    /// Every installed key in base64, primary first (the keyring file's content).
    pub fn keys_base64(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| STANDARD.encode(&k.bytes))
            .collect()
    }

    /// The key that encrypts.
    pub fn primary(&self) -> &[u8] {
        &self.keys[0].bytes
    }

    /// Encrypts with the primary key under `nonce` (random per message).
    pub(crate) fn seal(&self, nonce: [u8; 12], plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plain.len() + SEAL_OVERHEAD);
        out.push(SEALED_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&self.keys[0].seal(&nonce, plain));
        out
    }

    /// Decrypts a sealed message with whichever installed key opens it.
    pub(crate) fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < SEAL_OVERHEAD || sealed[0] != SEALED_VERSION {
            return None;
        }
        let (nonce, body) = sealed[1..].split_at(12);
        self.keys.iter().find_map(|k| k.open(nonce, body))
    }
}

/// Decodes a base64 gossip key and checks its size.
pub fn decode_key(key: &str) -> Result<Vec<u8>, GossipError> {
    let bytes = STANDARD
        .decode(key.trim())
        .map_err(|e| GossipError::Keyring(format!("Invalid key: {e}")))?;
    Key::new(bytes.clone())?;
    Ok(bytes)
}

/// A new 32-byte gossip key in base64 (`consul keygen`).
pub fn generate_key() -> String {
    let mut key = [0u8; 32];
    rand::fill(&mut key);
    STANDARD.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_installed_key_opens_and_primary_seals() {
        let k1 = vec![1u8; 16];
        let k2 = vec![2u8; 32];
        let mut ring = Keyring::new(k1.clone()).unwrap();
        let sealed_k1 = ring.seal([7; 12], b"hello");
        ring.install(k2.clone()).unwrap();
        ring.use_key(&k2).unwrap();
        let sealed_k2 = ring.seal([8; 12], b"world");
        assert_eq!(ring.open(&sealed_k1).unwrap(), b"hello");
        assert_eq!(ring.open(&sealed_k2).unwrap(), b"world");
        assert_eq!(ring.keys(), vec![k2.clone(), k1.clone()]);
        assert_eq!(
            ring.remove(&k2).unwrap_err().to_string(),
            "Removing the primary key is not allowed"
        );
        ring.remove(&k1).unwrap();
        assert!(ring.open(&sealed_k1).is_none());
        let other = Keyring::new(vec![3u8; 24]).unwrap();
        assert!(other.open(&sealed_k2).is_none());
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(Keyring::new(vec![0; 15]).is_err());
        assert!(decode_key("not base64!").is_err());
        assert_eq!(decode_key(&generate_key()).unwrap().len(), 32);
        assert!(
            Keyring::new(vec![0; 16])
                .unwrap()
                .use_key(&[1; 16])
                .unwrap_err()
                .to_string()
                .contains("not in the keyring")
        );
    }
}
