//! Points in time as the core sees them: Unix milliseconds, with a precision for event times.
//! The core never reads the wall clock; every time comes from a report.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::core::error::ValidationError;
use crate::core::limits::{MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS};

/// Milliseconds since the Unix epoch, within [`MIN_TIMESTAMP_MS`]..=[`MAX_TIMESTAMP_MS`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Milliseconds in one hour.
pub const HOUR_MS: i64 = 3_600_000;
/// Milliseconds in one day.
pub const DAY_MS: i64 = 24 * HOUR_MS;

impl Timestamp {
    /// Builds a timestamp from Unix milliseconds, enforcing the accepted range.
    pub fn from_millis(field: &str, ms: i64) -> Result<Self, ValidationError> {
        if !(MIN_TIMESTAMP_MS..=MAX_TIMESTAMP_MS).contains(&ms) {
            return Err(ValidationError::OutOfRange {
                field: field.to_string(),
                value: ms.to_string(),
                min: MIN_TIMESTAMP_MS.to_string(),
                max: MAX_TIMESTAMP_MS.to_string(),
            });
        }
        Ok(Self(ms))
    }

    /// Parses an RFC 3339 timestamp (`2017-08-13T09:30:00Z`), enforcing the accepted range.
    pub fn parse_rfc3339(field: &str, s: &str) -> Result<Self, ValidationError> {
        let ms = Self::millis_of(field, s, parse_rfc3339(field, s)?)?;
        Self::from_millis(field, ms).map_err(|_| Self::out_of_range(field, s.to_string()))
    }

    /// Unix milliseconds of a parsed time, digits below the millisecond dropped towards zero;
    /// an error says `s`, the form it was given in.
    fn millis_of(field: &str, s: &str, dt: OffsetDateTime) -> Result<i64, ValidationError> {
        i64::try_from(dt.unix_timestamp_nanos() / 1_000_000)
            .map_err(|_| Self::out_of_range(field, s.to_string()))
    }

    /// Parses an RFC 3339 timestamp as the date it names where it was written: that date's
    /// midnight UTC, the time of day and the offset dropped (`2017-08-13T00:00:00+03:00` is
    /// 13 August, not 12 August 21:00 UTC). For event times known to the day or coarser, which
    /// are local dates.
    pub fn parse_rfc3339_date(field: &str, s: &str) -> Result<Self, ValidationError> {
        // The wall-clock time as written, its digits below the millisecond dropped as for any
        // time (so both forms agree on a time a hair before midnight), then its day.
        let wall = parse_rfc3339(field, s)?.replace_offset(time::UtcOffset::UTC);
        let ms = Self::millis_of(field, s, wall)?;
        Self::from_millis(field, ms.div_euclid(DAY_MS) * DAY_MS)
            .map_err(|_| Self::out_of_range(field, s.to_string()))
    }

    /// Parses RFC 3339 text known to the month: the first day of the month of its date (see
    /// [`Self::parse_rfc3339_date`]). Any date of the month names the month alike.
    pub fn parse_rfc3339_month(field: &str, s: &str) -> Result<Self, ValidationError> {
        let (start, _) = Self::parse_rfc3339_date(field, s)?.month_bounds();
        Self::from_millis(field, start).map_err(|_| Self::out_of_range(field, s.to_string()))
    }

    /// The error for a time outside the accepted range, `value` as the input gave it; the
    /// range is given in RFC 3339.
    pub fn out_of_range(field: &str, value: String) -> ValidationError {
        Self::later_than(field, value, Self(MAX_TIMESTAMP_MS).to_rfc3339())
    }

    /// The error for a time later than `max` (RFC 3339 text, which may say why it is the
    /// bound), `value` as the input gave it.
    pub fn later_than(field: &str, value: String, max: String) -> ValidationError {
        ValidationError::OutOfRange {
            field: field.to_string(),
            value,
            min: Self(MIN_TIMESTAMP_MS).to_rfc3339(),
            max,
        }
    }

    /// Unix milliseconds.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// The day number since the epoch (floor), used to bucket incidents for linking.
    pub fn day(self) -> i64 {
        self.0.div_euclid(DAY_MS)
    }

    /// The calendar month (UTC) this time's date lies in, as Unix milliseconds from its first
    /// day's midnight up to the next month's. A month-precision time names that month.
    pub fn month_bounds(self) -> (i64, i64) {
        let Ok(dt) = OffsetDateTime::from_unix_timestamp(self.0.div_euclid(1000)) else {
            return (self.0, self.0);
        };
        let (year, month) = (dt.year(), dt.month());
        let (next_year, next_month) = match month {
            time::Month::December => (year + 1, time::Month::January),
            m => (year, m.next()),
        };
        let first = |y, m| {
            time::Date::from_calendar_date(y, m, 1).map(|d| {
                d.midnight()
                    .assume_utc()
                    .unix_timestamp()
                    .saturating_mul(1000)
            })
        };
        match (first(year, month), first(next_year, next_month)) {
            (Ok(start), Ok(end)) => (start, end),
            _ => (self.0, self.0),
        }
    }

