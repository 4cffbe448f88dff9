//! Proof that testenv runs real RocketMQ: a name server and brokers that start, register, answer
//! remoting requests (with ACL 2.0 when asked), survive a restart, and stop when dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use testenv::rocketmq::{
    AclAdmin, Broker, BrokerOptions, NameServer, RocketMQCluster, RocketMQOptions,
};

const GET_ALL_TOPIC_CONFIG: i32 = 21;
const GET_BROKER_CLUSTER_INFO: i32 = 106;
/// `ResponseCode.NO_PERMISSION`.
const NO_PERMISSION: i32 = 16;

/// One remoting request without fields or body, as a hand-written frame: total length, header
/// length (top byte 0: JSON), the JSON header. Returns the response's code and body.
fn request(address: &str, code: i32) -> Result<(i32, String)> {
    request_with_fields(address, code, serde_json::json!({}))
}

/// [`request`] with these `extFields` in the header.
fn request_with_fields(
    address: &str,
    code: i32,
    fields: serde_json::Value,
) -> Result<(i32, String)> {
    let address: SocketAddr = address.parse()?;
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let header = serde_json::json!({
        "code": code,
        "extFields": fields,
        "flag": 0,
        "language": "JAVA",
        "opaque": 1,
        "serializeTypeCurrentRPC": "JSON",
        "version": 453,
    })
    .to_string();
    let mut frame = Vec::new();
    frame.extend_from_slice(&(4 + header.len() as u32).to_be_bytes());
    frame.extend_from_slice(&(header.len() as u32).to_be_bytes());
    frame.extend_from_slice(header.as_bytes());
    stream.write_all(&frame)?;

    let mut word = [0u8; 4];
    stream.read_exact(&mut word)?;
    let mut response = vec![0u8; u32::from_be_bytes(word) as usize];
    stream.read_exact(&mut response)?;
    let header_word = u32::from_be_bytes(response[..4].try_into()?);
    assert_eq!(header_word >> 24, 0, "a JSON response header");
    let header_len = (header_word & 0xFF_FFFF) as usize;
    let header: serde_json::Value = serde_json::from_slice(&response[4..4 + header_len])?;
    let code = header["code"].as_i64().context("a response code")? as i32;
    let body = String::from_utf8_lossy(&response[4 + header_len..]).into_owned();
    Ok((code, body))
}

/// The name server's cluster info, which names every registered broker (fastjson: substring
/// checks only).
fn cluster_info(name_server: &str) -> Result<String> {
    let (code, body) = request(name_server, GET_BROKER_CLUSTER_INFO)?;
    if code != 0 {
        bail!("GET_BROKER_CLUSTER_INFO answered {code}: {body}");
    }
    Ok(body)
}

fn accepts(address: &str) -> bool {
    let address: SocketAddr = address.parse().expect("an address");
    TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok()
}

