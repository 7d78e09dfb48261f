//! The UTC timestamps of `x-acs-date` (V3) and `Timestamp` (V1): exactly
//! `yyyy-MM-ddTHH:mm:ssZ`, no fraction, no offset other than `Z`.

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::SignatureError;

/// The accepted shape, `d` standing for any ASCII digit.
const SHAPE: &[u8; 20] = b"dddd-dd-ddTdd:dd:ddZ";

/// Parses a wire timestamp, refusing anything but the exact form the SDKs send.
pub(super) fn parse_timestamp(text: &str) -> Result<OffsetDateTime, SignatureError> {
    let shape_matches = text.len() == SHAPE.len()
        && text
            .bytes()
            .zip(SHAPE)
            .all(|(byte, &expected)| match expected {
                b'd' => byte.is_ascii_digit(),
                _ => byte == expected,
            });
    if !shape_matches {
        return Err(SignatureError::InvalidTimestampFormat);
    }

    // The shape is right; this checks the ranges (month 13, 30 February, hour 24, ...).
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    PrimitiveDateTime::parse(text, format)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| SignatureError::InvalidTimestampFormat)
}

/// Prints `at` in UTC the way the SDKs do, e.g. `2026-12-04T15:13:49Z`.
pub(super) fn format_timestamp(at: OffsetDateTime) -> String {
    // Converting to UTC can only fail within a day of the calendar's ends; the instant is
    // then printed with its own offset dropped rather than panicking.
    let utc = at.checked_to_offset(UtcOffset::UTC).unwrap_or(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
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
