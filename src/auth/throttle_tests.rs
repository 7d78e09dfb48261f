//! The limiter on a fixed timeline: exact counts, refill, separate budgets, bounded memory.

use super::*;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-12-04 15:00:00 UTC);
const RECORDS: &str = "DescribeLiveStreamsNotifyRecords";
const SET: &str = "SetLiveStreamsNotifyUrlConfig";

fn account(id: &str) -> UserKey {
    UserKey::Account(id.to_string())
}

fn burst(throttle: &Throttle, user: &UserKey, action: &str, n: usize, at: OffsetDateTime) -> usize {
    (0..n)
        .filter(|_| throttle.admit(user, action, at).is_ok())
        .count()
}

#[test]
fn a_burst_in_one_instant_gets_exactly_the_limit() {
    let throttle = Throttle::new(ThrottleLimits::default());
    let user = account("1");
    assert_eq!(burst(&throttle, &user, RECORDS, 150, T0), 100);
    assert_eq!(burst(&throttle, &user, SET, 40, T0), 15);
    assert_eq!(
        burst(
            &throttle,
            &user,
            "DescribeLiveStreamsNotifyUrlConfig",
            1200,
            T0
        ),
        1000
    );
}

#[test]
fn the_bucket_refills_at_the_rate() {
    let throttle = Throttle::new(ThrottleLimits::default());
    let user = account("1");
    assert_eq!(burst(&throttle, &user, RECORDS, 100, T0), 100);
    let refused = throttle.admit(&user, RECORDS, T0);
    assert_eq!(refused, Err(Throttled { retry_after_ms: 10 }));

    let ten_ms = T0 + Duration::milliseconds(10);
    assert_eq!(burst(&throttle, &user, RECORDS, 5, ten_ms), 1);
    // The token taken at 10 ms is back 1 s later.
    assert_eq!(
        burst(&throttle, &user, RECORDS, 150, ten_ms + Duration::SECOND),
        100
    );
    assert_eq!(burst(&throttle, &user, SET, 15, T0), 15);
    assert_eq!(burst(&throttle, &user, SET, 15, T0 + Duration::SECOND), 15);
}

#[test]
fn retry_after_is_the_wait_for_one_token_rounded_up() {
    let throttle = Throttle::new(ThrottleLimits::default());
    let user = account("1");
    burst(&throttle, &user, SET, 15, T0);
    // 15 a second: one token every 66.67 ms.
    assert_eq!(
        throttle.admit(&user, SET, T0),
        Err(Throttled { retry_after_ms: 67 })
    );
    let almost = T0 + Duration::milliseconds(66);
    assert_eq!(
        throttle.admit(&user, SET, almost),
        Err(Throttled { retry_after_ms: 1 })
    );
    assert_eq!(
        throttle.admit(&user, SET, T0 + Duration::milliseconds(67)),
        Ok(())
    );
}

#[test]
fn users_and_actions_have_separate_budgets() {
    let throttle = Throttle::new(ThrottleLimits::default());
    assert_eq!(burst(&throttle, &account("1"), RECORDS, 120, T0), 100);
    assert_eq!(burst(&throttle, &account("2"), RECORDS, 120, T0), 100);
    let ram = UserKey::RamUser("1".into());
    assert_eq!(
        burst(&throttle, &ram, RECORDS, 120, T0),
        100,
        "a RAM user is not its account"
    );
    assert_eq!(burst(&throttle, &account("1"), SET, 20, T0), 15);
}

#[test]
fn a_clock_that_steps_back_does_not_throttle_for_long() {
    let throttle = Throttle::new(ThrottleLimits::default());
    let user = account("1");
    burst(&throttle, &user, RECORDS, 100, T0);
    let earlier = T0 - Duration::hours(1);
    let Err(Throttled { retry_after_ms }) = throttle.admit(&user, RECORDS, earlier) else {
        panic!("still throttled")
    };
    assert!(retry_after_ms <= 10, "{retry_after_ms}");
}

#[test]
fn limits_are_configurable_per_action() {
    let mut limits = ThrottleLimits::default();
    let three = NonZeroU32::new(3).expect("non-zero");
    limits
        .per_action
        .insert(RECORDS.into(), Rate::per_second(three));
    limits.default = Rate {
        per_second: NonZeroU32::MIN,
        burst: three,
    };
    let throttle = Throttle::new(limits);
    assert_eq!(burst(&throttle, &account("1"), RECORDS, 10, T0), 3);
    assert_eq!(
        burst(&throttle, &account("1"), "SomeOtherAction", 10, T0),
        3
    );
    assert_eq!(
        burst(
            &throttle,
            &account("1"),
            "SomeOtherAction",
            10,
            T0 + Duration::SECOND
        ),
        1
    );
}

#[test]
fn full_buckets_are_forgotten() {
    let throttle = Throttle::new(ThrottleLimits::default());
    for n in 0..1000 {
        throttle
            .admit(&account(&n.to_string()), RECORDS, T0)
            .expect("first call passes");
    }
    assert_eq!(throttle.len(), 1000);
    throttle
        .admit(&account("x"), RECORDS, T0 + Duration::SECOND)
        .expect("passes");
    assert_eq!(throttle.len(), 1, "every other bucket was full again");
}

#[test]
fn memory_stays_bounded_whatever_the_number_of_users() {
    let limits = ThrottleLimits {
        max_tracked: 10_000,
        ..ThrottleLimits::default()
    };
    let throttle = Throttle::new(limits);
    // 100k distinct users in the same instant: no bucket is full, so eviction must bound it.
    for n in 0..100_000u32 {
        throttle
            .admit(&account(&n.to_string()), RECORDS, T0)
            .expect("first call passes");
        assert!(throttle.len() <= 10_000);
    }
    assert_eq!(throttle.len(), 10_000);
    // A heavy user keeps being throttled while the map churns.
    let heavy = account("heavy");
    assert_eq!(burst(&throttle, &heavy, RECORDS, 150, T0), 100);
    assert!(throttle.admit(&heavy, RECORDS, T0).is_err());
}

#[test]
fn concurrent_callers_share_one_budget() {
    let throttle = std::sync::Arc::new(Throttle::new(ThrottleLimits::default()));
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let throttle = std::sync::Arc::clone(&throttle);
            std::thread::spawn(move || burst(&throttle, &account("1"), RECORDS, 50, T0))
        })
        .collect();
    let admitted: usize = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    assert_eq!(admitted, 100);
}
