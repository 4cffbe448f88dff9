//! The KafkaRebalance state machine, as Strimzi documents it, with Brokerage's planner in place
//! of Cruise Control. Pure: [`decide`] takes the state the status records, the
//! `strimzi.io/rebalance` request and the spec to the [`Action`] to carry out; [`status`] takes
//! what carrying it out gave to the next status.
//!
//! New → ProposalReady (PendingProposal while the cluster cannot be reached) → approve (or
//! auto-approval) → Rebalancing → Ready. `stop` ends a rebalance (Stopped); `refresh`, or a
//! changed spec, makes a new proposal from any state. A request that does not apply in the
//! current state is ignored with a warning.

use std::collections::BTreeSet;
use std::time::Duration;

use api::kafka::{KafkaRebalanceSpec, KafkaRebalanceStatus, RebalanceMode};
use api::{Condition, FreeFormObject};
use runtime::conditions::{self, INVALID_SPEC, NOT_SUPPORTED};

use crate::reassignment::Goal;

/// `approve`, `stop` or `refresh`: what the user asks of the rebalance. The operator removes it
/// once it has read it, so that it is acted on once.
pub const REBALANCE_ANNOTATION: &str = "strimzi.io/rebalance";
/// `"true"`: a proposal is carried out without waiting for `approve`.
pub const AUTO_APPROVAL_ANNOTATION: &str = "strimzi.io/rebalance-auto-approval";

/// The reason of the warning about a request that does not apply in the current state.
pub const ANNOTATION_IGNORED: &str = "AnnotationIgnored";
/// The reason of the warning about fields only Cruise Control would use.
pub const UNSUPPORTED_FIELDS: &str = "UnsupportedFields";

/// How often a rebalance in flight is looked at: each look starts the next batch once the
/// last one is done, and updates the progress shown.
pub const REBALANCING_POLL: Duration = Duration::from_secs(5);
/// How soon a cluster that could not be reached is tried again.
pub const PENDING_POLL: Duration = Duration::from_secs(10);

/// Where a rebalance stands: the type of the `True` condition of its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// No status yet.
    New,
    PendingProposal,
    ProposalReady,
    Rebalancing,
    Ready,
    Stopped,
    NotReady,
    ReconciliationPaused,
}

impl State {
    const RECORDED: [State; 7] = [
        State::PendingProposal,
        State::ProposalReady,
        State::Rebalancing,
        State::Ready,
        State::Stopped,
        State::NotReady,
        State::ReconciliationPaused,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::New => "New",
            State::PendingProposal => "PendingProposal",
            State::ProposalReady => "ProposalReady",
            State::Rebalancing => "Rebalancing",
            State::Ready => "Ready",
            State::Stopped => "Stopped",
            State::NotReady => "NotReady",
            State::ReconciliationPaused => conditions::RECONCILIATION_PAUSED,
        }
    }

    /// The state `conditions` record; `New` when none does.
    pub fn of(conditions: &[Condition]) -> State {
        let recorded = |condition: &Condition| {
            let state = State::RECORDED.into_iter();
            state
                .filter(|_| condition.status == "True")
                .find(|state| state.name() == condition.type_)
        };
        conditions.iter().find_map(recorded).unwrap_or(State::New)
    }
}

/// The value of `strimzi.io/rebalance`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Approve,
    Stop,
    Refresh,
    /// A value with no meaning here (such as Strimzi's `template`).
    Other(String),
}

impl Request {
    /// The request in the annotation's `value`; `none`, like no annotation, asks for nothing.
    pub fn parse(value: Option<&str>) -> Option<Request> {
        match value? {
            "none" => None,
            "approve" => Some(Request::Approve),
            "stop" => Some(Request::Stop),
            "refresh" => Some(Request::Refresh),
            other => Some(Request::Other(other.to_string())),
        }
    }

    fn value(&self) -> &str {
        match self {
            Request::Approve => "approve",
            Request::Stop => "stop",
            Request::Refresh => "refresh",
            Request::Other(value) => value,
        }
    }
}

/// Why a spec cannot be carried out: the reason and message of the `NotReady` condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub reason: &'static str,
    pub message: String,
}

