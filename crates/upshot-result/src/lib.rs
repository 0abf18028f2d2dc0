//! The typed result every upshot analysis returns.
//!
//! An analysis is a pure function from validated tables to an [`Analysis`]:
//! metrics with their intervals, decisions with the numbers behind them,
//! warnings, the tables behind every chart, and chart *specifications*.
//! Nothing here draws or writes files; `upshot-report` renders an
//! [`Analysis`] once, into every output format.
//!
//! The serialised form of [`ResultJson`] is the stable `result.json` contract
//! of `CONTRACTS.md`: fields may be added, never renamed.
//!
//! ```
//! use upshot_result::{names, Metric, Segment, Unit};
//! let m = Metric::point(names::COST, Unit::money("USD"), 1250.0).with_segment(Segment::one("channel", "meta"));
//! assert_eq!(m.segment.get("channel").map(String::as_str), Some("meta"));
//! assert!(m.ci_low.is_none());
//! ```
#![deny(missing_docs)]

mod brand;
pub mod format;
mod incrementality;

pub use brand::BrandMatcher;
pub use incrementality::{Incrementality, MAX_FACTOR, RawFactor, factor_from_brand_test, incrementality};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Segment keys of a metric or the subject of a decision (`{"channel": "meta"}`).
///
/// A `BTreeMap` so that serialisation order, and so `result.json`, is stable.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Segment(pub BTreeMap<String, String>);

impl Segment {
    /// The empty segment: the headline row of a metric.
    pub fn all() -> Self {
        Self::default()
    }

    /// A segment with one key.
    pub fn one(key: &str, value: &str) -> Self {
        let mut map = BTreeMap::new();
        map.insert(key.to_string(), value.to_string());
        Self(map)
    }

    /// Adds a key, builder style.
    pub fn and(mut self, key: &str, value: &str) -> Self {
        self.0.insert(key.to_string(), value.to_string());
        self
    }

    /// The value of one key.
    pub fn get(&self, key: &str) -> Option<&String> {
        self.0.get(key)
    }

    /// Whether this is the headline row (no keys).
    pub fn is_all(&self) -> bool {
        self.0.is_empty()
    }

    /// The values alone, for a row label: `google_search / brand`; `all` for the headline row.
    pub fn values_label(&self) -> String {
        if self.0.is_empty() { "all".to_string() } else { self.0.values().cloned().collect::<Vec<_>>().join(" / ") }
    }
}

/// `channel=meta, campaign=x`, or `all` for the headline row: how pages name a segment.
impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("all");
        }
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{key}={value}")?;
        }
        Ok(())
    }
}

/// The unit of a [`Metric`]. Serialised as the contract's plain string: the currency code for
/// money (`"USD"`), otherwise a noun (`"purchases"`, `"share"`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    /// Money in the given currency (an ISO code such as `USD`).
    Money(String),
    /// New customers; extrapolated counts are fractional but read whole.
    Customers,
    /// Purchases (paid orders).
    Purchases,
    /// Leads.
    Leads,
    /// Leads at a later funnel stage (`target_leads`, `calls`, `proposals`, `negotiations`).
    Stage(String),
    /// A share in [0, 1], written as a percentage.
    Share,
    /// A probability in [0, 1].
    Probability,
    /// A plain ratio (LTV/CAC, ROI, a multiplier).
    Ratio,
    /// A duration in months.
    Months,
    /// A duration in days (a test length).
    Days,
}

impl Unit {
    /// Money in `currency`.
    pub fn money(currency: &str) -> Self {
        Unit::Money(currency.to_string())
    }

    /// The contract's string for the unit.
    pub fn as_str(&self) -> &str {
        match self {
            Unit::Money(code) | Unit::Stage(code) => code,
            Unit::Customers => "customers",
            Unit::Purchases => "purchases",
            Unit::Leads => "leads",
            Unit::Share => "share",
            Unit::Probability => "probability",
            Unit::Ratio => "ratio",
            Unit::Months => "months",
            Unit::Days => "days",
        }
    }

