//! Number formatting shared by analyses (for sentences) and the report (for
//! tables and charts): thousands separators, money with its currency.

/// The symbol written before an amount, or `None` to write the code after it.
fn currency_symbol(currency: &str) -> Option<&'static str> {
    match currency {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        _ => None,
    }
}

/// Groups the integer part with commas: `1234567.8` -> `1,234,568` at 0 decimals.
pub fn grouped(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    let mut out = String::new();
    for (i, ch) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(frac) = frac_part {
        out.push('.');
        out.push_str(&frac);
    }
    let is_zero = out.chars().all(|c| c == '0' || c == '.' || c == ',');
    if value < 0.0 && !is_zero { format!("-{out}") } else { out }
}

/// A whole count: `12,345`.
pub fn count(value: f64) -> String {
    grouped(value, 0)
}

/// Money: `$1,234` (whole units from 100 up, cents below), `1,234 RUB` for
/// currencies without a common symbol.
pub fn money(value: f64, currency: &str) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    let decimals = if value.abs() >= 100.0 || value == value.trunc() { 0 } else { 2 };
    let amount = grouped(value.abs(), decimals);
    let sign = if value < 0.0 && amount.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    match currency_symbol(currency) {
        Some(symbol) => format!("{sign}{symbol}{amount}"),
        None => format!("{sign}{amount} {currency}"),
    }
}

/// Money for axis ticks: `$1.2M`, `$350k`, `$900`.
pub fn money_short(value: f64, currency: &str) -> String {
    let abs = value.abs();
    let (scaled, suffix) = if abs >= 1e6 {
        (value / 1e6, "M")
    } else if abs >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let number = if suffix.is_empty() || scaled.abs() >= 100.0 || scaled == scaled.trunc() {
        grouped(scaled, 0)
    } else {
        grouped(scaled, 1)
    };
    match currency_symbol(currency) {
        Some(symbol) if value < 0.0 => format!("-{symbol}{}{suffix}", number.trim_start_matches('-')),
        Some(symbol) => format!("{symbol}{number}{suffix}"),
        None => format!("{number}{suffix} {currency}"),
    }
}

/// A plain number with up to `decimals` decimals and separators.
pub fn number(value: f64, decimals: usize) -> String {
    grouped(value, decimals)
}

/// A share in [0, 1] as a percentage: `0.412` -> `41%`, `0.0412` -> `4.1%`.
pub fn percent(share: f64) -> String {
    if !share.is_finite() {
        return "n/a".to_string();
    }
    let pct = share * 100.0;
    if pct.abs() < 0.05 {
        return "0%".to_string();
    }
    // Near 100% the decimal matters (99.8% is not 100%).
    if (pct.abs() >= 10.0 && pct.abs() < 99.0) || pct == pct.trunc() { format!("{pct:.0}%") } else { format!("{pct:.1}%") }
}

/// A signed share: `+24%`, `-3.1%`.
pub fn signed_percent(share: f64) -> String {
    let text = percent(share);
    if share > 0.0 && text != "0%" { format!("+{text}") } else { text }
}

/// A probability as it follows `P(...)` in a sentence: `= 0.123` (three decimals, so 0.896
/// never reads as 0.90), `< 0.001` or `> 0.999`. The one probability format of every page.
pub fn probability(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else if p > 0.999 {
        "> 0.999".into()
    } else {
        format!("= {p:.3}")
    }
}

/// An estimate with its interval, as sentences write it: `$65 (95% interval $58 to $73)`.
/// Without an interval (`None`), the estimate alone. The one interval format of every page.
pub fn with_interval(estimate: f64, interval: Option<(f64, f64)>, level: f64, fmt: impl Fn(f64) -> String) -> String {
    match interval {
        Some((low, high)) => format!("{} ({} interval {} to {})", fmt(estimate), level_text(level), fmt(low), fmt(high)),
        None => fmt(estimate),
    }
}

/// An interval alone, as table cells write it: `$58 to $73`; empty without one.
pub fn range(interval: Option<(f64, f64)>, fmt: impl Fn(f64) -> String) -> String {
    interval.map_or_else(String::new, |(low, high)| format!("{} to {}", fmt(low), fmt(high)))
}

/// The level of an interval: `95%` (`0.8` -> `80%`, `0.975` -> `97.5%`).
pub fn level_text(level: f64) -> String {
    let pct = level * 100.0;
    if (pct - pct.round()).abs() < 1e-9 { format!("{pct:.0}%") } else { format!("{pct:.1}%") }
}

#[cfg(test)]
mod tests {
    #[test]
    fn intervals_read_the_same_everywhere() {
        let usd = |v: f64| super::money(v, "USD");
        assert_eq!(super::with_interval(65.2, Some((58.0, 73.4)), 0.95, usd), "$65.20 (95% interval $58 to $73.40)");
        assert_eq!(super::with_interval(65.0, None, 0.95, usd), "$65");
        assert_eq!(super::range(Some((1200.0, 3400.0)), super::count), "1,200 to 3,400");
        assert_eq!(super::range(None, super::count), "");
        assert_eq!(super::level_text(0.8), "80%");
        assert_eq!(super::level_text(0.975), "97.5%");
    }

    #[test]
    fn probabilities_read_as_relations() {
        assert_eq!(super::probability(0.8964), "= 0.896");
        assert_eq!(super::probability(0.0004), "< 0.001");
        assert_eq!(super::probability(0.9996), "> 0.999");
    }

    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(count(1234567.4), "1,234,567");
        assert_eq!(count(999.0), "999");
        assert_eq!(grouped(-1234.5, 1), "-1,234.5");
        assert_eq!(count(-0.2), "0");
    }

    #[test]
    fn money_with_currency() {
        assert_eq!(money(24300.0, "USD"), "$24,300");
        assert_eq!(money(142.4, "USD"), "$142");
        assert_eq!(money(31.456, "EUR"), "€31.46");
        assert_eq!(money(1500.0, "RUB"), "1,500 RUB");
        assert_eq!(money(-2500.0, "USD"), "-$2,500");
        assert_eq!(money(f64::NAN, "USD"), "n/a");
    }

    #[test]
    fn short_money_for_axes() {
        assert_eq!(money_short(1_250_000.0, "USD"), "$1.2M");
        assert_eq!(money_short(350_000.0, "USD"), "$350k");
        assert_eq!(money_short(900.0, "USD"), "$900");
        assert_eq!(money_short(2000.0, "RUB"), "2k RUB");
    }

    #[test]
    fn percentages() {
        assert_eq!(percent(0.412), "41%");
        assert_eq!(percent(0.0412), "4.1%");
        assert_eq!(percent(0.05), "5%");
        assert_eq!(percent(0.998), "99.8%");
        assert_eq!(percent(-0.0001), "0%");
    }
}