/// The planner's goal for the spec's mode.
pub fn goal(spec: &KafkaRebalanceSpec) -> Result<Goal, Refusal> {
    let brokers: BTreeSet<i32> = spec.brokers.iter().flatten().copied().collect();
    let mode = spec.mode();
    let invalid = |what: &str| Refusal {
        reason: INVALID_SPEC,
        message: format!(
            "mode {} needs spec.brokers: the brokers {what}",
            mode_name(mode)
        ),
    };
    match mode {
        RebalanceMode::Full => Ok(Goal::Balance { only_onto: None }),
        RebalanceMode::AddBrokers if brokers.is_empty() => Err(invalid("added")),
        RebalanceMode::AddBrokers => Ok(Goal::Balance {
            only_onto: Some(brokers),
        }),
        RebalanceMode::RemoveBrokers if brokers.is_empty() => Err(invalid("to be removed")),
        RebalanceMode::RemoveBrokers => Ok(Goal::Drain { brokers }),
        RebalanceMode::RemoveDisks => Err(Refusal {
            reason: NOT_SUPPORTED,
            message: "mode remove-disks is not supported: Brokerage moves replicas between \
                      brokers, not between the disks of one broker"
                .into(),
        }),
    }
}

fn mode_name(mode: RebalanceMode) -> &'static str {
    match mode {
        RebalanceMode::Full => "full",
        RebalanceMode::AddBrokers => "add-brokers",
        RebalanceMode::RemoveBrokers => "remove-brokers",
        RebalanceMode::RemoveDisks => "remove-disks",
    }
}

/// A warning naming the fields of `spec` that are accepted but have no effect here: Cruise
/// Control's tuning, and `brokers` where the mode does not use it.
pub fn unsupported(spec: &KafkaRebalanceSpec) -> Option<Condition> {
    let uses_brokers = matches!(
        spec.mode(),
        RebalanceMode::AddBrokers | RebalanceMode::RemoveBrokers
    );
    let set = [
        ("brokers", spec.brokers.is_some() && !uses_brokers),
        ("goals", spec.goals.is_some()),
        ("skipHardGoalCheck", spec.skip_hard_goal_check.is_some()),
        ("rebalanceDisk", spec.rebalance_disk.is_some()),
        ("excludedTopics", spec.excluded_topics.is_some()),
        (
            "concurrentPartitionMovementsPerBroker",
            spec.concurrent_partition_movements_per_broker.is_some(),
        ),
        (
            "concurrentIntraBrokerPartitionMovements",
            spec.concurrent_intra_broker_partition_movements.is_some(),
        ),
        (
            "concurrentLeaderMovements",
            spec.concurrent_leader_movements.is_some(),
        ),
        ("replicationThrottle", spec.replication_throttle.is_some()),
        (
            "replicaMovementStrategies",
            spec.replica_movement_strategies.is_some(),
        ),
        (
            "moveReplicasOffVolumes",
            spec.move_replicas_off_volumes.is_some(),
        ),
    ];
    let names: Vec<&str> = set
        .iter()
        .filter(|(_, set)| *set)
        .map(|(n, _)| *n)
        .collect();
    (!names.is_empty()).then(|| {
        let message = format!(
            "ignored: {} (Brokerage plans without Cruise Control: replicas, then leaders, \
             spread evenly, under its own throttle)",
            names.join(", ")
        );
        conditions::warning(UNSUPPORTED_FIELDS, &message)
    })
}

/// What `decide` reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub state: State,
    pub request: Option<Request>,
    pub auto_approval: bool,
    /// The spec changed since the status was written: what was proposed is not what is asked.
    pub spec_changed: bool,
    /// The spec's goal, or why there is none.
    pub goal: Result<Goal, Refusal>,
}

/// What to carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing: the state stands.
    Keep,
    /// Plan from the cluster as it is and show the proposal (or refuse the spec); `cancel`
    /// first stops the rebalance in flight.
    Propose {
        goal: Result<Goal, Refusal>,
        cancel: bool,
    },
    /// Start or go on moving partitions toward `goal`.
    Rebalance { goal: Goal },
    /// End the rebalance; `cancel` cancels the reassignments in flight and lifts the throttles.
    Stop { cancel: bool },
}

