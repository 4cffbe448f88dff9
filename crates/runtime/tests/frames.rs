//! The two frames without a cluster: a mock API server (kube-rs's `tower-test` pair, as
//! controller-rs tests its reconciler) records every request, and each scenario checks the
//! calls whose order is the contract.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::Condition;
use api::kafka::{KafkaTopic, KafkaTopicStatus};
use api::rocketmq::{NameService, NameServiceStatus};
use futures::future::BoxFuture;
use http::{Method, Request, Response};
use kube::Client;
use kube::client::Body;
use runtime::assembly::{self, Assembly};
use runtime::batched::{Batch, BatchOutcomes, BatchReconciler, Failure, Outcome, Unreachable};
use runtime::conditions;
use runtime::{Applier, Context, Error, Flow, Metrics, Progress, Readiness, Steps};
use serde_json::{Value, json};

const NAMESPACE: &str = "team-a";

/// What happened, in order: the API server's requests as `METHOD path`, and the test's own
/// entries (a broker write).
type Log = Arc<Mutex<Vec<String>>>;

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// A client whose API server answers every request with `answer(method, path)` and logs it.
fn mock_api(log: Log, answer: impl Fn(&Method, &str) -> Value + Send + 'static) -> Client {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        while let Some((request, send)) = handle.next_request().await {
            let (method, path) = (request.method().clone(), request.uri().path().to_string());
            log.lock().unwrap().push(format!("{method} {path}"));
            let body = serde_json::to_vec(&answer(&method, &path)).unwrap();
            send.send_response(Response::builder().body(Body::from(body)).unwrap());
        }
    });
    Client::new(service, NAMESPACE)
}

fn context(client: Client) -> Arc<Context> {
    Arc::new(Context::new(
        client,
        Arc::new(Metrics::default()),
        Duration::from_secs(120),
    ))
}

// The batch frame.

fn topic(finalizers: &[&str]) -> Value {
    json!({
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
        "metadata": {"name": "orders", "namespace": NAMESPACE, "generation": 1,
                     "resourceVersion": "1", "creationTimestamp": "2026-01-01T00:00:00Z",
                     "labels": {"strimzi.io/cluster": "c"}, "finalizers": finalizers},
        "spec": {"partitions": 1, "replicas": 1},
    })
}

#[derive(Debug)]
struct Down;

impl std::fmt::Display for Down {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("down")
    }
}

impl Failure for Down {
    fn reason(&self) -> &'static str {
        "KafkaError"
    }
}

/// Topics whose broker is the log.
struct Topics {
    context: Arc<Context>,
    broker: Log,
}

impl Batch<KafkaTopic> for Topics {
    type Group = String;
    type Model = ();
    type Reached = ();
    type Ready = ();
    type Error = Down;
    const FINALIZER: &'static str = "strimzi.io/topic-operator";

    fn context(&self) -> &Context {
        &self.context
    }

    fn group(&self, _: &KafkaTopic) -> String {
        "c".into()
    }

    fn claim(&self, topic: &KafkaTopic) -> Option<String> {
        topic.metadata.name.clone()
    }

    fn validate(&self, _: &KafkaTopic) -> Result<(), String> {
        Ok(())
    }

    fn unreachable(&self, _: &Unreachable) -> Down {
        Down
    }

    fn reach<'a>(&'a self, _: &'a String) -> BoxFuture<'a, Result<(), Unreachable>> {
        Box::pin(async { Ok(()) })
    }

    fn apply<'a>(
        &'a self,
        _: &'a String,
        _: &'a (),
        sync: Vec<(Arc<KafkaTopic>, ())>,
        _: Vec<Arc<KafkaTopic>>,
    ) -> BoxFuture<'a, BatchOutcomes<KafkaTopic, (), Down>> {
        Box::pin(async move {
            let mut applied = BatchOutcomes::default();
            for (topic, ()) in sync {
                let name = topic.metadata.name.clone().unwrap_or_default();
                self.broker
                    .lock()
                    .unwrap()
                    .push(format!("broker: create {name}"));
                applied.outcomes.push((topic, Outcome::Ready(())));
            }
            applied
        })
    }

    fn conflict(owner: &str) -> String {
        format!("{owner} is older")
    }

    fn status(topic: &KafkaTopic, _: Option<&()>, conditions: Vec<Condition>) -> KafkaTopicStatus {
        KafkaTopicStatus {
            conditions: Some(conditions),
            observed_generation: topic.metadata.generation,
            ..KafkaTopicStatus::default()
        }
    }
}

#[tokio::test]
async fn the_finalizer_is_on_before_the_broker_is_written_and_the_status_comes_last() {
    let log = Log::default();
    let client = mock_api(log.clone(), |_, _| topic(&["strimzi.io/topic-operator"]));
    let topics = Topics {
        context: context(client),
        broker: log.clone(),
    };
    let new: Arc<KafkaTopic> = Arc::new(serde_json::from_value(topic(&[])).unwrap());
    let group = "c".to_string();
    let retry = BatchReconciler::reconcile(&topics, &group, vec![new.clone()], &[new]).await;
    assert!(
        retry.failed.is_empty() && retry.progressing.is_empty(),
        "{:?} {:?}",
        retry.failed,
        retry.progressing
    );
    // The status is left to write while the next batch runs.
    let finishing = retry
        .finishing
        .expect("the status is written after the batch");
    assert!(finishing.await.is_empty(), "the status write failed");
    let path = format!("/apis/kafka.strimzi.io/v1/namespaces/{NAMESPACE}/kafkatopics/orders");
    assert_eq!(
        entries(&log),
        [
            format!("PATCH {path}"),
            "broker: create orders".to_string(),
            format!("PATCH {path}/status"),
        ]
    );
}

