//! What a route takes from a request: its method (every GET answers HEAD
//! too, RFC 9110) and small bodies, read whole whether they come with a
//! `Content-Length` or chunked.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::TryStreamExt;
use warp::{Filter, Rejection};

use crate::error::Error;

/// GET, and HEAD with it: the same handler answers both, and hyper sends
/// no body for a HEAD (the headers are the GET's).
pub fn get() -> impl Filter<Extract = (), Error = Rejection> + Clone + Send + Sync + 'static {
    warp::get().or(warp::head()).unify()
}

/// A body of at most `limit` bytes: refused at once when its
/// `Content-Length` says more, read as it comes when it is chunked, and
/// refused as soon as it passes the limit.
pub fn small(
    limit: usize,
) -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone + Send + Sync + 'static {
    warp::header::optional::<u64>("content-length")
        .and(warp::body::stream())
        .and_then(move |length: Option<u64>, body| read_small(length, body, limit))
}

async fn read_small<S, B>(length: Option<u64>, body: S, limit: usize) -> Result<Bytes, Rejection>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let too_large = || {
        warp::reject::custom(Error::TooLarge(format!(
            "The request body is over {limit} bytes; nothing was read."
        )))
    };
    if length.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = std::pin::pin!(body);
    let mut all = BytesMut::new();
    while let Some(mut chunk) = body
        .try_next()
        .await
        .map_err(|_| warp::reject::custom(Error::Aborted))?
    {
        if all.len() + chunk.remaining() > limit {
            return Err(too_large());
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            let n = part.len();
            all.put_slice(part);
            chunk.advance(n);
        }
    }
    Ok(all.freeze())
}

/// A small body as JSON or as a form, or none at all (a bare button):
/// anything else is refused with a sentence.
pub fn fields<T>() -> impl Filter<Extract = (T,), Error = Rejection> + Clone + Send + Sync + 'static
where
    T: serde::de::DeserializeOwned + Default + Send + 'static,
{
    warp::header::optional::<String>("content-type")
        .and(small(16 * 1024))
        .and_then(|kind: Option<String>, body: Bytes| async move {
            parse_fields(kind.as_deref(), &body).map_err(warp::reject::custom)
        })
}

/// A form alone (the password form).
pub fn form<T>() -> impl Filter<Extract = (T,), Error = Rejection> + Clone + Send + Sync + 'static
where
    T: serde::de::DeserializeOwned + Send + 'static,
{
    small(16 * 1024).and_then(|body: Bytes| async move {
        serde_urlencoded::from_bytes(&body).map_err(|e| {
            warp::reject::custom(Error::BadRequest(format!(
                "The form could not be read: {e}."
            )))
        })
    })
}

fn parse_fields<T>(kind: Option<&str>, body: &[u8]) -> Result<T, Error>
where
    T: serde::de::DeserializeOwned + Default,
{
    let kind = kind.map(|k| {
        k.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match kind.as_deref() {
        // A bare button sends no type; what it sends is not read.
        None => Ok(T::default()),
        Some("application/json") => serde_json::from_slice(body)
            .map_err(|e| Error::BadRequest(format!("The JSON could not be read: {e}."))),
        Some("application/x-www-form-urlencoded") => serde_urlencoded::from_bytes(body)
            .map_err(|e| Error::BadRequest(format!("The form could not be read: {e}."))),
        _ => Err(Error::BadRequest(
            "The request must be JSON or a form.".into(),
        )),
    }
}

/// Why a small multipart field could not be read.
pub enum FieldError {
    /// The body broke off (the client went, or the form was malformed).
    BrokeOff(String),
    /// Longer than the field may be.
    TooLong,
}

/// A small multipart field (a folder name, a token) as text, at most
/// `limit` bytes, read as it comes.
pub async fn small_field(part: warp::multipart::Part, limit: usize) -> Result<String, FieldError> {
    use futures_util::StreamExt;
    let mut value = Vec::new();
    let mut s = Box::pin(part.stream());
    while let Some(chunk) = s.next().await {
        let chunk = chunk.map_err(|e| FieldError::BrokeOff(e.to_string()))?;
        value.extend_from_slice(chunk.chunk());
        if value.len() > limit {
            return Err(FieldError::TooLong);
        }
    }
    Ok(String::from_utf8_lossy(&value).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    struct F {
        to: Option<String>,
    }

    #[test]
    fn fields_come_as_json_a_form_or_nothing() {
        let want = F {
            to: Some("a b".into()),
        };
        assert_eq!(
            parse_fields::<F>(Some("application/json"), br#"{"to":"a b"}"#).unwrap(),
            want
        );
        assert_eq!(
            parse_fields::<F>(
                Some("application/x-www-form-urlencoded; charset=UTF-8"),
                b"to=a+b"
            )
            .unwrap(),
            want
        );
        assert_eq!(parse_fields::<F>(None, b"").unwrap(), F::default());
        assert!(parse_fields::<F>(Some("text/plain"), b"to=x").is_err());
        assert!(parse_fields::<F>(Some("application/json"), b"{").is_err());
    }

    #[test]
    fn every_route_takes_get_through_the_one_filter_that_adds_head() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/web");
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap();
            let plain = text.matches(concat!("warp::", "get()")).count();
            let allowed = usize::from(e.file_name() == "body.rs");
            assert_eq!(plain, allowed, "{:?} routes a GET without HEAD", e.path());
        }
    }
}
