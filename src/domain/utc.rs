//! UTC instants in the only form Alibaba's API accepts: `yyyy-MM-ddTHH:mm:ssZ`.

use time::{macros::format_description, OffsetDateTime, PrimitiveDateTime};

const LAYOUT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// Parses `yyyy-MM-ddTHH:mm:ssZ`. Anything else (a zone-less time, an offset, a fraction, a
/// space) is `None`: a time without an explicit `Z` is malformed, never silently local.
pub fn parse_utc_seconds(text: &str) -> Option<OffsetDateTime> {
    let shape_ok = text.len() == 20
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    PrimitiveDateTime::parse(text, LAYOUT)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Formats an instant as `yyyy-MM-ddTHH:mm:ssZ` in UTC, dropping any fraction of a second.
pub fn format_utc_seconds(at: OffsetDateTime) -> String {
    // Converting to UTC fails only within a day of the calendar's ends; the instant is then
    // printed with its own offset dropped rather than panicking.
    let utc = at.checked_to_offset(time::UtcOffset::UTC).unwrap_or(at);
    let date = utc.date();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        date.year(),
        u8::from(date.month()),
        date.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_documented_form_and_round_trips() {
        let at = parse_utc_seconds("2017-12-10T08:00:00Z").expect("valid");
        assert_eq!(at.unix_timestamp(), 1_512_892_800);
        assert_eq!(format_utc_seconds(at), "2017-12-10T08:00:00Z");
    }

    #[test]
    fn rejects_zone_less_offset_and_fractional_forms() {
        for text in [
            "2017-12-10T08:00:00",
            "2017-12-10T08:00:00+08:00",
            "2017-12-10T08:00:00.000Z",
            "2017-12-10 08:00:00Z",
            "2017-13-10T08:00:00Z",
            "2017-02-30T08:00:00Z",
            "2017-12-10T24:00:00Z",
            "+017-12-10T08:00:00Z",
            "",
        ] {
            assert!(
                parse_utc_seconds(text).is_none(),
                "{text} should be rejected"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(text in ".*") {
            let _ = parse_utc_seconds(&text);
        }

        #[test]
        fn formatting_then_parsing_is_identity(secs in 0i64..4_102_444_800) {
            let at = OffsetDateTime::from_unix_timestamp(secs).expect("in range");
            prop_assert_eq!(parse_utc_seconds(&format_utc_seconds(at)), Some(at));
        }
    }
}
