//! Per channel: click, survey and blended customers, the multiplier, CAC and its odds against the
//! target; the metrics, decisions, warnings and tables built from them.

use upshot_result::format::{count, level_text, money, number, probability};
use upshot_result::{Action, Cell as TableCell, Decision, Format, Metric, Segment, Table, Unit, names};
use upshot_stats::wilson_interval;

use super::{Ctx, FEW_DONORS, Interval, bound_interval, interval, metric, reported_draws, reported_interval};
use crate::model::{Answer, SOURCES};
use crate::{Extrapolation, NAIVE, Params};

/// One channel's numbers.
pub(super) struct ChannelRow {
    pub(super) index: usize,
    pub(super) name: String,
    pub(super) spend: f64,
    pub(super) click: f64,
    pub(super) answers: f64,
    pub(super) survey_extrapolated: f64,
    pub(super) blended: f64,
    pub(super) blended_ci: Interval,
    /// The blended customers' interval widened to the wrong-answer bound.
    pub(super) bound_ci: Interval,
    pub(super) naive: f64,
    pub(super) naive_ci: Interval,
    /// The post-stratified estimate, beside the measurement model.
    pub(super) stratified: Option<(f64, Interval)>,
    pub(super) revenue: f64,
    pub(super) revenue_ci: Interval,
    pub(super) multiplier: Option<f64>,
    pub(super) multiplier_ci: Interval,
    pub(super) click_cac: Option<f64>,
    pub(super) blended_cac: Option<f64>,
    pub(super) cac_ci: (Option<f64>, Option<f64>),
    pub(super) target: Option<f64>,
    pub(super) p_at_most_target: Option<f64>,
    pub(super) p_above_pause: Option<f64>,
}

/// One row per channel, in the population's channel order (organic/direct last).
pub(super) fn rows(ctx: &Ctx<'_>) -> Vec<ChannelRow> {
    let Ctx { prepared, params, level, pop, channels, organic, point, naive_point, draws, .. } = *ctx;
    let mut rows = Vec::new();
    for (c, channel) in channels.iter().enumerate() {
        let spend = prepared.spend[c];
        let target = if c == organic { None } else { params.target_cac.of(channel) };
        let click = point.click[c];
        let blended = point.blended[c];
        let cac_of = |customers: f64| if spend > 0.0 && customers > 0.0 { Some(spend / customers) } else { None };
        let blended_ci = reported_interval(ctx, |d| d.blended[c]);
        let odds = match target {
            Some(target) if spend > 0.0 => {
                let blended_draws = reported_draws(ctx, |d| d.blended[c]);
                // No draws: the odds are those of an empty sample (0), as they always were.
                Some(crate::decide::cac_odds(&blended_draws, spend, target, params.pause_multiple).unwrap_or((0.0, 0.0)))
            }
            _ => None,
        };
        let (p_ok, p_bad) = (odds.map(|o| o.0), odds.map(|o| o.1));
        rows.push(ChannelRow {
            index: c,
            name: channel.clone(),
            spend,
            click,
            answers: pop.sum(|cell| cell.answer == Answer::Channel(c)),
            survey_extrapolated: point.survey_extrapolated[c],
            blended,
            blended_ci,
            bound_ci: bound_interval(ctx, |d| d.blended[c]),
            naive: naive_point.blended[c],
            naive_ci: interval(draws, NAIVE, level, |d| d.blended[c]),
            stratified: ctx
                .estimates
                .stratified
                .and_then(|rule| ctx.stratified_point.map(|p| (p.blended[c], interval(draws, rule, level, |d| d.blended[c])))),
            revenue: point.blended_revenue[c],
            revenue_ci: reported_interval(ctx, |d| d.blended_revenue[c]),
            multiplier: (click > 0.0).then(|| blended / click),
            multiplier_ci: if click > 0.0 {
                reported_interval(ctx, |d| if d.click[c] > 0.0 { d.blended[c] / d.click[c] } else { f64::NAN })
            } else {
                None
            },
            click_cac: cac_of(click),
            blended_cac: cac_of(blended),
            cac_ci: (blended_ci.and_then(|(_, high)| cac_of(high)), blended_ci.and_then(|(low, _)| cac_of(low))),
            target,
            p_at_most_target: p_ok,
            p_above_pause: p_bad,
        });
    }
    rows
}

