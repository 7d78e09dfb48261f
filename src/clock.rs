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
