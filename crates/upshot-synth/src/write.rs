//! Turning day buffers into polars frames and Parquet files.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use crate::catalogue::{Catalogue, Origin};
use crate::generate::{DAY_US, DayRows, PRODUCTS};

/// Microseconds → Datetime column.
fn datetime(name: &str, values: Vec<i64>) -> PolarsResult<Column> {
    Column::new(name.into(), values).cast(&DataType::Datetime(TimeUnit::Microseconds, None))
}

fn opt_datetime(name: &str, values: Vec<Option<i64>>) -> PolarsResult<Column> {
    Column::new(name.into(), values).cast(&DataType::Datetime(TimeUnit::Microseconds, None))
}

/// Names of a source index: (channel, campaign, ad_group, ad).
pub struct Sources<'a> {
    catalogue: &'a Catalogue,
}

impl<'a> Sources<'a> {
    /// Sources of a catalogue.
    pub fn new(catalogue: &'a Catalogue) -> Self {
        Self { catalogue }
    }

    fn channel(&self, source: Option<u32>) -> Option<&'a str> {
        let s = source? as usize;
        Some(self.catalogue.ads.get(s).map_or("influencers", |ad| ad.channel))
    }

    fn campaign(&self, source: Option<u32>) -> Option<&'a str> {
        let s = source? as usize;
        match self.catalogue.ads.get(s) {
            Some(ad) => Some(ad.campaign.as_str()),
            None => Some(self.catalogue.influencers[s - self.catalogue.ads.len()].campaign.as_str()),
        }
    }

    fn ad_group(&self, source: Option<u32>) -> Option<&'a str> {
        let s = source? as usize;
        self.catalogue.ads.get(s).and_then(|ad| ad.ad_group.as_deref())
    }

    fn ad(&self, source: Option<u32>) -> Option<&'a str> {
        let s = source? as usize;
        Some(self.catalogue.ads.get(s).map_or("post", |ad| ad.ad.as_str()))
    }

    fn region(&self, region: u32) -> Option<&'a str> {
        self.catalogue.regions.get(region as usize).and_then(|(name, _)| name.as_deref())
    }
}

fn str_col<'b>(name: &str, values: impl Iterator<Item = Option<&'b str>>) -> Column {
    StringChunked::from_iter_options(name.into(), values).into_column()
}

fn owned_str_col(name: &str, values: impl Iterator<Item = String>) -> Column {
    StringChunked::from_iter_values(name.into(), values).into_column()
}

/// Frames of one batch of days, one per table.
pub struct Frames {
    /// spend
    pub spend: DataFrame,
    /// leads
    pub leads: DataFrame,
    /// orders
    pub orders: DataFrame,
    /// touchpoints
    pub touchpoints: DataFrame,
    /// survey
    pub survey: DataFrame,
}

