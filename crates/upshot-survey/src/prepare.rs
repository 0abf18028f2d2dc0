//! From validated tables to customer cells and the diagnostics around them.
//!
//! All row-level work happens in polars: new customers, the survey join, answer
//! and promo mapping (by joins against small tables built once per distinct
//! value), order-value quartiles, and one group-by into cells. Rust sees only
//! aggregates.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use upshot_data::derive::{channel_or_organic, exact_money_sum, new_customers};
use upshot_data::frame;
use upshot_data::{Dataset, TableKind};

use crate::mapping::{ORGANIC, is_other};
use crate::model::{Answer, Cell, Population};
use crate::{Exclusions, Params, SurveyError};

/// One week of first orders and their surveys.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WeekRow {
    pub week: String,
    pub customers: f64,
    pub surveyed: f64,
    pub responded: f64,
}

/// One month of answers: how many could not be mapped, how many said "Other".
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MonthRow {
    /// `YYYY-MM`.
    pub month: String,
    pub responded: f64,
    pub unmapped: f64,
    pub other: f64,
}

/// A distinct answer with its count and where the map sends it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AnswerRow {
    pub answer: String,
    pub count: f64,
    pub channel: Option<String>,
    pub rule: Option<String>,
}

/// A distinct promo code (lowercased) on first orders.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PromoRow {
    pub code: String,
    pub count: f64,
    pub channel: Option<String>,
}

/// Everything the estimates and the report need.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub population: Population,
    pub exclusions: Exclusions,
    /// Spend per channel (index into `population.channels`) in the period.
    pub spend: Vec<f64>,
    /// First and last day of first orders.
    pub period: (String, String),
    pub weekly: Vec<WeekRow>,
    pub monthly: Vec<MonthRow>,
    pub answers: Vec<AnswerRow>,
    pub promos: Vec<PromoRow>,
    /// Upper edges of the order-value quartiles in use (one fewer than bands).
    pub band_edges: Vec<f64>,
    /// Survey rows dropped because the answer came before the order, with examples.
    pub answered_before_order: (u64, Vec<String>),
    pub files: Files,
}

/// Input paths, for messages.
#[derive(Debug, Clone, Default)]
pub(crate) struct Files {
    pub orders: String,
    pub survey: String,
    pub spend: String,
}

fn collect(frame: LazyFrame, context: &'static str) -> Result<DataFrame, SurveyError> {
    frame.collect().map_err(SurveyError::polars(context))
}

/// The Monday on or before a day, both as days since 1970-01-01 (a Thursday).
fn week_monday(day: Expr) -> Expr {
    day.clone() - (((day + lit(3)) % lit(7)) + lit(7)) % lit(7)
}

/// Survey state codes in the cell group-by.
const NOT_SURVEYED: i32 = 0;
const NO_RESPONSE: i32 = 1;
const UNMAPPED: i32 = 2;
const MAPPED: i32 = 3;

pub(crate) fn prepare(data: &Dataset, params: &Params) -> Result<Prepared, SurveyError> {
    let table = |kind: TableKind| data.get(kind).ok_or(SurveyError::MissingTable { kind: "survey", table: kind.name() });
    let (orders, survey, spend) = (table(TableKind::Orders)?, table(TableKind::Survey)?, table(TableKind::Spend)?);
    let files =
        Files { orders: orders.report.path.clone(), survey: survey.report.path.clone(), spend: spend.report.path.clone() };
    require_answers(survey, &files)?;
    let mut exclusions = Exclusions::new();
    let surveyed = surveyed_first_orders(orders, survey, &files, &mut exclusions)?;
    let joined = &surveyed.joined;
    let (answers, answer_table) = answer_map(joined, params)?;
    let (promos, promo_table) = promo_map(joined, params)?;
    let bands = order_value_bands(joined)?;
    let grouped = group(surveyed.joined.clone(), answer_table, promo_table, &bands.edges)?;
    let (spend_channels, spend_cost) = spend_in_period(spend, bands.days, &mut exclusions)?;
    let (population, spend_vec) = population(&grouped.cells, &spend_channels, &spend_cost, bands.edges.len() + 1)?;
    let responded = population.sum(|c| c.answer.responded());
    if responded == 0.0 {
        return Err(SurveyError::Input {
            file: files.survey.clone(),
            column: "answer".into(),
            message: format!(
                "none of the {} new customers' first orders has a survey answer ({} survey rows matched a first order); nothing to attribute",
                population.total(),
                surveyed.rows.saturating_sub(surveyed.early)
            ),
        });
    }
    Ok(Prepared {
        population,
        exclusions,
        spend: spend_vec,
        period: bands.period,
        weekly: week_rows(&grouped.weekly)?,
        monthly: month_rows(&grouped.monthly)?,
        answers,
        promos,
        band_edges: bands.edges,
        answered_before_order: (surveyed.early, surveyed.early_examples),
        files,
    })
}

