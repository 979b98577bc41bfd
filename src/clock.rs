//! The `Clock` seam: every "now" in hozon comes from here, so tests (and the time-travel
//! renewal tests) can run the whole pipeline at a simulated instant.

use time::OffsetDateTime;

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock frozen at one instant (tests, `--at`, simulated TSA time).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// A clock that runs from a simulated start instant at the real pace, so that
/// successive events still get distinct, increasing times.
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock {
    offset: time::Duration,
}

impl OffsetClock {
    pub fn starting_at(start: OffsetDateTime) -> Self {
        OffsetClock {
            offset: start - OffsetDateTime::now_utc(),
        }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.offset
    }
}

/// Environment variable that moves hozon's clock (built-in TSA, demo PKI, checks) to a
/// simulated time. For tests and demonstrations of renewal only; it is printed on every run.
pub const SIMULATED_TIME_ENV: &str = "HOZON_SIMULATED_TIME";

/// Parse an RFC 3339 date-time or a plain `YYYY-MM-DD` (midnight UTC).
pub fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).ok().map(|d| d.midnight().assume_utc())
}

/// The clock for this process: simulated when `HOZON_SIMULATED_TIME` is set, else the system's.
pub fn from_env() -> Result<Box<dyn Clock>, String> {
    match std::env::var(SIMULATED_TIME_ENV) {
        Ok(v) if !v.trim().is_empty() => match parse_datetime(v.trim()) {
            Some(t) => Ok(Box::new(OffsetClock::starting_at(t))),
            None => Err(format!(
                "{SIMULATED_TIME_ENV}={v:?} is not an RFC 3339 date-time or YYYY-MM-DD"
            )),
        },
        _ => Ok(Box::new(SystemClock)),
    }
}

/// RFC 3339 text for reports and JSON.
pub fn rfc3339(t: OffsetDateTime) -> String {
    use time::format_description::well_known::Rfc3339;
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_and_datetimes() {
        let d = parse_datetime("2031-04-01").unwrap();
        assert_eq!(rfc3339(d), "2031-04-01T00:00:00Z");
        let t = parse_datetime("2031-04-01T09:30:00+09:00").unwrap();
        assert_eq!(rfc3339(t), "2031-04-01T00:30:00Z");
        assert!(parse_datetime("yesterday").is_none());
    }

    #[test]
    fn offset_clock_starts_at_the_simulated_time() {
        let start = parse_datetime("2040-01-01").unwrap();
        let c = OffsetClock::starting_at(start);
        let d = c.now() - start;
        assert!(d >= time::Duration::ZERO && d < time::Duration::seconds(5));
    }
}
