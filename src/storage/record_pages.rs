//! How both stores answer TotalNum and find a deep page without scanning a whole time range:
//! the range is cut into the partial hour at each end and the full hours between them
//! (summed from the hourly count tables). A partial hour is counted over its smaller side:
//! from the records' index when it covers at most half of its hour, else as the hour's count
//! less the rest of the hour (for the usual query ending now, the rest of the current hour
//! is the future, so next to nothing is read). This module holds that arithmetic; each
//! backend runs the counting statements.

/// One hour, in the milliseconds instants are stored in.
pub(crate) const HOUR_MS: i64 = 3_600_000;

/// Instants `[start, end)`, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: i64,
    pub end: i64,
}

/// How to count the records of a partial hour, the cheaper way.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EdgeCount {
    /// The partial hour is empty: nothing to count.
    Empty,
    /// Count the records of the span from the index.
    Direct(Span),
    /// Take `hour`'s count from the hourly counts, less the records of `rest` (the parts of
    /// the hour outside the partial hour, none of them empty), counted from the index.
    HourLess { hour: i64, rest: Vec<Span> },
}

/// What a store counts to break the range `[start, end)` down.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The range in one piece: it lies inside one hour, or the hourly counts cannot answer.
    Whole(EdgeCount),
    /// The partial hours at the ends and the full hours `[first, last)` (hour numbers)
    /// between them, which may be none.
    ByHours {
        newest: EdgeCount,
        first: i64,
        last: i64,
        oldest: EdgeCount,
    },
}

/// How to count the records of `[start, end)` (milliseconds); `counted` tells whether the
/// hourly counts can answer for the query's filters.
pub(crate) fn plan(start: i64, end: i64, counted: bool) -> Plan {
    if !counted {
        return Plan::Whole(direct(start, end));
    }
    match hours_within(start, end) {
        None => Plan::Whole(edge(start, end)),
        Some((first, last)) => Plan::ByHours {
            newest: edge(last * HOUR_MS, end),
            first,
            last,
            oldest: edge(start, first * HOUR_MS),
        },
    }
}

/// The full hours of `[start, end)`, as hour numbers `[first, last)` (possibly none, when the
/// range reaches only one hour boundary), or `None` when it reaches no boundary at all.
fn hours_within(start: i64, end: i64) -> Option<(i64, i64)> {
    let first = start.div_euclid(HOUR_MS) + i64::from(start.rem_euclid(HOUR_MS) != 0);
    let last = end.div_euclid(HOUR_MS);
    (first <= last).then_some((first, last))
}

/// How to count `[start, end)`, which lies inside one hour: directly when it covers at most
/// half of the hour, else as the hour's count less the rest of the hour.
fn edge(start: i64, end: i64) -> EdgeCount {
    if 2 * (end - start) <= HOUR_MS {
        return direct(start, end);
    }
    let hour = start.div_euclid(HOUR_MS);
    let rest = [
        Span {
            start: hour * HOUR_MS,
            end: start,
        },
        Span {
            start: end,
            end: (hour + 1) * HOUR_MS,
        },
    ];
    EdgeCount::HourLess {
        hour,
        rest: rest.into_iter().filter(|s| s.start < s.end).collect(),
    }
}