/// The survey analysis reads the answers: an export without the column gets a message naming
/// the columns outside the contract it does have, with the config line to map one.
fn require_answers(survey: &upshot_data::LoadedTable, files: &Files) -> Result<(), SurveyError> {
    if survey.report.absent_columns.iter().any(|c| c == "answer") {
        let hint = match survey.report.ignored_columns.first() {
            Some(other) => format!(
                "; columns outside the contract: {}; if your export calls it `{other}`, add to the config:\n        [columns.survey]\n        answer = \"{other}\"",
                survey.report.ignored_columns.join(", ")
            ),
            None => String::new(),
        };
        return Err(SurveyError::Input {
            file: files.survey.clone(),
            column: "answer".into(),
            message: format!(
                "is missing: the contract lets it be left out, but the survey analysis reads the answers from it{hint}"
            ),
        });
    }
    Ok(())
}

/// First orders joined to their surveys, with the survey rows accounted for.
struct Surveyed {
    /// One row per new customer: order, click channel, promo code, the survey's columns and
    /// the flags `__surveyed` and `__early` (answered before the order: an export error).
    joined: DataFrame,
    /// Survey rows that matched a first order.
    rows: u64,
    /// Of those, answered before the order.
    early: u64,
    /// Up to three order ids answered before the order.
    early_examples: Vec<String>,
}

/// New customers (first paid order per customer) and the survey of each first order; answers
/// given before the order are export errors.
fn surveyed_first_orders(
    orders: &upshot_data::LoadedTable,
    survey: &upshot_data::LoadedTable,
    files: &Files,
    exclusions: &mut Exclusions,
) -> Result<Surveyed, SurveyError> {
    let customers = new_customers(&orders.frame).map_err(SurveyError::polars("find new customers"))?;
    if customers.height() == 0 {
        return Err(SurveyError::Input {
            file: files.orders.clone(),
            column: "revenue".into(),
            message: "no order has positive revenue, so there are no new customers to attribute".into(),
        });
    }
    let repeat = (orders.frame.height() - customers.height()) as u64;
    if repeat > 0 {
        exclusions.add(TableKind::Orders, "repeat_or_refund", repeat);
    }
    let mut join = JoinArgs::new(JoinType::Left);
    join.maintain_order = MaintainOrderJoin::Left;
    let joined = customers
        .lazy()
        .select([col("order_id"), col("paid_at"), col("revenue"), col("promo_code"), channel_or_organic().alias("click")])
        .join(
            survey.frame.clone().lazy().select([
                col("order_id"),
                col("sent_at"),
                col("answered_at"),
                col("answer"),
                lit(true).alias("__surveyed"),
            ]),
            [col("order_id")],
            [col("order_id")],
            join,
        )
        .with_columns([
            col("__surveyed").fill_null(lit(false)).alias("__surveyed"),
            col("answered_at").lt(col("paid_at")).fill_null(lit(false)).alias("__early"),
        ]);
    // Streaming keeps the left order too, and runs this join faster than the in-memory engine.
    let joined = joined
        .collect_with_engine(Engine::Streaming)
        .map(|frames| frames.unwrap_single())
        .map_err(SurveyError::polars("join the survey to first orders"))?;
    let counts = collect(
        joined.clone().lazy().select([
            col("__surveyed").cast(DataType::UInt64).sum().alias("surveyed"),
            col("__early").cast(DataType::UInt64).sum().alias("early"),
        ]),
        "count survey rows",
    )?;
    let surveyed_rows =
        frame::numbers(&counts, "surveyed").map_err(SurveyError::polars("read numbers"))?.first().copied().unwrap_or(0.0) as u64;
    let early =
        frame::numbers(&counts, "early").map_err(SurveyError::polars("read numbers"))?.first().copied().unwrap_or(0.0) as u64;
    let of_repeat_orders = (survey.frame.height() as u64).saturating_sub(surveyed_rows);
    if of_repeat_orders > 0 {
        exclusions.add(TableKind::Survey, "not_a_first_order", of_repeat_orders);
    }
    let mut early_examples = Vec::new();
    if early > 0 {
        exclusions.add(TableKind::Survey, "answered_before_order", early);
        let examples =
            collect(joined.clone().lazy().filter(col("__early")).select([col("order_id")]).limit(3), "list early answers")?;
        early_examples = frame::strings(&examples, "order_id")
            .map_err(SurveyError::polars("read a text column"))?
            .into_iter()
            .flatten()
            .collect();
    }
    Ok(Surveyed { joined, rows: surveyed_rows, early, early_examples })
}

