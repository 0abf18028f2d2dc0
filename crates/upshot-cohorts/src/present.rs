//! The present layer of the cohort analysis: from computed cohorts to metrics, decisions,
//! tables and chart specifications.

use upshot_result::format::{count, money, number, percent, probability, with_interval};
use upshot_result::{Action, Analysis, Cell, Chart, ChartKind, Decision, Format, Metric, Segment, Series, Table, Unit, names};
use upshot_stats::normal_quantile;

use crate::model::{CohortResult, Computed, Estimate, SegmentResult, months};
use crate::prepare::{Grain, SegmentCustomers};
use crate::{Params, ProjectionRule};
use upshot_development::projection::{AUTO_DEVELOPED_SHARE, Method};

/// Cohorts and ages shown in the triangle heatmap.
const HEATMAP_SIZE: usize = 16;
/// LTV metrics: months.
const LTV_MONTHS: [usize; 4] = [1, 3, 6, 12];

fn metric(name: &str, unit: Unit, estimate: &Estimate, level: f64) -> Metric {
    match estimate.ci {
        Some((low, high)) => Metric::interval(name, unit, estimate.value, low, high, level),
        None => Metric::point(name, unit, estimate.value),
    }
}

/// Segment of a set of keys.
fn segment(by: &[String], keys: &[String]) -> Segment {
    by.iter().zip(keys).fold(Segment::all(), |s, (k, v)| s.and(k, v))
}

/// `3` or `2.5`.
fn month_text(months: f64) -> String {
    number(months, if months.fract() == 0.0 { 0 } else { 1 })
}

/// `1 month`, `2.5 months`.
/// ", discounted at 10% a year", or nothing at a zero rate.
fn discounted(rate: f64) -> String {
    if rate > 0.0 { format!(", discounted at {} a year", upshot_result::format::percent(rate)) } else { String::new() }
}

fn months_text(months: f64) -> String {
    format!("{} month{}", month_text(months), if months == 1.0 { "" } else { "s" })
}

fn label(keys: &[String]) -> String {
    if keys.is_empty() { "all leads".to_string() } else { keys.join(" / ") }
}

fn interval_text(e: &Estimate, level: f64, fmt: impl Fn(f64) -> String) -> String {
    with_interval(e.value, e.ci, level, fmt)
}

/// LTV of one customer cohort at age `k` when the cohort has completed it.
fn cohort_ltv(table: &SegmentCustomers, computed: &Computed, period: i32, k: usize) -> Option<Estimate> {
    let j = computed.cohorts.customer_periods.iter().position(|p| *p == period)?;
    let n = table.customers[j];
    if n <= 0.0 || computed.cohorts.last_period - period < k as i32 {
        return None;
    }
    let mean = table.revenue[j][k] / n;
    let se = ((table.squares[j][k] / n - mean * mean).max(0.0) / n).sqrt();
    let z = normal_quantile(0.5 + computed.level / 2.0);
    Some(Estimate { value: mean, ci: Some((mean - z * se, mean + z * se)) })
}

/// The age of `ltv_Nm` (ages 0..N-1), if within the horizon.
fn ltv_age(grain: Grain, months: usize, ages: usize) -> Option<usize> {
    let k = grain.periods_in_months(months).checked_sub(1)?;
    (k < ages).then_some(k)
}

struct Context<'a> {
    computed: &'a Computed,
    params: &'a Params,
    currency: &'a str,
    z: f64,
}