impl Action {
    /// The outcome of an action that needs no word with the cluster: a state that stands, a
    /// stop with nothing to cancel, a spec refused.
    pub fn without_cluster(&self) -> Option<Outcome> {
        match self {
            Action::Keep => Some(Outcome::Kept),
            Action::Stop { cancel: false } => Some(Outcome::Stopped),
            Action::Propose {
                goal: Err(refusal),
                cancel: false,
            } => Some(refusal.clone().into()),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    /// The warning's message when the request does not apply in the current state.
    pub ignored: Option<String>,
}

/// The action for `input`.
pub fn decide(input: Input) -> Decision {
    use State::*;
    let Input {
        state,
        request,
        auto_approval,
        spec_changed,
        goal,
    } = input;
    let applies = matches!(
        (&request, state),
        (None | Some(Request::Refresh), _)
            | (Some(Request::Approve), ProposalReady)
            | (Some(Request::Stop), PendingProposal | Rebalancing)
    );
    let ignored = request.as_ref().filter(|_| !applies).map(|request| {
        format!(
            "{REBALANCE_ANNOTATION}={} does not apply in state {}; it was removed",
            request.value(),
            state.name()
        )
    });
    let request = request.filter(|_| applies);
    let refresh = spec_changed || request == Some(Request::Refresh);
    let stop = request == Some(Request::Stop);
    let approved = request == Some(Request::Approve) || auto_approval;
    let action = match state {
        PendingProposal if stop => Action::Stop { cancel: false },
        New | PendingProposal | ReconciliationPaused => Action::Propose {
            goal,
            cancel: false,
        },
        Rebalancing if stop => Action::Stop { cancel: true },
        Rebalancing if refresh => Action::Propose { goal, cancel: true },
        _ if refresh => Action::Propose {
            goal,
            cancel: false,
        },
        Rebalancing => rebalance_toward(goal, true),
        ProposalReady if approved => rebalance_toward(goal, false),
        _ => Action::Keep,
    };
    Decision { action, ignored }
}

/// Moves toward `goal`; a spec that has none is refused instead, the rebalance in flight
/// cancelled first when `cancel`.
fn rebalance_toward(goal: Result<Goal, Refusal>, cancel: bool) -> Action {
    match goal {
        Ok(goal) => Action::Rebalance { goal },
        Err(refusal) => Action::Propose {
            goal: Err(refusal),
            cancel,
        },
    }
}

/// What carrying out the action gave.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Nothing was done.
    Kept,
    /// A proposal: Strimzi's `optimizationResult`.
    Proposed(FreeFormObject),
    /// No proposal, as the cluster cannot be reached yet; why.
    Pending(String),
    /// Partitions are moving; the mover's progress.
    Moving(String),
    /// Nothing is left to move.
    Done,
    Stopped,
    NotReady {
        reason: String,
        message: String,
    },
}

impl From<Refusal> for Outcome {
    fn from(refusal: Refusal) -> Outcome {
        Outcome::NotReady {
            reason: refusal.reason.into(),
            message: refusal.message,
        }
    }
}

/// What `status` reads besides the outcome.
pub struct Written<'a> {
    pub current: &'a KafkaRebalanceStatus,
    pub generation: Option<i64>,
    pub auto_approval: bool,
    /// From [`Decision::ignored`].
    pub ignored: Option<String>,
    /// From [`unsupported`].
    pub unsupported: Option<Condition>,
}

