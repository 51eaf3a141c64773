//! The agent's wire format: one request and one response per connection,
//! each a frame (a 4-byte big-endian length, then the body). A body starts
//! with the protocol version and a kind byte; numbers are big-endian,
//! strings and byte strings are length-prefixed (4 bytes). Frame buffers
//! that may hold plaintext are zeroized when dropped.

use std::io::{self, Read, Write};

use zeroize::Zeroizing;

use crate::secret::SecretBytes;

/// The protocol version, first byte of every body.
const VERSION: u8 = 1;
/// The largest frame either side accepts.
pub const MAX_FRAME: usize = 16 << 20;
/// The length of an entry's key (a SHA-256 digest).
pub const KEY_LEN: usize = 32;

/// An entry's key: a digest of (provider identity, secret name, ciphertext).
pub type Key = [u8; KEY_LEN];

/// What a client asks.
#[derive(Debug)]
pub enum Request {
    /// The values of these keys, where the agent has them.
    Get(Vec<Key>),
    /// Keep these values.
    Put(Vec<PutEntry>),
    /// Counts and ages (and the secrets' names when `names`).
    Status {
        /// Include each entry's provider and secret name.
        names: bool,
    },
    /// Forget every entry.
    Lock,
    /// Forget every entry and exit.
    Stop,
}

/// One value handed to the agent.
#[derive(Debug)]
pub struct PutEntry {
    /// Its key.
    pub key: Key,
    /// The provider that decrypted it (shown by `status --names`).
    pub provider: String,
    /// The name it was decrypted under (shown by `status --names`).
    pub secret: String,
    /// The plaintext.
    pub value: SecretBytes,
}

/// What the agent answers.
#[derive(Debug)]
pub enum Response {
    /// For each key asked, its value or nothing.
    Values(Vec<Option<SecretBytes>>),
    /// How many values it now keeps from this request.
    Stored(u32),
    /// The agent's state.
    Status(Status),
    /// How many entries were wiped (`Lock`, `Stop`).
    Wiped(u32),
}

/// The agent's state, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The agent's process id.
    pub pid: u32,
    /// Seconds since the agent started.
    pub uptime: u64,
    /// The idle timeout, in seconds.
    pub idle_timeout: u64,
    /// The maximum lifetime of an entry, in seconds.
    pub max_lifetime: u64,
    /// True when every entry's memory is locked (mlock).
    pub memory_locked: bool,
    /// Connections refused because they came from another user.
    pub refused: u64,
    /// One line per entry.
    pub entries: Vec<EntryStatus>,
}

/// One entry in [`Status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryStatus {
    /// Seconds since it was stored.
    pub age: u64,
    /// Seconds since it was last served or stored.
    pub idle: u64,
    /// Its provider and secret name, when asked for.
    pub names: Option<(String, String)>,
}

/// A frame that does not follow the protocol.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The connection failed or timed out.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The bytes do not form a valid message.
    #[error("malformed message ({0})")]
    Malformed(&'static str),
}

/// A body being built, zeroized when dropped.
struct Writer(Zeroizing<Vec<u8>>);

impl Writer {
    fn new(kind: u8) -> Self {
        Self(Zeroizing::new(vec![VERSION, kind]))
    }
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }
}

/// A body being read.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        if self.0.len() < n {
            return Err(ProtocolError::Malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, ProtocolError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, ProtocolError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(a))
    }
    /// A count of items that take at least `min` bytes each: never more
    /// than the bytes left could hold (so no huge allocation on garbage).
    fn count(&mut self, min: usize) -> Result<usize, ProtocolError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min.max(1)) > self.0.len() {
            return Err(ProtocolError::Malformed("count past the end"));
        }
        Ok(n)
    }
    fn bytes(&mut self) -> Result<&'a [u8], ProtocolError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> Result<String, ProtocolError> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| ProtocolError::Malformed("not UTF-8"))
    }
    fn key(&mut self) -> Result<Key, ProtocolError> {
        let mut k = [0u8; KEY_LEN];
        k.copy_from_slice(self.take(KEY_LEN)?);
        Ok(k)
    }
    fn end(&self) -> Result<(), ProtocolError> {
        if self.0.is_empty() { Ok(()) } else { Err(ProtocolError::Malformed("trailing bytes")) }
    }
}

