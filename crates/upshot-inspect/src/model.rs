//! The model layer of inspect, pure: channel totals from the weekly cells, channels ordered by
//! spend then new customers.

use std::collections::{BTreeMap, BTreeSet};

use crate::prepare::{WeekCell, Weeks};

/// Channel totals, the channels in page order and every week.
pub(crate) struct Totals {
    pub(crate) totals: BTreeMap<String, WeekCell>,
    /// Channels by spend, then new customers, then name.
    pub(crate) channels: Vec<String>,
    pub(crate) week_labels: Vec<String>,
    /// All channels together.
    pub(crate) all: WeekCell,
}

impl Totals {
    pub(crate) fn of(weeks: &Weeks) -> Self {
        // Channel totals, channels ordered by spend then purchases.
        let mut totals: BTreeMap<String, WeekCell> = BTreeMap::new();
        for ((_, channel), cell) in weeks {
            let total = totals.entry(channel.clone()).or_default();
            total.cost += cell.cost;
            total.clicks += cell.clicks;
            total.purchases += cell.purchases;
            total.revenue += cell.revenue;
        }
        let mut channels: Vec<String> = totals.keys().cloned().collect();
        channels.sort_by(|a, b| {
            let (ta, tb) = (&totals[a], &totals[b]);
            tb.cost.total_cmp(&ta.cost).then(tb.purchases.cmp(&ta.purchases)).then(a.cmp(b))
        });
        let week_labels: Vec<String> = weeks.keys().map(|(w, _)| w.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let all = WeekCell {
            cost: totals.values().map(|t| t.cost).sum(),
            clicks: totals.values().map(|t| t.clicks).sum(),
            purchases: totals.values().map(|t| t.purchases).sum(),
            revenue: totals.values().map(|t| t.revenue).sum(),
        };

        Totals { totals, channels, week_labels, all }
    }
}