    /// Reads the contract's string back: the known nouns, a three-letter upper-case code as
    /// money, anything else as a funnel stage.
    pub fn parse(text: &str) -> Self {
        match text {
            "customers" => Unit::Customers,
            "purchases" => Unit::Purchases,
            "leads" => Unit::Leads,
            "share" => Unit::Share,
            "probability" => Unit::Probability,
            "ratio" => Unit::Ratio,
            "months" => Unit::Months,
            "days" => Unit::Days,
            code if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) => Unit::Money(code.to_string()),
            stage => Unit::Stage(stage.to_string()),
        }
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Unit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Unit::parse(&text))
    }
}

/// The contract's metric names (`CONTRACTS.md`); analyses name metrics through these, never
/// with free strings. The names are stable: add, never rename.
pub mod names {
    macro_rules! names {
        ($($(#[$doc:meta])* $id:ident = $text:literal;)*) => {
            $($(#[$doc])* pub const $id: &str = $text;)*
            /// Every name, in the order declared here.
            pub const ALL: &[&str] = &[$($text),*];
        };
    }
    names! {
        /// Spend over new customers (or purchases), by the analysis's own attribution.
        CAC = "cac";
        /// CAC after shrinkage toward the segment's group.
        CAC_SHRUNK = "cac_shrunk";
        /// Spend over survey-blended new customers.
        BLENDED_CAC = "blended_cac";
        /// Spend over last-click new customers.
        CLICK_CAC = "click_cac";
        /// The largest CAC that still pays at the stated margin and horizon.
        CAC_MAX = "cac_max";
        /// Incremental cost per acquisition (brand test).
        ICPA = "icpa";
        /// Incremental revenue over incremental cost (brand test).
        IROAS = "iroas";
        /// Spend.
        SPEND = "spend";
        /// Cost (brand test: the spend of the on-units).
        COST = "cost";
        /// Net revenue.
        REVENUE = "revenue";
        /// Return on investment.
        ROI = "roi";
        /// Leads.
        LEADS = "leads";
        /// Purchases.
        PURCHASES = "purchases";
        /// Observed purchases of a cohort.
        PURCHASES_OBSERVED = "purchases_observed";
        /// Projected eventual purchases of a cohort.
        PURCHASES_PROJECTED = "purchases_projected";
        /// Observed net revenue of a cohort.
        REVENUE_OBSERVED = "revenue_observed";
        /// Cohorts: new customers whose first paid order names no lead, entered in their cohort by
        /// the order's period and click keys (counted in CAC beside the projected purchases).
        DIRECT_CUSTOMERS = "direct_customers";
        /// Projected eventual net revenue of a cohort.
        REVENUE_PROJECTED = "revenue_projected";
        /// Lifetime value after one month.
        LTV_1M = "ltv_1m";
        /// Lifetime value after three months.
        LTV_3M = "ltv_3m";
        /// Lifetime value after six months.
        LTV_6M = "ltv_6m";
        /// Lifetime value after twelve months.
        LTV_12M = "ltv_12m";
        /// LTV over CAC.
        LTV_TO_CAC = "ltv_to_cac";
        /// Months until margin revenue repays CAC.
        PAYBACK_MONTHS = "payback_months";
        /// Segments: days of a daily brand on/off switchback that tell, with 80% power, whether a
        /// channel's brand campaigns add the new customers a day their spend needs to meet the
        /// target CAC (a design figure from the brand test's power simulation, not an estimate).
        BRAND_TEST_DAYS_NEEDED = "brand_test_days_needed";
        /// Segments: the new customers a day that effect is (brand spend a day / target CAC).
        BRAND_TEST_EFFECT = "brand_test_effect";
        /// Conversion rate after shrinkage.
        CONVERSION_RATE_SHRUNK = "conversion_rate_shrunk";
        /// Pacing: the month's run rate.
        RUN_RATE = "run_rate";
        /// Pacing: the fact so far this month.
        FACT_TO_DATE = "fact_to_date";
        /// Pacing: the month's plan.
        PLAN = "plan";
        /// Pacing: projected share of the plan.
        PLAN_COMPLETION = "plan_completion";
        /// Survey: new customers by last click.
        CLICK_CUSTOMERS = "click_customers";
        /// Survey: share of mapped answers.
        SURVEY_SHARE = "survey_share";
        /// Survey: customers blended from answers and clicks.
        BLENDED_CUSTOMERS = "blended_customers";
        /// Survey measurement model: blended customers with the interval widened to the
        /// wrong-answer bound (accuracy by origin, concentrated wrong answers).
        BLENDED_CUSTOMERS_BOUND = "blended_customers_bound";
        /// Survey: share of blended customers.
        BLENDED_SHARE = "blended_share";
        /// Survey: revenue of blended customers.
        BLENDED_REVENUE = "blended_revenue";
        /// Survey: blended over click customers.
        MULTIPLIER = "multiplier";
        /// Survey: answered over surveyed.
        RESPONSE_RATE = "response_rate";
        /// Survey: answers that name the click channel.
        AGREEMENT = "agreement";
        /// Survey measurement model: P(a mapped answer names the customer's true origin).
        ANSWER_ACCURACY = "answer_accuracy";
        /// Survey: share of the customers click attribution calls organic/direct that came from
        /// another (paid) channel.
        DARK_PAID_SHARE = "dark_paid_share";
        /// Brand test: incremental purchases over the test.
        INCREMENTAL_PURCHASES_TOTAL = "incremental_purchases_total";
        /// Brand test: incremental purchases per on-unit.
        INCREMENTAL_PURCHASES_PER_UNIT = "incremental_purchases_per_unit";
        /// Brand test: incremental revenue over the test.
        INCREMENTAL_REVENUE_TOTAL = "incremental_revenue_total";
        /// Brand test: the cost of the on-units.
        INCREMENTAL_COST_TOTAL = "incremental_cost_total";
        /// Brand test: the effect carried into the next unit.
        CARRY_OVER_PER_UNIT = "carry_over_per_unit";
        /// Brand test: the share of paid-brand purchases that come back organically when off.
        CANNIBALIZATION_SHARE = "cannibalization_share";
        /// A test's p-value.
        P_VALUE = "p_value";
    }

    /// The LTV metric at a horizon of `months` (1, 3, 6 or 12; others have no contract name).
    pub fn ltv(months: usize) -> &'static str {
        match months {
            1 => LTV_1M,
            3 => LTV_3M,
            6 => LTV_6M,
            _ => LTV_12M,
        }
    }
}

/// Reads a number that `result.json` writes as `null` when it is not finite.
fn nan_for_null<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

/// One estimate, with its interval when it has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Contract name, for example `incremental_purchases_total` or `blended_cac`.
    pub name: String,
    /// Unit: a currency code for money, otherwise a plain noun (`purchases`, `share`).
    pub unit: Unit,
    /// The point estimate; a non-finite one is written as `null` and read back as NaN.
    #[serde(deserialize_with = "nan_for_null")]
    pub estimate: f64,
    /// Lower end of the interval; `None` when the metric has no interval.
    pub ci_low: Option<f64>,
    /// Upper end of the interval.
    pub ci_high: Option<f64>,
    /// Level of the interval (0.95); `None` when there is no interval.
    pub level: Option<f64>,
    /// Segment keys; empty for the headline row.
    pub segment: Segment,
}

impl Metric {
    /// A metric without an interval (a count or a sum read off the data).
    pub fn point(name: &str, unit: Unit, estimate: f64) -> Self {
        Self { name: name.to_string(), unit, estimate, ci_low: None, ci_high: None, level: None, segment: Segment::all() }
    }

    /// A metric with an interval at `level`.
    pub fn interval(name: &str, unit: Unit, estimate: f64, low: f64, high: f64, level: f64) -> Self {
        Self { ci_low: Some(low), ci_high: Some(high), level: Some(level), ..Self::point(name, unit, estimate) }
    }

    /// Sets the segment, builder style.
    pub fn with_segment(mut self, segment: Segment) -> Self {
        self.segment = segment;
        self
    }
}

/// What to do about a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Spend more: the evidence says it pays.
    Scale,
    /// Keep as is.
    Keep,
    /// Keep, but work on it (bids, creatives, targeting).
    Optimize,
    /// Stop spending.
    Pause,
    /// Cut the budget (brand tests).
    Cut,
    /// Too little data to decide; the reason says how much more is needed.
    NeedsData,
}

impl Action {
    /// The call's colour on pages and charts (RGB; the executive page's badges use the same).
    pub fn colour(self) -> [u8; 3] {
        match self {
            Action::Scale => [0x00, 0x79, 0x6b],
            Action::Keep => [0x54, 0x6e, 0x7a],
            Action::Optimize => [0xef, 0x6c, 0x00],
            Action::Pause | Action::Cut => [0xc6, 0x28, 0x28],
            Action::NeedsData => [0x6a, 0x1b, 0x9a],
        }
    }

