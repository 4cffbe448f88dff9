//! What the tests on real pods share: the operator running as a user installs it
//! (`kubectl apply -f install/`, in its pod on the real node, from the image built here), and
//! client pods that produce and consume inside the cluster.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::Client;
use kube::api::{Api, DeleteParams, LogParams, Patch, PatchParams, PostParams};
use testenv::pods::{ClientPod, run_pod, run_pod_spec};
use tokio::sync::OnceCell;

use crate::repo_path;

/// Held by the tests that start many JVMs at once (a controller quorum and brokers; brokers, a
/// proxy and client JVMs), so that no two of them share the machine's two cores: together they
/// start slower than their timeouts (mqadmin's sends time out after 3 s).
pub async fn one_heavy_test_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    HEAVY.lock().await
}

/// A client for the shared cluster with the operator installed from `install/` and running in
/// its pods on the real node (once per test binary, from the `brokerage` binary `make test`
/// builds), and a fresh namespace whose pods run on the real node too, deleted when the test
/// ends.
pub async fn setup_on_real_node(prefix: &str) -> Result<(Client, TestNamespace)> {
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
    let name = testenv::fresh_namespace_on_real_node(cluster, prefix).await?;
    let namespace = TestNamespace {
        name,
        client: client.clone(),
    };
    Ok((client, namespace))
}

/// A test's namespace on the real node, deleted when the test ends however it ends: the node's
/// two cores are shared by every test of the binary, and the pods of finished tests would hold
/// their CPU requests (the scheduler then leaves later tests' pods Pending) and their cycles.
pub struct TestNamespace {
    name: String,
    client: Client,
}

impl TestNamespace {
    /// The name, the namespace kept to the end of the run: for a cluster several tests share.
    pub fn keep(mut self) -> String {
        std::mem::take(&mut self.name)
    }
}

impl std::ops::Deref for TestNamespace {
    type Target = str;

    fn deref(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for TestNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        use k8s_openapi::api::core::v1::Namespace;
        if self.name.is_empty() {
            return; // kept
        }
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        // Drop cannot wait: the test's own (multi-threaded) runtime does, off its worker.
        let deleted = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current()
                .block_on(namespaces.delete(&self.name, &DeleteParams::background()))
        });
        if let Err(error) = deleted {
            eprintln!("deleting the namespace {}: {error}", self.name);
        }
    }
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

    /// A shell script that runs the Kafka tool `class` with `args`, configured by the
    /// connection's properties and `extra_properties` through `--<config_flag>`.
    fn script(&self, class: &str, args: &str, config_flag: &str, extra_properties: &str) -> String {
        format!(
            "set -e\n{}\nexec {}\n",
            self.write_properties(extra_properties),
            self.command(class, args, config_flag)
        )
    }

    /// Shell lines that write the properties to `/tmp/client.properties`.
    fn write_properties(&self, extra_properties: &str) -> String {
        format!(
            "cat >/tmp/client.properties <<EOF\n{}\n{extra_properties}\nEOF",
            self.properties
        )
    }

    fn command(&self, class: &str, args: &str, config_flag: &str) -> String {
        format!(
            "java -Xmx128m -cp '/opt/kafka/libs/*' {class} --bootstrap-server {} {args} --{config_flag} /tmp/client.properties",
            self.bootstrap
        )
    }
}

/// `VerifiableProducer` turns retries off; a user's producer keeps Kafka's default, retrying a
/// send that met a leader change until `delivery.timeout.ms`.
const PRODUCER_PROPERTIES: &str = "retries=2147483647";
const VERIFIABLE_PRODUCER: &str = "org.apache.kafka.tools.VerifiableProducer";

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
            VERIFIABLE_PRODUCER,
            &format!("--topic {topic} --max-messages {count} --acks -1 {extra_args}"),
            "producer.config",
            PRODUCER_PROPERTIES,
        ),
        secrets: connection.secrets,
    };
    let output = run_pod(client, namespace, &pod, Duration::from_secs(300)).await?;
    Ok(verifiable_producer_report(&output))
}

