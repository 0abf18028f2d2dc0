//! From estimates to metrics, decisions, tables and chart specifications.

use upshot_result::format::{count, money, number, percent, probability};
use upshot_result::{
    Action, Analysis, Cell as TableCell, Chart, ChartKind, Decision, Format, Metric, Segment, Series, Table, Unit, names,
};
use upshot_stats::{percentile_interval, wilson_interval};

use crate::estimate::{Answer, Attribution, SOURCES};
use crate::prepare::Prepared;
use crate::{Extrapolation, Params, Source};

/// Below this response rate the survey speaks for too few customers.
const LOW_RESPONSE: f64 = 0.35;
/// Decision probability for scale and pause.
/// A stratum with fewer donors than this extrapolates from thin evidence.
const FEW_DONORS: f64 = 30.0;

type Interval = Option<(f64, f64)>;

/// The percentile interval of a quantity over the draws of rule set `rule`.
fn interval(draws: &[Vec<Attribution>], rule: usize, level: f64, f: impl Fn(&Attribution) -> f64) -> Interval {
    let mut values: Vec<f64> = draws.iter().filter_map(|d| d.get(rule)).map(f).filter(|v| v.is_finite()).collect();
    if values.len() < draws.len() / 2 {
        return None;
    }
    percentile_interval(&mut values, level)
}

fn metric(name: &str, unit: Unit, estimate: f64, ci: Interval, level: f64) -> Metric {
    match ci {
        Some((low, high)) => Metric::interval(name, unit, estimate, low, high, level),
        None => Metric::point(name, unit, estimate),
    }
}

/// One channel's numbers.
struct ChannelRow {
    index: usize,
    name: String,
    spend: f64,
    click: f64,
    answers: f64,
    survey_extrapolated: f64,
    blended: f64,
    blended_ci: Interval,
    naive: f64,
    naive_ci: Interval,
    revenue: f64,
    revenue_ci: Interval,
    multiplier: Option<f64>,
    multiplier_ci: Interval,
    click_cac: Option<f64>,
    blended_cac: Option<f64>,
    cac_ci: (Option<f64>, Option<f64>),
    target: Option<f64>,
    p_at_most_target: Option<f64>,
    p_above_pause: Option<f64>,
}

