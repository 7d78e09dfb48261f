//! How both stores answer TotalNum and find a deep page without scanning a whole time range:
//! the range is cut into the partial hour at each end (counted from the records' index) and
//! the full hours between them (summed from the hourly count tables). This module holds that
//! arithmetic; each backend runs the counting statements.

/// One hour, in the milliseconds instants are stored in.
pub(crate) const HOUR_MS: i64 = 3_600_000;

/// The full hours of `[start, end)` (milliseconds), as hour numbers `[first, last)`, or
/// `None` when the range holds no full hour.
pub(crate) fn full_hours(start: i64, end: i64) -> Option<(i64, i64)> {
    let first = start.div_euclid(HOUR_MS) + i64::from(start.rem_euclid(HOUR_MS) != 0);
    let last = end.div_euclid(HOUR_MS);
    (first < last).then_some((first, last))
}

/// The records a query selects, as segments of time, newest first, with their counts.
pub(crate) struct Breakdown {
    segments: Vec<Segment>,
}

struct Segment {
    /// The segment holds records with `notify_time < before` (and after the next segment).
    before: i64,
    count: i64,
}

/// Where a page starts: the newest record below `before`, after skipping `skip` of them.
pub(crate) struct PageStart {
    pub before: i64,
    pub skip: i64,
}

impl Breakdown {
    /// A range counted in one piece, ending at `end`.
    pub fn whole(end: i64, count: i64) -> Self {
        Self {
            segments: vec![Segment { before: end, count }],
        }
    }

    /// A range ending at `end`: `newest` records in the partial hour at its end, then the
    /// full hours (hour number and count, newest first, empty hours left out), then `oldest`
    /// records in the partial hour before the first full hour `first`.
    pub fn by_hours(
        end: i64,
        newest: i64,
        hours: Vec<(i64, i64)>,
        first: i64,
        oldest: i64,
    ) -> Self {
        let mut segments = vec![Segment {
            before: end,
            count: newest,
        }];
        segments.extend(hours.into_iter().map(|(hour, count)| Segment {
            before: (hour + 1) * HOUR_MS,
            count,
        }));
        segments.push(Segment {
            before: first * HOUR_MS,
            count: oldest,
        });
        Self { segments }
    }

    pub fn total(&self) -> i64 {
        self.segments.iter().map(|s| s.count).sum()
    }

    /// The start of the page beginning `offset` records from the newest, if there is one.
    pub fn seek(&self, offset: i64) -> Option<PageStart> {
        let mut remaining = offset;
        for segment in &self.segments {
            if remaining < segment.count {
                return Some(PageStart {
                    before: segment.before,
                    skip: remaining,
                });
            }
            remaining -= segment.count;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_hours_leave_out_the_partial_ends() {
        assert_eq!(full_hours(0, HOUR_MS), Some((0, 1)));
        assert_eq!(full_hours(1, 2 * HOUR_MS + 5), Some((1, 2)));
        assert_eq!(full_hours(1, 2 * HOUR_MS - 1), None);
    }

    #[test]
    fn seeking_walks_the_segments_newest_first() {
        let b = Breakdown::by_hours(10 * HOUR_MS + 7, 3, vec![(9, 5), (7, 2)], 6, 4);
        assert_eq!(b.total(), 14);
        let at = |offset| b.seek(offset).map(|p| (p.before, p.skip));
        assert_eq!(at(0), Some((10 * HOUR_MS + 7, 0)));
        assert_eq!(at(4), Some((10 * HOUR_MS, 1)));
        assert_eq!(at(9), Some((8 * HOUR_MS, 1)));
        assert_eq!(at(13), Some((6 * HOUR_MS, 3)));
        assert_eq!(at(14).map(|_| ()), None);
    }
}
