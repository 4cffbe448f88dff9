//! Kubernetes quantities (`12288Mi`, `2Gi`, `1e9`) as numbers. k8s-openapi keeps a `Quantity` as
//! its text and offers no parser; this one covers the suffixes memory and storage use.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// The bytes a memory or storage quantity stands for (`12288Mi`, `2Gi`, `1G`, `512M`, `1e9`).
pub fn bytes(quantity: &Quantity) -> Option<u64> {
    let text = quantity.0.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let multiplier: f64 = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        exponent => 10f64.powi(exponent.strip_prefix(['e', 'E'])?.parse().ok()?),
    };
    let bytes = number * multiplier;
    (bytes.is_finite() && bytes >= 0.0).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn quantities_in_every_unit() {
        let parse = |text: &str| bytes(&Quantity(text.into()));
        assert_eq!(parse("12288Mi"), Some(12288 * MIB));
        assert_eq!(parse("2Gi"), Some(2048 * MIB));
        assert_eq!(parse("1.5Gi"), Some(1536 * MIB));
        assert_eq!(parse("512M"), Some(512_000_000));
        assert_eq!(parse("1e9"), Some(1_000_000_000));
        assert_eq!(parse("1073741824"), Some(1024 * MIB));
        assert_eq!(parse("lots"), None);
        assert_eq!(parse("1Qi"), None);
    }
}