    /// The label used in summaries (`SCALE`, `NEEDS DATA`).
    pub fn label(self) -> &'static str {
        match self {
            Action::Scale => "SCALE",
            Action::Keep => "KEEP",
            Action::Optimize => "OPTIMIZE",
            Action::Pause => "PAUSE",
            Action::Cut => "CUT",
            Action::NeedsData => "NEEDS DATA",
        }
    }
}

/// A decision with the numbers behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// What the decision is about (`{"channel": "meta"}`).
    pub subject: Segment,
    /// What to do.
    pub action: Action,
    /// Probability that the action is the right call, in [0, 1].
    pub confidence: f64,
    /// One sentence with the numbers.
    pub reason: String,
    /// Money at stake, in the result's currency: the spend the decision governs (the
    /// executive summary orders decisions by it). Absent when the analysis has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stake: Option<f64>,
}

impl Decision {
    /// The one order of decisions on every page and in `result.json`: the most money at stake
    /// first (decisions without a stake last), then by subject, so the order never depends on
    /// the order the analysis found them in.
    pub fn order(a: &Decision, b: &Decision) -> std::cmp::Ordering {
        let stake = |d: &Decision| d.stake.unwrap_or(f64::NEG_INFINITY);
        stake(b).total_cmp(&stake(a)).then_with(|| a.subject.cmp(&b.subject))
    }
}