/// Reads one frame's body; zeroized when dropped.
pub fn read_frame(r: &mut impl Read) -> Result<Zeroizing<Vec<u8>>, ProtocolError> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if !(2..=MAX_FRAME).contains(&len) {
        return Err(ProtocolError::Malformed("frame length"));
    }
    let mut body = Zeroizing::new(vec![0u8; len]);
    r.read_exact(&mut body)?;
    Ok(body)
}

fn write_frame(w: &mut impl Write, body: &Writer) -> Result<(), ProtocolError> {
    if body.0.len() > MAX_FRAME {
        return Err(ProtocolError::Malformed("frame too large"));
    }
    let mut frame = Zeroizing::new(Vec::with_capacity(body.0.len() + 4));
    frame.extend_from_slice(&(body.0.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body.0);
    w.write_all(&frame)?;
    w.flush()?;
    Ok(())
}

fn open(body: &[u8]) -> Result<(u8, Reader<'_>), ProtocolError> {
    let mut r = Reader(body);
    if r.u8()? != VERSION {
        return Err(ProtocolError::Malformed("protocol version"));
    }
    let kind = r.u8()?;
    Ok((kind, r))
}

impl Request {
    /// Sends the request.
    pub fn write(&self, w: &mut impl Write) -> Result<(), ProtocolError> {
        let body = match self {
            Self::Get(keys) => {
                let mut b = Writer::new(1);
                b.len(keys.len());
                keys.iter().for_each(|k| b.0.extend_from_slice(k));
                b
            }
            Self::Put(entries) => {
                let mut b = Writer::new(2);
                b.len(entries.len());
                for e in entries {
                    b.0.extend_from_slice(&e.key);
                    b.bytes(e.provider.as_bytes());
                    b.bytes(e.secret.as_bytes());
                    b.bytes(e.value.expose());
                }
                b
            }
            Self::Status { names } => {
                let mut b = Writer::new(3);
                b.u8(u8::from(*names));
                b
            }
            Self::Lock => Writer::new(4),
            Self::Stop => Writer::new(5),
        };
        write_frame(w, &body)
    }

    /// Reads a request.
    pub fn read(r: &mut impl Read) -> Result<Self, ProtocolError> {
        let body = read_frame(r)?;
        let (kind, mut r) = open(&body)?;
        let req = match kind {
            1 => {
                let n = r.count(KEY_LEN)?;
                Self::Get((0..n).map(|_| r.key()).collect::<Result<_, _>>()?)
            }
            2 => {
                let n = r.count(KEY_LEN + 12)?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    let key = r.key()?;
                    let (provider, secret) = (r.string()?, r.string()?);
                    let value = SecretBytes::from_slice(r.bytes()?);
                    entries.push(PutEntry { key, provider, secret, value });
                }
                Self::Put(entries)
            }
            3 => Self::Status { names: r.u8()? != 0 },
            4 => Self::Lock,
            5 => Self::Stop,
            _ => return Err(ProtocolError::Malformed("unknown request")),
        };
        r.end()?;
        Ok(req)
    }
}

impl Response {
    /// Sends the response.
    pub fn write(&self, w: &mut impl Write) -> Result<(), ProtocolError> {
        let body = match self {
            Self::Values(values) => {
                let mut b = Writer::new(0x81);
                b.len(values.len());
                for v in values {
                    match v {
                        Some(v) => {
                            b.u8(1);
                            b.bytes(v.expose());
                        }
                        None => b.u8(0),
                    }
                }
                b
            }
            Self::Stored(n) => {
                let mut b = Writer::new(0x82);
                b.u32(*n);
                b
            }
            Self::Status(s) => s.encode(),
            Self::Wiped(n) => {
                let mut b = Writer::new(0x84);
                b.u32(*n);
                b
            }
        };
        write_frame(w, &body)
    }

