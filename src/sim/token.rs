//! Page tokens: where the next page of a bars request starts (a symbol and a
//! minute) plus a fingerprint of the request's other parameters, in unpadded
//! URL-safe base64. Clients must treat tokens as opaque; the fingerprint lets
//! the simulator refuse a token passed with different parameters, which
//! Alpaca's clients are told never to do.

use chrono::{DateTime, Utc};

use crate::domain::Symbol;

/// The first bar of the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub symbol: Symbol,
    pub minute: DateTime<Utc>,
}

/// Why a page token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TokenError {
    #[error("the page token is not one this server issued")]
    Unreadable,
    #[error("the page token belongs to a request with other parameters")]
    OtherRequest,
}

pub(crate) fn encode(cursor: &Cursor, fingerprint: u64) -> String {
    let plain = format!(
        "{}|{}|{fingerprint:016x}",
        cursor.symbol,
        cursor.minute.timestamp()
    );
    base64url_encode(plain.as_bytes())
}

pub(crate) fn decode(token: &str, fingerprint: u64) -> Result<Cursor, TokenError> {
    let bytes = base64url_decode(token).ok_or(TokenError::Unreadable)?;
    let plain = String::from_utf8(bytes).map_err(|_| TokenError::Unreadable)?;
    let mut parts = plain.split('|');
    let (Some(symbol), Some(seconds), Some(print), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Unreadable);
    };

    let symbol = symbol
        .parse::<Symbol>()
        .map_err(|_| TokenError::Unreadable)?;
    let seconds = seconds.parse::<i64>().map_err(|_| TokenError::Unreadable)?;
    let minute = DateTime::from_timestamp(seconds, 0).ok_or(TokenError::Unreadable)?;
    let print = u64::from_str_radix(print, 16).map_err(|_| TokenError::Unreadable)?;
    if print != fingerprint {
        return Err(TokenError::OtherRequest);
    }
    Ok(Cursor { symbol, minute })
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = chunk
            .iter()
            .enumerate()
            .fold(0u32, |w, (i, b)| w | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((word >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let sextets: Vec<u32> = text
        .bytes()
        .map(|c| ALPHABET.iter().position(|a| *a == c).map(|p| p as u32))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(sextets.len() * 3 / 4);
    for chunk in sextets.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let word = chunk
            .iter()
            .enumerate()
            .fold(0u32, |w, (i, s)| w | (s << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((word >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_every_length() {
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(200))
                .collect();
            assert_eq!(base64url_decode(&base64url_encode(&bytes)), Some(bytes));
        }
        assert_eq!(base64url_encode(b"AAPL|1"), "QUFQTHwx");
        assert_eq!(base64url_decode("Q"), None);
        assert_eq!(base64url_decode("QU+Q"), None);
    }

    #[test]
    fn tokens_round_trip_and_remember_their_request() {
        let cursor = Cursor {
            symbol: "BRK.B".parse().unwrap(),
            minute: "2024-03-05T14:31:00Z".parse().unwrap(),
        };
        let token = encode(&cursor, 0xabcd);
        assert_eq!(decode(&token, 0xabcd), Ok(cursor));
        assert_eq!(decode(&token, 0xabce), Err(TokenError::OtherRequest));
        assert_eq!(
            decode("bm90IGEgdG9rZW4", 0xabcd),
            Err(TokenError::Unreadable)
        );
        assert_eq!(decode("%%%", 0xabcd), Err(TokenError::Unreadable));
    }
}