#[test]
fn two_brokers_register_and_a_stopped_broker_restarts() -> Result<()> {
    let started = Instant::now();
    let mut rocketmq = RocketMQCluster::start(&RocketMQOptions {
        brokers: 2,
        ..RocketMQOptions::default()
    })?;
    eprintln!(
        "a name server and two brokers started in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    rocketmq.wait_registered(Duration::from_secs(30))?;
    let info = cluster_info(&rocketmq.name_server_addr())?;
    for broker in rocketmq.brokers() {
        assert!(
            info.contains(&broker.addr()),
            "{} missing: {info}",
            broker.addr()
        );
    }
    for name in ["\"broker-a\"", "\"broker-b\"", "DefaultCluster"] {
        assert!(info.contains(name), "{name} missing: {info}");
    }
    let (code, _) = request(&rocketmq.brokers()[1].addr(), GET_ALL_TOPIC_CONFIG)?;
    assert_eq!(code, 0, "a broker without ACL answers admin requests");

    let broker = &mut rocketmq.brokers_mut()[1];
    let pid = broker.pid();
    broker.stop();
    assert!(!broker.is_running());
    assert_eq!(broker.pid(), None);
    assert!(!accepts(&broker.addr()));
    let started = Instant::now();
    broker.restart()?;
    eprintln!(
        "a broker restarted in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(broker.is_running());
    assert_ne!(broker.pid(), pid);
    rocketmq.wait_registered(Duration::from_secs(30))?;

    let dirs: Vec<_> = rocketmq
        .brokers()
        .iter()
        .map(|broker| broker.dir().to_path_buf())
        .collect();
    let name_server = rocketmq.name_server_addr();
    drop(rocketmq);
    assert!(!accepts(&name_server), "{name_server} still accepts");
    for dir in dirs {
        assert!(!dir.exists(), "{} was not removed", dir.display());
    }
    Ok(())
}

#[test]
fn a_hand_written_broker_conf_boots_and_registers() -> Result<()> {
    let mut name_server = NameServer::start()?;
    let listen_port = testenv::ports::free_broker_port()?;
    let conf = format!(
        "# as an operator would write it\n\
         brokerClusterName = HandWritten\n\
         brokerName = broker-hand\n\
         brokerId = 0\n\
         brokerRole = ASYNC_MASTER\n\
         namesrvAddr = {}\n\
         brokerIP1 = 127.0.0.1\n\
         listenPort = {listen_port}\n\
         mappedFileSizeCommitLog = 67108864\n",
        name_server.addr()
    );
    let broker = Broker::start_with_config(&conf)?;
    assert_eq!(broker.addr(), format!("127.0.0.1:{listen_port}"));
    assert!(broker.dir().join("broker.conf").exists());
    assert!(
        broker.dir().join("store").exists(),
        "the default store is in dir()"
    );
    let info = eventually_registered(&name_server.addr(), &broker.addr())?;
    assert!(info.contains("HandWritten"), "{info}");

    name_server.stop();
    assert!(!name_server.is_running());
    name_server.restart()?;
    assert!(name_server.is_running());
    assert!(accepts(&name_server.addr()));
    Ok(())
}

#[test]
fn brokers_with_acl_reject_unsigned_admin_requests_and_accept_the_admins() -> Result<()> {
    let name_server = NameServer::start()?;
    let options = BrokerOptions {
        acl: Some(AclAdmin {
            username: "admin".into(),
            password: "admin-secret".into(),
        }),
        ..BrokerOptions::new(&name_server.addr())
    };
    let started = Instant::now();
    let broker = Broker::start(&options)?;
    eprintln!(
        "a broker with ACL started in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (code, body) = request(&broker.addr(), GET_ALL_TOPIC_CONFIG)?;
    assert_eq!(code, NO_PERMISSION, "{body}");
    // The super user exists: its signed request passes, a wrong password's does not.
    let (code, body) = signed_request(
        &broker.addr(),
        GET_ALL_TOPIC_CONFIG,
        "admin",
        "admin-secret",
    )?;
    assert_eq!(code, 0, "{body}");
    assert!(body.contains("topicConfigTable"), "{body}");
    let (code, _) = signed_request(&broker.addr(), GET_ALL_TOPIC_CONFIG, "admin", "wrong")?;
    assert_eq!(code, NO_PERMISSION);
    // Registration is signed with the admin's credentials, and the name server has no ACL.
    eventually_registered(&name_server.addr(), &broker.addr())?;
    assert!(
        broker.dir().join("store/config/users").exists(),
        "the users' metadata lives in the store"
    );

    // A replica of the same broker name registers beside its master.
    let replica = Broker::start(&BrokerOptions {
        broker_id: 1,
        ..options.clone()
    })?;
    let info = eventually_registered(&name_server.addr(), &replica.addr())?;
    assert!(info.contains(&broker.addr()), "{info}");
    let (code, _) = request(&replica.addr(), GET_ALL_TOPIC_CONFIG)?;
    assert_eq!(code, NO_PERMISSION);
    Ok(())
}

/// A request signed as RocketMQ's `AclClientRPCHook` signs it: `Signature` is
/// `base64(HmacSHA1(secret, values of the other fields sorted by key, then the body))`.
fn signed_request(address: &str, code: i32, user: &str, secret: &str) -> Result<(i32, String)> {
    use base64::Engine;
    let signature = hmac_sha1(secret.as_bytes(), user.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(signature);
    request_with_fields(
        address,
        code,
        serde_json::json!({"AccessKey": user, "Signature": signature}),
    )
}

fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..20].copy_from_slice(&sha1(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner: Vec<u8> = block
        .iter()
        .map(|byte| byte ^ 0x36)
        .chain(message.iter().copied())
        .collect();
    let outer: Vec<u8> = block
        .iter()
        .map(|byte| byte ^ 0x5c)
        .chain(sha1(&inner))
        .collect();
    sha1(&outer)
}

/// SHA-1 (FIPS 180-4), for the signature alone: testenv has no crypto dependency.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut state: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&(data.len() as u64 * 8).to_be_bytes());
    for chunk in message.chunks(64) {
        let mut words = [0u32; 80];
        for (word, bytes) in words.iter_mut().zip(chunk.chunks(4)) {
            *word = u32::from_be_bytes(bytes.try_into().expect("4 bytes"));
        }
        for i in 16..80 {
            words[i] = (words[i - 3] ^ words[i - 8] ^ words[i - 14] ^ words[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = state;
        for (i, word) in words.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let next = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*word);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, next);
        }
        for (value, add) in state.iter_mut().zip([a, b, c, d, e]) {
            *value = value.wrapping_add(add);
        }
    }
    let mut digest = [0u8; 20];
    for (bytes, value) in digest.chunks_mut(4).zip(state) {
        bytes.copy_from_slice(&value.to_be_bytes());
    }
    digest
}

#[test]
fn hmac_sha1_matches_the_rfc_2202_and_wikipedia_vectors() {
    let hex = |bytes: [u8; 20]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(
        hex(hmac_sha1(
            b"key",
            b"The quick brown fox jumps over the lazy dog"
        )),
        "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
    );
    assert_eq!(
        hex(hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    );
    assert_eq!(
        hex(sha1(b"abc")),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
}

/// Polls the cluster info until it names `broker`.
fn eventually_registered(name_server: &str, broker: &str) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info = cluster_info(name_server)?;
        if info.contains(broker) {
            return Ok(info);
        }
        if Instant::now() > deadline {
            bail!("{broker} never registered with {name_server}: {info}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
