//! The survey's own sections: who answers (response), whether answers agree with clicks
//! (agreement and the confusion matrix), what "organic" customers say (the dark breakdown), and
//! the answers themselves.

use upshot_result::format::{count, percent};
use upshot_result::{Cell as TableCell, Format, Metric, Segment, Table, Unit, names};
use upshot_stats::wilson_interval;

use super::{Ctx, LOW_RESPONSE, band_labels};
use crate::Source;
use crate::model::{Answer, Attribution};

/// Response rate overall, by click channel, by order value and by week, with the low-response warning.
pub(super) fn response(ctx: &Ctx<'_>, metrics: &mut Vec<Metric>, warnings: &mut Vec<String>) -> [Table; 3] {
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
pub(super) struct Agreement {
    pub(super) confusion: Vec<Vec<f64>>,
    pub(super) agree_all: f64,
    pub(super) both_all: f64,
    pub(super) agreement_table: Table,
    pub(super) confusion_table: Table,
}

/// Agreement and the confusion matrix, on customers with a click and a mapped answer.
pub(super) fn agreement(ctx: &Ctx<'_>, metrics: &mut Vec<Metric>) -> Agreement {
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
pub(super) struct Answers {
    pub(super) answers_table: Table,
    pub(super) unmapped_table: Table,
    pub(super) month_table: Table,
    pub(super) promo_table: Table,
    pub(super) other_total: f64,
}

/// Answers: unmapped strings, "Other", every distinct answer and promo codes, with their warnings.
pub(super) fn answers(ctx: &Ctx<'_>, warnings: &mut Vec<String>) -> Answers {
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

/// What customers that click attribution calls organic/direct say brought them.
pub(super) struct Dark {
    pub(super) table: Table,
    /// (answer channel, share of organic/direct answers), in channel order.
    pub(super) shares: Vec<(usize, f64)>,
    pub(super) answers: f64,
    /// Share of organic/direct respondents that name a paid channel; NaN without any.
    pub(super) paid_share: f64,
    /// Share of organic/direct click customers the estimate attributes to another channel, with
    /// its interval; NaN without such customers.
    pub(super) estimated_paid: f64,
    pub(super) estimated_paid_ci: super::Interval,
}

/// The dark breakdown: what organic/direct customers say.
pub(super) fn dark(ctx: &Ctx<'_>, confusion: &[Vec<f64>]) -> Dark {
    let Ctx { level, channels, organic, point, .. } = *ctx;
    let organic_answers: f64 = confusion[organic].iter().sum();
    let organic_customers = point.click[organic];
    let mut table = Table::new(
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
    let mut shares = Vec::new();
    for (c, channel) in channels.iter().enumerate() {
        let answers = confusion[organic][c];
        if organic_answers == 0.0 {
            break;
        }
        let share = answers / organic_answers;
        let (lo, hi) = wilson_interval(answers, organic_answers, level);
        shares.push((c, share));
        table.push(vec![
            channel.as_str().into(),
            answers.into(),
            share.into(),
            lo.into(),
            hi.into(),
            (share * organic_customers).into(),
        ]);
    }
    let paid_dark = if organic_answers > 0.0 { 1.0 - confusion[organic][organic] / organic_answers } else { f64::NAN };
    let paid_of = |a: &Attribution| if a.click[organic] > 0.0 { a.no_click_paid / a.click[organic] } else { f64::NAN };
    let estimated_paid = paid_of(point);
    let estimated_paid_ci = if estimated_paid.is_finite() { super::reported_interval(ctx, paid_of) } else { None };
    Dark { table, shares, answers: organic_answers, paid_share: paid_dark, estimated_paid, estimated_paid_ci }
}

#[cfg(test)]
mod tests {
    use super::band_labels;

    #[test]
    fn bands_read_as_money_ranges() {
        assert_eq!(band_labels(&[89.0, 150.0], "USD"), ["up to $89", "$89 to $150", "over $150"]);
        assert_eq!(band_labels(&[], "USD"), ["all"]);
    }
}
