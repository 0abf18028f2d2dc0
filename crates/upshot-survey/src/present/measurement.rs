//! The measurement model's own section: what identifies it, which response model the data
//! favour, the fitted accuracy and response rates by true origin, and the words that say so.

use upshot_result::format::{count, number, percent};
use upshot_result::{Cell as TableCell, Format, Metric, Segment, Table, Unit, names};

use super::{Ctx, reported_interval};
use crate::measurement::{AccuracySource, Chosen, RatioSource, ResponseChoice};

/// The model's metrics (accuracy, response by true origin), its table and its warnings.
pub(super) fn section(ctx: &Ctx<'_>, metrics: &mut Vec<Metric>, warnings: &mut Vec<String>) -> Option<Table> {
    if let Some(reason) = &ctx.estimates.fallback {
        warnings.push(format!("Measurement model: {reason}."));
    }
    let chosen = ctx.estimates.model.as_ref()?;
    if ctx.estimates.fallback.is_some() {
        return None;
    }
    let fitted = ctx.point.fitted.as_ref()?;
    let level = ctx.level;
    let accuracy_ci = reported_interval(ctx, |d| d.fitted.as_ref().map_or(f64::NAN, |f| f.accuracy));
    // Estimated: its bootstrap interval; a range: the range itself; configured: the value.
    let accuracy_metric = match (chosen.accuracy, accuracy_ci) {
        (AccuracySource::Configured, _) | (_, None) => Metric::point(names::ANSWER_ACCURACY, Unit::Share, fitted.accuracy),
        (_, Some((low, high))) => Metric::interval(names::ANSWER_ACCURACY, Unit::Share, fitted.accuracy, low, high, level),
    };
    metrics.push(accuracy_metric);
    let mut table = Table::new(
        "measurement_model",
        &format!(
            "Measurement model: response rate by true origin and share of unmapped answers ({} intervals)",
            upshot_result::format::level_text(level)
        ),
        &[
            ("origin", Format::Text),
            ("new_customers", Format::Count),
            ("response_rate", Format::Percent),
            ("ci_low", Format::Percent),
            ("ci_high", Format::Percent),
        ],
    );
    for (c, channel) in ctx.channels.iter().enumerate() {
        let Some(rate) = fitted.response_by_origin.get(c).copied().flatten() else { continue };
        let ci = reported_interval(ctx, |d| {
            d.fitted.as_ref().and_then(|f| f.response_by_origin.get(c).copied().flatten()).unwrap_or(f64::NAN)
        });
        let metric = match ci {
            Some((low, high)) => Metric::interval(names::RESPONSE_RATE, Unit::Share, rate, low, high, level),
            None => Metric::point(names::RESPONSE_RATE, Unit::Share, rate),
        };
        metrics.push(metric.with_segment(Segment::one("origin", channel)));
        table.push(vec![
            channel.as_str().into(),
            ctx.point.blended[c].into(),
            rate.into(),
            ci.map_or(TableCell::Empty, |c| c.0.into()),
            ci.map_or(TableCell::Empty, |c| c.1.into()),
        ]);
    }
    match chosen.accuracy {
        AccuracySource::Bounded { low, high, known, configured: false } => warnings.push(format!(
            "Measurement model: answer accuracy is not identified ({} respondents with a known origin, at least 30 needed, and no `answer_accuracy` in [params]), so every accuracy from {} to {} is fitted and the intervals span them all; set `answer_accuracy` from an audit to narrow them.",
            count(known),
            percent(low),
            percent(high)
        )),
        AccuracySource::Bounded { low, high, configured: true, .. } => warnings.push(format!(
            "Measurement model: the configured answer accuracy range {} to {} is fitted end to end; the intervals span it.",
            percent(low),
            percent(high)
        )),
        _ => {}
    }
    if let RatioSource::Bounded { ratio, paid, none } = chosen.ratio {
        warnings.push(format!(
            "Measurement model: whether customers without a paid click answer more or less often than those of the same origin with one is not identified ({} known-origin customers surveyed with a paid click, {} without, at least 30 of each needed), so the configured `response_ratio` bound is fitted at both ends (1/{r} and {r}) and the intervals span them.",
            count(paid),
            count(none),
            r = number(ratio, 2)
        ));
    }
    if chosen.response == ResponseChoice::Both {
        warnings.push(format!(
            "Measurement model: the data cannot tell whether response depends on the true origin or on the click channel (log-likelihoods {} vs {}), so the intervals span both.",
            number(chosen.loglik_origin, 1),
            number(chosen.loglik_click, 1)
        ));
    }
    if !chosen.identification.counts() {
        warnings.push(format!(
            "Measurement model: {} parameters for {} free shares in the data; the estimate leans on its assumptions.",
            chosen.identification.parameters, chosen.identification.degrees_of_freedom
        ));
    }
    Some(table)
}

