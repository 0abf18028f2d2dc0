//! A panic while reading a damaged export becomes an error naming the file.
//!
//! polars' Parquet decoder asserts on some corrupt files instead of returning an error (found by the
//! Parquet fuzz target, `tests/fuzz_parquet.rs`: a zeroed byte in a data page). Validation reads each
//! file inside [`reading`], which catches such a panic (it unwinds from polars' worker threads to the
//! caller) and returns [`DataError::NotParquet`] for the file, and keeps the panic's own message off
//! the terminal while a read is guarded: the user sees one plain error and exit code 1. Panics outside
//! a guarded read still print as usual.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use crate::error::DataError;

/// Guarded reads in progress (the hook is quiet while any runs).
static GUARDED: AtomicUsize = AtomicUsize::new(0);
/// The last panic message caught in a guarded read.
static LAST: Mutex<Option<String>> = Mutex::new(None);
static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.load(Ordering::SeqCst) > 0 {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown".to_string());
                let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
                *LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(format!("{message}{place}"));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `read` (which reads `file`); a panic inside it is returned as the file's error.
pub fn reading<T>(file: &str, read: impl FnOnce() -> Result<T, DataError>) -> Result<T, DataError> {
    install_hook();
    GUARDED.fetch_add(1, Ordering::SeqCst);
    let outcome = catch_unwind(AssertUnwindSafe(read));
    GUARDED.fetch_sub(1, Ordering::SeqCst);
    outcome.unwrap_or_else(|_| {
        let message = LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take().unwrap_or_default();
        let first = message.lines().next().unwrap_or("").chars().take(200).collect::<String>();
        Err(DataError::NotParquet {
            file: file.to_string(),
            detail: format!("corrupt Parquet file: the decoder failed on its data ({first}); export the table again"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_guarded_read_is_the_file_s_error() {
        let err = reading::<()>("orders.parquet", || panic!("assertion failed: left == right")).expect_err("caught");
        let message = err.to_string();
        assert!(message.starts_with("orders.parquet: corrupt Parquet file"), "{message}");
        assert!(message.contains("assertion failed"), "{message}");
        assert_eq!(reading("x", || Ok(3)).expect("no panic"), 3);
    }
}
