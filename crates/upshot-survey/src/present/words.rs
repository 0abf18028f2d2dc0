//! The words of the page: headline, context lines and the method warnings they need.

use upshot_result::format::{count, money, number, percent};

use super::Ctx;
use super::channels::{ChannelRow, lead};
use super::charts::customers_title;
use super::sections::{Agreement, Dark};
use crate::{Extrapolation, Params, Source};
use upshot_stats::wilson_interval;

/// The finding in one sentence: how much of "organic" is paid, and the channel the survey credits most.
pub(super) fn headline(ctx: &Ctx<'_>, rows: &[ChannelRow], dark: &Dark) -> String {
    let (currency, paid_dark) = (ctx.currency, dark.estimated_paid);
    match lead(rows, ctx.organic) {
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
        _ => customers_title(ctx, rows),
    }
}

/// Period and response, the rules, the intervals.
pub(super) fn context(ctx: &Ctx<'_>, agreement: &Agreement, other_total: f64) -> Vec<String> {
    let Ctx { prepared, params, level, total, surveyed, responded, mapped, unmapped, response_rate, .. } = *ctx;
    let (r_lo, r_hi) = wilson_interval(responded, surveyed, level);
    let agreement_share = if agreement.both_all > 0.0 { agreement.agree_all / agreement.both_all } else { f64::NAN };
    let both_all = agreement.both_all;
    vec![
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
            percent(agreement_share),
            count(both_all),
            count(unmapped),
            if other_total > 0.0 { format!(" ({} said \"Other\")", count(other_total)) } else { String::new() }
        ),
        format!(
            "Intervals: {:.0}% percentile intervals from {} Bayesian-bootstrap draws over customers (seeded); CAC = spend in the period / customers; P(CAC <= target) is the share of draws under target.",
            level * 100.0,
            count(params.draws as f64)
        ),
    ]
}

/// How far the baselines beside the reported estimate are off it: the post-stratified estimate
/// beside the measurement model, the naive one beside the post-stratified estimate.
pub(super) fn naive_gap_warning(ctx: &Ctx<'_>, rows: &[ChannelRow]) -> Option<String> {
    if ctx.estimates.stratified.is_some() {
        let moved: Vec<String> = rows
            .iter()
            .filter_map(|r| r.stratified.map(|(s, _)| (r, s)))
            .filter(|(r, s)| r.blended > 0.0 && ((s - r.blended) / r.blended).abs() > 0.1)
            .map(|(r, s)| format!("{} {} vs {}", r.name, count(r.blended), count(s)))
            .collect();
        if moved.is_empty() {
            return None;
        }
        return Some(format!(
            "Wrong answers and response by true origin move these channels by more than 10% from the post-stratified estimate, which takes every answer as true: {} (measurement model vs post-stratified).",
            moved.join(", ")
        ));
    }
    let naive_gap: Vec<String> = rows
        .iter()
        .filter(|r| r.blended > 0.0 && ((r.naive - r.blended) / r.blended).abs() > 0.1)
        .map(|r| format!("{} {} vs {}", r.name, count(r.naive), count(r.blended)))
        .collect();
    if ctx.params.extrapolation == Extrapolation::Reweighted && !naive_gap.is_empty() {
        return Some(format!(
            "Response rates differ by click channel, so the naive extrapolation (answers / overall response rate) is off by more than 10% for: {} (naive vs reweighted).",
            naive_gap.join(", ")
        ));
    }
    None
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
        Extrapolation::Model if params.by_order_value => {
            "every customer's true origin is estimated by the measurement model (strata: click channel and order-value quartile)"
        }
        Extrapolation::Model => "every customer's true origin is estimated by the measurement model (strata: click channel)",
    };
    format!("{}; {extrapolation}", order.join(" > "))
}