/// Builds the frames of one day's rows.
pub fn frames(rows: &DayRows, sources: &Sources<'_>, start_days: i32, stages: &[&str]) -> PolarsResult<Frames> {
    let spend = &rows.spend;
    let spend = DataFrame::new_infer_height(vec![
        Column::new("date".into(), spend.iter().map(|r| start_days + i32::from(r.0)).collect::<Vec<i32>>())
            .cast(&DataType::Date)?,
        str_col("channel", spend.iter().map(|r| sources.channel(Some(r.1)))),
        str_col("campaign", spend.iter().map(|r| sources.campaign(Some(r.1)))),
        str_col("ad_group", spend.iter().map(|r| sources.ad_group(Some(r.1)))),
        str_col("ad", spend.iter().map(|r| sources.ad(Some(r.1)))),
        str_col("region", spend.iter().map(|r| sources.region(r.2))),
        Column::new("impressions".into(), spend.iter().map(|r| r.3).collect::<Vec<i64>>()),
        Column::new("clicks".into(), spend.iter().map(|r| r.4).collect::<Vec<i64>>()),
        Column::new("cost".into(), spend.iter().map(|r| r.5).collect::<Vec<f64>>()),
    ])?;

    let leads = &rows.leads;
    let mut lead_columns = vec![
        owned_str_col("lead_id", leads.iter().map(|l| format!("L{:011}", l.id))),
        datetime("created_at", leads.iter().map(|l| l.created_at).collect())?,
        str_col("channel", leads.iter().map(|l| sources.channel(l.source))),
        str_col("campaign", leads.iter().map(|l| sources.campaign(l.source))),
        str_col("ad_group", leads.iter().map(|l| sources.ad_group(l.source))),
        str_col("ad", leads.iter().map(|l| sources.ad(l.source))),
        str_col("region", leads.iter().map(|l| sources.region(l.region))),
        Column::new("score".into(), leads.iter().map(|l| l.score).collect::<Vec<f64>>()),
    ];
    for (k, stage) in stages.iter().enumerate() {
        lead_columns.push(opt_datetime(&format!("{stage}_at"), leads.iter().map(|l| l.stages[k]).collect())?);
    }
    lead_columns.push(Column::new("revenue".into(), leads.iter().map(|l| l.revenue).collect::<Vec<Option<f64>>>()));
    let leads = DataFrame::new_infer_height(lead_columns)?;

    let orders = &rows.orders;
    let influencers = &sources.catalogue.influencers;
    let orders = DataFrame::new_infer_height(vec![
        owned_str_col(
            "order_id",
            orders.iter().map(|o| if o.refund { format!("R{:011}", o.id) } else { format!("O{:011}", o.id) }),
        ),
        owned_str_col("customer_id", orders.iter().map(|o| format!("C{:011}", o.customer))),
        Column::new(
            "lead_id".into(),
            orders.iter().map(|o| o.lead.map(|l| format!("L{l:011}"))).collect::<Vec<Option<String>>>(),
        ),
        datetime("paid_at", orders.iter().map(|o| o.paid_at).collect())?,
        Column::new("revenue".into(), orders.iter().map(|o| o.revenue).collect::<Vec<f64>>()),
        str_col("product", orders.iter().map(|o| Some(PRODUCTS[o.product as usize].0))),
        Column::new(
            "promo_code".into(),
            orders
                .iter()
                .map(|o| {
                    o.promo.map(|(who, lower)| {
                        let code = &influencers[who as usize].promo_code;
                        if lower { code.to_lowercase() } else { code.clone() }
                    })
                })
                .collect::<Vec<Option<String>>>(),
        ),
        str_col("channel", orders.iter().map(|o| sources.channel(o.source))),
        str_col("campaign", orders.iter().map(|o| sources.campaign(o.source))),
        str_col("ad_group", orders.iter().map(|o| sources.ad_group(o.source))),
        str_col("ad", orders.iter().map(|o| sources.ad(o.source))),
        str_col("region", orders.iter().map(|o| sources.region(o.region))),
    ])?;

    let touches = &rows.touchpoints;
    let touchpoints = DataFrame::new_infer_height(vec![
        owned_str_col("customer_id", touches.iter().map(|t| format!("C{:011}", t.0))),
        datetime("at", touches.iter().map(|t| t.1).collect())?,
        str_col("channel", touches.iter().map(|t| Some(Origin::ALL[t.2 as usize].channel()))),
        str_col("campaign", touches.iter().map(|t| sources.campaign(t.3))),
        str_col("kind", touches.iter().map(|t| Some(if t.4 { "click" } else { "view" }))),
    ])?;

    let survey = &rows.survey;
    let survey = DataFrame::new_infer_height(vec![
        owned_str_col("order_id", survey.iter().map(|s| format!("O{:011}", s.0))),
        datetime("sent_at", survey.iter().map(|s| s.1).collect())?,
        opt_datetime("answered_at", survey.iter().map(|s| s.2).collect())?,
        str_col(
            "answer",
            survey.iter().map(|s| s.3.map(|(origin, variant)| Origin::ALL[origin as usize].answers()[variant as usize])),
        ),
    ])?;
    Ok(Frames { spend, leads, orders, touchpoints, survey })
}

/// A Parquet file written in batches, so memory stays bounded at any scale.
pub struct TableWriter {
    writer: Option<polars::io::parquet::write::BatchedWriter<File>>,
    file: File,
    metadata: Vec<(String, String)>,
}

impl TableWriter {
    /// Creates the file; the schema comes with the first batch.
    pub fn create(path: &Path, metadata: Vec<(String, String)>) -> std::io::Result<Self> {
        Ok(Self { writer: None, file: File::create(path)?, metadata })
    }

    /// Appends a batch.
    pub fn write(&mut self, frame: &DataFrame) -> PolarsResult<()> {
        if self.writer.is_none() {
            let file = self.file.try_clone()?;
            let mut writer = ParquetWriter::new(file).with_compression(ParquetCompression::Zstd(None)).set_parallel(true);
            if !self.metadata.is_empty() {
                writer = writer.with_key_value_metadata(Some(KeyValueMetadata::from_static(self.metadata.clone())));
            }
            self.writer = Some(writer.batched(frame.schema())?);
        }
        if let Some(writer) = self.writer.as_mut()
            && frame.height() > 0
        {
            writer.write_batch(frame)?;
        }
        Ok(())
    }

    /// Writes the footer.
    pub fn finish(self) -> PolarsResult<()> {
        if let Some(writer) = self.writer {
            writer.finish()?;
        }
        Ok(())
    }
}

/// Writes a whole frame to one file.
pub fn write_frame(path: &Path, frame: &mut DataFrame, metadata: Vec<(String, String)>) -> PolarsResult<()> {
    let mut writer = TableWriter::create(path, metadata)?;
    writer.write(frame)?;
    writer.finish()
}

/// Days since 1970-01-01 of a date.
pub fn epoch_days(date: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (date - epoch).num_days() as i32
}

/// Microseconds since the epoch of a date's midnight.
pub fn epoch_us(date: chrono::NaiveDate) -> i64 {
    i64::from(epoch_days(date)) * DAY_US
}