/// The status after `outcome`: its state as a condition, the warnings, and the proposal while
/// it stands. A warning about an ignored request stays until the state changes.
pub fn status(written: Written, outcome: Outcome) -> KafkaRebalanceStatus {
    let current_conditions = written.current.conditions.as_deref().unwrap_or_default();
    let was = State::of(current_conditions);
    let mut result = written.current.optimization_result.clone();
    let state = match outcome {
        Outcome::Kept => {
            let kept =
                (current_conditions.iter()).find(|c| c.type_ == was.name() && c.status == "True");
            kept.cloned()
                .unwrap_or_else(|| conditions::condition(was.name(), None, None))
        }
        Outcome::Proposed(proposal) => {
            result = Some(proposal);
            let message = if written.auto_approval {
                "the proposal is approved by strimzi.io/rebalance-auto-approval".to_string()
            } else {
                format!("annotate with {REBALANCE_ANNOTATION}=approve to carry it out")
            };
            conditions::condition(State::ProposalReady.name(), None, Some(&message))
        }
        Outcome::Pending(why) => {
            result = None;
            conditions::condition(State::PendingProposal.name(), None, Some(&why))
        }
        Outcome::Moving(progress) => {
            conditions::condition(State::Rebalancing.name(), None, Some(&progress))
        }
        Outcome::Done => conditions::ready(),
        Outcome::Stopped => conditions::condition(
            State::Stopped.name(),
            None,
            Some(&format!(
                "annotate with {REBALANCE_ANNOTATION}=refresh for a new proposal"
            )),
        ),
        Outcome::NotReady { reason, message } => {
            result = None;
            conditions::not_ready(&reason, &message)
        }
    };
    let now = State::of(std::slice::from_ref(&state));
    let ignored = match written.ignored {
        Some(message) => Some(conditions::warning(ANNOTATION_IGNORED, &message)),
        None if now == was => current_conditions
            .iter()
            .find(|c| c.reason.as_deref() == Some(ANNOTATION_IGNORED))
            .cloned(),
        None => None,
    };
    let conditions = [Some(state), written.unsupported, ignored];
    KafkaRebalanceStatus {
        conditions: Some(conditions.into_iter().flatten().collect()),
        observed_generation: written.generation,
        session_id: None,
        optimization_result: result,
    }
}

