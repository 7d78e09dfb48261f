//! The customer's answer as a notify record keeps it (NotifyResponse): at most the first
//! [`NOTIFY_RESPONSE_CAP`] bytes of the body, read chunk by chunk and no further, so a huge
//! answer costs no memory. UTF-8 text is kept as it is; anything else (text holding a NUL,
//! which PostgreSQL cannot store, and text that itself starts with `base64:`) is kept as
//! `base64:` followed by the standard base64 of the bytes.

use base64::Engine;

/// How many bytes of a response body a notify record keeps.
pub const NOTIFY_RESPONSE_CAP: usize = 4096;

const BASE64_PREFIX: &str = "base64:";

/// The first bytes of a body, and whether the body went on past them.
#[derive(Debug, Default)]
pub struct BodyPrefix {
    pub bytes: Vec<u8>,
    pub truncated: bool,
}

/// Reads at most `cap` bytes of `response`'s body. A read error is returned with what was
/// read before it.
pub async fn read_prefix(
    response: &mut reqwest::Response,
    cap: usize,
) -> (BodyPrefix, Option<reqwest::Error>) {
    let mut prefix = BodyPrefix::default();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = cap - prefix.bytes.len();
                if chunk.len() > room {
                    prefix.bytes.extend_from_slice(&chunk[..room]);
                    prefix.truncated = true;
                    return (prefix, None);
                }
                prefix.bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return (prefix, None),
            Err(error) => return (prefix, Some(error)),
        }
    }
}

/// The body as NotifyResponse text: UTF-8 without NUL unchanged (a character cut by the cap
/// is dropped), anything else as `base64:<standard base64>`.
pub fn encode(prefix: &BodyPrefix) -> String {
    let text = match std::str::from_utf8(&prefix.bytes) {
        Ok(text) => Some(text),
        // Only the cap can cut a character in two; the bytes before it are whole text.
        Err(error) if prefix.truncated && error.error_len().is_none() => {
            std::str::from_utf8(&prefix.bytes[..error.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    match text {
        // A NUL is valid UTF-8, but PostgreSQL text cannot hold it.
        Some(text) if !text.starts_with(BASE64_PREFIX) && !text.contains('\0') => text.to_string(),
        _ => format!(
            "{BASE64_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(&prefix.bytes)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(bytes: &[u8], truncated: bool) -> String {
        encode(&BodyPrefix {
            bytes: bytes.to_vec(),
            truncated,
        })
    }

    #[test]
    fn utf8_text_is_kept_as_it_is() {
        assert_eq!(
            encoded("{\"code\":0,\"msg\":\"好\"}".as_bytes(), false),
            "{\"code\":0,\"msg\":\"好\"}"
        );
        assert_eq!(encoded(b"", false), "");
    }

    #[test]
    fn text_holding_a_nul_is_base64() {
        assert_eq!(encoded(b"ok\0nul", false), "base64:b2sAbnVs");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_base64() {
        assert_eq!(encoded(&[0xff, 0xfe, 0x00, 0x41], false), "base64://4AQQ==");
    }

    #[test]
    fn text_that_looks_encoded_is_encoded_so_reading_back_is_unambiguous() {
        assert_eq!(encoded(b"base64:abc", false), "base64:YmFzZTY0OmFiYw==");
    }

    #[test]
    fn a_character_cut_by_the_cap_is_dropped_not_encoded() {
        let mut bytes = b"ok ".to_vec();
        bytes.extend_from_slice(&"好".as_bytes()[..2]);

        assert_eq!(encoded(&bytes, true), "ok ");
        assert!(encoded(&bytes, false).starts_with("base64:"));
    }
}