/// A producer that runs until told to stop: `VerifiableProducer` at `throughput` messages a
/// second, `acks=all`, in a pod that ends it (with SIGTERM, which makes it flush and report) once
/// its control Secret says `stop`. `start` returns once its first send is acknowledged.
pub struct BackgroundProducer {
    client: Client,
    namespace: String,
    pod: String,
    control: String,
    running: tokio::task::JoinHandle<Result<String>>,
}

impl BackgroundProducer {
    pub async fn start(
        client: &Client,
        namespace: &str,
        name: &str,
        connection: &KafkaConnection<'static>,
        topic: &str,
        throughput: u32,
    ) -> Result<BackgroundProducer> {
        let control = format!("{name}-control");
        let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": control},
            "stringData": {"state": "run"}
        }))?;
        secrets.create(&PostParams::default(), &secret).await?;
        let produce = connection.command(
            VERIFIABLE_PRODUCER,
            &format!("--topic {topic} --max-messages -1 --throughput {throughput} --acks -1"),
            "producer.config",
        );
        // The tool runs in the background; the script stops it when the mounted Secret (which
        // the kubelet refreshes) says so.
        let script = format!(
            "{}\n{produce} &\nuntil grep -q stop /control/state; do sleep 1; kill -0 $! || break; done\nkill -TERM $!\nwait $! || true\n",
            connection.write_properties(PRODUCER_PROPERTIES),
        );
        let mounts = [(control.as_str(), "/control")];
        let pod = ClientPod {
            name,
            image: &kafka_image(),
            script,
            secrets: &mounts,
        };
        let (client2, namespace2) = (client.clone(), namespace.to_string());
        let pod_spec = pod.to_spec()?;
        let running = tokio::spawn(async move {
            run_pod_spec(&client2, &namespace2, pod_spec, Duration::from_secs(1800)).await
        });
        let producer = BackgroundProducer {
            client: client.clone(),
            namespace: namespace.to_string(),
            pod: name.to_string(),
            control,
            running,
        };
        producer.wait_until_acked().await?;
        Ok(producer)
    }

    /// Waits until a send was acknowledged: a disruption that begins before the first send
    /// proves nothing, and on a busy machine the pod and its JVM may take longer to start than
    /// the disruption takes.
    async fn wait_until_acked(&self) -> Result<()> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let what = format!("a send of {} is acknowledged", self.pod);
        testenv::eventually(&what, Duration::from_secs(300), || async {
            let logs = pods.logs(&self.pod, &LogParams::default()).await;
            Ok(logs.is_ok_and(|logs| logs.contains("producer_send_success")))
        })
        .await
    }

    /// Whether the producer's pod still runs.
    pub fn is_running(&self) -> bool {
        !self.running.is_finished()
    }

    /// Tells the producer to stop, and returns what it reported.
    pub async fn stop(self) -> Result<Produced> {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &self.namespace);
        let stop = serde_json::json!({"stringData": {"state": "stop"}});
        secrets
            .patch(&self.control, &PatchParams::default(), &Patch::Merge(&stop))
            .await?;
        let mut report = verifiable_producer_report(&self.running.await??);
        // A send still waiting when the producer is closed fails so; it was never
        // acknowledged, and only the stop caused it.
        report
            .errors
            .retain(|error| !error.contains("Producer closed while send in progress"));
        Ok(report)
    }
}

/// The outcome of every send a `VerifiableProducer` printed.
fn verifiable_producer_report(output: &str) -> Produced {
    let events: Vec<serde_json::Value> = output
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let named = |name: &str| {
        events
            .iter()
            .filter(|event| event["name"] == name)
            .map(|event| event.to_string())
            .collect::<Vec<_>>()
    };
    Produced {
        acked: named("producer_send_success").len(),
        errors: named("producer_send_error"),
    }
}

/// Reads `count` messages from the start of `topic` in a pod, through Kafka's console consumer,
/// and returns their values. Each is printed after its offset (`Offset:<n>\t<value>`), so the
/// notices the console consumer prints on standard output too are never taken for values.
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
            &format!("--topic {topic} --from-beginning --max-messages {count} --timeout-ms 180000 --group {name} --property print.offset=true"),
            "consumer.config",
            "",
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
        .filter_map(|line| line.strip_prefix("Offset:")?.split_once('\t'))
        .map(|(_, value)| value.to_string())
        .collect())
}