fn direct(start: i64, end: i64) -> EdgeCount {
    if start < end {
        EdgeCount::Direct(Span { start, end })
    } else {
        EdgeCount::Empty
    }
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

    const H: i64 = HOUR_MS;

    fn span(start: i64, end: i64) -> Span {
        Span { start, end }
    }

    #[test]
    fn hours_within_leave_out_the_partial_ends() {
        assert_eq!(hours_within(0, H), Some((0, 1)));
        assert_eq!(hours_within(1, 2 * H + 5), Some((1, 2)));
        assert_eq!(
            hours_within(1, 2 * H - 1),
            Some((1, 1)),
            "one boundary, no full hour"
        );
        assert_eq!(hours_within(H + 1, 2 * H - 1), None, "inside one hour");
        assert_eq!(hours_within(H, H), Some((1, 1)));
    }

    #[test]
    fn an_edge_of_at_most_half_an_hour_is_counted_directly() {
        assert_eq!(
            edge(5 * H, 5 * H + H / 2),
            EdgeCount::Direct(span(5 * H, 5 * H + H / 2))
        );
        assert_eq!(
            edge(6 * H - 7, 6 * H),
            EdgeCount::Direct(span(6 * H - 7, 6 * H))
        );
        assert_eq!(edge(6 * H, 6 * H), EdgeCount::Empty);
    }

    #[test]
    fn an_edge_of_more_than_half_an_hour_is_its_hour_less_the_rest() {
        let newest = edge(5 * H, 5 * H + H / 2 + 1);
        let rest = vec![span(5 * H + H / 2 + 1, 6 * H)];
        assert_eq!(newest, EdgeCount::HourLess { hour: 5, rest });
        let oldest = edge(5 * H + 10, 6 * H);
        let rest = vec![span(5 * H, 5 * H + 10)];
        assert_eq!(oldest, EdgeCount::HourLess { hour: 5, rest });
        let inside = edge(5 * H + 10, 6 * H - 20);
        let rest = vec![span(5 * H, 5 * H + 10), span(6 * H - 20, 6 * H)];
        assert_eq!(inside, EdgeCount::HourLess { hour: 5, rest });
    }

    #[test]
    fn a_query_ending_late_in_the_hour_subtracts_the_rest_of_it() {
        let (start, end) = (2 * H + 3 * H / 4, 9 * H + 50 * 60_000);
        let want = Plan::ByHours {
            newest: EdgeCount::HourLess {
                hour: 9,
                rest: vec![span(end, 10 * H)],
            },
            first: 3,
            last: 9,
            oldest: EdgeCount::Direct(span(start, 3 * H)),
        };
        assert_eq!(plan(start, end, true), want);
    }

    #[test]
    fn ranges_on_boundaries_inside_an_hour_or_uncounted_are_planned_apart() {
        let on_boundaries = Plan::ByHours {
            newest: EdgeCount::Empty,
            first: 2,
            last: 4,
            oldest: EdgeCount::Empty,
        };
        assert_eq!(plan(2 * H, 4 * H, true), on_boundaries);
        let one_boundary = Plan::ByHours {
            newest: EdgeCount::Direct(span(4 * H, 4 * H + 9)),
            first: 4,
            last: 4,
            oldest: EdgeCount::HourLess {
                hour: 3,
                rest: vec![span(3 * H, 3 * H + 9)],
            },
        };
        assert_eq!(plan(3 * H + 9, 4 * H + 9, true), one_boundary);
        assert_eq!(
            plan(H + 1, H + 2, true),
            Plan::Whole(EdgeCount::Direct(span(H + 1, H + 2)))
        );
        assert_eq!(
            plan(H + 1, 9 * H, false),
            Plan::Whole(EdgeCount::Direct(span(H + 1, 9 * H)))
        );
        assert_eq!(plan(9 * H, H, true), Plan::Whole(EdgeCount::Empty));
    }

    /// Runs `plan` the way a store does, over records at `times` (milliseconds).
    fn run(plan: Plan, end: i64, times: &[i64]) -> Breakdown {
        let within = |s: &Span| {
            times
                .iter()
                .filter(|t| (s.start..s.end).contains(t))
                .count()
        };
        let hour = |h: i64| within(&span(h * H, (h + 1) * H)) as i64;
        let count = |edge: EdgeCount| match edge {
            EdgeCount::Empty => 0,
            EdgeCount::Direct(s) => within(&s) as i64,
            EdgeCount::HourLess { hour: h, rest } => {
                hour(h) - rest.iter().map(|s| within(s) as i64).sum::<i64>()
            }
        };
        match plan {
            Plan::Whole(edge) => Breakdown::whole(end, count(edge)),
            Plan::ByHours {
                newest,
                first,
                last,
                oldest,
            } => {
                let hours = (first..last)
                    .rev()
                    .map(|h| (h, hour(h)))
                    .filter(|c| c.1 > 0);
                Breakdown::by_hours(end, count(newest), hours.collect(), first, count(oldest))
            }
        }
    }

    #[test]
    fn both_sides_of_every_edge_give_the_same_counts_and_pages() {
        // About one record a minute over hours 1 to 4, plus some on and next to boundaries.
        let mut times: Vec<i64> = (0..400).map(|n| H + n * 60_817 % (4 * H)).collect();
        times.extend([2 * H, 3 * H - 1, 3 * H, 3 * H, 3 * H + H / 2]);
        let cuts = [0, 1, H / 4, H / 2, H / 2 + 1, 3 * H / 4, H - 1];
        for start_hour in 1..3 {
            for end_hour in start_hour..5 {
                for (a, b) in cuts.iter().flat_map(|a| cuts.iter().map(move |b| (a, b))) {
                    let (start, end) = (start_hour * H + a, end_hour * H + b);
                    check_pages(start, end, &times);
                }
            }
        }
    }

    /// Every page start of `[start, end)` names the record a plain sort puts there.
    fn check_pages(start: i64, end: i64, times: &[i64]) {
        let mut selected: Vec<i64> = times
            .iter()
            .copied()
            .filter(|t| (start..end).contains(t))
            .collect();
        selected.sort_unstable_by(|a, b| b.cmp(a));
        let breakdown = run(plan(start, end, true), end, times);
        assert_eq!(breakdown.total(), selected.len() as i64, "[{start}, {end})");
        for (offset, want) in selected.iter().enumerate() {
            let page = breakdown.seek(offset as i64).expect("a page start");
            let below: Vec<i64> = selected
                .iter()
                .copied()
                .filter(|t| *t < page.before)
                .collect();
            assert_eq!(
                below[page.skip as usize], *want,
                "offset {offset} of [{start}, {end})"
            );
        }
        assert!(breakdown.seek(selected.len() as i64).is_none());
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
