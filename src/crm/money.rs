//! Exchange rates the tenant sets, and converting totals with them. Amounts in different
//! currencies are never added as if they were one: a total is per currency, and a converted
//! sum exists only when every currency in it has a rate (else it names the missing ones).

use std::collections::BTreeMap;

use rusqlite::{Connection, params};
use serde::Serialize;

use super::board::Total;
use super::{CrmError, currency};

/// Most decimal places of a rate, and the largest rate.
pub const MAX_RATE_DECIMALS: u32 = 9;
pub const MAX_RATE: i128 = 1_000_000;

/// A rate: one unit of its currency is worth `mantissa / 10^scale` units of the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    mantissa: i128,
    scale: u32,
}

impl Rate {
    /// Parses a positive decimal such as `1.0825`.
    pub fn parse(text: &str) -> Option<Rate> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let dangling = text.ends_with('.');
        if whole.is_empty() || dangling || !digits(whole) || !digits(fraction) {
            return None;
        }
        let scale = u32::try_from(fraction.len())
            .ok()
            .filter(|s| *s <= MAX_RATE_DECIMALS)?;
        let whole: i128 = whole.parse().ok().filter(|w| *w <= MAX_RATE)?;
        let fraction: i128 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().ok()?
        };
        let mantissa = whole * 10_i128.pow(scale) + fraction;
        (mantissa > 0).then_some(Rate { mantissa, scale })
    }
}

/// The rates set, by currency, as decimal text.
pub fn rates(conn: &Connection) -> Result<BTreeMap<String, String>, CrmError> {
    let mut stmt =
        conn.prepare_cached("SELECT currency, rate FROM exchange_rates ORDER BY currency")?;
    let rates = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rates)
}

/// Replaces the rates: every code a currency in use, every rate a positive decimal.
pub fn set_rates(conn: &Connection, given: &BTreeMap<String, String>) -> Result<(), CrmError> {
    if given.len() > 200 {
        return Err(CrmError::invalid("rates", "at most 200"));
    }
    for (code, rate) in given {
        if currency::minor_digits(code).is_none() {
            return Err(CrmError::invalid(
                &format!("rates.{code}"),
                "is not an ISO 4217 currency code",
            ));
        }
        if Rate::parse(rate).is_none() {
            return Err(CrmError::invalid(
                &format!("rates.{code}"),
                format!(
                    "must be a positive decimal such as \"1.0825\", at most {MAX_RATE} with {MAX_RATE_DECIMALS} decimals"
                ),
            ));
        }
    }
    conn.execute("DELETE FROM exchange_rates", [])?;
    for (code, rate) in given {
        conn.execute(
            "INSERT INTO exchange_rates (currency, rate, updated_at) VALUES (?1, ?2, ?3)",
            params![code, rate, super::now()],
        )?;
    }
    Ok(())
}

/// `amount` minor units of `from` in minor units of `to`, at `rate`, rounded half away from
/// zero; `None` if it would overflow.
pub fn convert(amount: i128, from: &str, to: &str, rate: Rate) -> Option<i128> {
    let from_digits = u32::from(currency::minor_digits(from)?);
    let to_digits = u32::from(currency::minor_digits(to)?);
    let numerator = amount
        .checked_mul(rate.mantissa)?
        .checked_mul(10_i128.checked_pow(to_digits)?)?;
    let denominator = 10_i128.checked_pow(rate.scale + from_digits)?;
    let half = denominator / 2;
    Some((numerator + numerator.signum() * half) / denominator)
}

/// A sum of totals in the default currency.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Converted {
    pub currency: String,
    /// `None` when a currency has no rate (see `missing_rates`) or the sum overflows.
    pub amount: Option<i128>,
    pub weighted: Option<i128>,
    pub missing_rates: Vec<String>,
}

/// The sum of `totals` in `default`, with the tenant's rates.
pub fn converted(
    conn: &Connection,
    totals: &[Total],
    default: &str,
) -> Result<Converted, CrmError> {
    let rates = rates(conn)?;
    let mut amount = Some(0_i128);
    let mut weighted = Some(0_i128);
    let mut missing = Vec::new();
    for total in totals {
        let rate = if total.currency == default {
            Some(Rate {
                mantissa: 1,
                scale: 0,
            })
        } else {
            rates.get(&total.currency).and_then(|r| Rate::parse(r))
        };
        let Some(rate) = rate else {
            missing.push(total.currency.clone());
            continue;
        };
        let add = |sum: Option<i128>, value: i128| {
            sum.and_then(|s| s.checked_add(convert(value, &total.currency, default, rate)?))
        };
        amount = add(amount, total.amount);
        weighted = add(weighted, total.weighted);
    }
    let complete = missing.is_empty();
    Ok(Converted {
        currency: default.to_owned(),
        amount: amount.filter(|_| complete),
        weighted: weighted.filter(|_| complete),
        missing_rates: missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_positive_decimals_within_bounds() {
        assert_eq!(
            Rate::parse("1.0825"),
            Some(Rate {
                mantissa: 10_825,
                scale: 4
            })
        );
        for bad in [
            "",
            "0",
            "0.000",
            "-1",
            "1e3",
            "1.",
            ".5",
            "1.0000000001",
            "1000001",
            "NaN",
        ] {
            assert_eq!(Rate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn conversion_minds_each_currencys_minor_unit() {
        let rate = |s| Rate::parse(s).unwrap();
        // 1,000 yen at 0.0067 USD per yen: 6.70 USD, 670 cents.
        assert_eq!(convert(1_000, "JPY", "USD", rate("0.0067")), Some(670));
        // 10.00 EUR at 1.0825: 10.825 USD rounds to 10.83.
        assert_eq!(convert(1_000, "EUR", "USD", rate("1.0825")), Some(1_083));
        assert_eq!(convert(-1_000, "EUR", "USD", rate("1.0825")), Some(-1_083));
        // 1.000 KWD (3 digits) at 3.25 USD: 325 cents.
        assert_eq!(convert(1_000, "KWD", "USD", rate("3.25")), Some(325));
        assert_eq!(convert(i128::MAX / 2, "EUR", "USD", rate("2")), None);
    }
}