/// How the values of a table column or a chart axis are written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// Free text.
    Text,
    /// Whole numbers with thousands separators.
    Count,
    /// Money in the experiment's currency, with thousands separators.
    Money,
    /// A number with up to two decimals.
    Number,
    /// A share in [0, 1], written as a percentage.
    Percent,
}

/// One cell of a [`Table`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A real number; NaN is written as an empty cell.
    Num(f64),
    /// No value.
    Empty,
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(value.to_string())
    }
}
impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(value)
    }
}
impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Cell::Int(value)
    }
}
impl From<u64> for Cell {
    fn from(value: u64) -> Self {
        Cell::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Cell {
    fn from(value: f64) -> Self {
        if value.is_finite() { Cell::Num(value) } else { Cell::Empty }
    }
}
impl From<Option<f64>> for Cell {
    fn from(value: Option<f64>) -> Self {
        value.map_or(Cell::Empty, Cell::from)
    }
}

/// What a column holds: a value, or an end of the interval of the column before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// A value of its own.
    #[default]
    Value,
    /// The lower end of the interval of the value column before it.
    Low,
    /// The upper end of that interval.
    High,
}

/// A column of a [`Table`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Header, snake_case as in the CSV.
    pub name: String,
    /// How values are written in summaries (CSV keeps raw values).
    pub format: Format,
    /// A value or an interval end: summaries write `value (low to high)` in one cell; CSV and
    /// the workbook keep the three columns.
    #[serde(default)]
    pub role: Role,
}

/// A table behind a chart or a summary section; written to `tables/<name>.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// File stem, snake_case.
    pub name: String,
    /// What the table shows, one line.
    pub title: String,
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Rows; each has one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// Whether summaries show it inline (long tables live only in `tables/`).
    pub in_summary: bool,
    /// The page's lead table: one row per channel (or campaign, segment) in the reader's terms,
    /// shown right under the headline, before the decisions.
    #[serde(default)]
    pub lead: bool,
}

impl Table {
    /// An empty table with the given columns.
    pub fn new(name: &str, title: &str, columns: &[(&str, Format)]) -> Self {
        Self {
            name: name.to_string(),
            title: title.to_string(),
            columns: columns
                .iter()
                .map(|(name, format)| Column { name: name.to_string(), format: format.clone(), role: Role::Value })
                .collect(),
            rows: Vec::new(),
            in_summary: true,
            lead: false,
        }
    }