/// The calls, one per channel with spend and a target, in the one decision order.
pub(super) fn decisions(ctx: &Ctx<'_>, rows: &[ChannelRow]) -> Vec<Decision> {
    let mut decisions: Vec<Decision> = rows.iter().filter_map(|row| decision(row, ctx.params, ctx.currency, ctx.level)).collect();
    decisions.sort_by(Decision::order);
    decisions
}

fn decision(row: &ChannelRow, params: &Params, currency: &str, level: f64) -> Option<Decision> {
    let (target, p_ok, p_bad) = (row.target?, row.p_at_most_target?, row.p_above_pause?);
    if row.spend <= 0.0 {
        return None;
    }
    let (action, confidence) = crate::decide::verdict(p_ok, p_bad);
    // What the call leans on: the CAC range within the wrong-answer bound, when it is on.
    let bound = match row.bound_ci {
        Some((low, high)) if row.spend > 0.0 && high > 0.0 => format!(
            "; {} to {} within the wrong-answer bound",
            money(row.spend / high, currency),
            if low > 0.0 { money(row.spend / low, currency) } else { "unbounded".into() }
        ),
        _ => String::new(),
    };
    let cac = match (row.blended_cac, row.cac_ci) {
        (Some(cac), (low, high)) => format!(
            "blended CAC {} ({:.0}% interval {} to {}{bound})",
            money(cac, currency),
            level * 100.0,
            low.map_or("n/a".into(), |v| money(v, currency)),
            high.map_or("unbounded".into(), |v| money(v, currency))
        ),
        (None, _) => "no blended customers, so no CAC".into(),
    };
    let click = row.click_cac.map_or("no click-attributed customers".into(), |c| format!("click CAC {}", money(c, currency)));
    let why = match action {
        Action::Scale => format!("P(CAC <= target) {}: scale", probability(p_ok)),
        Action::Pause => format!("P(CAC > {} x target) {}: pause", number(params.pause_multiple, 1), probability(p_bad)),
        Action::Keep => format!("P(CAC <= target) {}: keep, not yet sure enough to scale", probability(p_ok)),
        _ => format!("P(CAC <= target) {}: optimize before adding budget", probability(p_ok)),
    };
    Some(Decision {
        subject: Segment::one("channel", &row.name),
        action,
        confidence,
        reason: format!(
            "{cac} vs target {}, {click}; {} blended customers for {} spend; {why}",
            money(target, currency),
            count(row.blended),
            money(row.spend, currency)
        ),
        stake: Some(row.spend),
    })
}

/// Every channel's metrics, channel by channel.
pub(super) fn metrics(ctx: &Ctx<'_>, rows: &[ChannelRow], metrics: &mut Vec<Metric>) {
    let Ctx { currency, level, total, mapped, .. } = *ctx;
    for row in rows {
        let segment = Segment::one("channel", &row.name);
        let m = |metric: Metric| metric.with_segment(segment.clone());
        metrics.push(m(Metric::point(names::CLICK_CUSTOMERS, Unit::Customers, row.click)));
        let (s_lo, s_hi) = wilson_interval(row.answers, mapped, level);
        metrics.push(m(Metric::interval(names::SURVEY_SHARE, Unit::Share, row.answers / mapped.max(1.0), s_lo, s_hi, level)));
        metrics.push(m(metric(names::BLENDED_CUSTOMERS, Unit::Customers, row.blended, row.blended_ci, level)));
        metrics.push(
            metric(names::BLENDED_CUSTOMERS, Unit::Customers, row.naive, row.naive_ci, level)
                .with_segment(segment.clone().and("estimator", "naive")),
        );
        if let Some((estimate, ci)) = row.stratified {
            metrics.push(
                metric(names::BLENDED_CUSTOMERS, Unit::Customers, estimate, ci, level)
                    .with_segment(segment.clone().and("estimator", "post_stratified")),
            );
        }
        if let Some(ci) = row.bound_ci {
            metrics.push(m(metric(names::BLENDED_CUSTOMERS_BOUND, Unit::Customers, row.blended, Some(ci), level)));
        }
        let share_ci = row.blended_ci.map(|(lo, hi)| (lo / total, hi / total));
        metrics.push(m(metric(names::BLENDED_SHARE, Unit::Share, row.blended / total, share_ci, level)));
        metrics.push(m(metric(names::BLENDED_REVENUE, Unit::money(currency), row.revenue, row.revenue_ci, level)));
        if let Some(multiplier) = row.multiplier {
            metrics.push(m(metric(names::MULTIPLIER, Unit::Ratio, multiplier, row.multiplier_ci, level)));
        }
        if row.spend > 0.0 {
            metrics.push(m(Metric::point(names::SPEND, Unit::money(currency), row.spend)));
        }
        if let Some(cac) = row.click_cac {
            metrics.push(m(Metric::point(names::CLICK_CAC, Unit::money(currency), cac)));
        }
        if let Some(cac) = row.blended_cac {
            let mut metric = Metric::point(names::BLENDED_CAC, Unit::money(currency), cac).with_segment(segment.clone());
            if let (Some(low), high) = row.cac_ci {
                // An upper end at infinity (no customers in some draws) is written as null.
                metric = Metric { ci_low: Some(low), ci_high: high, level: Some(level), ..metric };
            }
            metrics.push(metric);
        }
    }
}