/// The RocketMQ image the tests' name servers, brokers and clients run (built here, named as the
/// operator renders it).
pub fn rocketmq_image() -> String {
    format!("apache/rocketmq:{}", testenv::tools::ROCKETMQ_VERSION)
}

/// How a RocketMQ client reaches the cluster: its name servers (`host:port`, `;`-separated), and
/// the RocketMQUser whose Secret (`username`, `password`) signs its requests, if any.
pub struct RocketMQConnection<'a> {
    pub name_servers: String,
    pub user: Option<&'a str>,
}

impl RocketMQConnection<'_> {
    /// A shell script that runs RocketMQ's admin tool (`mqadmin`) once per `commands` entry, each
    /// after a line `--- <i>`, so that the outputs can be told apart.
    fn script(&self, commands: &[String]) -> String {
        // mqadmin signs with the `accessKey` and `secretKey` of `$ROCKETMQ_HOME/conf/tools.yml`;
        // `rocketmq.home.dir` points it at one written from the user's Secret.
        let (credentials, home) = match self.user {
            Some(_) => (
                "mkdir -p /tmp/client/conf\nprintf 'accessKey: %s\\nsecretKey: %s\\n' \"$(cat /user/username)\" \"$(cat /user/password)\" >/tmp/client/conf/tools.yml\n",
                "-Drocketmq.home.dir=/tmp/client ",
            ),
            None => ("", ""),
        };
        // Short-lived JVMs: the first compiler tier alone starts them faster on a busy machine.
        let java = format!(
            "java -Xmx256m -XX:TieredStopAtLevel=1 {home}-cp \"$ROCKETMQ_HOME/lib/*\" org.apache.rocketmq.tools.command.MQAdminStartup"
        );
        let runs: String = commands
            .iter()
            .enumerate()
            .map(|(index, command)| {
                format!(
                    "echo '--- {index}'\n{java} {command} -n '{}' 2>&1\n",
                    self.name_servers
                )
            })
            .collect();
        format!("set -e\n{credentials}{runs}")
    }

    fn secrets(&self) -> Vec<(&str, &str)> {
        self.user.iter().map(|user| (*user, "/user")).collect()
    }
}

/// What `mqadmin sendMessage` runs reported: messages the broker stored, and the output of every
/// send that failed.
#[derive(Debug)]
pub struct RocketMQSent {
    pub stored: usize,
    pub failures: Vec<String>,
}

/// Sends each of `bodies` to `topic` from a pod, one `mqadmin sendMessage` each.
pub async fn rocketmq_send(
    client: &Client,
    namespace: &str,
    name: &str,
    connection: &RocketMQConnection<'_>,
    topic: &str,
    bodies: &[&str],
) -> Result<RocketMQSent> {
    let commands: Vec<String> = bodies
        .iter()
        .map(|body| format!("sendMessage -t {topic} -p '{body}'"))
        .collect();
    let secrets = connection.secrets();
    let pod = ClientPod {
        name,
        image: &rocketmq_image(),
        script: connection.script(&commands),
        secrets: &secrets,
    };
    let output = run_pod(client, namespace, &pod, Duration::from_secs(300)).await?;
    let runs: Vec<&str> = output.split("--- ").skip(1).collect();
    if runs.len() != bodies.len() {
        bail!(
            "expected {} sends, the pod ran {}:\n{output}",
            bodies.len(),
            runs.len()
        );
    }
    let (stored, failures): (Vec<&str>, Vec<&str>) =
        runs.into_iter().partition(|run| run.contains("SEND_OK"));
    Ok(RocketMQSent {
        stored: stored.len(),
        failures: failures.into_iter().map(str::to_string).collect(),
    })
}

/// More than any test sends: `consumeMessage` stops after 128 messages unless told, and reads no
/// further than the end of each queue anyway.
const MAX_CONSUMED: usize = 1_000_000;