    /// Marks `low` and `high` as the interval of `value`; they must be the two columns right
    /// after it (a programming error otherwise, checked in debug builds).
    pub fn interval(mut self, value: &str, low: &str, high: &str) -> Self {
        let at = self.columns.iter().position(|c| c.name == value);
        debug_assert!(
            at.is_some_and(|i| self.columns.get(i + 1).is_some_and(|c| c.name == low)
                && self.columns.get(i + 2).is_some_and(|c| c.name == high)),
            "interval columns of {value} in table {}",
            self.name
        );
        if let Some(i) = at {
            for (offset, role) in [(1, Role::Low), (2, Role::High)] {
                if let Some(column) = self.columns.get_mut(i + offset) {
                    column.role = role;
                }
            }
        }
        self
    }

    /// Makes this the page's lead table, builder style.
    pub fn lead(mut self) -> Self {
        self.lead = true;
        self
    }

    /// Appends a row; panics in debug builds when its width is wrong, which is a
    /// programming error in the analysis, never an input error.
    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "row width of table {}", self.name);
        self.rows.push(row);
    }
}

/// One data series of a chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// One value per x category; `None` leaves a gap.
    pub values: Vec<Option<f64>>,
    /// Drawn dashed (counterfactuals, projections).
    #[serde(default)]
    pub dashed: bool,
    /// Lower ends of intervals, one per category (grouped bars draw whiskers); empty for none.
    #[serde(default)]
    pub low: Vec<Option<f64>>,
    /// Upper ends of intervals, one per category; empty for none.
    #[serde(default)]
    pub high: Vec<Option<f64>>,
    /// Values that are projections, not observations (heatmaps mark these cells); empty for none.
    #[serde(default)]
    pub marked: Vec<bool>,
    /// The series' own colour (RGB), where it means something (a call's colour); `None` takes the
    /// palette's colour for its position.
    #[serde(default)]
    pub colour: Option<[u8; 3]>,
}

impl Series {
    /// A solid series.
    pub fn new(name: &str, values: Vec<Option<f64>>) -> Self {
        Self {
            name: name.to_string(),
            values,
            dashed: false,
            low: Vec::new(),
            high: Vec::new(),
            marked: Vec::new(),
            colour: None,
        }
    }

    /// Drawn in its own colour (RGB), builder style.
    pub fn colour(mut self, rgb: [u8; 3]) -> Self {
        self.colour = Some(rgb);
        self
    }

    /// Drawn dashed (a counterfactual, a projection), builder style.
    pub fn dashed(mut self) -> Self {
        self.dashed = true;
        self
    }

    /// Adds interval ends, builder style.
    pub fn with_interval(mut self, low: Vec<Option<f64>>, high: Vec<Option<f64>>) -> Self {
        self.low = low;
        self.high = high;
        self
    }
}

/// How the series of a chart are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChartKind {
    /// One line per series over ordered categories (weeks, days).
    Lines,
    /// Bars stacked per category.
    StackedBars,
    /// One bar per category (first series only), e.g. a histogram.
    Bars,
    /// A point with an interval per category: series 0 = estimate, 1 = low, 2 = high.
    Intervals,
    /// Bars side by side per category, one per series, with whiskers where a series has intervals.
    GroupedBars,
    /// A matrix of shares: one row per series (its name labels the row), one column
    /// per category; cells shaded by value and labelled as percentages. Cells a
    /// series marks are projections: shaded in a second colour, labelled with `≈`.
    Heatmap,
}

/// A chart specification; `upshot-report` draws it as SVG and PNG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// File stem, snake_case.
    pub name: String,
    /// The finding, as a sentence (not "Daily purchases").
    pub title: String,
    /// Source and date range, in small print under the chart.
    pub note: String,
    /// How the series are drawn.
    pub kind: ChartKind,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis, with its unit.
    pub y_label: String,
    /// How y values are written.
    pub y_format: Format,
    /// Ordered x categories.
    pub categories: Vec<String>,
    /// Series, each with one value per category.
    pub series: Vec<Series>,
    /// Name of the table in `tables/` that holds the same numbers.
    pub table: String,
    /// Categories to shade (on-days) or emphasise (the observed bin); empty for none.
    #[serde(default)]
    pub highlight: Vec<bool>,
    /// Legend label of the shaded categories.
    #[serde(default)]
    pub highlight_label: String,
    /// A horizontal reference line (a target) with its legend label.
    #[serde(default)]
    pub reference: Option<(String, f64)>,
}

