//! Parameter encodings: form decoding of what arrives on the wire, and the RFC 3986
//! percent-encoding that canonical strings are built from.
//!
//! The SDKs encode the same parameters differently on the wire (`+` or `%20` for a space, raw or
//! escaped `:` `/` `*`), so a verifier must decode them and encode them again its own way; it
//! never reuses the wire text.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Bytes that [`percent_encode`] leaves alone: the RFC 3986 unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why a form-encoded string could not be decoded. Offsets count bytes from its start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormDecodeError {
    #[error("a % at byte {offset} is not followed by two hex digits")]
    BadPercentEscape { offset: usize },
    #[error("the name or value at byte {offset} does not decode to UTF-8")]
    NotUtf8 { offset: usize },
}

/// RFC 3986 percent-encoding of the UTF-8 bytes of `s`, as canonical strings use it: `A-Z a-z
/// 0-9 - _ . ~` stay as they are, every other byte becomes `%XX` with uppercase hex.
#[must_use]
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Decodes `k=v&k2=v2`: split on `&` (empty pieces are skipped), then each piece at its first
/// `=` (a piece without one is a name with an empty value); in names and values `+` is a
/// space and `%XX` a byte (hex of either case), and the bytes must be UTF-8.
pub fn form_decode(raw: &str) -> Result<Vec<(String, String)>, FormDecodeError> {
    let mut pairs = Vec::new();
    let mut offset = 0;
    for piece in raw.split('&') {
        if !piece.is_empty() {
            pairs.push(decode_pair(piece, offset)?);
        }
        offset += piece.len() + 1;
    }
    Ok(pairs)
}

/// Encodes pairs in the given order as `PE(k)=PE(v)` joined by `&`. The result form-decodes
/// back to exactly `pairs`, so it is a safe query string or form body for signed requests.
#[must_use]
pub fn form_encode(pairs: &[(String, String)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect();
    encoded.join("&")
}

/// The canonical form of a parameter set shared by signatures V1 and V3: sorted by name, then
/// by value, and form-encoded with [`percent_encode`].
pub(super) fn canonical_query<'p, I>(pairs: I) -> String
where
    I: IntoIterator<Item = (&'p str, &'p str)>,
{
    let mut sorted: Vec<(&str, &str)> = pairs.into_iter().collect();
    sorted.sort_unstable();
    let encoded: Vec<String> = sorted
        .into_iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect();
    encoded.join("&")
}

fn decode_pair(piece: &str, offset: usize) -> Result<(String, String), FormDecodeError> {
    match piece.split_once('=') {
        Some((name, value)) => Ok((
            decode_component(name, offset)?,
            decode_component(value, offset + name.len() + 1)?,
        )),
        None => Ok((decode_component(piece, offset)?, String::new())),
    }
}

fn decode_component(text: &str, offset: usize) -> Result<String, FormDecodeError> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.bytes().enumerate();
    while let Some((index, byte)) = rest.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = rest.next().and_then(|(_, digit)| hex_value(digit));
                let low = rest.next().and_then(|(_, digit)| hex_value(digit));
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(FormDecodeError::BadPercentEscape {
                        offset: offset + index,
                    });
                };
                bytes.push(high << 4 | low);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).map_err(|_| FormDecodeError::NotUtf8 { offset })
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn percent_encode_keeps_only_unreserved_characters() {
        assert_eq!(
            percent_encode("a b+c/中~*-_.:"),
            "a%20b%2Bc%2F%E4%B8%AD~%2A-_.%3A"
        );
    }

    #[test]
    fn form_decode_reads_plus_as_space_and_either_hex_case() {
        let decoded = form_decode("a=x+y%2b%2B&b=%e4%b8%AD&c&&d=").unwrap();
        assert_eq!(
            decoded,
            pairs(&[("a", "x y++"), ("b", "中"), ("c", ""), ("d", "")])
        );
    }

    #[test]
    fn form_decode_splits_at_the_first_equals_sign() {
        assert_eq!(form_decode("a=b=c").unwrap(), pairs(&[("a", "b=c")]));
    }

    #[test]
    fn form_decode_of_empty_string_is_empty() {
        assert_eq!(form_decode("").unwrap(), Vec::new());
    }

    #[test]
    fn form_decode_rejects_broken_escapes_with_their_offset() {
        assert_eq!(
            form_decode("a=1&b=%4").unwrap_err(),
            FormDecodeError::BadPercentEscape { offset: 6 }
        );
        assert_eq!(
            form_decode("%zz=1").unwrap_err(),
            FormDecodeError::BadPercentEscape { offset: 0 }
        );
    }

    #[test]
    fn form_decode_rejects_bytes_that_are_not_utf8() {
        assert_eq!(
            form_decode("a=1&b=%FF").unwrap_err(),
            FormDecodeError::NotUtf8 { offset: 6 }
        );
    }

    #[test]
    fn canonical_query_sorts_by_name_then_value() {
        let query = canonical_query([("b", "2"), ("a", "z"), ("a", "y y")]);
        assert_eq!(query, "a=y%20y&a=z&b=2");
    }

    #[test]
    fn form_encode_round_trips_through_form_decode() {
        let original = pairs(&[("x y", "a+b&c=d%"), ("", ""), ("中", "~*")]);
        assert_eq!(form_decode(&form_encode(&original)).unwrap(), original);
    }
}
