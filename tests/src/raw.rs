//! A MySQL client at the packet level, for what no driver will send: an oversized packet
//! before or after login, a handshake that never comes, a connection left idle.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest payload of one physical packet.
pub const MAX_PHYSICAL: usize = 0xff_ffff;

/// One TCP connection speaking raw MySQL packets.
pub struct RawClient {
    pub stream: TcpStream,
}

/// A packet the server sent: its sequence id and payload.
pub type Packet = (u8, Vec<u8>);

impl RawClient {
    pub async fn connect(addr: SocketAddr) -> RawClient {
        RawClient {
            stream: TcpStream::connect(addr).await.expect("connect"),
        }
    }

    /// The next packet, or `None` once the server closed the connection.
    pub async fn read_packet(&mut self) -> Option<Packet> {
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).await.ok()?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
        let mut payload = vec![0u8; len];
        self.stream.read_exact(&mut payload).await.ok()?;
        Some((header[3], payload))
    }

    /// The next packet within `limit`, `None` if the connection closed; panics on a timeout.
    pub async fn read_packet_within(&mut self, limit: Duration) -> Option<Packet> {
        tokio::time::timeout(limit, self.read_packet())
            .await
            .expect("the server answered in time")
    }

    pub async fn write_packet(&mut self, seq: u8, payload: &[u8]) -> std::io::Result<()> {
        let mut frame = (payload.len() as u32).to_le_bytes()[..3].to_vec();
        frame.push(seq);
        frame.extend_from_slice(payload);
        self.stream.write_all(&frame).await
    }

    /// Reads the greeting and logs in as `root` without a password.
    pub async fn login_root(addr: SocketAddr) -> RawClient {
        Self::login_root_with(addr, 0).await
    }

    /// Logs in as `root` announcing `extra` capabilities too (0x400: CLIENT_INTERACTIVE).
    pub async fn login_root_with(addr: SocketAddr, extra: u32) -> RawClient {
        let mut client = RawClient::connect(addr).await;
        client.read_packet().await.expect("greeting");
        // CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH
        let capabilities: u32 = 0x1 | 0x200 | 0x8000 | 0x8_0000 | extra;
        let mut response = capabilities.to_le_bytes().to_vec();
        response.extend_from_slice(&(MAX_PHYSICAL as u32).to_le_bytes());
        response.push(45);
        response.extend_from_slice(&[0u8; 23]);
        response.extend_from_slice(b"root\0");
        response.push(0); // empty auth response
        response.extend_from_slice(b"mysql_native_password\0");
        client.write_packet(1, &response).await.expect("login");
        let (_, ok) = client.read_packet().await.expect("login answer");
        assert_eq!(ok.first(), Some(&0), "login failed: {ok:?}");
        client
    }

    /// Sends COM_QUERY and returns the first packet of the answer.
    pub async fn query(&mut self, sql: &str) -> Packet {
        let mut payload = vec![3u8];
        payload.extend_from_slice(sql.as_bytes());
        self.write_packet(0, &payload).await.expect("send query");
        self.read_packet().await.expect("an answer")
    }

    /// Sends COM_QUERY the server may refuse before it has read all of it (the write then
    /// fails with a broken pipe, which is expected) and returns the first packet it answered.
    pub async fn query_maybe_refused(&mut self, sql: &str) -> Packet {
        let mut payload = vec![3u8];
        payload.extend_from_slice(sql.as_bytes());
        let _ = self.write_packet(0, &payload).await;
        self.read_packet().await.expect("an answer")
    }

    /// Streams one logical packet announcing `total` payload bytes (split into 16 MiB
    /// physical packets), stopping at the first write the server refuses. Returns the bytes
    /// written.
    pub async fn stream_packet(&mut self, first_seq: u8, total: usize) -> usize {
        let chunk = vec![b'x'; MAX_PHYSICAL];
        let mut sent = 0;
        let mut seq = first_seq;
        loop {
            let len = (total - sent).min(MAX_PHYSICAL);
            let mut header = (len as u32).to_le_bytes()[..3].to_vec();
            header.push(seq);
            if self.stream.write_all(&header).await.is_err()
                || self.stream.write_all(&chunk[..len]).await.is_err()
            {
                return sent;
            }
            sent += len;
            seq = seq.wrapping_add(1);
            if len < MAX_PHYSICAL {
                return sent;
            }
        }
    }
}

/// An ERR packet's code and message.
pub fn error_of(payload: &[u8]) -> Option<(u16, String)> {
    if payload.first() != Some(&0xff) || payload.len() < 9 {
        return None;
    }
    let code = u16::from_le_bytes([payload[1], payload[2]]);
    Some((code, String::from_utf8_lossy(&payload[9..]).to_string()))
}