impl Chart {
    /// A chart of `kind` with its file stem and its title (the finding); the rest is set by the
    /// builder methods below, and what is not set stays empty (no note, no highlight, no reference).
    pub fn new(kind: ChartKind, name: &str, title: impl Into<String>) -> Self {
        Self {
            name: name.to_string(),
            title: title.into(),
            note: String::new(),
            kind,
            x_label: String::new(),
            y_label: String::new(),
            y_format: Format::Number,
            categories: Vec::new(),
            series: Vec::new(),
            table: String::new(),
            highlight: Vec::new(),
            highlight_label: String::new(),
            reference: None,
        }
    }

    /// The small print under the chart: source and date range.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// Axis labels (the y label with its unit) and how y values are written.
    pub fn axes(mut self, x_label: impl Into<String>, y_label: impl Into<String>, y_format: Format) -> Self {
        self.x_label = x_label.into();
        self.y_label = y_label.into();
        self.y_format = y_format;
        self
    }

    /// The ordered x categories.
    pub fn categories(mut self, categories: Vec<String>) -> Self {
        self.categories = categories;
        self
    }

    /// The series, each with one value per category.
    pub fn series(mut self, series: Vec<Series>) -> Self {
        self.series = series;
        self
    }

    /// The table in `tables/` that holds the same numbers.
    pub fn table(mut self, table: &str) -> Self {
        self.table = table.to_string();
        self
    }

    /// Categories to shade or emphasise, with the legend label of the shading.
    pub fn highlight(mut self, flags: Vec<bool>, label: impl Into<String>) -> Self {
        self.highlight = flags;
        self.highlight_label = label.into();
        self
    }

    /// A horizontal reference line (a target) with its legend label; `None` for none.
    pub fn reference(mut self, reference: Option<(String, f64)>) -> Self {
        self.reference = reference;
        self
    }
}

/// Everything an analysis found. Rendered by `upshot-report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The finding in one sentence with numbers: the summary's title.
    pub headline: String,
    /// A few lines under the title: period, units, method.
    pub context: Vec<String>,
    /// Every estimate.
    pub metrics: Vec<Metric>,
    /// Decisions, most money at stake first.
    pub decisions: Vec<Decision>,
    /// Data-quality and method warnings, each a sentence.
    pub warnings: Vec<String>,
    /// Tables behind charts and sections.
    pub tables: Vec<Table>,
    /// Chart specifications.
    pub charts: Vec<Chart>,
    /// The days the analysis is about, when they are fewer than its rows span (pacing's month to
    /// date, a brand test's schedule); `None` leaves `result.json`'s period to the rows.
    #[serde(default)]
    pub period: Option<Period>,
}

/// A span of days, first and last included, as ISO dates (`2025-01-01`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// First day.
    pub start: String,
    /// Last day.
    pub end: String,
}

impl Period {
    /// The span of `ranges` (first and last values of time columns: dates or timestamps, whose
    /// first ten characters are the day); `None` when there are none.
    pub fn spanning<'a>(ranges: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Period> {
        let day = |t: &str| t.get(..10).unwrap_or(t).to_string();
        ranges.into_iter().fold(None, |acc: Option<Period>, (first, last)| {
            let (first, last) = (day(first), day(last));
            Some(match acc {
                None => Period { start: first, end: last },
                Some(p) => Period { start: p.start.min(first), end: p.end.max(last) },
            })
        })
    }

    /// Whether the two spans share a day.
    pub fn overlaps(&self, other: &Period) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} to {}", self.start, self.end)
    }
}

/// One input file as `result.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    /// Contract table name (`orders`).
    pub table: String,
    /// Path as given in the config.
    pub path: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Rows in the file.
    pub rows: u64,
    /// Rows the analysis used.
    pub rows_used: u64,
    /// Rows left out, by reason; `rows = rows_used + sum(rows_excluded)`.
    pub rows_excluded: BTreeMap<String, u64>,
}

