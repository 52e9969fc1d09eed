//! A TCP listener whose connections can be severed from inside a request, so
//! the simulator can close a socket without sending any response, as a
//! failing load balancer does. Each accepted stream shares a switch with the
//! connection info handed to the request; once the switch is thrown, every
//! write fails, the HTTP server gives up on the connection and drops it.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

pub(crate) struct SeverableListener(pub TcpListener);

/// What a request knows of its connection: the peer, and the switch that
/// severs it.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub peer: SocketAddr,
    severed: Arc<AtomicBool>,
}

impl Connection {
    pub fn sever(&self) {
        self.severed.store(true, Ordering::SeqCst);
    }
}

impl Listener for SeverableListener {
    type Io = SeverableStream;
    type Addr = Connection;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, peer) = Listener::accept(&mut self.0).await;
        let severed = Arc::new(AtomicBool::new(false));
        let connection = Connection {
            peer,
            severed: severed.clone(),
        };
        (SeverableStream { stream, severed }, connection)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        let peer = self.0.local_addr()?;
        Ok(Connection {
            peer,
            severed: Arc::default(),
        })
    }
}

impl Connected<IncomingStream<'_, SeverableListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, SeverableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

pub(crate) struct SeverableStream {
    stream: TcpStream,
    severed: Arc<AtomicBool>,
}

impl SeverableStream {
    fn severed(&self) -> bool {
        self.severed.load(Ordering::SeqCst)
    }
}

fn severed_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection severed by fault injection",
    )
}

impl AsyncRead for SeverableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.severed() {
            return Poll::Ready(Err(severed_error()));
        }
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SeverableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.severed() {
            return Poll::Ready(Err(severed_error()));
        }
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.severed() {
            return Poll::Ready(Err(severed_error()));
        }
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.severed() {
            return Poll::Ready(Err(severed_error()));
        }
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
