//! The UTC timestamps of `x-acs-date` (V3) and `Timestamp` (V1): exactly
//! `yyyy-MM-ddTHH:mm:ssZ`, no fraction, no offset other than `Z`.

use time::OffsetDateTime;

use super::SignatureError;
use crate::domain::{format_utc_seconds, parse_utc_seconds};

/// Parses a wire timestamp, refusing anything but the exact form the SDKs send.
pub(super) fn parse_timestamp(text: &str) -> Result<OffsetDateTime, SignatureError> {
    parse_utc_seconds(text).ok_or(SignatureError::InvalidTimestampFormat)
}

/// Prints `at` in UTC the way the SDKs do, e.g. `2026-12-04T15:13:49Z`.
pub(super) fn format_timestamp(at: OffsetDateTime) -> String {
    format_utc_seconds(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn parses_the_sdk_form() {
        let parsed = parse_timestamp("2026-12-04T15:13:49Z").unwrap();
        assert_eq!(parsed, datetime!(2026-12-04 15:13:49 UTC));
    }

    #[test]
    fn refuses_every_other_form() {
        for text in [
            "2026-12-04T15:13:49.000Z",
            "2026-12-04T15:13:49+00:00",
            "2026-12-04T15:13:49",
            "2026-12-04 15:13:49Z",
            "2026-12-04t15:13:49z",
            "2026-13-04T15:13:49Z",
            "2026-02-30T15:13:49Z",
            "2026-12-04T24:00:00Z",
            "+026-12-04T15:13:49Z",
            "２026-12-04T15:13:49Z",
            "",
        ] {
            assert_eq!(
                parse_timestamp(text),
                Err(SignatureError::InvalidTimestampFormat),
                "{text}"
            );
        }
    }

    #[test]
    fn formats_in_utc() {
        let at = datetime!(2026-12-04 23:13:49 +08:00);
        assert_eq!(format_timestamp(at), "2026-12-04T15:13:49Z");
    }
}