/// The stable `result.json` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultJson {
    /// Version of upshot that wrote it.
    pub upshot_version: String,
    /// Experiment name from the config.
    pub experiment: String,
    /// Analysis kind.
    pub kind: String,
    /// The finding in one sentence with numbers (the summary's title); empty in documents
    /// written before the field was added.
    #[serde(default)]
    pub headline: String,
    /// Currency of every money metric.
    pub currency: String,
    /// The folder-wide economics (`economics.toml`) this run used, resolved: each key the kind
    /// takes, with the value from the folder's file or the config's own `[params]` override.
    /// Absent when neither sets any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub economics: BTreeMap<String, serde_json::Value>,
    /// The dates the run's rows span (every input's time column, after the window); absent in
    /// documents written before the field was added and for runs without dated rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// Inputs with their row accounting.
    pub inputs: Vec<InputRecord>,
    /// SHA-256 of the config file's bytes.
    pub config_sha256: String,
    /// The seed every random draw derives from.
    pub seed: u64,
    /// Every estimate.
    pub metrics: Vec<Metric>,
    /// Decisions.
    pub decisions: Vec<Decision>,
    /// Warnings.
    pub warnings: Vec<String>,
}

impl ResultJson {
    /// Pretty JSON with a trailing newline. Non-finite numbers become `null`,
    /// so the document is always valid JSON.
    pub fn to_json(&self) -> String {
        let mut bytes = Vec::new();
        // Writing to memory cannot fail; serialisation of these types cannot either.
        let _ = self.write_json(&mut bytes);
        String::from_utf8(bytes).unwrap_or_else(|_| "{}\n".to_string())
    }

    /// Writes the same document as [`ResultJson::to_json`] to `out`, without holding it in memory
    /// (a run with 100k ads writes a quarter of a gigabyte).
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_spans_its_ranges_by_day() {
        let p = Period::spanning([("2025-03-01 08:00:00.000000", "2025-06-30 23:59:00.000000"), ("2025-01-15", "2025-05-01")])
            .expect("a period");
        assert_eq!(p, Period { start: "2025-01-15".into(), end: "2025-06-30".into() });
        assert_eq!(p.to_string(), "2025-01-15 to 2025-06-30");
        let later = Period { start: "2025-06-30".into(), end: "2025-12-31".into() };
        assert!(p.overlaps(&later) && later.overlaps(&p));
        let after = Period { start: "2025-07-01".into(), end: "2025-12-31".into() };
        assert!(!p.overlaps(&after) && !after.overlaps(&p));
        assert_eq!(Period::spanning([]), None);
    }

    #[test]
    fn non_finite_numbers_serialise_as_null() {
        let doc = ResultJson {
            upshot_version: "0.1.0".into(),
            experiment: "x".into(),
            kind: "inspect".into(),
            headline: String::new(),
            currency: "USD".into(),
            economics: BTreeMap::new(),
            period: None,
            inputs: vec![],
            config_sha256: String::new(),
            seed: 1,
            metrics: vec![Metric::point(names::CAC, Unit::money("USD"), f64::NAN)],
            decisions: vec![],
            warnings: vec![],
        };
        let json = doc.to_json();
        let back: serde_json::Value = serde_json::from_str(&json).expect("valid json");
        assert!(back["metrics"][0]["estimate"].is_null());
        assert!(back["metrics"][0]["ci_low"].is_null());
        // And it reads back: the null estimate as NaN, so `upshot report` reads every result.json.
        let typed: ResultJson = serde_json::from_str(&json).expect("reads back");
        assert!(typed.metrics[0].estimate.is_nan());
    }

    #[test]
    fn segment_keys_serialise_in_sorted_order() {
        let seg = Segment::one("keyword", "b").and("channel", "a");
        let json = serde_json::to_string(&seg).expect("serialise");
        assert_eq!(json, r#"{"channel":"a","keyword":"b"}"#);
    }

    #[test]
    fn action_serialises_kebab_case() {
        let json = serde_json::to_string(&Action::NeedsData).expect("serialise");
        assert_eq!(json, r#""needs-data""#);
    }
}
