//! The `java` command lines of name servers, controllers, brokers and proxies. The pods run
//! `java` themselves, not RocketMQ's launch scripts (`mqnamesrv`, `mqcontroller`, `mqbroker`,
//! `mqproxy`), so that images without them work too;
//! the options are what those scripts set that matters in a container: G1, RocketMQ's own
//! logging configuration, and the heap ([`heap`](super::heap)), in `JAVA_OPT_EXT`, last, as
//! the scripts put it, so that the user's flags there win.

use super::heap::JAVA_OPT_EXT;
use super::pod::HOME;

/// A RocketMQ server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    NameServer,
    Controller,
    Broker,
    Proxy,
}

impl Server {
    fn main_class(self) -> &'static str {
        match self {
            Server::NameServer => "org.apache.rocketmq.namesrv.NamesrvStartup",
            Server::Controller => "org.apache.rocketmq.controller.ControllerStartup",
            Server::Broker => "org.apache.rocketmq.broker.BrokerStartup",
            Server::Proxy => "org.apache.rocketmq.proxy.ProxyStartup",
        }
    }

    /// Brokers serve TLS beside plain TCP ([`tls`](super::tls)); the others only plain TCP.
    fn tls_options(self) -> Vec<String> {
        match self {
            Server::NameServer | Server::Controller | Server::Proxy => Vec::new(),
            Server::Broker => super::tls::jvm_options(),
        }
    }

    /// The logging configuration RocketMQ's jars carry for the server, the one its scripts
    /// name (files under `~/logs/rocketmqlogs`). Without one, RocketMQ's Logback takes the
    /// first of several it finds on the class path (the broker's, for a name server) and
    /// prints its whole start-up status.
    fn logback_resource(self) -> &'static str {
        match self {
            Server::NameServer => "rmq.namesrv.logback.xml",
            Server::Controller => "rmq.controller.logback.xml",
            Server::Broker => "rmq.broker.logback.xml",
            Server::Proxy => "rmq.proxy.logback.xml",
        }
    }
}

/// The collector settings of RocketMQ's scripts on Java 9 and later, without the region size:
/// the JVM picks one that suits the heap, which here is often far smaller than theirs.
const GC_OPTIONS: &[&str] = &[
    "-XX:+UseG1GC",
    "-XX:G1ReservePercent=25",
    "-XX:InitiatingHeapOccupancyPercent=30",
    "-XX:SoftRefLRUPolicyMSPerMB=0",
    "-XX:-OmitStackTraceInFastThrow",
];

/// The end of a start script (which must `set -f`, so that the words of `JAVA_OPT_EXT` are not
/// taken for file patterns): runs `server` with `arguments` (shell words) on the jars of the
/// image's `$ROCKETMQ_HOME`, which the official image sets.
pub fn run_java(server: Server, arguments: &str) -> String {
    let options = [
        GC_OPTIONS.join(" "),
        // The logs, and a name server's key-value store, go under `user.home`: the image
        // user's home, where they are mounted, whatever uid the pod runs as.
        format!("-Duser.home={HOME}"),
        format!(
            "-Drmq.logback.configurationFile={}",
            server.logback_resource()
        ),
    ]
    .into_iter()
    .chain(server.tls_options())
    .collect::<Vec<_>>()
    .join(" ");
    let main = server.main_class();
    let run = format!(
        "exec java {options} ${{{JAVA_OPT_EXT}:-}} -cp \"$ROCKETMQ_HOME/lib/*\" {main} {arguments}"
    );
    format!(
        ": \"${{ROCKETMQ_HOME:?is not set: the image must set it to RocketMQ's directory}}\"\n{}\n",
        run.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_run_on_the_images_jars_with_the_users_options_last() {
        assert_eq!(
            run_java(Server::NameServer, ""),
            r#": "${ROCKETMQ_HOME:?is not set: the image must set it to RocketMQ's directory}"
exec java -XX:+UseG1GC -XX:G1ReservePercent=25 -XX:InitiatingHeapOccupancyPercent=30 -XX:SoftRefLRUPolicyMSPerMB=0 -XX:-OmitStackTraceInFastThrow -Duser.home=/home/rocketmq -Drmq.logback.configurationFile=rmq.namesrv.logback.xml ${JAVA_OPT_EXT:-} -cp "$ROCKETMQ_HOME/lib/*" org.apache.rocketmq.namesrv.NamesrvStartup
"#
        );
        let broker = run_java(Server::Broker, "-c /conf/broker.conf");
        assert!(
            broker.ends_with(
                " -Dtls.config.file=/home/rocketmq/brokerage/tls/tls.properties ${JAVA_OPT_EXT:-} -cp \"$ROCKETMQ_HOME/lib/*\" org.apache.rocketmq.broker.BrokerStartup -c /conf/broker.conf\n"
            ),
            "{broker}"
        );
    }
}
