//! Where a run's time went inside the operator: the phases of its batches (finalizers, the
//! broker's part, statuses, and the user operator's own steps), summed over every batch of the
//! run, from the operator's `brokerage_step_duration_seconds`. Phases of consecutive batches
//! overlap (a batch's statuses are written while the next one runs), so the sums may exceed
//! the run's duration.

use std::collections::BTreeMap;

use anyhow::Result;

use testenv::operator::Operator;

/// Each phase's seconds so far, summed over the batches of `kind`, and the number of batches.
pub struct Phases {
    seconds: BTreeMap<String, f64>,
    batches: f64,
}

impl Phases {
    pub async fn read(operator: &Operator, kind: &str) -> Result<Phases> {
        let prefix = format!("brokerage_step_duration_seconds_sum{{kind=\"{kind}\",step=\"");
        let seconds = operator
            .series(&prefix)
            .await?
            .into_iter()
            .filter_map(|(series, value)| {
                let step = series.strip_prefix(&prefix)?.strip_suffix("\"}")?;
                Some((step.to_string(), value))
            })
            .collect();
        let batches = operator
            .counter(&format!(
                "brokerage_reconciliations_total{{kind=\"{kind}\"}}"
            ))
            .await?;
        Ok(Phases { seconds, batches })
    }

    /// Prints what happened since `before`: `what` took `took` seconds.
    pub fn print_since(&self, before: &Phases, what: &str, took: f64) {
        let batches = self.batches - before.batches;
        println!("timeline: {what}: {took:.2} s, {batches} batches");
        for (phase, seconds) in &self.seconds {
            let spent = seconds - before.seconds.get(phase).copied().unwrap_or(0.0);
            if spent > 0.0 {
                println!("timeline:   {phase:<32} {spent:>8.2} s");
            }
        }
    }
}
