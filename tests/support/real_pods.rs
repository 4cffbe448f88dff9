//! What the tests on real pods share: the operator running as a user installs it
//! (`kubectl apply -f install/`, in its pod on the real node, from the image built here), and
//! client pods that produce and consume inside the cluster.

use std::time::Duration;

use anyhow::{Result, bail};
use kube::Client;
use testenv::pods::{ClientPod, run_pod};
use tokio::sync::OnceCell;

use crate::repo_path;

/// A client for the shared cluster with the operator installed from `install/` and running in
/// its pods on the real node (once per test binary, from the `brokerage` binary `make test`
/// builds), and a fresh namespace whose pods run on the real node too.
pub async fn setup_on_real_node(prefix: &str) -> Result<(Client, String)> {
    static OPERATOR: OnceCell<()> = OnceCell::const_new();
    let cluster = testenv::shared().await;
    OPERATOR
        .get_or_try_init(|| async {
            let binary = testenv::built_operator("debug");
            if !binary.exists() {
                bail!(
                    "{} is missing: build it with `cargo build -p brokerage` (make test does)",
                    binary.display()
                );
            }
            testenv::install_operator(cluster, &binary, &repo_path("install")).await
        })
        .await?;
    let client = cluster.client().await?;
    let namespace = testenv::fresh_namespace_on_real_node(cluster, prefix).await?;
    Ok((client, namespace))
}

/// The Kafka image the tests' brokers and clients run (built here, named as the operator
/// renders it).
pub fn kafka_image() -> String {
    format!("apache/kafka:{}", testenv::tools::KAFKA_VERSION)
}

/// A Kafka client's connection: the bootstrap address, and client properties, which may use the
/// shell (`$(cat /user/password)`) to read the mounted Secrets.
pub struct KafkaConnection<'a> {
    pub bootstrap: String,
    pub properties: String,
    pub secrets: &'a [(&'a str, &'a str)],
}

impl KafkaConnection<'_> {
    /// A plain, unauthenticated connection.
    pub fn plain(bootstrap: String) -> KafkaConnection<'static> {
        KafkaConnection {
            bootstrap,
            properties: String::new(),
            secrets: &[],
        }
    }

    /// A shell script that writes the properties to `/tmp/client.properties`, then runs the Kafka
    /// tool `class` with `args` and `--<config_flag> /tmp/client.properties`.
    fn script(&self, class: &str, args: &str, config_flag: &str) -> String {
        format!(
            "set -e\ncat >/tmp/client.properties <<EOF\n{}\nEOF\nexec java -Xmx128m -cp '/opt/kafka/libs/*' {class} --bootstrap-server {} {args} --{config_flag} /tmp/client.properties\n",
            self.properties, self.bootstrap
        )
    }
}

/// What a `VerifiableProducer` run reported: messages acknowledged, and the errors it saw.
#[derive(Debug)]
pub struct Produced {
    pub acked: usize,
    pub errors: Vec<String>,
}

/// Sends `count` messages to `topic` with `acks=all` from a pod, through Kafka's own
/// `VerifiableProducer`, which reports every send's outcome.
pub async fn produce(
    client: &Client,
    namespace: &str,
    name: &str,
    connection: &KafkaConnection<'_>,
    topic: &str,
    count: usize,
    extra_args: &str,
) -> Result<Produced> {
    let pod = ClientPod {
        name,
        image: &kafka_image(),
        script: connection.script(
            "org.apache.kafka.tools.VerifiableProducer",
            &format!("--topic {topic} --max-messages {count} --acks -1 {extra_args}"),
            "producer.config",
        ),
        secrets: connection.secrets,
    };
    let output = run_pod(client, namespace, &pod, Duration::from_secs(300)).await?;
    let events: Vec<serde_json::Value> = output
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let named = |name: &str| {
        events
            .iter()
            .filter(|event| event["name"] == name)
            .collect::<Vec<_>>()
    };
    Ok(Produced {
        acked: named("producer_send_success").len(),
        errors: named("producer_send_error")
            .iter()
            .map(|event| event.to_string())
            .collect(),
    })
}

/// Reads `count` messages from the start of `topic` in a pod, through Kafka's console consumer,
/// and returns their values.
pub async fn consume(
    client: &Client,
    namespace: &str,
    name: &str,
    connection: &KafkaConnection<'_>,
    topic: &str,
    count: usize,
) -> Result<Vec<String>> {
    let pod = ClientPod {
        name,
        image: &kafka_image(),
        script: connection.script(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            &format!("--topic {topic} --from-beginning --max-messages {count} --timeout-ms 60000 --group {name}"),
            "consumer.config",
        ),
        secrets: connection.secrets,
    };
    let output = run_pod(client, namespace, &pod, Duration::from_secs(300)).await?;
    let total = format!("Processed a total of {count} messages");
    if !output.contains(&total) {
        bail!("the consumer did not read {count} messages:\n{output}");
    }
    Ok(output
        .lines()
        .filter(|line| !line.starts_with('[') && !line.starts_with("Processed a total"))
        .map(str::to_string)
        .collect())
}
