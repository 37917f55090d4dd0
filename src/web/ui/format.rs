//! How values are shown on pages.

/// An amount of one currency as a page shows it: major units, grouped, with its currency;
/// the page's script writes it again in the reader's own locale (`<data class="money">`,
/// see `amount.html`).
#[derive(Debug, Clone)]
pub struct Amount {
    pub minor: i64,
    pub currency: String,
}

impl Amount {
    pub fn new(minor: i64, currency: &str) -> Self {
        Self {
            minor,
            currency: currency.to_owned(),
        }
    }

    pub fn text(&self) -> String {
        format!("{} {}", money(self.minor, &self.currency), self.currency)
    }
}

/// An amount in minor units as major units with the currency's digits, grouped by
/// thousands: `1250000` EUR is `12,500.00`.
pub fn money(minor: i64, currency: &str) -> String {
    let digits = u32::from(crate::crm::currency::minor_digits(currency).unwrap_or(2));
    let scale = 10_i64.pow(digits);
    let sign = if minor < 0 { "-" } else { "" };
    let whole = (minor / scale).unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if digits == 0 {
        format!("{sign}{grouped}")
    } else {
        let fraction = (minor % scale).unsigned_abs();
        format!(
            "{sign}{grouped}.{fraction:0width$}",
            width = digits as usize
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn money_is_shown_in_major_units_grouped() {
        assert_eq!(super::money(1_250_000, "EUR"), "12,500.00");
        assert_eq!(super::money(-5, "USD"), "-0.05");
        assert_eq!(super::money(1_000, "JPY"), "1,000");
        assert_eq!(super::money(0, "EUR"), "0.00");
    }
}
