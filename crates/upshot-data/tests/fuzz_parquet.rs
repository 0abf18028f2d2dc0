//! The Parquet loader fuzz target (issue 18): small valid exports cut from the sample, every contract
//! table, their bytes mutated at random (bytes flipped, ranges zeroed or copied over, the footer's
//! length or magic broken, the file cut short), then validated and loaded as a run loads them. None
//! may panic: each file is refused with a `DataError` naming it, or read with every row accounted for.
//!
//! A proptest-driven harness on the stable toolchain: `UPSHOT_FUZZ_CASES` cases per table (200 in CI;
//! `scripts/fuzz` runs more). A failure is shrunk and kept in `tests/fuzz_parquet.proptest-regressions`,
//! which re-runs first; the bugs it found are named tests below.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use polars::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use upshot_data::{ExperimentConfig, Mode, NoProgress, validate_config};

/// Contract table name and sample file, for every table.
const TABLES: [(&str, &str); 7] = [
    ("spend", "spend"),
    ("leads", "leads"),
    ("orders", "orders"),
    ("touchpoints", "touchpoints"),
    ("survey", "survey"),
    ("plan", "plan"),
    ("schedule", "brand_schedule"),
];

fn sample(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../notebooks-data").join(format!("{file}.parquet"))
}

/// The first 60 rows of each sample table as Parquet bytes, built once.
fn seeds() -> &'static Vec<Vec<u8>> {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        TABLES
            .iter()
            .map(|(_, file)| {
                let frame = ParquetReader::new(std::fs::File::open(sample(file)).expect("sample")).finish().expect("read");
                let mut head = frame.head(Some(60));
                let mut bytes = Vec::new();
                ParquetWriter::new(&mut bytes).finish(&mut head).expect("write");
                bytes
            })
            .collect()
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: usize,
        byte: u8,
    },
    Zero {
        at: usize,
        len: usize,
    },
    Copy {
        from: usize,
        to: usize,
        len: usize,
    },
    /// The 4-byte footer length before the closing magic set to a value.
    FooterLength(u32),
    Cut(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        6 => (at, any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        1 => (at, 1usize..64).prop_map(|(at, len)| Mutation::Zero { at, len }),
        1 => (at, at, 1usize..256).prop_map(|(from, to, len)| Mutation::Copy { from, to, len }),
        1 => prop_oneof![Just(0u32), Just(1), Just(u32::MAX), any::<u32>()].prop_map(Mutation::FooterLength),
        1 => at.prop_map(Mutation::Cut),
    ]
}

fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for mutation in mutations {
        let n = bytes.len();
        if n == 0 {
            break;
        }
        match mutation {
            Mutation::Flip { at, byte } => bytes[at % n] = *byte,
            Mutation::Zero { at, len } => {
                let start = at % n;
                bytes[start..(start + len).min(n)].fill(0);
            }
            Mutation::Copy { from, to, len } => {
                let (from, to) = (from % n, to % n);
                let len = (*len).min(n - from).min(n - to);
                let chunk = bytes[from..from + len].to_vec();
                bytes[to..to + len].copy_from_slice(&chunk);
            }
            Mutation::FooterLength(value) if n >= 8 => bytes[n - 8..n - 4].copy_from_slice(&value.to_le_bytes()),
            Mutation::Cut(at) => bytes.truncate(at % (n + 1)),
            _ => {}
        }
    }
    bytes
}

