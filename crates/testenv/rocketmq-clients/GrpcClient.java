// A RocketMQ 5 application in one file, run by the tests in a pod of the RocketMQ image
// (`java -cp '<client jars>/*' GrpcClient.java ...`: the JVM compiles it on start). It talks
// gRPC to a Proxy, signed with the credentials in /user/username and /user/password when that
// directory exists. It prints one line per outcome for the test to read:
//
//   send <endpoint> <topic> <count> <prefix>
//       sends <prefix>-0 .. <prefix>-<count-1>: "SENT <body> <message id>" or "FAILED <body> <error>"
//   receive <endpoint> <topic> <group> <count> <prefix> <seconds>
//       a simple consumer of <group>: "READY" once its first receive returned (the group's
//       offsets are set from then on), then "RECEIVED <body>" for each message whose body starts
//       with <prefix>, acknowledged, until <count> were received or <seconds> passed.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.apache.rocketmq.client.apis.ClientConfiguration;
import org.apache.rocketmq.client.apis.ClientConfigurationBuilder;
import org.apache.rocketmq.client.apis.ClientServiceProvider;
import org.apache.rocketmq.client.apis.StaticSessionCredentialsProvider;
import org.apache.rocketmq.client.apis.consumer.FilterExpression;
import org.apache.rocketmq.client.apis.consumer.SimpleConsumer;
import org.apache.rocketmq.client.apis.message.Message;
import org.apache.rocketmq.client.apis.message.MessageView;
import org.apache.rocketmq.client.apis.producer.Producer;

public class GrpcClient {
    private static final Path USER = Path.of("/user");

    public static void main(String[] args) throws Exception {
        ClientServiceProvider provider = ClientServiceProvider.loadService();
        ClientConfiguration configuration = configuration(args[1]);
        try {
            switch (args[0]) {
                case "send" -> send(provider, configuration, args[2], Integer.parseInt(args[3]), args[4]);
                case "receive" -> receive(provider, configuration, args[2], args[3],
                        Integer.parseInt(args[4]), args[5], Integer.parseInt(args[6]));
                default -> throw new IllegalArgumentException("unknown command " + args[0]);
            }
        } catch (Exception error) {
            System.out.println("FAILED " + describe(error));
        }
        // The client's threads are not daemons.
        System.exit(0);
    }

    /** Plain gRPC (the proxy takes TLS and plain text on one port), signed if a user is mounted. */
    private static ClientConfiguration configuration(String endpoint) throws Exception {
        ClientConfigurationBuilder builder = ClientConfiguration.newBuilder()
                .setEndpoints(endpoint)
                .enableSsl(false)
                .setRequestTimeout(Duration.ofSeconds(10));
        if (Files.isDirectory(USER)) {
            builder.setCredentialProvider(new StaticSessionCredentialsProvider(
                    Files.readString(USER.resolve("username")).trim(),
                    Files.readString(USER.resolve("password")).trim()));
        }
        return builder.build();
    }

    private static void send(ClientServiceProvider provider, ClientConfiguration configuration,
            String topic, int count, String prefix) throws Exception {
        try (Producer producer = provider.newProducerBuilder()
                .setClientConfiguration(configuration)
                .setTopics(topic)
                .build()) {
            for (int i = 0; i < count; i++) {
                String body = prefix + "-" + i;
                Message message = provider.newMessageBuilder()
                        .setTopic(topic)
                        .setBody(body.getBytes(StandardCharsets.UTF_8))
                        .build();
                try {
                    System.out.println("SENT " + body + " " + producer.send(message).getMessageId());
                } catch (Exception error) {
                    System.out.println("FAILED " + body + " " + describe(error));
                }
            }
        }
    }

    private static void receive(ClientServiceProvider provider, ClientConfiguration configuration,
            String topic, String group, int count, String prefix, int seconds) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        Set<String> received = new HashSet<>();
        try (SimpleConsumer consumer = provider.newSimpleConsumerBuilder()
                .setClientConfiguration(configuration)
                .setConsumerGroup(group)
                .setAwaitDuration(Duration.ofSeconds(5))
                .setSubscriptionExpressions(Map.of(topic, FilterExpression.SUB_ALL))
                .build()) {
            boolean first = true;
            while (received.size() < count && System.nanoTime() < deadline) {
                for (MessageView view : consumer.receive(16, Duration.ofSeconds(30))) {
                    String body = StandardCharsets.UTF_8.decode(view.getBody()).toString();
                    consumer.ack(view);
                    if (body.startsWith(prefix) && received.add(body)) {
                        System.out.println("RECEIVED " + body);
                    }
                }
                if (first) {
                    System.out.println("READY");
                    first = false;
                }
            }
        }
    }

    /** The error and its causes on one line. */
    private static String describe(Throwable error) {
        StringBuilder text = new StringBuilder();
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            text.append(text.length() == 0 ? "" : " <- ").append(cause);
        }
        return text.toString().replace('\n', ' ');
    }
}