fn decide(row: &ChannelRow, params: &Params, currency: &str, level: f64) -> Option<Decision> {
    let (target, p_ok, p_bad) = (row.target?, row.p_at_most_target?, row.p_above_pause?);
    if row.spend <= 0.0 {
        return None;
    }
    let (action, confidence) = crate::decide::verdict(p_ok, p_bad);
    let cac = match (row.blended_cac, row.cac_ci) {
        (Some(cac), (low, high)) => format!(
            "blended CAC {} ({:.0}% interval {} to {})",
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

fn band_labels(edges: &[f64], currency: &str) -> Vec<String> {
    let mut labels = Vec::new();
    for b in 0..=edges.len() {
        labels.push(match (b.checked_sub(1).map(|i| edges[i]), edges.get(b)) {
            (None, Some(high)) => format!("up to {}", money(*high, currency)),
            (Some(low), Some(high)) => format!("{} to {}", money(low, currency), money(*high, currency)),
            (Some(low), None) => format!("over {}", money(low, currency)),
            (None, None) => "all".into(),
        });
    }
    labels
}

pub(crate) fn build(
    prepared: &Prepared,
    points: &[Attribution],
    draws: &[Vec<Attribution>],
    params: &Params,
    currency: &str,
) -> Analysis {
    let level = params.level;
    let pop = &prepared.population;
    let channels = &pop.channels;
    let n = channels.len();
    let point = &points[0];
    let naive_point = points.get(1).unwrap_or(point);
    let total = pop.total();
    let surveyed = pop.sum(|c| c.answer.surveyed());
    let responded = pop.sum(|c| c.answer.responded());
    let mapped = pop.sum(|c| matches!(c.answer, Answer::Channel(_)));
    let unmapped = responded - mapped;
    let response_rate = if surveyed > 0.0 { responded / surveyed } else { 0.0 };
    let organic = n - 1;
    let mut metrics = Vec::new();
    let mut warnings = Vec::new();

    // Response: overall, by click channel, by order value.
    let ctx = Ctx { prepared, params, currency, level, pop, channels, n, organic, surveyed, responded, unmapped, response_rate };
    let [response_table, band_table, week_table] = response_section(&ctx, &mut metrics, &mut warnings);
    let (r_lo, r_hi) = wilson_interval(responded, surveyed, level);

    // Agreement and the confusion matrix, on customers with a click and a mapped answer.
    let Agreement { confusion, agree_all, both_all, agreement_table, confusion_table } = agreement_section(&ctx, &mut metrics);

    // Per channel: click, survey, blended, multiplier, CAC.
    let mut rows = Vec::new();
    for (c, channel) in channels.iter().enumerate() {
        let spend = prepared.spend[c];
        let target = if c == organic { None } else { params.target_cac.of(channel) };
        let click = point.click[c];
        let blended = point.blended[c];
        let cac_of = |customers: f64| if spend > 0.0 && customers > 0.0 { Some(spend / customers) } else { None };
        let blended_ci = interval(draws, 0, level, |d| d.blended[c]);
        let odds = match target {
            Some(target) if spend > 0.0 => {
                let blended_draws: Vec<f64> = draws.iter().map(|d| d[0].blended[c]).collect();
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
            naive: naive_point.blended[c],
            naive_ci: interval(draws, 1, level, |d| d.blended[c]),
            revenue: point.blended_revenue[c],
            revenue_ci: interval(draws, 0, level, |d| d.blended_revenue[c]),
            multiplier: (click > 0.0).then(|| blended / click),
            multiplier_ci: if click > 0.0 {
                interval(draws, 0, level, |d| if d.click[c] > 0.0 { d.blended[c] / d.click[c] } else { f64::NAN })
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
    let mut decisions: Vec<(f64, Decision)> = Vec::new();
    for row in &rows {
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
        if let Some(decision) = decide(row, params, currency, level) {
            decisions.push((row.spend, decision));
        }
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
    decisions.sort_by(|a, b| Decision::order(&a.1, &b.1));
    let decisions: Vec<Decision> = decisions.into_iter().map(|(_, d)| d).collect();
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
    if params.extrapolation == Extrapolation::Reweighted {
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

    // The channel table and the sources of blended customers.
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
    for row in &rows {
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

    // The dark breakdown: what organic/direct customers say.
    let organic_answers: f64 = confusion[organic].iter().sum();
    let organic_customers = point.click[organic];
    let mut dark_table = Table::new(
        "organic_by_answer",
        "Where customers that click attribution calls organic/direct say they came from",
        &[
            ("answer_channel", Format::Text),
            ("answers", Format::Count),
            ("share", Format::Percent),
            ("ci_low", Format::Percent),
            ("ci_high", Format::Percent),
            ("organic_click_customers_extrapolated", Format::Count),
        ],
    );
    let mut dark_shares = Vec::new();
    for (c, channel) in channels.iter().enumerate() {
        let answers = confusion[organic][c];
        if organic_answers == 0.0 {
            break;
        }
        let share = answers / organic_answers;
        let (lo, hi) = wilson_interval(answers, organic_answers, level);
        dark_shares.push((c, share));
        dark_table.push(vec![
            channel.as_str().into(),
            answers.into(),
            share.into(),
            lo.into(),
            hi.into(),
            (share * organic_customers).into(),
        ]);
    }
    let paid_dark = if organic_answers > 0.0 { 1.0 - confusion[organic][organic] / organic_answers } else { f64::NAN };

    // Answers: unmapped strings, "Other", and every distinct answer.
    let Answers { answers_table, unmapped_table, month_table, promo_table, other_total } = answers_section(&ctx, &mut warnings);

    // Charts.
    let paid: Vec<&ChannelRow> = rows.iter().filter(|r| r.click > 0.0 || r.blended > 0.5 || r.spend > 0.0).collect();
    let categories: Vec<String> = paid.iter().map(|r| r.name.clone()).collect();
    let file = |path: &str| path.rsplit(['/', '\\']).next().unwrap_or(path).to_string();
    let period = format!(
        "Source: {}, {}, {}; first orders {} to {}; {} new customers, {} answers.",
        file(&prepared.files.orders),
        file(&prepared.files.survey),
        file(&prepared.files.spend),
        prepared.period.0,
        prepared.period.1,
        count(total),
        count(responded)
    );
    let lead = rows
        .iter()
        .filter(|r| r.index != organic && r.spend > 0.0)
        .filter_map(|r| r.multiplier.map(|m| (m, r)))
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.name.cmp(&a.1.name)));
    let customers_title = match lead {
        Some((m, r)) if m >= 1.2 => {
            format!("{} brings {}x the customers clicks credit it with", r.name, number(m, 1))
        }
        _ => "The survey confirms click attribution: no paid channel gains 20%".into(),
    };
    let mut charts = vec![
        Chart::new(ChartKind::GroupedBars, "customers_by_channel", customers_title.clone())
            .note(format!("{period} Whiskers: {:.0}% intervals.", level * 100.0))
            .axes("channel", "new customers", Format::Count)
            .categories(categories.clone())
            .series(vec![
                Series::new("click (last click)", paid.iter().map(|r| Some(r.click)).collect()),
                Series::new("survey (answers / response rate)", paid.iter().map(|r| Some(r.survey_extrapolated)).collect()),
                Series::new("blended", paid.iter().map(|r| Some(r.blended)).collect()).with_interval(
                    paid.iter().map(|r| r.blended_ci.map(|c| c.0)).collect(),
                    paid.iter().map(|r| r.blended_ci.map(|c| c.1)).collect(),
                ),
            ])
            .table("channels"),
    ];
    let with_cac: Vec<&ChannelRow> = rows.iter().filter(|r| r.blended_cac.is_some() && r.index != organic).collect();
    if !with_cac.is_empty() {
        let common_target =
            with_cac.iter().filter_map(|r| r.target).next().filter(|t| with_cac.iter().all(|r| r.target == Some(*t)));
        let under = with_cac.iter().filter(|r| r.target.is_some_and(|t| r.blended_cac.is_some_and(|c| c <= t))).count();
        let title = match common_target {
            Some(target) => format!(
                "{} of {} paid channels acquire customers under the {} target CAC",
                under,
                with_cac.len(),
                money(target, currency)
            ),
            None => "Blended CAC by channel: spend / customers by promo code, survey and click".into(),
        };
        charts.push(
            Chart::new(ChartKind::GroupedBars, "blended_cac", title)
                .note(format!("{period} Whiskers: {:.0}% intervals.", level * 100.0))
                .axes("channel", format!("CAC ({currency})"), Format::Money)
                .categories(with_cac.iter().map(|r| r.name.clone()).collect())
                .series(vec![
                    Series::new("click CAC", with_cac.iter().map(|r| r.click_cac).collect()),
                    Series::new("blended CAC", with_cac.iter().map(|r| r.blended_cac).collect()).with_interval(
                        with_cac.iter().map(|r| r.cac_ci.0).collect(),
                        with_cac.iter().map(|r| r.cac_ci.1.or(r.blended_cac)).collect(),
                    ),
                ])
                .table("channels")
                .reference(common_target.map(|t| (format!("target {}", money(t, currency)), t))),
        );
    }
    let heat_rows: Vec<usize> = (0..n).filter(|h| confusion[*h].iter().sum::<f64>() > 0.0).collect();
    let heat_columns: Vec<usize> = (0..n).filter(|c| heat_rows.iter().any(|h| confusion[*h][*c] > 0.0)).collect();
    let agreement = if both_all > 0.0 { agree_all / both_all } else { f64::NAN };
    charts.push(
        Chart::new(
            ChartKind::Heatmap,
            "agreement_heatmap",
            format!("The survey names the paid click channel for {} of customers with both", percent(agreement)),
        )
        .note(format!("{period} Rows: click channel; cells: share of its answers."))
        .axes("survey answer", "click channel", Format::Percent)
        .categories(heat_columns.iter().map(|c| channels[*c].clone()).collect())
        .series(
            heat_rows
                .iter()
                .map(|h| {
                    let row_total: f64 = confusion[*h].iter().sum();
                    Series::new(&channels[*h], heat_columns.iter().map(|c| Some(confusion[*h][*c] / row_total)).collect())
                })
                .collect(),
        )
        .table("confusion"),
    );
    let weeks: Vec<&crate::prepare::WeekRow> = prepared.weekly.iter().filter(|w| w.surveyed > 0.0).collect();
    charts.push(
        Chart::new(ChartKind::Lines, "response_by_week", format!("{} of surveyed customers answer", percent(response_rate)))
            .note(period.clone())
            .axes("week of first order", "response rate", Format::Percent)
            .categories(weeks.iter().map(|w| w.week.clone()).collect())
            .series(vec![Series::new("response rate", weeks.iter().map(|w| Some(w.responded / w.surveyed)).collect())])
            .table("response_by_week")
            .reference(Some((format!("{} floor", percent(LOW_RESPONSE)), LOW_RESPONSE))),
    );
    if organic_answers > 0.0 {
        charts.push(
            Chart::new(
                ChartKind::Bars,
                "organic_by_answer",
                format!("{} of \"organic\" customers say a paid channel brought them", percent(paid_dark)),
            )
            .note(format!("{period} {} organic/direct respondents.", count(organic_answers)))
            .axes("survey answer", "share of organic/direct respondents", Format::Percent)
            .categories(dark_shares.iter().map(|(c, _)| channels[*c].clone()).collect())
            .series(vec![Series::new("share of answers", dark_shares.iter().map(|(_, s)| Some(*s)).collect())])
            .table("organic_by_answer"),
        );
    }

    // Words.
    let headline = match lead {
        Some((m, r)) if m >= 1.2 => format!(
            "{}: {} re-attributes to {}x its click customers{}",
            if paid_dark.is_finite() {
                format!("{} of \"organic\" customers came from paid channels", percent(paid_dark))
            } else {
                "Survey attribution".into()
            },
            r.name,
            number(m, 1),
            r.blended_cac.map_or(String::new(), |cac| format!(
                " (blended CAC {} vs {} by click)",
                money(cac, currency),
                r.click_cac.map_or("n/a".into(), |c| money(c, currency))
            ))
        ),
        _ => customers_title,
    };
    let context = vec![
        format!(
            "Post-purchase survey attribution, first orders {} to {}: {} new customers, {} surveyed, {} answered (response rate {}, {:.0}% interval {} to {}), {} with an answer the map assigns to a channel.",
            prepared.period.0,
            prepared.period.1,
            count(total),
            count(surveyed),
            count(responded),
            percent(response_rate),
            level * 100.0,
            percent(r_lo),
            percent(r_hi),
            count(mapped)
        ),
        format!(
            "Blended attribution: {}. Agreement of survey and paid click channel: {} of {} customers with both. {} answers map to no channel{}.",
            describe_rules(params),
            percent(agreement),
            count(both_all),
            count(unmapped),
            if other_total > 0.0 { format!(" ({} said \"Other\")", count(other_total)) } else { String::new() }
        ),
        format!(
            "Intervals: {:.0}% percentile intervals from {} Bayesian-bootstrap draws over customers (seeded); CAC = spend in the period / customers; P(CAC <= target) is the share of draws under target.",
            level * 100.0,
            count(params.draws as f64)
        ),
    ];
    let naive_gap: Vec<String> = rows
        .iter()
        .filter(|r| r.blended > 0.0 && ((r.naive - r.blended) / r.blended).abs() > 0.1)
        .map(|r| format!("{} {} vs {}", r.name, count(r.naive), count(r.blended)))
        .collect();
    if params.extrapolation == Extrapolation::Reweighted && !naive_gap.is_empty() {
        warnings.push(format!(
            "Response rates differ by click channel, so the naive extrapolation (answers / overall response rate) is off by more than 10% for: {} (naive vs reweighted).",
            naive_gap.join(", ")
        ));
    }
    // The headline response rate and the channel numbers first; diagnostics by segment after them.
    let diagnostic = |m: &Metric| m.name == names::AGREEMENT || (m.name == names::RESPONSE_RATE && !m.segment.is_all());
    let (diagnostics, mut metrics): (Vec<Metric>, Vec<Metric>) = metrics.into_iter().partition(diagnostic);
    metrics.extend(diagnostics);
    Analysis {
        headline,
        context,
        metrics,
        decisions,
        warnings,
        tables: vec![
            channel_table,
            response_table,
            agreement_table,
            dark_table,
            unmapped_table,
            band_table,
            source_table,
            confusion_table,
            week_table,
            month_table,
            answers_table,
            promo_table,
        ],
        charts,
    }
}

fn describe_rules(params: &Params) -> String {
    let order: Vec<&str> = params
        .precedence
        .iter()
        .map(|s| match s {
            Source::Promo => "promo code",
            Source::Survey => "survey answer",
            Source::Click => "click",
        })
        .collect();
    let extrapolation = match params.extrapolation {
        Extrapolation::Reweighted if params.by_order_value => {
            "customers without an answer take the answer mix of respondents with the same click channel and order-value quartile"
        }
        Extrapolation::Reweighted => "customers without an answer take the answer mix of respondents with the same click channel",
        Extrapolation::Naive => "customers without an answer take the overall answer mix (naive)",
    };
    format!("{}; {extrapolation}", order.join(" > "))
}

/// What every section of the page reads.
struct Ctx<'a> {
    prepared: &'a Prepared,
    params: &'a Params,
    currency: &'a str,
    level: f64,
    pop: &'a crate::Population,
    channels: &'a [String],
    n: usize,
    organic: usize,
    surveyed: f64,
    responded: f64,
    unmapped: f64,
    response_rate: f64,
}

/// Response rate overall, by click channel, by order value and by week, with the low-response warning.
fn response_section(ctx: &Ctx<'_>, metrics: &mut Vec<Metric>, warnings: &mut Vec<String>) -> [Table; 3] {
    let Ctx { prepared, currency, level, pop, channels, surveyed, responded, response_rate, .. } = *ctx;
    let (r_lo, r_hi) = wilson_interval(responded, surveyed, level);
    metrics.push(Metric::interval(names::RESPONSE_RATE, Unit::Share, response_rate, r_lo, r_hi, level));
    let mut response_table = Table::new(
        "response_by_click_channel",
        "Who answers: response rate by click channel, and the click mix of respondents vs non-respondents",
        &[
            ("click_channel", Format::Text),
            ("new_customers", Format::Count),
            ("surveyed", Format::Count),
            ("responded", Format::Count),
            ("response_rate", Format::Percent),
            ("ci_low", Format::Percent),
            ("ci_high", Format::Percent),
            ("share_of_respondents", Format::Percent),
            ("share_of_non_respondents", Format::Percent),
        ],
    );
    let non_respondents = surveyed - responded;
    for (h, channel) in channels.iter().enumerate() {
        let customers = pop.sum(|c| c.click == h);
        if customers == 0.0 {
            continue;
        }
        let s = pop.sum(|c| c.click == h && c.answer.surveyed());
        let r = pop.sum(|c| c.click == h && c.answer.responded());
        let (lo, hi) = wilson_interval(r, s, level);
        let rate = if s > 0.0 { r / s } else { f64::NAN };
        if s > 0.0 {
            metrics.push(
                Metric::interval(names::RESPONSE_RATE, Unit::Share, rate, lo, hi, level)
                    .with_segment(Segment::one("click_channel", channel)),
            );
        }
        response_table.push(vec![
            channel.as_str().into(),
            customers.into(),
            s.into(),
            r.into(),
            rate.into(),
            if s > 0.0 { lo.into() } else { TableCell::Empty },
            if s > 0.0 { hi.into() } else { TableCell::Empty },
            (r / responded).into(),
            (if non_respondents > 0.0 { (s - r) / non_respondents } else { f64::NAN }).into(),
        ]);
    }
    let labels = band_labels(&prepared.band_edges, currency);
    let mut band_table = Table::new(
        "response_by_order_value",
        "Response rate by first-order value (quartiles)",
        &[
            ("order_value", Format::Text),
            ("surveyed", Format::Count),
            ("responded", Format::Count),
            ("response_rate", Format::Percent),
            ("ci_low", Format::Percent),
            ("ci_high", Format::Percent),
        ],
    );
    for (b, label) in labels.iter().enumerate() {
        let s = pop.sum(|c| c.band == b && c.answer.surveyed());
        let r = pop.sum(|c| c.band == b && c.answer.responded());
        if s == 0.0 {
            continue;
        }
        let (lo, hi) = wilson_interval(r, s, level);
        metrics.push(
            Metric::interval(names::RESPONSE_RATE, Unit::Share, r / s, lo, hi, level)
                .with_segment(Segment::one("order_value", label)),
        );
        band_table.push(vec![label.as_str().into(), s.into(), r.into(), (r / s).into(), lo.into(), hi.into()]);
    }
    let mut week_table = Table::new(
        "response_by_week",
        "Response rate by week of first order",
        &[
            ("week", Format::Text),
            ("new_customers", Format::Count),
            ("surveyed", Format::Count),
            ("responded", Format::Count),
            ("response_rate", Format::Percent),
            ("ci_low", Format::Percent),
            ("ci_high", Format::Percent),
        ],
    );
    week_table.in_summary = false;
    for w in &prepared.weekly {
        let (lo, hi) = wilson_interval(w.responded, w.surveyed, level);
        let rate = if w.surveyed > 0.0 { w.responded / w.surveyed } else { f64::NAN };
        week_table.push(vec![
            w.week.as_str().into(),
            w.customers.into(),
            w.surveyed.into(),
            w.responded.into(),
            rate.into(),
            if w.surveyed > 0.0 { lo.into() } else { TableCell::Empty },
            if w.surveyed > 0.0 { hi.into() } else { TableCell::Empty },
        ]);
    }
    if response_rate < LOW_RESPONSE {
        warnings.push(format!(
            "The survey response rate is {} ({} of {} surveyed), under {}: the answers speak for few customers and extrapolation carries most of the result.",
            percent(response_rate),
            count(responded),
            count(surveyed),
            percent(LOW_RESPONSE)
        ));
    }
    [response_table, band_table, week_table]
}

/// The click x answer confusion matrix and per-channel agreement.
struct Agreement {
    confusion: Vec<Vec<f64>>,
    agree_all: f64,
    both_all: f64,
    agreement_table: Table,
    confusion_table: Table,
}

/// Agreement and the confusion matrix, on customers with a click and a mapped answer.
fn agreement_section(ctx: &Ctx<'_>, metrics: &mut Vec<Metric>) -> Agreement {
    let Ctx { level, pop, channels, n, organic, .. } = *ctx;
    let both = |h: usize, c: usize| pop.sum(|cell| cell.click == h && cell.answer == Answer::Channel(c));
    let confusion: Vec<Vec<f64>> = (0..n).map(|h| (0..n).map(|c| both(h, c)).collect()).collect();
    let mut agreement_table = Table::new(
        "agreement",
        "How often the survey names the click channel (customers with both signals)",
        &[
            ("click_channel", Format::Text),
            ("answers", Format::Count),
            ("same_channel", Format::Count),
            ("agreement", Format::Percent),
            ("ci_low", Format::Percent),
            ("ci_high", Format::Percent),
        ],
    );
    let (mut agree_all, mut both_all) = (0.0, 0.0);
    for (h, channel) in channels.iter().enumerate() {
        let answers: f64 = confusion[h].iter().sum();
        if answers == 0.0 {
            continue;
        }
        let same = confusion[h][h];
        if h != organic {
            agree_all += same;
            both_all += answers;
        }
        let (lo, hi) = wilson_interval(same, answers, level);
        metrics.push(
            Metric::interval(names::AGREEMENT, Unit::Share, same / answers, lo, hi, level)
                .with_segment(Segment::one("channel", channel)),
        );
        agreement_table.push(vec![
            channel.as_str().into(),
            answers.into(),
            same.into(),
            (same / answers).into(),
            lo.into(),
            hi.into(),
        ]);
    }
    let mut confusion_columns: Vec<(&str, Format)> = vec![("click_channel", Format::Text)];
    confusion_columns.extend(channels.iter().map(|c| (c.as_str(), Format::Count)));
    let mut confusion_table =
        Table::new("confusion", "Click channel (rows) x survey answer (columns), customers with both", &confusion_columns);
    confusion_table.in_summary = false;
    for (h, channel) in channels.iter().enumerate() {
        if confusion[h].iter().sum::<f64>() > 0.0 {
            let mut row: Vec<TableCell> = vec![channel.as_str().into()];
            row.extend(confusion[h].iter().map(|v| TableCell::from(*v)));
            confusion_table.push(row);
        }
    }
    Agreement { confusion, agree_all, both_all, agreement_table, confusion_table }
}

/// The answer tables: every distinct answer, unmapped answers, answer quality by month, promo codes.
struct Answers {
    answers_table: Table,
    unmapped_table: Table,
    month_table: Table,
    promo_table: Table,
    other_total: f64,
}

/// Answers: unmapped strings, "Other", every distinct answer and promo codes, with their warnings.
fn answers_section(ctx: &Ctx<'_>, warnings: &mut Vec<String>) -> Answers {
    let Ctx { prepared, params, responded, unmapped, .. } = *ctx;
    let mut answers_table = Table::new(
        "answers",
        "Every distinct answer with its count and the channel the answer map gives it",
        &[("answer", Format::Text), ("answers", Format::Count), ("channel", Format::Text), ("rule", Format::Text)],
    );
    answers_table.in_summary = false;
    let mut unmapped_table = Table::new(
        "unmapped_answers",
        "Answers no rule maps (they count as no answer): add rules for the big ones",
        &[("answer", Format::Text), ("answers", Format::Count), ("share_of_answers", Format::Percent)],
    );
    for a in &prepared.answers {
        answers_table.push(vec![
            a.answer.as_str().into(),
            a.count.into(),
            a.channel.clone().map_or(TableCell::Empty, TableCell::from),
            a.rule.clone().map_or(TableCell::Empty, TableCell::from),
        ]);
        if a.channel.is_none() && unmapped_table.rows.len() < 10 {
            unmapped_table.push(vec![a.answer.as_str().into(), a.count.into(), (a.count / responded).into()]);
        }
    }
    let mut month_table = Table::new(
        "answers_by_month",
        "Answer quality over time: unmapped answers and \"Other\"",
        &[
            ("month", Format::Text),
            ("answers", Format::Count),
            ("unmapped", Format::Count),
            ("unmapped_share", Format::Percent),
            ("other", Format::Count),
            ("other_share", Format::Percent),
        ],
    );
    month_table.in_summary = false;
    for m in &prepared.monthly {
        let share = |v: f64| if m.responded > 0.0 { v / m.responded } else { f64::NAN };
        month_table.push(vec![
            m.month.as_str().into(),
            m.responded.into(),
            m.unmapped.into(),
            share(m.unmapped).into(),
            m.other.into(),
            share(m.other).into(),
        ]);
    }
    let other_total: f64 = prepared.monthly.iter().map(|m| m.other).sum();
    if unmapped / responded > 0.05 {
        let top: Vec<String> = prepared
            .answers
            .iter()
            .filter(|a| a.channel.is_none())
            .take(3)
            .map(|a| format!("\"{}\" ({})", a.answer, count(a.count)))
            .collect();
        warnings.push(format!(
            "{} of answers ({}) map to no channel and count as no answer; the most common: {}. Add rules to answer_map.",
            percent(unmapped / responded),
            count(unmapped),
            top.join(", ")
        ));
    }
    let mut promo_table = Table::new(
        "promo_codes",
        "Promo codes on first orders and the channel they credit",
        &[("promo_code", Format::Text), ("first_orders", Format::Count), ("channel", Format::Text)],
    );
    promo_table.in_summary = false;
    for p in &prepared.promos {
        promo_table.push(vec![
            p.code.as_str().into(),
            p.count.into(),
            p.channel.clone().map_or(TableCell::Empty, TableCell::from),
        ]);
    }
    let unmapped_codes: Vec<&crate::prepare::PromoRow> = prepared.promos.iter().filter(|p| p.channel.is_none()).collect();
    if !unmapped_codes.is_empty() && params.precedence.contains(&Source::Promo) {
        let n_orders: f64 = unmapped_codes.iter().map(|p| p.count).sum();
        let top: Vec<String> = unmapped_codes.iter().take(3).map(|p| format!("{} ({})", p.code, count(p.count))).collect();
        warnings.push(format!(
            "{} first orders carry promo codes that promo_codes does not map (e.g. {}); they fall back to survey and click.",
            count(n_orders),
            top.join(", ")
        ));
    }
    let (early, examples) = &prepared.answered_before_order;
    if *early > 0 {
        warnings.push(format!(
            "{}: {} survey rows answered before their order was paid were left out (export or clock error), e.g. order {}.",
            prepared.files.survey,
            count(*early as f64),
            examples.join(", ")
        ));
    }
    Answers { answers_table, unmapped_table, month_table, promo_table, other_total }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_read_as_money_ranges() {
        assert_eq!(band_labels(&[89.0, 150.0], "USD"), ["up to $89", "$89 to $150", "over $150"]);
        assert_eq!(band_labels(&[], "USD"), ["all"]);
    }
}
