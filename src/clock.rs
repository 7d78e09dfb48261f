//! The service's notion of "now", injected everywhere time matters so that tests can move it
//! without sleeping.

use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

/// A source of the current UTC time: the system clock, or a manual clock that tests set.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<OffsetDateTime>>>,
}

impl Clock {
    /// The real system clock.
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stays at `at` until moved with [`Clock::set`] or [`Clock::advance`].
    pub fn manual(at: OffsetDateTime) -> Self {
        Self {
            manual: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// The current instant, in UTC.
    pub fn now(&self) -> OffsetDateTime {
        match &self.manual {
            None => OffsetDateTime::now_utc(),
            Some(at) => *at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Moves a manual clock to `at`; has no effect on the system clock.
    pub fn set(&self, at: OffsetDateTime) {
        if let Some(cell) = &self.manual {
            *cell.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = at;
        }
    }

    /// Moves a manual clock forward by `by`; has no effect on the system clock.
    pub fn advance(&self, by: time::Duration) {
        self.set(self.now() + by);
    }
}

/// `at` plus `wait`; the latest instant the calendar holds (the end of year 9999) when the
/// sum would be past it, so no configured wait can make time arithmetic panic.
pub fn saturating_after(at: OffsetDateTime, wait: std::time::Duration) -> OffsetDateTime {
    time::Duration::try_from(wait)
        .ok()
        .and_then(|wait| at.checked_add(wait))
        .unwrap_or_else(|| time::PrimitiveDateTime::MAX.assume_utc())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use time::macros::datetime;

    use super::*;

    #[test]
    fn saturating_after_adds_a_wait_that_fits() {
        let at = datetime!(2024-05-01 12:00 UTC);
        let later = saturating_after(at, Duration::from_millis(1_500));
        assert_eq!(later, datetime!(2024-05-01 12:00:01.5 UTC));
    }

    #[test]
    fn saturating_after_stops_at_the_end_of_the_calendar() {
        let at = datetime!(2024-05-01 12:00 UTC);
        let end = time::PrimitiveDateTime::MAX.assume_utc();
        assert_eq!(saturating_after(at, Duration::from_millis(u64::MAX)), end);
        assert_eq!(saturating_after(at, Duration::MAX), end);
    }
}