/// Distinct answers -> channel, once each: the answer rows of the page and the small table the
/// cell group-by joins against.
fn answer_map(joined: &DataFrame, params: &Params) -> Result<(Vec<AnswerRow>, DataFrame), SurveyError> {
    let answer_counts = collect(
        joined
            .clone()
            .lazy()
            .filter(col("__surveyed").and(col("__early").not()).and(col("answer").is_not_null()))
            .group_by([col("answer")])
            .agg([len().cast(DataType::Float64).alias("n")])
            .sort(["answer"], SortMultipleOptions::default()),
        "count answers",
    )?;
    let answer_text = frame::strings(&answer_counts, "answer").map_err(SurveyError::polars("read a text column"))?;
    let answer_n = frame::numbers(&answer_counts, "n").map_err(SurveyError::polars("read numbers"))?;
    let mut answers = Vec::new();
    let (mut map_answer, mut map_channel, mut map_state, mut map_other) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (text, n) in answer_text.into_iter().zip(answer_n) {
        let Some(text) = text else { continue };
        let blank = text.trim().is_empty();
        let rule = params.answer_map.rule_for(&text);
        let channel = rule.map(|r| r.channel().to_string());
        map_state.push(if blank {
            NO_RESPONSE
        } else if channel.is_some() {
            MAPPED
        } else {
            UNMAPPED
        });
        map_other.push(!blank && is_other(&text));
        map_channel.push(channel.clone());
        map_answer.push(text.clone());
        if !blank {
            answers.push(AnswerRow { answer: text, count: n, channel, rule: rule.map(|r| r.describe()) });
        }
    }
    answers.sort_by(|a, b| b.count.total_cmp(&a.count).then_with(|| a.answer.cmp(&b.answer)));
    let answer_table = DataFrame::new_infer_height(vec![
        Column::new("answer".into(), map_answer),
        Column::new("answer_channel".into(), map_channel),
        Column::new("__state".into(), map_state),
        Column::new("__other".into(), map_other),
    ])
    .map_err(SurveyError::polars("build the answer map"))?;
    Ok((answers, answer_table))
}