#[tokio::test]
async fn a_resource_whose_finalizer_cannot_be_written_never_reaches_the_broker() {
    let log = Log::default();
    // The API server refuses the finalizer (a concurrent change): a 409.
    let client = mock_api(log.clone(), |_, _| {
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Conflict",
               "message": "the object has been modified", "code": 409})
    });
    let topics = Topics {
        context: context(client),
        broker: log.clone(),
    };
    let new: Arc<KafkaTopic> = Arc::new(serde_json::from_value(topic(&[])).unwrap());
    let group = "c".to_string();
    let retry = BatchReconciler::reconcile(&topics, &group, vec![new.clone()], &[new]).await;
    assert_eq!(retry.failed, ["orders"]);
    assert!(retry.progressing.is_empty(), "{:?}", retry.progressing);
    assert!(
        entries(&log)
            .iter()
            .all(|entry| !entry.starts_with("broker")),
        "{:?}",
        entries(&log)
    );
}

// The assembly frame.

fn name_service(status: Option<Value>) -> Value {
    json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "NameService",
        "metadata": {"name": "names", "namespace": NAMESPACE, "generation": 2,
                     "resourceVersion": "5", "uid": "u-1"},
        "spec": {"size": 1},
        "status": status,
    })
}

/// A NameService whose one step refuses a storage change, as a StatefulSet's claim templates
/// cannot change.
struct RefusedStorage;

struct Refusal {
    name_service: Arc<NameService>,
    progress: Progress,
}

const REFUSAL: &str = "the storage of names cannot change";

fn refuse_storage(state: &mut Refusal) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        state.progress.readiness = Readiness::NotSupported(REFUSAL.into());
        Ok(Flow::Stop)
    })
}

impl Assembly for RefusedStorage {
    type Resource = NameService;
    type Status = NameServiceStatus;
    type Observed = ();
    type Model = ();
    type Invalid = String;
    type State = Refusal;
    const KIND: &'static str = "NameService";
    const READY: &'static str = "ready";

    fn observe<'a>(
        &'a self,
        _: &'a NameService,
        _: &'a Client,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async { Ok(()) })
    }

    fn validate(&self, _: &NameService, _: &()) -> Result<(), String> {
        Ok(())
    }

    fn build(&self, name_service: Arc<NameService>, _: (), _: (), _: Applier) -> Refusal {
        Refusal {
            name_service,
            progress: Progress::creating("the name servers are"),
        }
    }

    fn steps() -> Steps<Refusal> {
        Steps::new("NameService").step("statefulset", refuse_storage)
    }

    fn progress(state: &mut Refusal) -> &mut Progress {
        &mut state.progress
    }

    fn status(state: &Refusal) -> NameServiceStatus {
        NameServiceStatus {
            conditions: Some(vec![state.progress.readiness.condition()]),
            observed_generation: state.name_service.metadata.generation,
            name_servers: None,
        }
    }
}

fn refused_status() -> Value {
    let mut refused = conditions::not_ready(conditions::NOT_SUPPORTED, REFUSAL);
    refused.last_transition_time = Some("2026-01-01T00:00:00Z".into());
    json!({"observedGeneration": 2, "conditions": [refused]})
}

async fn reconcile_once(
    log: &Log,
    stored: Value,
) -> Result<kube::runtime::controller::Action, Error> {
    let answer = stored.clone();
    let client = mock_api(log.clone(), move |_, _| answer.clone());
    let resource: Arc<NameService> = Arc::new(serde_json::from_value(stored).unwrap());
    assembly::reconcile(Arc::new(RefusedStorage), resource, context(client)).await
}

#[tokio::test]
async fn a_refused_change_writes_nothing_but_its_status() {
    let log = Log::default();
    reconcile_once(&log, name_service(None)).await.unwrap();
    let path =
        format!("/apis/rocketmq.apache.org/v1alpha1/namespaces/{NAMESPACE}/nameservices/names");
    // The resource read afresh, the status that says why: no object applied, no Event (a
    // NotSupported change is not a failure).
    assert_eq!(
        entries(&log),
        [format!("GET {path}"), format!("PATCH {path}/status")]
    );
}

#[tokio::test]
async fn a_reconcile_that_changes_nothing_reads_the_resource_and_writes_nothing() {
    let log = Log::default();
    reconcile_once(&log, name_service(Some(refused_status())))
        .await
        .unwrap();
    let path =
        format!("/apis/rocketmq.apache.org/v1alpha1/namespaces/{NAMESPACE}/nameservices/names");
    assert_eq!(entries(&log), [format!("GET {path}")]);
}
