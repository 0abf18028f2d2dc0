//! Chart specifications: customers and CAC by channel, agreement, response by week, the dark breakdown.

use upshot_result::format::{count, money, number, percent};
use upshot_result::{Chart, ChartKind, Format, Series};

use super::channels::{ChannelRow, lead};
use super::sections::{Agreement, Dark};
use super::{Ctx, LOW_RESPONSE};

/// `Source: orders.parquet, survey.parquet, spend.parquet; first orders ...`: the small print of every chart.
pub(super) fn source_note(ctx: &Ctx<'_>) -> String {
    let prepared = ctx.prepared;
    let file = |path: &str| path.rsplit(['/', '\\']).next().unwrap_or(path).to_string();
    format!(
        "Source: {}, {}, {}; first orders {} to {}; {} new customers, {} answers.",
        file(&prepared.files.orders),
        file(&prepared.files.survey),
        file(&prepared.files.spend),
        prepared.period.0,
        prepared.period.1,
        count(ctx.total),
        count(ctx.responded)
    )
}

/// The title of the customers chart (and the headline when no channel gains much): the paid
/// channel the survey credits most over its clicks.
pub(super) fn customers_title(ctx: &Ctx<'_>, rows: &[ChannelRow]) -> String {
    match lead(rows, ctx.organic) {
        Some((m, r)) if m >= 1.2 => {
            format!("{} brings {}x the customers clicks credit it with", r.name, number(m, 1))
        }
        _ => "The survey confirms click attribution: no paid channel gains 20%".into(),
    }
}

pub(super) fn charts(ctx: &Ctx<'_>, rows: &[ChannelRow], agreement: &Agreement, dark: &Dark) -> Vec<Chart> {
    let Ctx { prepared, currency, level, channels, n, organic, response_rate, .. } = *ctx;
    let confusion = &agreement.confusion;
    let paid: Vec<&ChannelRow> = rows.iter().filter(|r| r.click > 0.0 || r.blended > 0.5 || r.spend > 0.0).collect();
    let categories: Vec<String> = paid.iter().map(|r| r.name.clone()).collect();
    let period = source_note(ctx);
    let mut charts = vec![
        Chart::new(ChartKind::GroupedBars, "customers_by_channel", customers_title(ctx, rows))
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
    let agreement = if agreement.both_all > 0.0 { agreement.agree_all / agreement.both_all } else { f64::NAN };
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
    if dark.answers > 0.0 {
        charts.push(
            Chart::new(
                ChartKind::Bars,
                "organic_by_answer",
                format!("{} of \"organic\" customers say a paid channel brought them", percent(dark.paid_share)),
            )
            .note(format!("{period} {} organic/direct respondents.", count(dark.answers)))
            .axes("survey answer", "share of organic/direct respondents", Format::Percent)
            .categories(dark.shares.iter().map(|(c, _)| channels[*c].clone()).collect())
            .series(vec![Series::new("share of answers", dark.shares.iter().map(|(_, s)| Some(*s)).collect())])
            .table("organic_by_answer"),
        );
    }
    charts
}