impl Context<'_> {
    fn money(&self, v: f64) -> String {
        money(v, self.currency)
    }

    fn customers_of(&self, keys: &[String]) -> SegmentCustomers {
        let c = &self.computed.cohorts;
        let parts: Vec<&SegmentCustomers> = c.customers.iter().filter(|t| keys.is_empty() || t.keys.as_slice() == keys).collect();
        let rows = c.customer_periods.len();
        let ages = c.ages;
        let mut out = SegmentCustomers {
            keys: keys.to_vec(),
            customers: vec![0.0; rows],
            revenue: vec![vec![0.0; ages]; rows],
            squares: vec![vec![0.0; ages]; rows],
        };
        for t in parts {
            for j in 0..rows {
                out.customers[j] += t.customers[j];
                for k in 0..ages {
                    out.revenue[j][k] += t.revenue[j][k];
                    out.squares[j][k] += t.squares[j][k];
                }
            }
        }
        out
    }

    fn ltv_estimate(&self, s: &SegmentResult, k: usize) -> Estimate {
        let (v, se) = (s.ltv.values[k], s.ltv.se[k]);
        Estimate { value: v, ci: Some((v - self.z * se, v + self.z * se)) }
    }

    /// Metrics of one cohort row; `table` is the segment's customer cohorts (built once per segment).
    fn cohort_metrics(
        &self,
        metrics: &mut Vec<Metric>,
        row: &CohortResult,
        seg: Segment,
        s: &SegmentResult,
        table: &SegmentCustomers,
    ) {
        let level = self.params.level;
        let seg = seg.and("cohort", &self.computed.cohorts.grain.label(row.period));
        let m = |metric: Metric| metric.with_segment(seg.clone());
        metrics.push(m(Metric::point(names::LEADS, Unit::Leads, row.leads)));
        metrics.push(m(Metric::point(names::PURCHASES_OBSERVED, Unit::Purchases, row.purchases_observed)));
        metrics.push(m(metric(names::PURCHASES_PROJECTED, Unit::Purchases, &row.purchases, level)));
        metrics.push(m(Metric::point(names::DIRECT_CUSTOMERS, Unit::Customers, row.direct)));
        metrics.push(m(Metric::point(names::REVENUE_OBSERVED, Unit::money(self.currency), row.revenue_observed)));
        metrics.push(m(metric(names::REVENUE_PROJECTED, Unit::money(self.currency), &row.revenue, level)));
        if let Some(cac) = &row.cac {
            metrics.push(m(metric(names::CAC, Unit::money(self.currency), cac, level)));
            let horizon = self.computed.ages - 1;
            if s.customers > 0.0 {
                // LTV of the segment at the horizon over this cohort's CAC (the CAC's interval).
                let ltv = s.ltv.values[horizon] * self.params.margin;
                let ci = cac.ci.filter(|(low, _)| *low > 0.0).map(|(low, high)| (ltv / high, ltv / low));
                metrics.push(m(metric(names::LTV_TO_CAC, Unit::Ratio, &Estimate { value: ltv / cac.value, ci }, level)));
            }
        }
        for months in LTV_MONTHS {
            if let Some(k) = ltv_age(self.computed.cohorts.grain, months, self.computed.ages)
                && let Some(ltv) = cohort_ltv(table, self.computed, row.period, k)
            {
                metrics.push(m(metric(names::ltv(months), Unit::money(self.currency), &ltv, level)));
            }
        }
    }

    fn segment_metrics(&self, metrics: &mut Vec<Metric>, s: &SegmentResult, seg: Segment) {
        let level = self.params.level;
        let m = |metric: Metric| metric.with_segment(seg.clone());
        metrics.push(m(Metric::point(names::LEADS, Unit::Leads, s.leads)));
        metrics.push(m(Metric::point(names::PURCHASES_OBSERVED, Unit::Purchases, s.purchases_observed)));
        metrics.push(m(metric(names::PURCHASES_PROJECTED, Unit::Purchases, &s.purchases, level)));
        metrics.push(m(Metric::point(names::DIRECT_CUSTOMERS, Unit::Customers, s.direct)));
        metrics.push(m(Metric::point(names::REVENUE_OBSERVED, Unit::money(self.currency), s.revenue_observed)));
        metrics.push(m(metric(names::REVENUE_PROJECTED, Unit::money(self.currency), &s.revenue, level)));
        if let Some(cac) = &s.cac {
            metrics.push(m(metric(names::CAC, Unit::money(self.currency), cac, level)));
        }
        if s.customers > 0.0 {
            for months in LTV_MONTHS {
                if let Some(k) = ltv_age(self.computed.cohorts.grain, months, self.computed.ages) {
                    metrics.push(m(metric(names::ltv(months), Unit::money(self.currency), &self.ltv_estimate(s, k), level)));
                }
            }
        }
        if let Some(ratio) = &s.ltv_to_cac {
            metrics.push(m(metric(names::LTV_TO_CAC, Unit::Ratio, ratio, level)));
        }
        if let Some((months, low, high)) = s.payback {
            let estimate = Estimate { value: months, ci: low.zip(high) };
            metrics.push(m(metric(names::PAYBACK_MONTHS, Unit::Months, &estimate, level)));
        }
        if let Some(cac_max) = &s.cac_max {
            metrics.push(m(metric(names::CAC_MAX, Unit::money(self.currency), cac_max, level)));
        }
    }

    fn decision(&self, s: &SegmentResult) -> Option<Decision> {
        let (cac, cac_max, p) = (s.cac.as_ref()?, s.cac_max.as_ref()?, s.p_within_max?);
        let level = self.params.level;
        let (action, confidence) = crate::decide::verdict(p);
        let horizon = self.computed.ages - 1;
        let still = s.purchases.value - s.purchases_observed;
        let payback = match s.payback {
            Some((months, _, _)) => {
                format!(
                    "; pays back {} after the spend{}{}",
                    months_text(months),
                    discounted(self.params.discount_rate),
                    if s.payback_projected { " (on projected LTV)" } else { "" }
                )
            }
            None => format!("; does not pay back within {} months of the spend", self.params.horizon_months),
        };
        Some(Decision {
            subject: segment(&self.params.by, &s.keys),
            action,
            confidence,
            reason: format!(
                "CAC {} vs a maximum of {} (LTV at {} months {} x margin {} / target {}); P(CAC <= max) {}; {} of {} purchases still to come{payback}",
                interval_text(cac, level, |v| self.money(v)),
                self.money(cac_max.value),
                self.params.horizon_months,
                self.money(s.ltv.values[horizon]),
                number(self.params.margin, 2),
                number(self.params.target_ltv_to_cac, 1),
                probability(p),
                count(still),
                count(s.purchases.value),
            ),
            stake: Some(s.spend),
        })
    }
}