/// How soon to look again in `state`; `None`: at the periodic resync.
pub fn requeue(state: State, auto_approval: bool) -> Option<Duration> {
    match state {
        State::Rebalancing => Some(REBALANCING_POLL),
        State::PendingProposal => Some(PENDING_POLL),
        State::ProposalReady if auto_approval => Some(Duration::ZERO),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn balance() -> Goal {
        Goal::Balance { only_onto: None }
    }

    fn input(state: State, request: Option<Request>) -> Input {
        Input {
            state,
            request,
            auto_approval: false,
            spec_changed: false,
            goal: Ok(balance()),
        }
    }

    fn action(state: State, request: Option<Request>) -> Action {
        decide(input(state, request)).action
    }

    fn propose(cancel: bool) -> Action {
        Action::Propose {
            goal: Ok(balance()),
            cancel,
        }
    }

    fn rebalance() -> Action {
        Action::Rebalance { goal: balance() }
    }

    #[test]
    fn the_state_is_the_type_of_the_true_condition() {
        assert_eq!(State::of(&[]), State::New);
        let warning = conditions::warning(UNSUPPORTED_FIELDS, "goals");
        let ready = conditions::condition("ProposalReady", None, None);
        assert_eq!(State::of(&[warning.clone(), ready]), State::ProposalReady);
        let mut not_true = conditions::condition("Rebalancing", None, None);
        not_true.status = "False".into();
        assert_eq!(State::of(&[warning, not_true]), State::New);
        assert_eq!(
            State::of(&[conditions::paused()]),
            State::ReconciliationPaused
        );
    }

    #[test]
    fn requests_parse_as_strimzi_names_them() {
        assert_eq!(Request::parse(None), None);
        assert_eq!(Request::parse(Some("none")), None);
        assert_eq!(Request::parse(Some("approve")), Some(Request::Approve));
        assert_eq!(Request::parse(Some("stop")), Some(Request::Stop));
        assert_eq!(Request::parse(Some("refresh")), Some(Request::Refresh));
        assert_eq!(
            Request::parse(Some("template")),
            Some(Request::Other("template".into()))
        );
    }

    #[test]
    fn a_new_rebalance_is_proposed_and_waits_for_approval() {
        assert_eq!(action(State::New, None), propose(false));
        assert_eq!(action(State::PendingProposal, None), propose(false));
        assert_eq!(action(State::ProposalReady, None), Action::Keep);
        assert_eq!(
            action(State::ProposalReady, Some(Request::Approve)),
            rebalance()
        );
        let auto = Input {
            auto_approval: true,
            ..input(State::ProposalReady, None)
        };
        assert_eq!(decide(auto).action, rebalance());
    }

    #[test]
    fn a_rebalance_goes_on_until_stopped_or_refreshed() {
        assert_eq!(action(State::Rebalancing, None), rebalance());
        assert_eq!(
            action(State::Rebalancing, Some(Request::Stop)),
            Action::Stop { cancel: true }
        );
        assert_eq!(
            action(State::Rebalancing, Some(Request::Refresh)),
            propose(true)
        );
        assert_eq!(
            action(State::PendingProposal, Some(Request::Stop)),
            Action::Stop { cancel: false }
        );
        let changed = Input {
            spec_changed: true,
            ..input(State::Rebalancing, None)
        };
        assert_eq!(decide(changed).action, propose(true), "not approved yet");
    }

    #[test]
    fn refresh_or_a_changed_spec_makes_a_new_proposal_from_any_resting_state() {
        for state in [
            State::ProposalReady,
            State::Ready,
            State::Stopped,
            State::NotReady,
            State::ReconciliationPaused,
        ] {
            let refreshed = decide(input(state, Some(Request::Refresh)));
            assert_eq!(refreshed.action, propose(false), "{state:?}");
            assert_eq!(refreshed.ignored, None);
            let changed = Input {
                spec_changed: true,
                ..input(state, None)
            };
            assert_eq!(decide(changed).action, propose(false), "{state:?}");
        }
        for state in [State::Ready, State::Stopped, State::NotReady] {
            assert_eq!(action(state, None), Action::Keep, "{state:?}");
        }
    }

    #[test]
    fn a_request_that_does_not_apply_is_ignored_with_a_warning() {
        let ignored = [
            (State::New, Request::Approve, propose(false)),
            (State::Ready, Request::Approve, Action::Keep),
            (State::Ready, Request::Stop, Action::Keep),
            (State::ProposalReady, Request::Stop, Action::Keep),
            (State::Rebalancing, Request::Approve, rebalance()),
            (
                State::Stopped,
                Request::Other("template".into()),
                Action::Keep,
            ),
        ];
        for (state, request, expected) in ignored {
            let decision = decide(input(state, Some(request.clone())));
            assert_eq!(decision.action, expected, "{state:?} {request:?}");
            let message = decision.ignored.expect("a warning");
            assert!(message.contains(request.value()), "{message}");
            assert!(message.contains(state.name()), "{message}");
        }
    }

    #[test]
    fn modes_become_goals() {
        let spec = |mode, brokers: Option<Vec<i32>>| KafkaRebalanceSpec {
            mode: Some(mode),
            brokers,
            ..KafkaRebalanceSpec::default()
        };
        assert_eq!(goal(&KafkaRebalanceSpec::default()), Ok(balance()));
        assert_eq!(
            goal(&spec(RebalanceMode::AddBrokers, Some(vec![4, 3]))),
            Ok(Goal::Balance {
                only_onto: Some([3, 4].into())
            })
        );
        assert_eq!(
            goal(&spec(RebalanceMode::RemoveBrokers, Some(vec![2]))),
            Ok(Goal::Drain {
                brokers: [2].into()
            })
        );
        for mode in [RebalanceMode::AddBrokers, RebalanceMode::RemoveBrokers] {
            for brokers in [None, Some(vec![])] {
                let refusal = goal(&spec(mode, brokers)).unwrap_err();
                assert_eq!(refusal.reason, INVALID_SPEC);
                assert!(refusal.message.contains("spec.brokers"), "{refusal:?}");
            }
        }
        let disks = goal(&spec(RebalanceMode::RemoveDisks, None)).unwrap_err();
        assert_eq!(disks.reason, NOT_SUPPORTED);
        assert!(disks.message.contains("remove-disks"));
    }

    #[test]
    fn an_invalid_spec_is_refused_when_proposed() {
        let refusal = Refusal {
            reason: INVALID_SPEC,
            message: "no brokers".into(),
        };
        let invalid = Input {
            goal: Err(refusal.clone()),
            ..input(State::New, None)
        };
        let expected = Action::Propose {
            goal: Err(refusal.clone()),
            cancel: false,
        };
        assert_eq!(decide(invalid).action, expected);
        let outcome = Outcome::from(refusal);
        let status = status(written(&KafkaRebalanceStatus::default(), None), outcome);
        let conditions = status.conditions.unwrap();
        assert_eq!(State::of(&conditions), State::NotReady);
        assert_eq!(conditions[0].reason.as_deref(), Some(INVALID_SPEC));
    }

    #[test]
    fn only_moves_and_proposals_need_the_cluster() {
        assert_eq!(Action::Keep.without_cluster(), Some(Outcome::Kept));
        let stop = |cancel| Action::Stop { cancel }.without_cluster();
        assert_eq!(stop(false), Some(Outcome::Stopped));
        assert_eq!(stop(true), None, "it cancels moves");
        assert_eq!(propose(false).without_cluster(), None);
        assert_eq!(rebalance().without_cluster(), None);
    }

    #[test]
    fn cruise_control_tuning_is_named_in_a_warning() {
        assert_eq!(unsupported(&KafkaRebalanceSpec::default()), None);
        let spec = KafkaRebalanceSpec {
            brokers: Some(vec![1]),
            goals: Some(vec!["RackAwareGoal".into()]),
            excluded_topics: Some("internal.*".into()),
            replication_throttle: Some(1000),
            ..KafkaRebalanceSpec::default()
        };
        let warning = unsupported(&spec).unwrap();
        assert_eq!(warning.type_, conditions::WARNING);
        let message = warning.message.unwrap();
        for field in ["brokers", "goals", "excludedTopics", "replicationThrottle"] {
            assert!(message.contains(field), "{message}");
        }
        let adding = KafkaRebalanceSpec {
            mode: Some(RebalanceMode::AddBrokers),
            brokers: Some(vec![3]),
            ..KafkaRebalanceSpec::default()
        };
        assert_eq!(unsupported(&adding), None, "add-brokers uses brokers");
    }

    fn written<'a>(current: &'a KafkaRebalanceStatus, ignored: Option<&str>) -> Written<'a> {
        Written {
            current,
            generation: Some(2),
            auto_approval: false,
            ignored: ignored.map(Into::into),
            unsupported: None,
        }
    }

    fn proposal() -> FreeFormObject {
        [("numReplicaMovements".to_string(), 3.into())].into()
    }

    #[test]
    fn the_status_shows_the_proposal_until_a_new_one_or_a_failure() {
        let new = KafkaRebalanceStatus::default();
        let proposed = status(written(&new, None), Outcome::Proposed(proposal()));
        assert_eq!(
            State::of(proposed.conditions.as_deref().unwrap()),
            State::ProposalReady
        );
        assert_eq!(proposed.observed_generation, Some(2));
        assert_eq!(proposed.optimization_result, Some(proposal()));
        let moving = status(
            written(&proposed, None),
            Outcome::Moving("4 partitions are moving".into()),
        );
        let condition = &moving.conditions.as_deref().unwrap()[0];
        assert_eq!(condition.type_, "Rebalancing");
        assert_eq!(
            condition.message.as_deref(),
            Some("4 partitions are moving")
        );
        assert_eq!(moving.optimization_result, Some(proposal()));
        let done = status(written(&moving, None), Outcome::Done);
        assert_eq!(State::of(done.conditions.as_deref().unwrap()), State::Ready);
        assert_eq!(done.optimization_result, Some(proposal()));
        let kept = status(written(&done, None), Outcome::Kept);
        assert_eq!(kept, done);
        let pending = status(written(&done, None), Outcome::Pending("down".into()));
        assert_eq!(pending.optimization_result, None);
    }

    #[test]
    fn an_ignored_request_warns_until_the_state_changes() {
        let ready = status(
            written(&KafkaRebalanceStatus::default(), None),
            Outcome::Done,
        );
        let warned = status(written(&ready, Some("stop is ignored")), Outcome::Kept);
        let conditions = warned.conditions.clone().unwrap();
        assert_eq!(State::of(&conditions), State::Ready);
        assert_eq!(conditions[1].reason.as_deref(), Some(ANNOTATION_IGNORED));
        let still = status(written(&warned, None), Outcome::Kept);
        assert_eq!(still, warned, "the annotation is gone, the warning stays");
        let refreshed = status(written(&warned, None), Outcome::Proposed(proposal()));
        assert_eq!(refreshed.conditions.unwrap().len(), 1);
    }

    #[test]
    fn only_rebalancing_pending_and_auto_approved_states_are_polled() {
        assert_eq!(requeue(State::Rebalancing, false), Some(REBALANCING_POLL));
        assert_eq!(requeue(State::PendingProposal, false), Some(PENDING_POLL));
        assert_eq!(requeue(State::ProposalReady, true), Some(Duration::ZERO));
        assert_eq!(requeue(State::ProposalReady, false), None);
        assert_eq!(requeue(State::Ready, true), None);
    }
}