/// One context line: the model, what identifies it and the response test.
pub(super) fn context(ctx: &Ctx<'_>) -> Option<String> {
    let chosen: &Chosen = ctx.estimates.model.as_ref()?;
    if ctx.estimates.fallback.is_some() {
        return None;
    }
    let fitted = ctx.point.fitted.as_ref()?;
    let id = chosen.identification;
    let accuracy = match chosen.accuracy {
        AccuracySource::Estimated { known } => format!(
            "answer accuracy {} estimated with {} promo-code customers of known origin who answered",
            percent(fitted.accuracy),
            count(known)
        ),
        AccuracySource::Configured => format!("answer accuracy {} as configured (an audit)", percent(fitted.accuracy)),
        AccuracySource::Bounded { low, high, .. } => {
            format!(
                "answer accuracy anywhere from {} to {} (not identified: intervals span the range)",
                percent(low),
                percent(high)
            )
        }
    };
    let response = match chosen.response {
        ResponseChoice::Origin => format!(
            "the data favour response by true origin over response by click channel (log-likelihood {} higher, same number of parameters)",
            number(chosen.loglik_origin - chosen.loglik_click, 1)
        ),
        ResponseChoice::Click => format!(
            "the data favour response by click channel over response by true origin (log-likelihood {} higher, same number of parameters)",
            number(chosen.loglik_click - chosen.loglik_origin, 1)
        ),
        ResponseChoice::Both => {
            "the data cannot tell response by true origin from response by click channel: intervals span both".into()
        }
    };
    let ratio = match (chosen.ratio, chosen.response) {
        (_, ResponseChoice::Click) => String::new(),
        (RatioSource::Estimated { paid, none }, _) => format!(
            "; customers without a paid click answer {}x as often as those of the same origin with one (estimated with {} and {} known-origin customers surveyed)",
            number(fitted.no_click_ratio.unwrap_or(1.0), 2),
            count(none),
            count(paid)
        ),
        (RatioSource::Bounded { ratio, .. }, _) => {
            format!(
                "; response of customers without a paid click bounded within {}x either way of their origin's rate (`response_ratio`)",
                number(ratio, 2)
            )
        }
        (RatioSource::Assumed, _) => {
            "; response by true origin alone, with or without a paid click (not identified: set `response_ratio` to bound it)"
                .into()
        }
    };
    let bound = match chosen.bound {
        Some(b) => format!(
            "; wrong answers bounded (not identified without known-origin customers of every channel): each origin's accuracy within {} points of it and up to {} of one origin's wrong answers naming one other channel (`accuracy_spread`, `confusion_share`), both corners fitted for every channel, `blended_customers_bound` spans them and each decision quotes its CAC range; the intervals and calls here are the model's own",
            number(b.spread * 100.0, 0),
            percent(b.share)
        ),
        None => String::new(),
    };
    Some(format!(
        "Measurement model: each customer's true origin is a latent class mixed per click channel; mapped answers name it with the answer accuracy and each other origin equally often; {accuracy}{bound}; {response}{ratio}; {} origins, {} strata, {} parameters for {} free shares in the data. Beside it: the post-stratified estimate (answers taken as true) and Fairing's naive count.",
        id.origins, id.strata, id.parameters, id.degrees_of_freedom
    ))
}
