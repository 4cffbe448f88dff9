//! A reconciler is a named chain of async steps over one reconcile's state, run in order, each
//! timed and traced under its name. A reader who knows one chain knows them all.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tracing::Instrument;

use crate::Error;
use crate::metrics::Metrics;

/// What a step tells the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next step.
    Continue,
    /// Stop here and look again after the delay (e.g. pods are not Ready yet).
    Requeue(Duration),
    /// Stop here and wait for the next change (e.g. the spec is invalid).
    Stop,
}

/// One step: an async function of the reconcile's state.
pub type Step<S> = for<'a> fn(&'a mut S) -> BoxFuture<'a, Result<Flow, Error>>;

pub struct Steps<S> {
    kind: &'static str,
    steps: Vec<(&'static str, Step<S>)>,
}

impl<S: Send> Steps<S> {
    pub fn new(kind: &'static str) -> Steps<S> {
        Steps {
            kind,
            steps: Vec::new(),
        }
    }

    #[must_use]
    pub fn step(mut self, name: &'static str, step: Step<S>) -> Steps<S> {
        self.steps.push((name, step));
        self
    }

    /// The step names, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.steps.iter().map(|(name, _)| *name)
    }

    /// Runs the steps until one does not say `Continue`, and returns what it said; an error
    /// comes back wrapped with the name of the step that failed.
    pub async fn run(&self, state: &mut S, metrics: &Metrics) -> Result<Flow, Error> {
        for (name, step) in &self.steps {
            let began = Instant::now();
            let span = tracing::debug_span!("step", kind = self.kind, step = *name);
            let outcome = step(state).instrument(span).await;
            metrics.observe_step(self.kind, name, began.elapsed());
            match outcome {
                Ok(Flow::Continue) => {}
                Ok(flow) => {
                    tracing::debug!(kind = self.kind, step = *name, ?flow, "chain stopped");
                    return Ok(flow);
                }
                Err(error) => {
                    tracing::warn!(kind = self.kind, step = *name, %error, "step failed");
                    return Err(Error::Step {
                        step: name,
                        source: Box::new(error),
                    });
                }
            }
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Trace(Vec<&'static str>);

    fn first(trace: &mut Trace) -> BoxFuture<'_, Result<Flow, Error>> {
        Box::pin(async move {
            trace.0.push("first");
            Ok(Flow::Continue)
        })
    }

    fn waits(trace: &mut Trace) -> BoxFuture<'_, Result<Flow, Error>> {
        Box::pin(async move {
            trace.0.push("waits");
            Ok(Flow::Requeue(Duration::from_secs(5)))
        })
    }

    fn fails(trace: &mut Trace) -> BoxFuture<'_, Result<Flow, Error>> {
        Box::pin(async move {
            trace.0.push("fails");
            Err(Error::transient("no broker answers"))
        })
    }

    fn never(trace: &mut Trace) -> BoxFuture<'_, Result<Flow, Error>> {
        Box::pin(async move {
            trace.0.push("never");
            Ok(Flow::Continue)
        })
    }

    #[tokio::test]
    async fn the_chain_runs_in_order_and_stops_at_the_first_non_continue() {
        let steps = Steps::new("Test")
            .step("first", first)
            .step("waits", waits)
            .step("never", never);
        let metrics = Metrics::default();
        let mut trace = Trace::default();
        let flow = steps.run(&mut trace, &metrics).await.unwrap();
        assert_eq!(flow, Flow::Requeue(Duration::from_secs(5)));
        assert_eq!(trace.0, ["first", "waits"]);
        assert_eq!(
            steps.names().collect::<Vec<_>>(),
            ["first", "waits", "never"]
        );
        assert!(metrics.render().contains("step=\"waits\""));
    }

    #[tokio::test]
    async fn an_error_names_the_step_that_failed() {
        let steps = Steps::new("Test")
            .step("first", first)
            .step("fails", fails)
            .step("never", never);
        let mut trace = Trace::default();
        let error = steps
            .run(&mut trace, &Metrics::default())
            .await
            .unwrap_err();
        assert_eq!(error.step(), Some("fails"));
        assert_eq!(
            error.to_string(),
            "the fails step failed: no broker answers"
        );
        assert_eq!(trace.0, ["first", "fails"]);
    }
}
