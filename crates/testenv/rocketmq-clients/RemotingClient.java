// A RocketMQ application on the remoting client, run by the tests in a pod of the RocketMQ image
// (`java -cp "$ROCKETMQ_HOME/lib/*" RemotingClient.java ...`: the JVM compiles it on start, the
// client is among RocketMQ's own jars). It prints one line per outcome for the test to read:
//
//   produce <name servers> <topic> <count> <prefix> <pause ms>
//       sends <prefix>-0 .. <prefix>-<count-1> one at a time, <pause ms> apart:
//       "SENT <body> <broker name>" or "FAILED <body> <error>"
//   consume <name servers> <topic> <group> <idle seconds>
//       a push consumer of <group> from the first offset: "RECEIVED <body> <broker name>" for
//       each message, until none came for <idle seconds>

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

public class RemotingClient {
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "produce" -> produce(args[1], args[2], Integer.parseInt(args[3]), args[4],
                    Long.parseLong(args[5]));
            case "consume" -> consume(args[1], args[2], args[3], Long.parseLong(args[4]));
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
        System.exit(0);
    }

    private static void produce(String nameServers, String topic, int count, String prefix,
            long pauseMillis) throws Exception {
        DefaultMQProducer producer = new DefaultMQProducer("transfer-producer");
        producer.setNamesrvAddr(nameServers);
        producer.setSendMsgTimeout(5000);
        producer.setRetryTimesWhenSendFailed(4);
        producer.start();
        for (int i = 0; i < count; i++) {
            String body = prefix + "-" + i;
            try {
                SendResult sent = producer.send(new Message(topic, body.getBytes(StandardCharsets.UTF_8)));
                System.out.println("SENT " + body + " " + sent.getMessageQueue().getBrokerName());
            } catch (Exception error) {
                System.out.println("FAILED " + body + " " + String.valueOf(error).replace('\n', ' '));
            }
            Thread.sleep(pauseMillis);
        }
        producer.shutdown();
    }

    private static void consume(String nameServers, String topic, String group, long idleSeconds)
            throws Exception {
        AtomicLong last = new AtomicLong(System.nanoTime());
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
        consumer.setNamesrvAddr(nameServers);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        // Offsets reach the brokers soon after each message: a transfer waits for them.
        consumer.setPersistConsumerOffsetInterval(1000);
        consumer.subscribe(topic, "*");
        consumer.registerMessageListener((MessageListenerConcurrently) (messages, context) -> {
            for (MessageExt message : messages) {
                String body = new String(message.getBody(), StandardCharsets.UTF_8);
                System.out.println("RECEIVED " + body + " " + message.getBrokerName());
            }
            last.set(System.nanoTime());
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        while (System.nanoTime() - last.get() < idleSeconds * 1_000_000_000L) {
            Thread.sleep(1000);
        }
        consumer.shutdown();
    }
}