/// Validates and loads one mutated file as its table; a refusal must name the file.
fn check(table: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(format!("{table}.parquet"));
    std::fs::write(&file, bytes).expect("write");
    let config_path = dir.path().join("case.toml");
    let text = format!("name = \"case\"\nkind = \"inspect\"\ncurrency = \"USD\"\n\n[inputs]\n{table} = \"{}\"\n", file.display());
    let config = ExperimentConfig::from_str(&config_path, &text).expect("a valid config");
    for mode in [Mode::CheckOnly, Mode::Load] {
        match validate_config(&config, mode, &NoProgress) {
            Ok(dataset) => {
                for report in dataset.reports() {
                    let excluded: u64 = report.rows_excluded.values().sum();
                    prop_assert_eq!(report.rows, report.rows_used + excluded, "{:?}", report);
                }
            }
            Err(err) => {
                let message = err.to_string();
                prop_assert!(message.contains(&format!("{table}.parquet")), "the message names the file: {message}");
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("UPSHOT_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(200)
}

#[test]
fn mutated_parquet_files_are_refused_or_read_never_a_panic() {
    for ((table, _), seed) in TABLES.iter().zip(seeds()) {
        let config = Config {
            cases: cases(),
            failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
            source_file: Some(file!()),
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let strategy = proptest::collection::vec(mutation(), 1..6);
        let trace = std::env::var_os("UPSHOT_FUZZ_TRACE").is_some();
        let outcome = runner.run(&strategy, |mutations| {
            if trace {
                // An abort (a failed allocation) cannot be shrunk: the last line names the case.
                eprintln!("{table}: {mutations:?}");
            }
            check(table, &mutate(seed, &mutations))
        });
        if let Err(failure) = outcome {
            panic!("{table}: {failure}");
        }
    }
}

#[test]
fn the_unmutated_seeds_load() {
    for ((table, _), seed) in TABLES.iter().zip(seeds()) {
        check(table, seed).unwrap_or_else(|e| panic!("{table}: {e}"));
    }
}

/// The seed of one table.
fn seed_of(table: &str) -> &'static [u8] {
    &seeds()[TABLES.iter().position(|(t, _)| *t == table).expect("a table")]
}

fn refused(table: &str, mutations: &[Mutation]) -> String {
    let bytes = mutate(seed_of(table), mutations);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(format!("{table}.parquet"));
    std::fs::write(&file, bytes).expect("write");
    let text = format!("name = \"case\"\nkind = \"inspect\"\ncurrency = \"USD\"\n\n[inputs]\n{table} = \"{}\"\n", file.display());
    let config = ExperimentConfig::from_str(&dir.path().join("case.toml"), &text).expect("config");
    match validate_config(&config, Mode::Load, &NoProgress) {
        Err(err) => err.to_string(),
        Ok(_) => panic!("{table}: the damaged file was read"),
    }
}

/// Bug 1 the fuzz target found: a zeroed byte in a data page tripped an assertion in polars' decoder
/// (`row_group_decode.rs`: left 0, right 60), a panic out of `upshot validate`.
#[test]
fn a_decoder_assertion_on_a_damaged_page_is_the_file_s_error() {
    let message = refused("spend", &[Mutation::Zero { at: 7020272220766324747, len: 1 }]);
    assert!(message.contains("spend.parquet: corrupt Parquet file"), "{message}");
}

/// Bug 2: two flipped bytes in a page header made polars reserve 2^61 bytes for a validity bitmap; the
/// allocation failed and aborted the process. Now the page headers are checked against the footer first.
#[test]
fn a_page_header_asking_for_exabytes_is_refused_before_decoding() {
    let message = refused(
        "leads",
        &[Mutation::Flip { at: 5595681285644153768, byte: 72 }, Mutation::Flip { at: 16600166124061192329, byte: 33 }],
    );
    assert!(message.contains("leads.parquet: corrupt Parquet file"), "{message}");
}

/// Bug 3: a damaged footer described column chunks past the end of the file, which polars' streaming
/// reader slices unchecked (an abort in debug builds, a read out of bounds in release). Every byte of
/// the footer overwritten in turn: each file is refused or read, none crashes.
#[test]
fn every_byte_of_the_footer_overwritten_is_refused_or_read() {
    let seed = seed_of("spend");
    let n = seed.len();
    let footer = u32::from_le_bytes(seed[n - 8..n - 4].try_into().expect("4 bytes")) as usize;
    let mut refusals = 0;
    for at in n - 8 - footer..n - 8 {
        let bytes = mutate(seed, &[Mutation::Flip { at, byte: 0xFF }]);
        check("spend", &bytes).unwrap_or_else(|e| panic!("byte {at}: {e}"));
        refusals += 1;
    }
    assert_eq!(refusals, footer);
}
