//! The operators a test runs in its own runtime: which of them, the namespaces they watch, how
//! often they reconcile everything, and how they reach the clusters the test made.

use std::sync::Arc;
use std::time::Duration;

use kafka_operator::admin::{AdminOverride, KafkaAdmins};
use kube::Client;
use operator_common::topics::TopicSettings;
use rocketmq_operator::admin::{RocketMQAdmins, RocketMQOverride};
use runtime::{Context, Metrics, Namespaces};

use crate::connector;

/// One of the operator's controllers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controller {
    /// Kafka, NameService and Broker.
    Clusters,
    KafkaTopics,
    KafkaUsers,
    RocketMQTopics,
    RocketMQUsers,
    TopicTransfers,
}

pub use Controller::*;

/// Every controller.
pub const ALL: [Controller; 6] = [
    Clusters,
    KafkaTopics,
    KafkaUsers,
    RocketMQTopics,
    RocketMQUsers,
    TopicTransfers,
];

pub struct Operators {
    client: Client,
    namespaces: Namespaces,
    resync: Duration,
    kafka: Vec<AdminOverride>,
    rocketmq: Vec<RocketMQOverride>,
    topics: TopicSettings,
}

impl Operators {
    /// Operators watching `namespaces` as `client`, reconciling everything every 120 s (the
    /// operator's default), reaching clusters as they would in a cluster.
    pub fn watching(client: &Client, namespaces: &[&str]) -> Operators {
        Operators {
            client: client.clone(),
            namespaces: Namespaces::Only(namespaces.iter().map(|name| name.to_string()).collect()),
            resync: Duration::from_secs(120),
            kafka: Vec::new(),
            rocketmq: Vec::new(),
            topics: TopicSettings::default(),
        }
    }

    pub fn resync(mut self, every: Duration) -> Operators {
        self.resync = every;
        self
    }

    /// Kafka clusters reached at addresses of the test's.
    pub fn kafka(mut self, overrides: Vec<AdminOverride>) -> Operators {
        self.kafka = overrides;
        self
    }

    /// RocketMQ clusters reached at addresses of the test's.
    pub fn rocketmq(mut self, overrides: Vec<RocketMQOverride>) -> Operators {
        self.rocketmq = overrides;
        self
    }

    pub fn topics(mut self, settings: TopicSettings) -> Operators {
        self.topics = settings;
        self
    }

    /// Spawns `controllers` in this test's runtime; the metrics they share.
    pub fn start(self, controllers: &[Controller]) -> Arc<Metrics> {
        let metrics = Arc::new(Metrics::default());
        let context = Arc::new(Context::new(
            self.client.clone(),
            metrics.clone(),
            self.resync,
        ));
        let connector = connector();
        let kafka = Arc::new(KafkaAdmins::new(
            self.client.clone(),
            self.kafka,
            &connector,
        ));
        let rocketmq = Arc::new(RocketMQAdmins::new(self.client, self.rocketmq, &connector));
        for &controller in controllers {
            let (namespaces, context) = (self.namespaces.clone(), context.clone());
            let (kafka, rocketmq, topics) = (kafka.clone(), rocketmq.clone(), self.topics.clone());
            tokio::spawn(async move {
                match controller {
                    Clusters => {
                        let pods = Default::default();
                        let kafka_clusters = kafka_operator::assembly::reconcile::run(
                            &namespaces,
                            context.clone(),
                            kafka,
                            pods,
                        );
                        let rocketmq_clusters = rocketmq_operator::assembly::reconcile::run(
                            &namespaces,
                            context,
                            rocketmq,
                            pods,
                        );
                        futures::future::join(kafka_clusters, rocketmq_clusters).await;
                    }
                    KafkaTopics => {
                        kafka_operator::topics::run(&namespaces, context, kafka, topics).await
                    }
                    KafkaUsers => kafka_operator::users::run(&namespaces, context, kafka).await,
                    RocketMQTopics => {
                        rocketmq_operator::topics::run(&namespaces, context, rocketmq, topics).await
                    }
                    RocketMQUsers => {
                        rocketmq_operator::users::run(&namespaces, context, rocketmq).await
                    }
                    TopicTransfers => {
                        rocketmq_operator::transfers::run(&namespaces, context, rocketmq).await
                    }
                }
            });
        }
        metrics
    }
}