/// Channels without customers or a target, and extrapolations from thin or no evidence.
pub(super) fn warnings(ctx: &Ctx<'_>, rows: &[ChannelRow], warnings: &mut Vec<String>) {
    let Ctx { params, currency, pop, channels, organic, point, .. } = *ctx;
    for row in rows {
        if row.spend > 0.0 && row.blended == 0.0 {
            warnings.push(format!(
                "{}: {} spend and no new customer by promo code, survey or click: blended CAC is not defined.",
                row.name,
                money(row.spend, currency)
            ));
        }
        if row.spend > 0.0 && row.index != organic && row.target.is_none() && params.target_cac != crate::TargetCac::None {
            warnings.push(format!("{}: no target CAC in [params] target_cac, so no decision.", row.name));
        }
    }
    if params.target_cac == crate::TargetCac::None {
        warnings.push("No `target_cac` in [params]: blended CAC is reported without decisions.".into());
    }
    for &h in &point.no_donors {
        let open = pop.sum(|c| c.click == h && !matches!(c.answer, Answer::Channel(_)));
        warnings.push(format!(
            "click channel {}: no respondent with a mapped answer, so its {} customers without an answer stay on their click channel (nothing to extrapolate from).",
            channels[h],
            count(open)
        ));
    }
    if params.extrapolation != Extrapolation::Naive {
        for (h, channel) in channels.iter().enumerate() {
            let donors = pop.sum(|c| c.click == h && c.promo.is_none() && matches!(c.answer, Answer::Channel(_)));
            if donors > 0.0 && donors < FEW_DONORS {
                warnings.push(format!(
                    "click channel {}: only {} respondents to extrapolate its other customers from; its intervals are wide.",
                    channel,
                    count(donors)
                ));
            }
        }
    }
}

/// The page's lead table: per channel, new customers by click and blended by the survey, and
/// the CAC both ways against the target, with the call.
pub(super) fn overview(ctx: &Ctx<'_>, rows: &[ChannelRow], decisions: &[Decision]) -> Table {
    let mut table = Table::new(
        "overview",
        &format!("By channel: new customers and CAC, click vs survey-blended ({} intervals)", level_text(ctx.level)),
        &[
            ("channel", Format::Text),
            ("spend", Format::Money),
            ("click_customers", Format::Count),
            ("blended_customers", Format::Count),
            ("blended_low", Format::Count),
            ("blended_high", Format::Count),
            ("multiplier", Format::Number),
            ("click_cac", Format::Money),
            ("blended_cac", Format::Money),
            ("blended_cac_low", Format::Money),
            ("blended_cac_high", Format::Money),
            ("target_cac", Format::Money),
            ("decision", Format::Text),
        ],
    )
    .interval("blended_customers", "blended_low", "blended_high")
    .interval("blended_cac", "blended_cac_low", "blended_cac_high")
    .lead();
    for row in rows {
        let decision = decisions.iter().find(|d| d.subject.get("channel") == Some(&row.name));
        table.push(vec![
            row.name.as_str().into(),
            row.spend.into(),
            row.click.into(),
            row.blended.into(),
            row.blended_ci.map(|c| c.0).into(),
            row.blended_ci.map(|c| c.1).into(),
            row.multiplier.into(),
            row.click_cac.into(),
            row.blended_cac.into(),
            row.cac_ci.0.into(),
            row.cac_ci.1.into(),
            row.target.into(),
            decision.map_or(TableCell::Empty, |d| d.action.label().into()),
        ]);
    }
    table
}

