//! A request body that says how much of itself has gone to the connection, piece by
//! piece, so that a long upload (`snapshot restore`) can show its progress.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// The size of the pieces the body is handed out in.
const PIECE: usize = 64 * 1024;

/// `data`, in pieces of [`PIECE`] bytes, calling `progress` with each piece's size as
/// the connection takes it. Its exact length is known, so it goes out with a
/// `Content-Length`.
pub struct ProgressBody<F> {
    data: Bytes,
    sent: usize,
    progress: F,
}

impl<F: FnMut(usize)> ProgressBody<F> {
    pub fn new(data: Vec<u8>, progress: F) -> ProgressBody<F> {
        ProgressBody {
            data: Bytes::from(data),
            sent: 0,
            progress,
        }
    }
}

impl<F: FnMut(usize) + Unpin> http_body::Body for ProgressBody<F> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.sent >= this.data.len() {
            return Poll::Ready(None);
        }
        let end = (this.sent + PIECE).min(this.data.len());
        let piece = this.data.slice(this.sent..end);
        this.sent = end;
        (this.progress)(piece.len());
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.data.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.data.len() - self.sent) as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use http_body::Body;

    use super::*;

    #[tokio::test]
    async fn hands_out_every_byte_in_pieces_and_counts_them() {
        let data: Vec<u8> = (0..150_000u32).map(|i| i as u8).collect();
        let mut counted = Vec::new();
        let mut body = ProgressBody::new(data.clone(), |n| counted.push(n));
        assert_eq!(body.size_hint().exact(), Some(150_000));
        let mut out = Vec::new();
        while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            out.extend_from_slice(&frame.unwrap().into_data().unwrap());
        }
        assert!(body.is_end_stream());
        drop(body);
        assert_eq!(out, data);
        assert_eq!(counted, [PIECE, PIECE, 150_000 - 2 * PIECE]);
    }
}