/// Distinct promo codes -> channel, once each.
fn promo_map(joined: &DataFrame, params: &Params) -> Result<(Vec<PromoRow>, DataFrame), SurveyError> {
    let promo_counts = collect(
        joined
            .clone()
            .lazy()
            .filter(col("promo_code").is_not_null())
            .group_by([col("promo_code").str().to_lowercase().alias("promo_key")])
            .agg([len().cast(DataType::Float64).alias("n")])
            .sort(["promo_key"], SortMultipleOptions::default()),
        "count promo codes",
    )?;
    let mut promos = Vec::new();
    let (mut promo_key, mut promo_channel) = (Vec::new(), Vec::new());
    for (code, n) in frame::strings(&promo_counts, "promo_key")
        .map_err(SurveyError::polars("read a text column"))?
        .into_iter()
        .zip(frame::numbers(&promo_counts, "n").map_err(SurveyError::polars("read numbers"))?)
    {
        let Some(code) = code else { continue };
        let channel = params.promo_codes.channel_for(&code).map(str::to_string);
        promo_key.push(code.clone());
        promo_channel.push(channel.clone());
        promos.push(PromoRow { code, count: n, channel });
    }
    promos.sort_by(|a, b| b.count.total_cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
    let promo_table = DataFrame::new_infer_height(vec![
        Column::new("promo_key".into(), promo_key),
        Column::new("promo_channel".into(), promo_channel),
    ])
    .map_err(SurveyError::polars("build the promo map"))?;
    Ok((promos, promo_table))
}

/// Order-value bands and the period of first orders.
struct Bands {
    /// Upper edges of the bands (quartiles; equal edges merged).
    edges: Vec<f64>,
    /// First and last day of first orders, as text.
    period: (String, String),
    /// The same days as days since 1970-01-01.
    days: (i32, i32),
}

/// Order-value quartiles of first orders; equal edges (one price) merge bands.
fn order_value_bands(joined: &DataFrame) -> Result<Bands, SurveyError> {
    let quartiles = collect(
        joined.clone().lazy().select([
            col("revenue").quantile(lit(0.25), QuantileMethod::Linear).alias("q1"),
            col("revenue").quantile(lit(0.5), QuantileMethod::Linear).alias("q2"),
            col("revenue").quantile(lit(0.75), QuantileMethod::Linear).alias("q3"),
            col("paid_at").min().cast(DataType::Date).cast(DataType::String).alias("first"),
            col("paid_at").max().cast(DataType::Date).cast(DataType::String).alias("last"),
            col("paid_at").min().cast(DataType::Date).cast(DataType::Int32).alias("first_day"),
            col("paid_at").max().cast(DataType::Date).cast(DataType::Int32).alias("last_day"),
        ]),
        "find order-value quartiles",
    )?;
    let mut band_edges: Vec<f64> = Vec::new();
    for q in ["q1", "q2", "q3"] {
        let edge = frame::numbers(&quartiles, q).map_err(SurveyError::polars("read numbers"))?.first().copied().unwrap_or(0.0);
        if band_edges.last().is_none_or(|last| edge > *last) {
            band_edges.push(edge);
        }
    }
    let first_text = |c: &str| -> Result<String, SurveyError> {
        Ok(frame::strings(&quartiles, c)
            .map_err(SurveyError::polars("read a text column"))?
            .into_iter()
            .next()
            .flatten()
            .unwrap_or_default())
    };
    let period = (first_text("first")?, first_text("last")?);
    let first_day =
        frame::numbers(&quartiles, "first_day").map_err(SurveyError::polars("read numbers"))?.first().copied().unwrap_or(0.0)
            as i32;
    let last_day =
        frame::numbers(&quartiles, "last_day").map_err(SurveyError::polars("read numbers"))?.first().copied().unwrap_or(0.0)
            as i32;
    Ok(Bands { edges: band_edges, period, days: (first_day, last_day) })
}

/// The group-bys behind the model and the page.
struct Grouped {
    /// Customers, revenue and squared revenue per (click, promo channel, answer state, answer channel, band).
    cells: DataFrame,
    /// Customers, surveyed and responded per week of first order.
    weekly: DataFrame,
    /// Responded, unmapped and "Other" answers per month.
    monthly: DataFrame,
}

/// Every customer's answer state, channels and band, grouped into cells, weeks and months.
///
/// Two stages, so no per-customer row is joined: the customers are first counted per raw key
/// (click, promo code, answer text, survey flags, band, week, month) with their revenue and
/// squared revenue as exact integers; the two small maps are joined onto those few groups, and
/// the groups are summed into cells, weeks and months. The sums are integers, so every total is
/// the same as a one-stage group-by over the customers.
fn group(joined: DataFrame, answer_table: DataFrame, promo_table: DataFrame, band_edges: &[f64]) -> Result<Grouped, SurveyError> {
    let band = band_edges
        .iter()
        .map(|edge| col("revenue").gt(lit(*edge)).cast(DataType::Int32))
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| lit(0i32));

    let keys = [
        col("click"),
        col("promo_code"),
        col("answer"),
        col("__surveyed"),
        col("__early"),
        col("band"),
        col("week"),
        col("month"),
    ];
    let counted = joined
        .lazy()
        .with_columns([
            band.alias("band"),
            // Integer keys per row (Monday of the ISO week as days since 1970, and year x 100 + month);
            // labels are written once per group, not once per customer.
            week_monday(col("paid_at").cast(DataType::Date).cast(DataType::Int32)).alias("week"),
            (col("paid_at").dt().year() * lit(100) + col("paid_at").dt().month().cast(DataType::Int32)).alias("month"),
        ])
        .group_by(keys)
        .agg([
            len().cast(DataType::Int64).alias("n"),
            // Money in integer millionths and squares rounded to whole units, summed as
            // integers: exact, so the bootstrap's spread (and result.json) does not depend on
            // thread order.
            (col("revenue") * lit(1e6)).round(0, RoundMode::HalfToEven).cast(DataType::Int64).sum().alias("micros"),
            (col("revenue") * col("revenue")).round(0, RoundMode::HalfToEven).cast(DataType::Int64).sum().alias("squares"),
        ]);
    let counted = collect(counted, "count customers by key")?;
    let with_state = counted
        .lazy()
        .with_column(when(col("__early")).then(lit(NULL).cast(DataType::String)).otherwise(col("answer")).alias("answer"))
        .join(answer_table.lazy(), [col("answer")], [col("answer")], JoinArgs::new(JoinType::Left))
        .join(promo_table.lazy(), [col("promo_code").str().to_lowercase()], [col("promo_key")], JoinArgs::new(JoinType::Left))
        .with_columns([
            when(col("__surveyed").not().or(col("__early")))
                .then(lit(NOT_SURVEYED))
                .otherwise(col("__state").fill_null(lit(NO_RESPONSE)))
                .alias("state"),
            col("__other").fill_null(lit(false)).alias("__other"),
        ]);
    let with_state = collect(with_state, "map answers and promo codes")?.lazy();
    let n_where = |condition: Expr| when(condition).then(col("n")).otherwise(lit(0i64)).sum().cast(DataType::Float64);

    let cells = collect(
        with_state
            .clone()
            .group_by([col("click"), col("promo_channel"), col("state"), col("answer_channel"), col("band")])
            .agg([
                col("n").sum().cast(DataType::Float64).alias("customers"),
                (col("micros").sum().cast(DataType::Float64) / lit(1e6)).alias("revenue"),
                col("squares").sum().cast(DataType::Float64).alias("revenue_sq"),
            ])
            .sort(["click", "promo_channel", "state", "answer_channel", "band"], SortMultipleOptions::default()),
        "group customers into cells",
    )?;
    let weekly = collect(
        with_state
            .clone()
            .group_by([col("week")])
            .agg([
                col("n").sum().cast(DataType::Float64).alias("customers"),
                n_where(col("state").gt(lit(NOT_SURVEYED))).alias("surveyed"),
                n_where(col("state").gt(lit(NO_RESPONSE))).alias("responded"),
            ])
            .sort(["week"], SortMultipleOptions::default())
            .with_column(col("week").cast(DataType::Date).cast(DataType::String)),
        "count surveys by week",
    )?;
    let monthly = collect(
        with_state
            .group_by([col("month")])
            .agg([
                n_where(col("state").gt(lit(NO_RESPONSE))).alias("responded"),
                n_where(col("state").eq(lit(UNMAPPED))).alias("unmapped"),
                n_where(col("__other")).alias("other"),
            ])
            .sort(["month"], SortMultipleOptions::default()),
        "count answers by month",
    )?;
    Ok(Grouped { cells, weekly, monthly })
}

