//! An async admin client for Apache RocketMQ's remoting protocol.
