//! Splitting a byte stream into messages: JSON lines, or varint length-delimited protobuf
//! messages, as the input arrives in arbitrary chunks.
//!
//! The framer never needs the whole input: a growing file is pushed chunk by chunk and a
//! partial last line (or message) stays buffered until the rest arrives. Memory stays bounded:
//! a line longer than the message size limit is cut to the limit plus one byte (so decoding
//! rejects it as too large) and the rest of it is discarded.

use crate::core::limits::MAX_MESSAGE_BYTES;
use crate::wire::ContentType;

/// One message cut from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// 1-based: the line number (JSON lines; blank lines count) or message index (protobuf).
    pub index: u64,
    /// The message bytes (a JSON line without its line ending).
    pub bytes: Vec<u8>,
    /// Set when the message was longer than the limit and only its first
    /// `MAX_MESSAGE_BYTES + 1` bytes are kept.
    pub truncated: bool,
}

/// The input cannot be split any further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A length prefix is not a valid varint: the stream cannot be resynchronised.
    #[error("message {index}: invalid length prefix; the rest of the input cannot be framed")]
    BadLength {
        /// The message index.
        index: u64,
    },
    /// The input ended inside a message.
    #[error("message {index}: input ends inside the message ({have} of {need} bytes)")]
    Truncated {
        /// The message index.
        index: u64,
        /// Bytes present.
        have: usize,
        /// Bytes the length prefix announced (0 when the prefix itself is cut).
        need: usize,
        /// The part of the message that is there (after its length prefix).
        partial: Vec<u8>,
    },
}

impl FrameError {
    /// The index of the message concerned.
    pub fn index(&self) -> u64 {
        match self {
            Self::BadLength { index } | Self::Truncated { index, .. } => *index,
        }
    }

    /// What is there of the message (empty when nothing can be told apart).
    pub fn partial(&self) -> &[u8] {
        match self {
            Self::BadLength { .. } => &[],
            Self::Truncated { partial, .. } => partial,
        }
    }
}

/// Encodes one message in a file framing: a JSON line (with `\n`) or a varint length prefix and
/// the message.
pub fn frame_bytes(format: ContentType, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 10);
    match format {
        ContentType::Json => {
            out.extend_from_slice(message);
            out.push(b'\n');
        }
        ContentType::Protobuf => {
            prost::encoding::encode_varint(message.len() as u64, &mut out);
            out.extend_from_slice(message);
        }
    }
    out
}

/// Splits a byte stream into messages as it arrives.
#[derive(Debug)]
pub struct Framer {
    format: ContentType,
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    start: usize,
    /// JSON: where the search for the next newline resumes.
    scan: usize,
    /// The index the next message gets.
    next_index: u64,
    /// Bytes still to discard: the rest of an oversized message. For JSON, `usize::MAX` means
    /// "up to the next newline".
    skip: usize,
    /// Set after a [`FrameError::BadLength`]: nothing more can be framed.
    broken: bool,
}

/// A varint: `Some(Ok((value, length)))`, `None` when incomplete, `Some(Err)` when invalid.
fn read_varint(b: &[u8]) -> Option<Result<(u64, usize), ()>> {
    let mut value: u64 = 0;
    for (i, byte) in b.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some(Ok((value, i + 1)));
        }
    }
    if b.len() >= 10 {
        Some(Err(()))
    } else {
        None
    }
}

impl Framer {
    /// A framer for JSON lines or length-delimited protobuf.
    pub fn new(format: ContentType) -> Self {
        Self {
            format,
            buf: Vec::new(),
            start: 0,
            scan: 0,
            next_index: 1,
            skip: 0,
            broken: false,
        }
    }

    /// Appends input.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            // Compact: drop what was consumed, so the buffer holds at most one partial message
            // plus the chunk.
            self.buf.drain(..self.start);
            self.scan = self.scan.saturating_sub(self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes buffered that do not form a complete message yet.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The index the next message will get (the line or message a partial input belongs to).
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// The next complete message, if the buffered input holds one.
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        if self.broken {
            return None;
        }
        match self.format {
            ContentType::Json => self.next_line().map(Ok),
            ContentType::Protobuf => self.next_delimited(),
        }
    }