/// Spend per channel in the period of first orders; rows outside it are excluded and counted.
fn spend_in_period(
    spend: &upshot_data::LoadedTable,
    (first_day, last_day): (i32, i32),
    exclusions: &mut Exclusions,
) -> Result<(Vec<String>, Vec<f64>), SurveyError> {
    let spend_by_channel = collect(
        spend
            .frame
            .clone()
            .lazy()
            .with_column(col("date").cast(DataType::Int32).alias("__day"))
            .filter(col("__day").gt_eq(lit(first_day)).and(col("__day").lt_eq(lit(last_day))))
            .group_by([col("channel")])
            .agg([exact_money_sum("cost"), len().cast(DataType::Float64).alias("rows")])
            .sort(["channel"], SortMultipleOptions::default()),
        "sum spend by channel",
    )?;
    let spend_channels: Vec<String> = frame::strings(&spend_by_channel, "channel")
        .map_err(SurveyError::polars("read a text column"))?
        .into_iter()
        .flatten()
        .collect();
    let spend_cost = frame::numbers(&spend_by_channel, "cost").map_err(SurveyError::polars("read numbers"))?;
    let spend_in_period: f64 =
        frame::numbers(&spend_by_channel, "rows").map_err(SurveyError::polars("read numbers"))?.iter().sum();
    let outside = (spend.frame.height() as u64).saturating_sub(spend_in_period as u64);
    if outside > 0 {
        exclusions.add(TableKind::Spend, "outside_orders_period", outside);
    }
    Ok((spend_channels, spend_cost))
}