/// Reads every message of `topic` in a pod, through `mqadmin consumeMessage` (a pull consumer of
/// the group `TOOLS_CONSUMER`), and returns their bodies.
pub async fn rocketmq_consume(
    client: &Client,
    namespace: &str,
    name: &str,
    connection: &RocketMQConnection<'_>,
    topic: &str,
) -> Result<Vec<String>> {
    let secrets = connection.secrets();
    let pod = ClientPod {
        name,
        image: &rocketmq_image(),
        script: connection.script(&[format!("consumeMessage -t {topic} -c {MAX_CONSUMED}")]),
        secrets: &secrets,
    };
    let output = run_pod(client, namespace, &pod, Duration::from_secs(300)).await?;
    let bodies: Vec<String> = output
        .lines()
        .filter(|line| line.starts_with("MSGID: "))
        .filter_map(|line| Some(line.rsplit_once(" BODY: ")?.1.to_string()))
        .collect();
    if bodies.is_empty() {
        bail!("the consumer read no message:\n{output}");
    }
    Ok(bodies)
}

/// What the RocketMQ 5 application of [`rocketmq_grpc_round_trip`] reported: the bodies it sent,
/// the bodies its consumer received, and every error (one line each).
#[derive(Debug)]
pub struct GrpcRoundTrip {
    pub sent: BTreeSet<String>,
    pub received: BTreeSet<String>,
    pub failures: Vec<String>,
}

/// In a pod, RocketMQ 5's Java client speaks gRPC to `endpoint` (`host:port` of a Proxy), signed
/// as `user` (the RocketMQUser's Secret) or unsigned: a simple consumer of `group` starts first,
/// then a producer sends `count` messages to `topic`, and the consumer receives and acknowledges
/// until it has them all or two minutes passed.
pub async fn rocketmq_grpc_round_trip(
    client: &Client,
    namespace: &str,
    name: &str,
    endpoint: &str,
    user: Option<&str>,
    (topic, group): (&str, &str),
    count: usize,
) -> Result<GrpcRoundTrip> {
    let home = testenv::images::CLIENTS_HOME;
    // The receiver's first receive sets the group's offsets: the sends wait for it.
    let script = format!(
        "client() {{ java -Xmx192m -XX:TieredStopAtLevel=1 -Drocketmq.log.root=/tmp/logs -cp '{home}/grpc-lib/*' {home}/GrpcClient.java \"$@\"; }}\n\
         client receive {endpoint} {topic} {group} {count} {name} 120 >/tmp/received 2>&1 &\n\
         for i in $(seq 120); do grep -q '^READY\\|^FAILED' /tmp/received && break; sleep 1; done\n\
         client send {endpoint} {topic} {count} {name}\n\
         wait\n\
         cat /tmp/received\n"
    );
    let secrets: Vec<(&str, &str)> = user.iter().map(|user| (*user, "/user")).collect();
    let pod = ClientPod {
        name,
        image: &rocketmq_image(),
        script,
        secrets: &secrets,
    };
    let output = run_pod(client, namespace, &pod, Duration::from_secs(300)).await?;
    let mut outcome = GrpcRoundTrip {
        sent: BTreeSet::new(),
        received: BTreeSet::new(),
        failures: Vec::new(),
    };
    for line in output.lines() {
        let mut words = line.splitn(3, ' ');
        match (words.next(), words.next()) {
            (Some("SENT"), Some(body)) => outcome.sent.insert(body.to_string()),
            (Some("RECEIVED"), Some(body)) => outcome.received.insert(body.to_string()),
            (Some("FAILED"), Some(_)) => {
                outcome.failures.push(line.to_string());
                true
            }
            _ => false,
        };
    }
    Ok(outcome)
}

/// Runs the tests' remoting application (`RemotingClient.java`, on the image's RocketMQ jars)
/// in a pod with `arguments`, and returns what it printed.
pub async fn rocketmq_remoting_client(
    client: &Client,
    namespace: &str,
    name: &str,
    arguments: &str,
) -> Result<String> {
    let home = testenv::images::CLIENTS_HOME;
    let pod = ClientPod {
        name,
        image: &rocketmq_image(),
        script: format!(
            "java -Xmx192m -XX:TieredStopAtLevel=1 -cp \"$ROCKETMQ_HOME/lib/*\" {home}/RemotingClient.java {arguments} 2>&1\n"
        ),
        secrets: &[],
    };
    run_pod(client, namespace, &pod, Duration::from_secs(600)).await
}

/// What a Prometheus exporter serves at `address` (`ip:port`), over plain HTTP.
pub async fn scrape(address: &str) -> Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: metrics\r\n\r\n")
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}