    /// Called at the end of the input (not when following a file that may still grow): the
    /// last line needs no newline; a message cut short is an error.
    pub fn finish(&mut self) -> Option<Result<Frame, FrameError>> {
        if self.broken {
            return None;
        }
        let rest = &self.buf[self.start..];
        let out = match self.format {
            ContentType::Json => {
                if self.skip > 0 || rest.iter().all(u8::is_ascii_whitespace) {
                    None
                } else {
                    let mut bytes = rest.to_vec();
                    if bytes.last() == Some(&b'\r') {
                        bytes.pop();
                    }
                    Some(Ok(Frame {
                        index: self.next_index,
                        bytes,
                        truncated: false,
                    }))
                }
            }
            ContentType::Protobuf => {
                if rest.is_empty() && self.skip == 0 {
                    None
                } else {
                    let (need, partial) = match read_varint(rest) {
                        Some(Ok((len, n))) => (
                            usize::try_from(len).unwrap_or(usize::MAX).saturating_add(n),
                            rest[n..].to_vec(),
                        ),
                        _ => (0, Vec::new()),
                    };
                    Some(Err(FrameError::Truncated {
                        index: self.next_index,
                        have: rest.len(),
                        need: if self.skip > 0 { self.skip } else { need },
                        partial: if self.skip > 0 { Vec::new() } else { partial },
                    }))
                }
            }
        };
        self.start = self.buf.len();
        self.scan = self.start;
        self.skip = 0;
        if out.is_some() {
            self.next_index += 1;
        }
        out
    }

    fn next_line(&mut self) -> Option<Frame> {
        loop {
            if self.skip > 0 {
                // Discarding the rest of an oversized line.
                match self.buf[self.start..].iter().position(|b| *b == b'\n') {
                    Some(i) => {
                        self.start += i + 1;
                        self.scan = self.start;
                        self.skip = 0;
                    }
                    None => {
                        self.start = self.buf.len();
                        self.scan = self.start;
                        return None;
                    }
                }
            }
            match self.buf[self.scan..].iter().position(|b| *b == b'\n') {
                Some(i) => {
                    let end = self.scan + i;
                    let mut line = &self.buf[self.start..end];
                    if line.last() == Some(&b'\r') {
                        line = &line[..line.len() - 1];
                    }
                    let index = self.next_index;
                    self.next_index += 1;
                    let frame = (!line.iter().all(u8::is_ascii_whitespace)).then(|| Frame {
                        index,
                        bytes: line.to_vec(),
                        truncated: false,
                    });
                    self.start = end + 1;
                    self.scan = self.start;
                    if let Some(f) = frame {
                        return Some(f);
                    }
                }
                None => {
                    self.scan = self.buf.len();
                    if self.pending() > MAX_MESSAGE_BYTES {
                        let keep = MAX_MESSAGE_BYTES + 1;
                        let frame = Frame {
                            index: self.next_index,
                            bytes: self.buf[self.start..self.start + keep].to_vec(),
                            truncated: true,
                        };
                        self.next_index += 1;
                        self.start = self.buf.len();
                        self.scan = self.start;
                        self.skip = usize::MAX;
                        return Some(frame);
                    }
                    return None;
                }
            }
        }
    }