/// Channels (every click, promo, answer and spend channel; organic last), the population's
/// cells and spend per channel in the same order.
fn population(
    cells: &DataFrame,
    spend_channels: &[String],
    spend_cost: &[f64],
    bands: usize,
) -> Result<(Population, Vec<f64>), SurveyError> {
    let c_click = frame::strings(cells, "click").map_err(SurveyError::polars("read a text column"))?;
    let c_promo = frame::strings(cells, "promo_channel").map_err(SurveyError::polars("read a text column"))?;
    let c_answer = frame::strings(cells, "answer_channel").map_err(SurveyError::polars("read a text column"))?;
    let c_state = frame::numbers(cells, "state").map_err(SurveyError::polars("read numbers"))?;
    let c_band = frame::numbers(cells, "band").map_err(SurveyError::polars("read numbers"))?;
    let c_customers = frame::numbers(cells, "customers").map_err(SurveyError::polars("read numbers"))?;
    let c_revenue = frame::numbers(cells, "revenue").map_err(SurveyError::polars("read numbers"))?;
    let c_revenue_sq = frame::numbers(cells, "revenue_sq").map_err(SurveyError::polars("read numbers"))?;
    let mut names: BTreeSet<String> = BTreeSet::new();
    names.extend(c_click.iter().flatten().cloned());
    names.extend(c_promo.iter().flatten().cloned());
    names.extend(c_answer.iter().flatten().cloned());
    names.extend(spend_channels.iter().cloned());
    let mut channels: Vec<String> = names.into_iter().filter(|c| c != ORGANIC).collect();
    channels.push(ORGANIC.to_string());
    let index: BTreeMap<&str, usize> = channels.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let of = |name: &Option<String>| name.as_deref().and_then(|n| index.get(n).copied());
    let mut population_cells = Vec::with_capacity(cells.height());
    for i in 0..cells.height() {
        let answer = match c_state[i] as i32 {
            NOT_SURVEYED => Answer::NotSurveyed,
            NO_RESPONSE => Answer::NoResponse,
            UNMAPPED => Answer::Unmapped,
            _ => of(&c_answer[i]).map_or(Answer::Unmapped, Answer::Channel),
        };
        population_cells.push(Cell {
            click: of(&c_click[i]).unwrap_or(channels.len() - 1),
            promo: of(&c_promo[i]),
            answer,
            band: c_band[i] as usize,
            customers: c_customers[i],
            revenue: c_revenue[i],
            revenue_sq: c_revenue_sq[i],
        });
    }
    let mut spend_vec = vec![0.0; channels.len()];
    for (channel, cost) in spend_channels.iter().zip(spend_cost) {
        if let Some(i) = index.get(channel.as_str()) {
            spend_vec[*i] += cost;
        }
    }
    Ok((Population { channels, bands, cells: population_cells }, spend_vec))
}

fn week_rows(weekly: &DataFrame) -> Result<Vec<WeekRow>, SurveyError> {
    let weeks = frame::strings(weekly, "week").map_err(SurveyError::polars("read a text column"))?;
    let (n, s, r) = (
        frame::numbers(weekly, "customers").map_err(SurveyError::polars("read numbers"))?,
        frame::numbers(weekly, "surveyed").map_err(SurveyError::polars("read numbers"))?,
        frame::numbers(weekly, "responded").map_err(SurveyError::polars("read numbers"))?,
    );
    Ok(weeks
        .into_iter()
        .enumerate()
        .map(|(i, w)| WeekRow { week: w.unwrap_or_default(), customers: n[i], surveyed: s[i], responded: r[i] })
        .collect())
}

fn month_rows(monthly: &DataFrame) -> Result<Vec<MonthRow>, SurveyError> {
    let months = frame::numbers(monthly, "month").map_err(SurveyError::polars("read numbers"))?;
    let (r, u, o) = (
        frame::numbers(monthly, "responded").map_err(SurveyError::polars("read numbers"))?,
        frame::numbers(monthly, "unmapped").map_err(SurveyError::polars("read numbers"))?,
        frame::numbers(monthly, "other").map_err(SurveyError::polars("read numbers"))?,
    );
    Ok(months
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let key = m as i64;
            MonthRow { month: format!("{}-{:02}", key / 100, key % 100), responded: r[i], unmapped: u[i], other: o[i] }
        })
        .collect())
}