    /// The date as `YYYYMMDD`, used in derived incident ids.
    pub fn compact_date(self) -> String {
        match OffsetDateTime::from_unix_timestamp(self.0.div_euclid(1000)) {
            Ok(dt) => format!("{:04}{:02}{:02}", dt.year(), u8::from(dt.month()), dt.day()),
            Err(_) => "00000000".into(),
        }
    }

    /// RFC 3339 text with millisecond precision when needed, always in UTC.
    pub fn to_rfc3339(self) -> String {
        let secs = self.0.div_euclid(1000);
        let millis = self.0.rem_euclid(1000);
        // In range by construction: MIN/MAX_TIMESTAMP_MS are far inside `time`'s range.
        let Ok(dt) = OffsetDateTime::from_unix_timestamp(secs) else {
            return self.0.to_string();
        };
        // Written digit by digit: this runs for every time in every encoded update.
        let mut out = String::with_capacity(24);
        fn digits(out: &mut String, n: u32, width: u32) {
            for i in (0..width).rev() {
                out.push(char::from(b'0' + ((n / 10u32.pow(i)) % 10) as u8));
            }
        }
        // Years are 1900..=2100 by construction.
        digits(&mut out, dt.year().unsigned_abs(), 4);
        out.push('-');
        digits(&mut out, u32::from(u8::from(dt.month())), 2);
        out.push('-');
        digits(&mut out, u32::from(dt.day()), 2);
        out.push('T');
        digits(&mut out, u32::from(dt.hour()), 2);
        out.push(':');
        digits(&mut out, u32::from(dt.minute()), 2);
        out.push(':');
        digits(&mut out, u32::from(dt.second()), 2);
        if millis != 0 {
            out.push('.');
            digits(&mut out, millis as u32, 3);
        }
        out.push('Z');
        out
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_rfc3339())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse_rfc3339("timestamp", &s).map_err(serde::de::Error::custom)
    }
}

/// Parses RFC 3339 text, or says why it is not.
fn parse_rfc3339(field: &str, s: &str) -> Result<OffsetDateTime, ValidationError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| ValidationError::Malformed {
        field: field.to_string(),
        reason: format!("not an RFC 3339 timestamp: {}", not_rfc3339(s, &e)),
    })
}

/// What a time that is not RFC 3339 lacks, told from its shape for the two forms most often
/// written instead (a date alone, a time without an offset); else the form expected, with the
/// parser's detail.
fn not_rfc3339(s: &str, e: &time::error::Parse) -> String {
    let b = s.as_bytes();
    if is_date(b) && b.len() == 10 {
        return format!("a date alone needs a time and offset: write {s}T00:00:00Z");
    }
    let time = b.get(11..).unwrap_or_default();
    if is_date(b) && matches!(b.get(10), Some(b'T' | b't' | b' ')) && is_time_without_offset(time) {
        return "the time needs an offset, Z or e.g. +03:00".to_string();
    }
    format!(
        "expected a date, time and offset such as 2017-08-13T00:00:00Z or \
         2017-08-14T09:00:00+03:00 ({e})"
    )
}

/// Whether `b` begins with a date, `YYYY-MM-DD`, followed by at most a separator and more.
fn is_date(b: &[u8]) -> bool {
    b.len() >= 10 && digits_and(&b[..10], b"dddd-dd-dd") && (b.len() == 10 || b.len() > 11)
}

/// Whether `b` is a time of day, `HH:MM:SS` with any fraction, and nothing after it.
fn is_time_without_offset(b: &[u8]) -> bool {
    let Some((whole, fraction)) = b.split_at_checked(8) else {
        return false;
    };
    digits_and(whole, b"dd:dd:dd")
        && (fraction.is_empty()
            || (fraction.len() > 1
                && fraction[0] == b'.'
                && fraction[1..].iter().all(u8::is_ascii_digit)))
}

/// Whether `b` has the shape of `pattern`, in which `d` stands for any ASCII digit.
fn digits_and(b: &[u8], pattern: &[u8]) -> bool {
    b.len() == pattern.len()
        && b.iter().zip(pattern).all(|(c, p)| match p {
            b'd' => c.is_ascii_digit(),
            p => c == p,
        })
}

