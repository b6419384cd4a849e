//! Timestamps as stored: `BIGINT` nanoseconds since the Unix epoch, UTC.
//!
//! Integers compare and sort as the instants they stand for on both backends,
//! and keep every digit of an `OffsetDateTime` (years 1678 to 2261).

use time::OffsetDateTime;

use crate::error::DieselError;

/// The stored form of `at`.
pub(crate) fn to_nanos(at: OffsetDateTime) -> Result<i64, DieselError> {
    i64::try_from(at.unix_timestamp_nanos()).map_err(|_| DieselError::TimestampOutOfRange)
}

/// The instant a stored timestamp stands for.
pub(crate) fn from_nanos(nanos: i64) -> Result<OffsetDateTime, DieselError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .map_err(|_| DieselError::TimestampOutOfRange)
}

/// The stored form of [`scimitar_store::meta::now`].
pub(crate) fn now_nanos() -> Result<i64, DieselError> {
    to_nanos(scimitar_store::meta::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_nanosecond_precision() {
        let at = OffsetDateTime::now_utc();
        assert_eq!(from_nanos(to_nanos(at).unwrap()).unwrap(), at);
    }

    #[test]
    fn refuses_years_beyond_the_range() {
        let far = time::macros::datetime!(9999-01-01 0:00 UTC);
        assert!(matches!(
            to_nanos(far),
            Err(DieselError::TimestampOutOfRange)
        ));
    }
}
