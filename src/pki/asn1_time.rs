//! Conversions between OpenSSL's ASN.1 times (UTCTime / GeneralizedTime) and `OffsetDateTime`.

use openssl::asn1::{Asn1GeneralizedTimeRef, Asn1Time, Asn1TimeRef};
use time::OffsetDateTime;

use super::PkiError;

/// An OpenSSL time as UTC `OffsetDateTime` (difference to the Unix epoch, so both UTCTime and
/// GeneralizedTime work without text parsing).
pub fn to_offset(t: &Asn1TimeRef) -> Result<OffsetDateTime, PkiError> {
    let epoch = Asn1Time::from_unix(0).map_err(PkiError::ossl("making the epoch"))?;
    let d = epoch.diff(t).map_err(PkiError::ossl("comparing times"))?;
    let secs = i64::from(d.days) * 86_400 + i64::from(d.secs);
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| PkiError::Time(e.to_string()))
}

/// An `OffsetDateTime` as OpenSSL time; UTCTime up to 2049, GeneralizedTime after (RFC 5280).
pub fn from_offset(t: OffsetDateTime) -> Result<Asn1Time, PkiError> {
    Asn1Time::from_unix(t.unix_timestamp()).map_err(PkiError::ossl("setting a time"))
}

/// A GeneralizedTime (as OCSP uses) from OpenSSL's printed form, e.g. `Jan  2 03:04:05 2030 GMT`
/// (fractional seconds allowed). OpenSSL offers no numeric accessor for this type.
pub fn generalized_to_offset(t: &Asn1GeneralizedTimeRef) -> Result<OffsetDateTime, PkiError> {
    parse_printed(&t.to_string()).ok_or_else(|| PkiError::Time(format!("unreadable time {t}")))
}

fn parse_printed(s: &str) -> Option<OffsetDateTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut it = s.split_whitespace();
    let mon = it.next()?;
    let month_index = MONTHS.iter().position(|m| *m == mon)?;
    let day: u8 = it.next()?.parse().ok()?;
    let hms = it.next()?;
    let year: i32 = it.next()?.parse().ok()?;
    if it.next()? != "GMT" || it.next().is_some() {
        return None;
    }
    let hms = hms.split('.').next()?;
    let mut parts = hms.split(':');
    let h: u8 = parts.next()?.parse().ok()?;
    let m: u8 = parts.next()?.parse().ok()?;
    let sec: u8 = parts.next()?.parse().ok()?;
    let month = time::Month::try_from(u8::try_from(month_index + 1).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let t = time::Time::from_hms(h, m, sec).ok()?;
    Some(date.with_time(t).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::asn1::Asn1GeneralizedTime;
    use time::macros::datetime;

    #[test]
    fn utc_time_round_trips() {
        let t = datetime!(2031-04-01 09:30:15 UTC);
        let a = from_offset(t).unwrap();
        // 2031 is inside UTCTime's range: printed with two-digit year in DER, same instant back.
        assert_eq!(to_offset(&a).unwrap(), t);
        assert_eq!(a.to_string(), "Apr  1 09:30:15 2031 GMT");
    }

    #[test]
    fn generalized_time_round_trips() {
        // After 2049 RFC 5280 requires GeneralizedTime.
        let t = datetime!(2061-12-31 23:59:59 UTC);
        let a = from_offset(t).unwrap();
        assert_eq!(to_offset(&a).unwrap(), t);
        let before_epoch = datetime!(1969-07-20 20:17:00 UTC);
        assert_eq!(to_offset(&from_offset(before_epoch).unwrap()).unwrap(), before_epoch);
    }

    #[test]
    fn generalized_time_from_printed_form() {
        let g = Asn1GeneralizedTime::from_str("20300102030405Z").unwrap();
        assert_eq!(generalized_to_offset(&g).unwrap(), datetime!(2030-01-02 03:04:05 UTC));
        assert_eq!(parse_printed("Feb 30 00:00:00 2030 GMT"), None);
        assert_eq!(
            parse_printed("Jan  2 03:04:05.123 2030 GMT"),
            Some(datetime!(2030-01-02 03:04:05 UTC))
        );
        assert_eq!(parse_printed("garbage"), None);
    }
}