/// The channel table and the sources of blended customers.
pub(super) fn tables(ctx: &Ctx<'_>, rows: &[ChannelRow], decisions: &[Decision]) -> [Table; 2] {
    let point = ctx.point;
    let mut channel_table = Table::new(
        "channels",
        "Customers and CAC by channel: click attribution, survey (Fairing's extrapolation) and blended",
        &[
            ("channel", Format::Text),
            ("spend", Format::Money),
            ("click_customers", Format::Count),
            ("survey_answers", Format::Count),
            ("survey_extrapolated", Format::Count),
            ("blended_customers", Format::Count),
            ("ci_low", Format::Count),
            ("ci_high", Format::Count),
            ("blended_naive", Format::Count),
            ("blended_post_stratified", Format::Count),
            ("multiplier", Format::Number),
            ("click_cac", Format::Money),
            ("blended_cac", Format::Money),
            ("cac_ci_low", Format::Money),
            ("cac_ci_high", Format::Money),
            ("target_cac", Format::Money),
            ("p_cac_at_most_target", Format::Number),
            ("decision", Format::Text),
        ],
    );
    // In tables/ and the workbook; the page leads with the narrower overview.
    channel_table.in_summary = false;
    let mut source_table = Table::new(
        "blended_sources",
        "Where each channel's blended customers come from, and their first-order revenue",
        &[
            ("channel", Format::Text),
            ("promo_code", Format::Count),
            ("survey_answer", Format::Count),
            ("extrapolated", Format::Count),
            ("click_no_respondents", Format::Count),
            ("blended_customers", Format::Count),
            ("blended_revenue", Format::Money),
            ("revenue_ci_low", Format::Money),
            ("revenue_ci_high", Format::Money),
        ],
    );
    source_table.in_summary = false;
    debug_assert_eq!(SOURCES.len(), 4);
    for row in rows {
        let decision = decisions.iter().find(|d| d.subject.get("channel") == Some(&row.name));
        channel_table.push(vec![
            row.name.as_str().into(),
            row.spend.into(),
            row.click.into(),
            row.answers.into(),
            row.survey_extrapolated.into(),
            row.blended.into(),
            row.blended_ci.map(|c| c.0).into(),
            row.blended_ci.map(|c| c.1).into(),
            row.naive.into(),
            row.stratified.map(|s| s.0).into(),
            row.multiplier.into(),
            row.click_cac.into(),
            row.blended_cac.into(),
            row.cac_ci.0.into(),
            row.cac_ci.1.into(),
            row.target.into(),
            row.p_at_most_target.into(),
            decision.map_or(TableCell::Empty, |d| d.action.label().into()),
        ]);
        let s = point.by_source[row.index];
        source_table.push(vec![
            row.name.as_str().into(),
            s[0].into(),
            s[1].into(),
            s[2].into(),
            s[3].into(),
            row.blended.into(),
            row.revenue.into(),
            row.revenue_ci.map(|c| c.0).into(),
            row.revenue_ci.map(|c| c.1).into(),
        ]);
    }
    [channel_table, source_table]
}

/// The paid channel with spend that the survey credits most over its clicks, with its multiplier.
pub(super) fn lead(rows: &[ChannelRow], organic: usize) -> Option<(f64, &ChannelRow)> {
    rows.iter()
        .filter(|r| r.index != organic && r.spend > 0.0)
        .filter_map(|r| r.multiplier.map(|m| (m, r)))
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.name.cmp(&a.1.name)))
}
