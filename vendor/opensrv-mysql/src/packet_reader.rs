// Copyright 2021 Datafuse Labs.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//! Reads MySQL packets from a byte stream.
//!
//! snaprock patch: the 0.7.0 reader handed out packets that borrowed a buffer it then replaced
//! (`unsafe` lifetime extension), so two packets arriving in one read corrupted the first one
//! (databendlabs/opensrv#67). This version owns every packet it returns and keeps unread bytes in
//! its buffer, so pipelined commands are all delivered in order.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::U24_MAX;

const READ_CHUNK: usize = 64 * 1024;

/// A logical packet's header announced more payload than the reader accepts (snaprock patch:
/// 0.7.0 buffered whatever a client announced, up to any size, before authentication too).
#[derive(Debug)]
pub struct PacketTooLarge {
    /// Sequence id of the packet that was refused (the answer takes the next one).
    pub seq: u8,
}

impl std::fmt::Display for PacketTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Got a packet bigger than 'max_allowed_packet' bytes")
    }
}

impl std::error::Error for PacketTooLarge {}

/// The refused packet's sequence id, if `error` is a [`PacketTooLarge`].
pub fn packet_too_large(error: &io::Error) -> Option<u8> {
    error
        .get_ref()
        .and_then(|e| e.downcast_ref::<PacketTooLarge>())
        .map(|e| e.seq)
}

pub struct PacketReader<R> {
    /// Bytes read from the stream and not yet returned as packets.
    buf: Vec<u8>,
    /// Largest logical payload accepted; a larger announced one is an error before it is read.
    max_payload: usize,
    pub r: R,
}

impl<R> PacketReader<R> {
    pub fn new(r: R) -> Self {
        PacketReader {
            buf: Vec::new(),
            max_payload: usize::MAX,
            r,
        }
    }

    /// Sets the largest logical packet payload [`PacketReader::next_async`] accepts.
    pub fn set_max_payload(&mut self, max_payload: usize) {
        self.max_payload = max_payload;
    }

    /// Takes the bytes read ahead but not consumed (used when the stream is upgraded to TLS).
    #[allow(dead_code)]
    pub fn take_buffered(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Splits one logical packet (possibly several 16 MiB physical packets) off the buffer.
    fn try_take_packet(&mut self) -> io::Result<Option<(u8, Vec<u8>)>> {
        let mut offset = 0;
        let mut payload_len = 0usize;
        // First pass: check that the whole logical packet is buffered (and not too large).
        loop {
            if self.buf.len() < offset + 4 {
                return Ok(None);
            }
            let len = u32::from_le_bytes([
                self.buf[offset],
                self.buf[offset + 1],
                self.buf[offset + 2],
                0,
            ]) as usize;
            if payload_len + len > self.max_payload {
                let seq = self.buf[offset + 3];
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    PacketTooLarge { seq },
                ));
            }
            if self.buf.len() < offset + 4 + len {
                return Ok(None);
            }
            payload_len += len;
            offset += 4 + len;
            if len < U24_MAX {
                break;
            }
        }
        // Second pass: copy the payloads out.
        let mut payload = Vec::with_capacity(payload_len);
        let mut pos = 0;
        let mut seq = 0;
        while pos < offset {
            let len = u32::from_le_bytes([self.buf[pos], self.buf[pos + 1], self.buf[pos + 2], 0])
                as usize;
            seq = self.buf[pos + 3];
            payload.extend_from_slice(&self.buf[pos + 4..pos + 4 + len]);
            pos += 4 + len;
        }
        self.buf.drain(..offset);
        Ok(Some((seq, payload)))
    }
}

impl<R: AsyncRead + Unpin> PacketReader<R> {
    /// Returns the next packet's sequence id and payload, or `None` at a clean end of stream.
    pub async fn next_async(&mut self) -> io::Result<Option<(u8, Vec<u8>)>> {
        loop {
            if let Some(packet) = self.try_take_packet()? {
                return Ok(Some(packet));
            }
            let start = self.buf.len();
            self.buf.resize(start + READ_CHUNK, 0);
            let read = self.r.read(&mut self.buf[start..]).await;
            let read = match read {
                Ok(n) => n,
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(e);
                }
            };
            self.buf.truncate(start + read);
            if read == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{} unhandled bytes", self.buf.len()),
                ));
            }
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for PacketReader<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        if !self.buf.is_empty() {
            let n = self.buf.len().min(buf.remaining());
            buf.put_slice(&self.buf[..n]);
            self.buf.drain(..n);
            std::task::Poll::Ready(Ok(()))
        } else {
            std::pin::Pin::new(&mut self.r).poll_read(cx, buf)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = (payload.len() as u32).to_le_bytes()[..3].to_vec();
        v.push(seq);
        v.extend_from_slice(payload);
        v
    }

    #[tokio::test]
    async fn pipelined_packets_in_one_read_are_all_returned() {
        let mut bytes = frame(0, b"\x03SELECT 1");
        bytes.extend(frame(0, b"\x03SELECT 2"));
        let mut r = PacketReader::new(&bytes[..]);
        assert_eq!(
            r.next_async().await.unwrap(),
            Some((0, b"\x03SELECT 1".to_vec()))
        );
        assert_eq!(
            r.next_async().await.unwrap(),
            Some((0, b"\x03SELECT 2".to_vec()))
        );
        assert_eq!(r.next_async().await.unwrap(), None);
    }

    #[tokio::test]
    async fn large_packets_are_reassembled() {
        let big = vec![7u8; U24_MAX + 10];
        let mut bytes = frame(0, &big[..U24_MAX]);
        bytes.extend(frame(1, &big[U24_MAX..]));
        let mut r = PacketReader::new(&bytes[..]);
        let (seq, p) = r.next_async().await.unwrap().unwrap();
        assert_eq!(seq, 1);
        assert_eq!(p.len(), big.len());
    }

    #[tokio::test]
    async fn a_packet_over_the_limit_is_refused_from_its_header() {
        // Only the header has arrived: the 16 MiB payload is refused before it is read.
        let header = [0xff, 0xff, 0xff, 3];
        let mut r = PacketReader::new(&header[..]);
        r.set_max_payload(1024);
        let e = r.next_async().await.unwrap_err();
        assert_eq!(packet_too_large(&e), Some(3));
        // A payload one byte over the limit.
        let big = vec![1u8; U24_MAX];
        let bytes = frame(0, &big);
        let mut r = PacketReader::new(&bytes[..]);
        r.set_max_payload(U24_MAX - 1);
        assert!(packet_too_large(&r.next_async().await.unwrap_err()).is_some());
        let bytes = frame(0, b"fits");
        let mut r = PacketReader::new(&bytes[..]);
        r.set_max_payload(4);
        assert_eq!(r.next_async().await.unwrap(), Some((0, b"fits".to_vec())));
    }

    #[tokio::test]
    async fn truncated_stream_is_an_error() {
        let bytes = frame(0, b"hello");
        let mut r = PacketReader::new(&bytes[..6]);
        assert!(r.next_async().await.is_err());
    }
}