/// How precisely a report knows when an incident happened. Coarser precision widens the
/// window in which two reports can be linked.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum TimePrecision {
    /// Known to the minute.
    Exact,
    /// Known to the hour.
    Hour,
    /// Known to the day (the timestamp is that day's midnight UTC, the date as the report
    /// gave it).
    #[default]
    Day,
    /// Known to the week.
    Week,
    /// Known to the month.
    Month,
}

impl TimePrecision {
    /// The precision's name as reports write it (`day`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// Whether a time of this precision names a date rather than an instant: a report knows
    /// the day (or week, or month) of the incident where it happened, not its time of day.
    pub fn names_a_date(self) -> bool {
        self >= Self::Day
    }

    /// Whether a time of this precision tells one day's incident from the next day's: exact,
    /// hour or day. Only such times bound the days an incident spans (see `Profile::sharp`).
    pub fn is_sharp(self) -> bool {
        self <= Self::Day
    }

    /// The largest gap between two event times at this precision that can still be one incident.
    pub fn link_window_ms(self) -> i64 {
        match self {
            Self::Exact => 6 * HOUR_MS,
            Self::Hour => 12 * HOUR_MS,
            // A day-precision date may be local time anywhere: allow the neighbouring day.
            Self::Day => 36 * HOUR_MS,
            Self::Week => 7 * DAY_MS,
            Self::Month => 31 * DAY_MS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_runs_from_its_first_day_to_the_next_months() {
        let at = |s| Timestamp::parse_rfc3339("t", s).unwrap().millis();
        let mid = Timestamp::parse_rfc3339("t", "2017-08-13T00:00:00Z").unwrap();
        assert_eq!(
            mid.month_bounds(),
            (at("2017-08-01T00:00:00Z"), at("2017-09-01T00:00:00Z"))
        );
        let december = Timestamp::parse_rfc3339("t", "2016-12-31T23:00:00Z").unwrap();
        assert_eq!(
            december.month_bounds(),
            (at("2016-12-01T00:00:00Z"), at("2017-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn rfc3339_round_trips_and_enforces_range() {
        let t = Timestamp::parse_rfc3339("t", "2017-08-13T09:30:00Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2017-08-13T09:30:00Z");
        assert_eq!(t.compact_date(), "20170813");
        let t = Timestamp::parse_rfc3339("t", "2017-08-13T09:30:00.250+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2017-08-13T07:30:00.250Z");
        let early = Timestamp::parse_rfc3339("t", "1899-12-31T23:59:59Z").unwrap_err();
        assert_eq!(
            early.to_string(),
            "t: 1899-12-31T23:59:59Z is outside 1900-01-01T00:00:00Z..=2100-01-01T00:00:00Z"
        );
        assert!(matches!(
            Timestamp::parse_rfc3339("t", "2100-01-01T00:00:01Z"),
            Err(ValidationError::OutOfRange { .. })
        ));
        assert!(matches!(
            Timestamp::parse_rfc3339("t", "yesterday"),
            Err(ValidationError::Malformed { .. })
        ));
        let before_epoch = Timestamp::from_millis("t", -1).unwrap();
        assert_eq!(before_epoch.to_rfc3339(), "1969-12-31T23:59:59.999Z");
    }

    fn reason(s: &str) -> String {
        match Timestamp::parse_rfc3339("t", s) {
            Err(ValidationError::Malformed { field, reason }) if field == "t" => reason,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn a_time_not_in_rfc_3339_is_told_what_it_lacks() {
        // A date alone, the natural way to write a day-precision date.
        assert_eq!(
            reason("2017-08-13"),
            "not an RFC 3339 timestamp: a date alone needs a time and offset: write \
             2017-08-13T00:00:00Z"
        );
        // A time without an offset, with either separator, with and without a fraction.
        for s in [
            "2017-08-14 12:00:00",
            "2017-08-14T12:00:00",
            "2017-08-14t12:00:00.250",
        ] {
            assert_eq!(
                reason(s),
                "not an RFC 3339 timestamp: the time needs an offset, Z or e.g. +03:00",
                "{s}"
            );
        }
        // Anything else: the form expected, and the parser's detail.
        for s in [
            "14 Aug 2017",
            "2017-08-14T12:00Z",
            "2017-08-14T",
            "",
            "2017-08-1",
        ] {
            let r = reason(s);
            assert!(
                r.starts_with(
                    "not an RFC 3339 timestamp: expected a date, time and offset such as \
                     2017-08-13T00:00:00Z or 2017-08-14T09:00:00+03:00 ("
                ),
                "{s}: {r}"
            );
        }
    }

    #[test]
    fn a_precision_is_named_as_reports_write_it() {
        for p in [
            TimePrecision::Exact,
            TimePrecision::Hour,
            TimePrecision::Day,
            TimePrecision::Week,
            TimePrecision::Month,
        ] {
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::json!(p.as_str())
            );
        }
    }
}