    fn next_delimited(&mut self) -> Option<Result<Frame, FrameError>> {
        if self.skip > 0 {
            let n = self.skip.min(self.pending());
            self.start += n;
            self.skip -= n;
            if self.skip > 0 {
                return None;
            }
        }
        let rest = &self.buf[self.start..];
        let (len, n) = match read_varint(rest)? {
            Ok(v) => v,
            Err(()) => {
                self.broken = true;
                return Some(Err(FrameError::BadLength {
                    index: self.next_index,
                }));
            }
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let keep = len.min(MAX_MESSAGE_BYTES + 1);
        if rest.len() - n < keep {
            return None;
        }
        let frame = Frame {
            index: self.next_index,
            bytes: rest[n..n + keep].to_vec(),
            truncated: keep < len,
        };
        self.next_index += 1;
        self.start += n + keep;
        self.skip = len - keep;
        Some(Ok(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(f: &mut Framer) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        while let Some(r) = f.next_frame() {
            let fr = r.unwrap();
            out.push((fr.index, String::from_utf8(fr.bytes).unwrap()));
        }
        out
    }

    #[test]
    fn lines_split_across_chunks_wait_for_their_newline() {
        let mut f = Framer::new(ContentType::Json);
        f.push(b"{\"a\":1}\n{\"b\"");
        assert_eq!(drain(&mut f), [(1, "{\"a\":1}".to_string())]);
        assert_eq!(f.pending(), 4, "the partial second line stays buffered");
        f.push(b":2}");
        assert!(drain(&mut f).is_empty(), "still no newline: keep waiting");
        f.push(b"\r\n\n   \n{\"c\":3}\n");
        assert_eq!(
            drain(&mut f),
            [(2, "{\"b\":2}".to_string()), (5, "{\"c\":3}".to_string())],
            "CRLF stripped, blank lines skipped but counted"
        );
        assert_eq!(f.pending(), 0);
        assert_eq!(f.finish(), None);
    }

    #[test]
    fn a_last_line_without_newline_is_a_line_at_the_end_of_input() {
        let mut f = Framer::new(ContentType::Json);
        f.push(b"x\ny");
        assert_eq!(drain(&mut f), [(1, "x".to_string())]);
        let last = f.finish().unwrap().unwrap();
        assert_eq!((last.index, last.bytes), (2, b"y".to_vec()));
        assert_eq!(f.finish(), None);
    }

    #[test]
    fn byte_by_byte_gives_the_same_lines() {
        let input = b"one\ntwo\n\nthree\n";
        let mut f = Framer::new(ContentType::Json);
        let mut got = Vec::new();
        for b in input {
            f.push(std::slice::from_ref(b));
            got.extend(drain(&mut f));
        }
        assert_eq!(
            got,
            [
                (1, "one".to_string()),
                (2, "two".to_string()),
                (4, "three".to_string())
            ]
        );
    }

    #[test]
    fn an_oversized_line_is_cut_and_the_next_line_still_read() {
        let mut f = Framer::new(ContentType::Json);
        let long = vec![b'x'; MAX_MESSAGE_BYTES * 2];
        f.push(&long[..MAX_MESSAGE_BYTES + 10]);
        let cut = f.next_frame().unwrap().unwrap();
        assert!(cut.truncated);
        assert_eq!(cut.index, 1);
        assert_eq!(cut.bytes.len(), MAX_MESSAGE_BYTES + 1);
        f.push(&long[MAX_MESSAGE_BYTES + 10..]);
        assert!(f.next_frame().is_none());
        f.push(b"\nnext\n");
        assert_eq!(drain(&mut f), [(2, "next".to_string())]);
        assert!(
            f.buf.len() < MAX_MESSAGE_BYTES * 2,
            "discarded bytes are not kept"
        );
    }

    #[test]
    fn delimited_messages_split_across_chunks() {
        let mut input = Vec::new();
        input.extend(frame_bytes(ContentType::Protobuf, b"first"));
        input.extend(frame_bytes(ContentType::Protobuf, &[7u8; 300]));
        input.extend(frame_bytes(ContentType::Protobuf, b""));
        let mut f = Framer::new(ContentType::Protobuf);
        let mut got = Vec::new();
        for c in input.chunks(3) {
            f.push(c);
            while let Some(r) = f.next_frame() {
                got.push(r.unwrap());
            }
        }
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].bytes, b"first");
        assert_eq!(got[1].bytes, vec![7u8; 300]);
        assert_eq!((got[2].index, got[2].bytes.len()), (3, 0));
        assert_eq!(f.finish(), None);
    }

    #[test]
    fn delimited_truncation_and_bad_prefix_are_errors() {
        let mut f = Framer::new(ContentType::Protobuf);
        let whole = frame_bytes(ContentType::Protobuf, b"abcdef");
        f.push(&whole[..4]);
        assert!(f.next_frame().is_none());
        assert_eq!(
            f.finish(),
            Some(Err(FrameError::Truncated {
                index: 1,
                have: 4,
                need: 7,
                partial: b"abc".to_vec()
            }))
        );

        let mut f = Framer::new(ContentType::Protobuf);
        f.push(&[0xff; 12]);
        assert_eq!(
            f.next_frame(),
            Some(Err(FrameError::BadLength { index: 1 }))
        );
        assert_eq!(f.next_frame(), None);
    }

    #[test]
    fn an_oversized_delimited_message_is_cut_and_skipped() {
        let big = vec![1u8; MAX_MESSAGE_BYTES + 100];
        let mut input = frame_bytes(ContentType::Protobuf, &big);
        input.extend(frame_bytes(ContentType::Protobuf, b"ok"));
        let mut f = Framer::new(ContentType::Protobuf);
        let mut got = Vec::new();
        for c in input.chunks(1000) {
            f.push(c);
            while let Some(r) = f.next_frame() {
                got.push(r.unwrap());
            }
        }
        assert_eq!(got.len(), 2);
        assert!(got[0].truncated);
        assert_eq!(got[0].bytes.len(), MAX_MESSAGE_BYTES + 1);
        assert_eq!((got[1].index, got[1].bytes.as_slice()), (2, &b"ok"[..]));
    }
}