fn warnings(ctx: &Context<'_>) -> Vec<String> {
    let c = ctx.computed;
    let grain = c.cohorts.grain;
    let mut out = Vec::new();
    let total = &c.total;
    if total.tail_ages > 0 {
        out.push(format!(
            "The horizon is {} {}s but the oldest cohort has been observed for {}: the last {} ages are a geometric tail fitted to the last observed lag shares.",
            c.ages,
            grain.name(),
            c.ages - total.tail_ages,
            total.tail_ages
        ));
    }
    if let Some(k) = total.ltv.projected.iter().position(|p| *p) {
        out.push(format!(
            "No customer cohort is older than {} months yet: LTV beyond that is projected by the chain ladder on customer revenue.",
            number(months(grain, k.saturating_sub(1)), 1)
        ));
    }
    for s in &c.segments {
        let name = label(&s.keys);
        if s.purchases_observed == 0.0 {
            out.push(format!(
                "{name}: no purchases yet from {} leads; its projection rests on the conversion of other cohorts and its CAC is undefined.",
                count(s.leads)
            ));
        }
        if s.bf_fallback {
            out.push(format!(
                "{name}: fewer than two cohorts with leads are past {:.0}% of their development, so its young cohorts are projected by chain ladder from their own purchases (unstable this young).",
                AUTO_DEVELOPED_SHARE * 100.0
            ));
        }
        if s.spend > 0.0 {
            let unpaid: Vec<String> =
                s.cohorts.iter().filter(|r| r.leads > 0.0 && r.spend == 0.0).map(|r| grain.label(r.period)).collect();
            if !unpaid.is_empty() {
                out.push(format!(
                    "{name}: {} cohorts have leads but no spend ({}); their CAC is not defined.",
                    unpaid.len(),
                    unpaid.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    for (keys, (cost, rows)) in &c.cohorts.spend_without_leads {
        out.push(format!(
            "spend: {} over {} rows of {} has no leads in any cohort; left out of CAC (rows counted as no_leads_for_segment).",
            ctx.money(*cost),
            count(*rows as f64),
            label(keys)
        ));
    }
    out
}

/// The `by` key columns before a table's own.
fn with_keys<'a>(by: &'a [String], extra: &[(&'static str, Format)]) -> Vec<(&'a str, Format)> {
    by.iter().map(|k| (k.as_str(), Format::Text)).chain(extra.iter().cloned()).collect()
}

/// A row's key cells: the segment's keys, or `all` in every key column for the total.
fn keys_cells(by: &[String], keys: &[String]) -> Vec<Cell> {
    if keys.is_empty() {
        by.iter().map(|_| Cell::from("all")).collect()
    } else {
        keys.iter().map(|k| Cell::from(k.as_str())).collect()
    }
}

/// Every segment, then the total when there are segments (with none, the total is the one segment).
fn segments_and_total<'a>(c: &'a Computed, by: &[String]) -> Vec<&'a SegmentResult> {
    let mut all: Vec<&SegmentResult> = c.segments.iter().collect();
    if !by.is_empty() {
        all.push(&c.total);
    }
    all
}

/// An estimate's interval as two cells (empty without one).
fn ci(e: &Estimate) -> (Cell, Cell) {
    (e.ci.map(|c| c.0).into(), e.ci.map(|c| c.1).into())
}

fn tables(ctx: &Context<'_>, decisions: &[Decision]) -> Vec<Table> {
    vec![
        segments_table(ctx, decisions),
        cohorts_table(ctx),
        triangle_table(ctx),
        ltv_table(ctx),
        development_table(ctx),
        funnel_table(ctx),
    ]
}

/// CAC, LTV and payback per segment, with its decision.
fn segments_table(ctx: &Context<'_>, decisions: &[Decision]) -> Table {
    let c = ctx.computed;
    let by = &ctx.params.by;
    let horizon = c.ages - 1;
    let mut segments = Table::new(
        "segments",
        &format!("CAC, LTV and payback per segment ({:.0}% intervals)", ctx.params.level * 100.0),
        &with_keys(
            by,
            &[
                ("leads", Format::Count),
                ("spend", Format::Money),
                ("purchases_observed", Format::Count),
                ("purchases_projected", Format::Count),
                ("cac", Format::Money),
                ("cac_low", Format::Money),
                ("cac_high", Format::Money),
                ("ltv_horizon", Format::Money),
                ("cac_max", Format::Money),
                ("ltv_to_cac", Format::Number),
                ("payback_months", Format::Number),
                ("payback_on_projection", Format::Text),
                ("p_cac_within_max", Format::Percent),
                ("decision", Format::Text),
            ],
        ),
    )
    .interval("cac", "cac_low", "cac_high")
    .lead();
    let mut rows: Vec<&SegmentResult> = c.segments.iter().collect();
    if !by.is_empty() {
        rows.push(&c.total);
    }
    for s in rows {
        let subject = segment(by, &s.keys);
        let decision = decisions.iter().find(|d| d.subject == subject).map_or("", |d| d.action.label());
        let (cac_low, cac_high) = s.cac.as_ref().map_or((Cell::Empty, Cell::Empty), ci);
        let mut row = keys_cells(by, &s.keys);
        row.extend([
            Cell::from(s.leads),
            s.spend.into(),
            s.purchases_observed.into(),
            s.purchases.value.into(),
            s.cac.map(|e| e.value).into(),
            cac_low,
            cac_high,
            (s.customers > 0.0).then(|| s.ltv.values[horizon]).into(),
            s.cac_max.map(|e| e.value).into(),
            s.ltv_to_cac.map(|e| e.value).into(),
            s.payback.map(|p| p.0).into(),
            (if s.payback.is_some() && s.payback_projected { "yes" } else { "" }).into(),
            s.p_within_max.into(),
            decision.into(),
        ]);
        segments.push(row);
    }

    segments
}

/// Per segment and cohort: leads, spend, purchases observed and projected, CAC.
fn cohorts_table(ctx: &Context<'_>) -> Table {
    let c = ctx.computed;
    let grain = c.cohorts.grain;
    let by = &ctx.params.by;
    let mut cohorts = Table::new(
        "cohorts",
        "Lead cohorts: observed and projected purchases, revenue and CAC",
        &with_keys(
            by,
            &[
                ("cohort", Format::Text),
                ("leads", Format::Count),
                ("spend", Format::Money),
                ("latest_age", Format::Count),
                ("method", Format::Text),
                ("developed_share", Format::Percent),
                ("purchases_observed", Format::Count),
                ("purchases_projected", Format::Number),
                ("purchases_low", Format::Number),
                ("purchases_high", Format::Number),
                ("still_to_come", Format::Number),
                ("revenue_observed", Format::Money),
                ("revenue_projected", Format::Money),
                ("cac", Format::Money),
                ("cac_low", Format::Money),
                ("cac_high", Format::Money),
                ("mack_std_error", Format::Number),
            ],
        ),
    );
    cohorts.in_summary = false;
    let all = segments_and_total(c, by);
    for s in &all {
        for (i, r) in s.cohorts.iter().enumerate() {
            let (low, high) = ci(&r.purchases);
            let (cac_low, cac_high) = r.cac.as_ref().map_or((Cell::Empty, Cell::Empty), ci);
            let mack = if s.keys.is_empty() { c.mack.as_ref().map(|m| m.std_error[i]) } else { None };
            let mut row = keys_cells(by, &s.keys);
            row.extend([
                Cell::from(grain.label(r.period)),
                r.leads.into(),
                r.spend.into(),
                (r.latest_age as u64).into(),
                r.method.label().into(),
                r.developed.into(),
                r.purchases_observed.into(),
                r.purchases.value.into(),
                low,
                high,
                (r.purchases.value - r.purchases_observed).into(),
                r.revenue_observed.into(),
                r.revenue.value.into(),
                r.cac.map(|e| e.value).into(),
                cac_low,
                cac_high,
                mack.into(),
            ]);
            cohorts.push(row);
        }
    }

    cohorts
}

/// Cumulative purchases per lead cohort and age.
fn triangle_table(ctx: &Context<'_>) -> Table {
    let c = ctx.computed;
    let grain = c.cohorts.grain;
    let by = &ctx.params.by;
    let all = segments_and_total(c, by);
    let mut triangle = Table::new(
        "triangle",
        "Cumulative purchases per lead cohort and age (projected cells flagged)",
        &with_keys(
            by,
            &[
                ("cohort", Format::Text),
                ("age", Format::Count),
                ("purchases", Format::Number),
                ("conversion", Format::Percent),
                ("projected", Format::Text),
            ],
        ),
    );
    triangle.in_summary = false;
    for s in &all {
        for r in &s.cohorts {
            for (age, value) in r.cumulative.iter().enumerate() {
                let mut row = keys_cells(by, &s.keys);
                row.extend([
                    Cell::from(grain.label(r.period)),
                    (age as u64).into(),
                    (*value).into(),
                    (r.leads > 0.0).then(|| value / r.leads).into(),
                    (if age > r.latest_age { "yes" } else { "no" }).into(),
                ]);
                triangle.push(row);
            }
        }
    }

    triangle
}

/// Net revenue per customer by months since the first order.
fn ltv_table(ctx: &Context<'_>) -> Table {
    let c = ctx.computed;
    let grain = c.cohorts.grain;
    let by = &ctx.params.by;
    let all = segments_and_total(c, by);
    let mut ltv = Table::new(
        "ltv",
        &format!("Net revenue per customer by months since the first order ({:.0}% intervals)", ctx.params.level * 100.0),
        &with_keys(
            by,
            &[
                ("months", Format::Number),
                ("ltv", Format::Money),
                ("ltv_low", Format::Money),
                ("ltv_high", Format::Money),
                ("customers", Format::Count),
                ("projected", Format::Text),
            ],
        ),
    );
    ltv.in_summary = false;
    for s in &all {
        if s.customers <= 0.0 {
            continue;
        }
        for k in 0..c.ages {
            let e = ctx.ltv_estimate(s, k);
            let (low, high) = ci(&e);
            let mut row = keys_cells(by, &s.keys);
            row.extend([
                Cell::from(months(grain, k)),
                e.value.into(),
                low,
                high,
                s.ltv.customers[k].into(),
                (if s.ltv.projected[k] { "yes" } else { "no" }).into(),
            ]);
            ltv.push(row);
        }
    }

    ltv
}

/// The pooled lag profile.
fn development_table(ctx: &Context<'_>) -> Table {
    let c = ctx.computed;
    let mut development = Table::new(
        "development",
        "Development of all lead cohorts: chain-ladder link factors with Mack's sigma, and the pooled lag profile",
        &[
            ("age", Format::Count),
            ("link_factor", Format::Number),
            ("mack_sigma2", Format::Number),
            ("lag_share", Format::Percent),
            ("developed_share", Format::Percent),
        ],
    );
    development.in_summary = false;
    let developed = upshot_development::projection::developed_shares(&c.pooled_lag);
    for (k, (share, developed)) in c.pooled_lag.iter().zip(&developed).enumerate() {
        let factor = c.mack.as_ref().and_then(|m| m.factors.get(k).copied());
        let sigma = c.mack.as_ref().and_then(|m| m.sigma2.get(k).copied());
        development.push(vec![Cell::from(k as u64), factor.into(), sigma.into(), (*share).into(), (*developed).into()]);
    }

    development
}

/// The weekly lower funnel per channel.
fn funnel_table(ctx: &Context<'_>) -> Table {
    let c = ctx.computed;
    let stages = &c.cohorts.stages;
    let mut columns: Vec<(String, Format)> =
        vec![("channel".into(), Format::Text), ("week".into(), Format::Text), ("leads".into(), Format::Count)];
    for s in stages {
        columns.push((s.clone(), Format::Count));
        columns.push((format!("{s}_rate"), Format::Percent));
    }
    let column_refs: Vec<(&str, Format)> = columns.iter().map(|(n, f)| (n.as_str(), f.clone())).collect();
    let mut funnel = Table::new(
        "funnel_weekly",
        "Weekly lead cohorts per channel: leads reaching each lower-funnel stage, and the step conversion",
        &column_refs,
    );
    funnel.in_summary = false;
    for w in &c.cohorts.funnel {
        let mut row = vec![Cell::from(w.channel.as_str()), Grain::Week.label(w.week).into(), w.leads.into()];
        let mut previous = w.leads;
        for reached in &w.reached {
            row.push((*reached).into());
            row.push((previous > 0.0).then(|| reached / previous).into());
            previous = *reached;
        }
        funnel.push(row);
    }
    funnel
}

/// The small print of every chart: source, cohorts, interval level.
fn chart_note(ctx: &Context<'_>) -> String {
    let c = ctx.computed;
    let grain = c.cohorts.grain;
    format!(
        "Source: leads, orders and spend; {} cohorts {} to {}; {:.0}% intervals",
        grain.name(),
        grain.label(c.cohorts.periods[0]),
        grain.label(c.cohorts.last_period),
        ctx.params.level * 100.0
    )
}

fn charts(ctx: &Context<'_>) -> Vec<Chart> {
    let note = chart_note(ctx);
    let mut charts = Vec::new();
    triangle_chart(ctx, &note, &mut charts);
    ltv_chart(ctx, &note, &mut charts);
    cac_and_payback_charts(ctx, &note, &mut charts);
    charts
}

/// The triangle: cumulative conversion, projected cells marked.
fn triangle_chart(ctx: &Context<'_>, note: &str, charts: &mut Vec<Chart>) {
    let c = ctx.computed;
    let grain = c.cohorts.grain;
    let total = &c.total;
    // 1. The triangle: cumulative conversion, projected cells marked.
    let shown: Vec<&CohortResult> = total.cohorts.iter().rev().take(HEATMAP_SIZE).rev().collect();
    let ages = c.ages.min(HEATMAP_SIZE);
    let series: Vec<Series> = shown
        .iter()
        .map(|r| Series {
            marked: (0..ages).map(|k| k > r.latest_age).collect(),
            ..Series::new(&grain.label(r.period), (0..ages).map(|k| (r.leads > 0.0).then(|| r.cumulative[k] / r.leads)).collect())
        })
        .collect();
    let still = total.purchases.value - total.purchases_observed;
    charts.push(
        Chart::new(
            ChartKind::Heatmap,
            "triangle",
            format!(
                "{} purchases are still to come from leads already bought ({} of the projected {})",
                count(still),
                percent(still / total.purchases.value.max(1.0)),
                count(total.purchases.value)
            ),
        )
        .note(format!("{note}; cells with ≈ are projected; the share of leads that bought by each age"))
        .axes(format!("age ({}s since the lead)", grain.name()), "lead cohort", Format::Percent)
        .categories((0..ages).map(|k| k.to_string()).collect())
        .series(series)
        .table("triangle"),
    );
}

/// Cumulative LTV per customer cohort (observed).
fn ltv_chart(ctx: &Context<'_>, note: &str, charts: &mut Vec<Chart>) {
    let c = ctx.computed;
    let grain = c.cohorts.grain;
    let total = &c.total;
    let horizon = c.ages - 1;
    // 2. Cumulative LTV per customer cohort (observed).
    let table = ctx.customers_of(&[]);
    let step = if grain == Grain::Week { 4 } else { 1 };
    let picked: Vec<usize> = (0..c.cohorts.customer_periods.len()).rev().step_by(step).take(12).collect();
    let series: Vec<Series> = picked
        .iter()
        .rev()
        .filter(|&&j| table.customers[j] > 0.0)
        .map(|&j| {
            let period = c.cohorts.customer_periods[j];
            let last = (c.cohorts.last_period - period) as usize;
            Series::new(
                &grain.label(period),
                (0..c.ages).map(|k| (k <= last).then(|| table.revenue[j][k] / table.customers[j])).collect(),
            )
        })
        .collect();
    charts.push(
        Chart::new(
            ChartKind::Lines,
            "ltv_by_cohort",
            format!(
                "Revenue per customer grows from {} in the first {} to {} by month {}",
                ctx.money(total.ltv.values[0]),
                grain.name(),
                ctx.money(total.ltv.values[horizon]),
                number(months(grain, horizon), 0)
            ),
        )
        .note(format!("{note}; customer cohorts by first paid order, net of refunds, observed ages only"))
        .axes(
            format!("{}s since the first order", grain.name()),
            format!("net revenue per customer ({})", ctx.currency),
            Format::Money,
        )
        .categories((0..c.ages).map(|k| (k + 1).to_string()).collect())
        .series(series)
        .table("ltv"),
    );
}

/// CAC against the maximum CAC per paid segment, and the payback curves.
fn cac_and_payback_charts(ctx: &Context<'_>, note: &str, charts: &mut Vec<Chart>) {
    let c = ctx.computed;
    let grain = c.cohorts.grain;
    let horizon = c.ages - 1;
    // 3. CAC against the maximum CAC per paid segment.
    let paid: Vec<&SegmentResult> = c.segments.iter().filter(|s| s.cac.is_some() && s.cac_max.is_some()).collect();
    if !paid.is_empty() {
        let within = paid.iter().filter(|s| s.p_within_max.unwrap_or(0.0) >= 0.5).count();
        let bar = |name: &str, f: &dyn Fn(&SegmentResult) -> Option<Estimate>| {
            let values: Vec<Option<Estimate>> = paid.iter().map(|s| f(s)).collect();
            Series::new(name, values.iter().map(|e| e.map(|e| e.value)).collect()).with_interval(
                values.iter().map(|e| e.and_then(|e| e.ci.map(|c| c.0))).collect(),
                values.iter().map(|e| e.and_then(|e| e.ci.map(|c| c.1))).collect(),
            )
        };
        charts.push(
            Chart::new(
                ChartKind::GroupedBars,
                "cac_vs_max",
                format!(
                    "{within} of {} paid segments acquire customers under their maximum CAC (LTV x margin / {})",
                    paid.len(),
                    number(ctx.params.target_ltv_to_cac, 1)
                ),
            )
            .note(format!("{note}; CAC on projected purchases; maximum CAC from LTV at {} months", ctx.params.horizon_months))
            .axes(ctx.params.by.join(" / "), format!("per customer ({})", ctx.currency), Format::Money)
            .categories(paid.iter().map(|s| label(&s.keys)).collect())
            .series(vec![
                bar("CAC", &|s| s.cac),
                bar("maximum CAC", &|s| s.cac_max),
                bar(&format!("LTV x margin at {} months", ctx.params.horizon_months), &|s| {
                    (s.customers > 0.0).then(|| {
                        let e = ctx.ltv_estimate(s, horizon);
                        let m = ctx.params.margin;
                        Estimate { value: e.value * m, ci: e.ci.map(|(l, h)| (l * m, h * m)) }
                    })
                }),
            ])
            .table("segments"),
        );

        // 4. Payback curves: cumulative margin per customer since the spend over CAC.
        let mut series = Vec::new();
        for s in &paid {
            let cac = s.cac.map_or(f64::NAN, |e| e.value);
            let ratio = |k: usize| s.margin_from_spend[k] / cac;
            series.push(Series::new(&label(&s.keys), (0..c.ages).map(|k| (!s.ltv.projected[k]).then(|| ratio(k))).collect()));
            if s.ltv.projected.iter().any(|p| *p) {
                let first = s.ltv.projected.iter().position(|p| *p).unwrap_or(0).saturating_sub(1);
                series.push(Series {
                    dashed: true,
                    ..Series::new(
                        &format!("{} (projected)", label(&s.keys)),
                        (0..c.ages).map(|k| (k >= first).then(|| ratio(k))).collect(),
                    )
                });
            }
        }
        let fastest = paid.iter().filter_map(|s| s.payback.map(|p| (p.0, label(&s.keys)))).min_by(|a, b| a.0.total_cmp(&b.0));
        let title = match fastest {
            Some((m, name)) => format!(
                "{name} pays back its CAC fastest, {} after the spend; {} of {} paid segments pay back within {} months",
                months_text(m),
                paid.iter().filter(|s| s.payback.is_some()).count(),
                paid.len(),
                ctx.params.horizon_months
            ),
            None => format!("No paid segment pays back its CAC within {} months", ctx.params.horizon_months),
        };
        charts.push(
            Chart::new(ChartKind::Lines, "payback", title)
                .note(format!(
                    "{note}; margin {}{}; from the lead's month; dashed: projected LTV",
                    number(ctx.params.margin, 2),
                    discounted(ctx.params.discount_rate)
                ))
                .axes("months since the spend", "cumulative margin per customer / CAC", Format::Percent)
                .categories((0..c.ages).map(|k| month_text(months(grain, k))).collect())
                .series(series)
                .table("ltv")
                .reference(Some(("CAC paid back".into(), 1.0))),
        );
    }
}

/// The projection as asked and as used: the rule, then how many cohorts each method projected.
/// The spend of segments without any lead, left out of CAC together with their customers.
fn spend_apart(computed: &Computed, currency: &str) -> String {
    let apart: f64 = computed.cohorts.spend_without_leads.values().map(|(cost, _)| cost).sum();
    if apart > 0.0 {
        format!(
            "; segments without any lead ({}) keep their {} spend and their customers out of CAC together",
            computed.cohorts.spend_without_leads.keys().map(|k| k.join("/")).collect::<Vec<_>>().join(", "),
            money(apart, currency)
        )
    } else {
        String::new()
    }
}

fn method_line(rule: ProjectionRule, cohorts: &[CohortResult]) -> String {
    let used = |m: Method| cohorts.iter().filter(|c| c.method == m).count();
    let (cl, bf) = (used(Method::ChainLadder), used(Method::BornhuetterFerguson));
    let asked = match rule {
        ProjectionRule::Auto => format!(
            "Projection (auto): Bayesian over-dispersed Poisson; cohorts that have reached {:.0}% of their expected purchases use their own purchases (chain ladder), younger ones leads x the conversion of mature cohorts (Bornhuetter-Ferguson)",
            AUTO_DEVELOPED_SHARE * 100.0
        ),
        ProjectionRule::ChainLadder => {
            "Projection (`projection = \"chain-ladder\"`): the volume-weighted chain ladder for every cohort (Mack's point estimate), intervals from the Bayesian over-dispersed Poisson chain ladder's draws".to_string()
        }
        ProjectionRule::BornhuetterFerguson => "Projection (`projection = \"bornhuetter-ferguson\"`): Bayesian over-dispersed Poisson; Bornhuetter-Ferguson (leads x the conversion of mature cohorts) for every immature cohort".to_string(),
    };
    format!("{asked}; used: {cl} cohort(s) by chain ladder, {bf} by Bornhuetter-Ferguson.")
}

/// Builds the analysis from the computed cohorts.
pub(crate) fn build(computed: &Computed, params: &Params, currency: &str) -> Analysis {
    let ctx = Context { computed, params, currency, z: normal_quantile(0.5 + params.level / 2.0) };
    let by = &params.by;
    let total = &computed.total;
    let mut metrics = Vec::new();
    ctx.segment_metrics(&mut metrics, total, Segment::all());
    let all_customers = ctx.customers_of(&[]);
    for row in &total.cohorts {
        ctx.cohort_metrics(&mut metrics, row, Segment::all(), total, &all_customers);
    }
    if !by.is_empty() {
        for s in &computed.segments {
            ctx.segment_metrics(&mut metrics, s, segment(by, &s.keys));
            let customers = ctx.customers_of(&s.keys);
            for row in &s.cohorts {
                ctx.cohort_metrics(&mut metrics, row, segment(by, &s.keys), s, &customers);
            }
        }
    }
    let mut decisions: Vec<Decision> = if by.is_empty() {
        ctx.decision(total).into_iter().collect()
    } else {
        computed.segments.iter().filter_map(|s| ctx.decision(s)).collect()
    };
    decisions.sort_by(Decision::order);

    let grain = computed.cohorts.grain;
    let still = total.purchases.value - total.purchases_observed;
    let names = |action: Action| -> Vec<String> {
        decisions.iter().filter(|d| d.action == action).map(|d| d.subject.values_label()).collect()
    };
    let headline = match (&total.cac, &total.cac_max) {
        (Some(cac), Some(max)) => {
            let scale = names(Action::Scale);
            let optimize = names(Action::Optimize);
            let mut text = format!("CAC {} against a maximum of {}", ctx.money(cac.value), ctx.money(max.value));
            if !scale.is_empty() {
                text.push_str(&format!("; scale {}", scale.join(", ")));
            }
            if !optimize.is_empty() {
                text.push_str(&format!("; optimize {}", optimize.join(", ")));
            }
            text
        }
        _ => format!(
            "{} purchases projected from {} leads, {} of them still to come",
            count(total.purchases.value),
            count(total.leads),
            count(still)
        ),
    };
    let context = vec![
        format!(
            "{} {} cohorts of leads, {} to {} (data to {}; only complete {}s are used), horizon {} months ({} ages).",
            computed.cohorts.periods.len(),
            grain.name(),
            grain.label(computed.cohorts.periods[0]),
            grain.label(computed.cohorts.last_period),
            computed.cohorts.last_day,
            grain.name(),
            params.horizon_months,
            computed.ages
        ),
        format!(
            "{} leads, {} purchases so far, {} projected ({} still to come), and {} new customers whose first order names no lead, each in the cohort of that order's period by its own click keys; CAC = spend / (projected purchases + those customers), so CAC and LTV count the same customers{}.",
            count(total.leads),
            count(total.purchases_observed),
            interval_text(&total.purchases, params.level, count),
            count(still),
            count(total.direct),
            spend_apart(computed, currency)
        ),
        format!(
            "{} LTV from customer cohorts, net of refunds; margin {}, target LTV/CAC {}.",
            method_line(params.projection, &total.cohorts),
            number(params.margin, 2),
            number(params.target_ltv_to_cac, 1)
        ),
    ];
    let tables = tables(&ctx, &decisions);
    let charts = charts(&ctx);
    let warnings = warnings(&ctx);
    Analysis { headline, context, metrics, decisions, warnings, tables, charts, period: None }
}