    /// Reads a response.
    pub fn read(r: &mut impl Read) -> Result<Self, ProtocolError> {
        let body = read_frame(r)?;
        let (kind, mut r) = open(&body)?;
        let resp = match kind {
            0x81 => {
                let n = r.count(1)?;
                let mut values = Vec::with_capacity(n);
                for _ in 0..n {
                    values.push(match r.u8()? {
                        0 => None,
                        1 => Some(SecretBytes::from_slice(r.bytes()?)),
                        _ => return Err(ProtocolError::Malformed("value flag")),
                    });
                }
                Self::Values(values)
            }
            0x82 => Self::Stored(r.u32()?),
            0x83 => Self::Status(Status::decode(&mut r)?),
            0x84 => Self::Wiped(r.u32()?),
            _ => return Err(ProtocolError::Malformed("unknown response")),
        };
        r.end()?;
        Ok(resp)
    }
}

impl Status {
    fn encode(&self) -> Writer {
        let mut b = Writer::new(0x83);
        b.u32(self.pid);
        b.u64(self.uptime);
        b.u64(self.idle_timeout);
        b.u64(self.max_lifetime);
        b.u8(u8::from(self.memory_locked));
        b.u64(self.refused);
        b.len(self.entries.len());
        for e in &self.entries {
            b.u64(e.age);
            b.u64(e.idle);
            match &e.names {
                Some((provider, secret)) => {
                    b.u8(1);
                    b.bytes(provider.as_bytes());
                    b.bytes(secret.as_bytes());
                }
                None => b.u8(0),
            }
        }
        b
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        let (pid, uptime, idle_timeout, max_lifetime) = (r.u32()?, r.u64()?, r.u64()?, r.u64()?);
        let (memory_locked, refused) = (r.u8()? != 0, r.u64()?);
        let n = r.count(17)?;
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            let (age, idle) = (r.u64()?, r.u64()?);
            let names = match r.u8()? {
                0 => None,
                _ => Some((r.string()?, r.string()?)),
            };
            entries.push(EntryStatus { age, idle, names });
        }
        Ok(Self { pid, uptime, idle_timeout, max_lifetime, memory_locked, refused, entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip_request(req: &Request) -> Request {
        let mut buf = Vec::new();
        req.write(&mut buf).unwrap();
        Request::read(&mut buf.as_slice()).unwrap()
    }

    #[test]
    fn requests_read_back_as_written() {
        let put = Request::Put(vec![PutEntry {
            key: [7; KEY_LEN],
            provider: "kms".into(),
            secret: "API".into(),
            value: SecretBytes::from_slice(b"v"),
        }]);
        let Request::Put(got) = round_trip_request(&put) else { panic!("not a put") };
        assert_eq!((got[0].key, got[0].secret.as_str()), ([7; KEY_LEN], "API"));
        assert_eq!(got[0].value.expose(), b"v");
        let Request::Get(keys) = round_trip_request(&Request::Get(vec![[1; KEY_LEN]])) else {
            panic!("not a get")
        };
        assert_eq!(keys, vec![[1; KEY_LEN]]);
    }

    #[test]
    fn garbage_is_refused_not_trusted() {
        for bad in [&b"\x00\x00\x00\x02\x02\x81"[..], b"\x00\x00\x00\x06\x01\x81\xff\xff\xff\xff"] {
            assert!(matches!(Response::read(&mut &bad[..]), Err(ProtocolError::Malformed(_))));
        }
        // A frame that claims more than the limit is refused before reading it.
        assert!(Response::read(&mut &b"\xff\xff\xff\xff"[..]).is_err());
    }
}
