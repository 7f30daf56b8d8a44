//! Against real redis-server processes: cluster formation and failover.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use throwaway_redis::{ClusterNode, RedisCluster};

fn role(node: &ClusterNode) -> String {
    let mut con = node.connection().unwrap();
    let role: Vec<redis::Value> = redis::cmd("ROLE").query(&mut con).unwrap();
    match &role[0] {
        redis::Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        other => panic!("unexpected ROLE reply {other:?}"),
    }
}

#[test]
fn cluster_starts_ready_and_serves_all_slots() {
    let started = Instant::now();
    let cluster = RedisCluster::start().unwrap();
    eprintln!("cluster started in {:?}", started.elapsed());

    let nodes = cluster.nodes();
    assert_eq!(nodes.len(), 6);
    let ports: HashSet<u16> = nodes.iter().map(ClusterNode::port).collect();
    assert_eq!(ports.len(), 6);
    assert!(!ports.contains(&6379));
    assert_eq!(cluster.urls().len(), 6);
    assert_eq!(cluster.primaries().len(), 3);
    assert_eq!(cluster.replicas().len(), 3);
    for node in cluster.primaries() {
        assert_eq!(role(node), "master");
    }
    for node in cluster.replicas() {
        assert_eq!(role(node), "slave");
    }
    for node in nodes {
        assert!(node.is_alive());
        assert_eq!(node.node_id().len(), 40);
        let info: String = redis::cmd("CLUSTER")
            .arg("INFO")
            .query(&mut node.connection().unwrap())
            .unwrap();
        assert!(info.contains("cluster_state:ok"), "{info}");
    }
    assert_eq!(cluster.node_for_slot(0).unwrap().port(), nodes[0].port());
    assert_eq!(cluster.node_for_slot(8000).unwrap().port(), nodes[1].port());
    assert_eq!(
        cluster.node_for_slot(16383).unwrap().port(),
        nodes[2].port()
    );
    assert!(cluster.node_for_slot(16384).is_err());

    let mut con = cluster.client().unwrap().get_connection().unwrap();
    for i in 0..100 {
        redis::cmd("SET")
            .arg(format!("key:{i}"))
            .arg(i)
            .exec(&mut con)
            .unwrap();
    }
    for i in 0..100 {
        let value: i64 = redis::cmd("GET")
            .arg(format!("key:{i}"))
            .query(&mut con)
            .unwrap();
        assert_eq!(value, i);
    }
    // The keys really are spread over the three primaries.
    for primary in cluster.primaries() {
        let keys: i64 = redis::cmd("DBSIZE")
            .query(&mut primary.connection().unwrap())
            .unwrap();
        assert!(
            keys > 10,
            "primary {} holds only {keys} keys",
            primary.port()
        );
    }
    cluster.wait_until_stable(Duration::from_secs(5)).unwrap();
}

#[test]
fn killed_primary_fails_over_to_its_replica() {
    let mut cluster = RedisCluster::start().unwrap();
    let old = cluster.node_for_slot(0).unwrap().port();
    let replica = cluster.nodes()[3].port(); // replicates the first primary
    cluster.kill(old);
    assert!(!cluster.nodes()[0].is_alive());

    let started = Instant::now();
    let new = cluster
        .wait_for_failover(old, Duration::from_secs(20))
        .unwrap();
    eprintln!("failover took {:?}", started.elapsed());
    assert_eq!(new, replica);
    let promoted = cluster.nodes().iter().find(|n| n.port() == new).unwrap();
    assert_eq!(role(promoted), "master");
    assert_eq!(cluster.node_for_slot(0).unwrap().port(), new);
    assert_eq!(cluster.primaries().len(), 3);
    assert_eq!(cluster.replicas().len(), 2);
    cluster.wait_until_stable(Duration::from_secs(10)).unwrap();

    let mut con = cluster.client().unwrap().get_connection().unwrap();
    for i in 0..30 {
        redis::cmd("SET")
            .arg(format!("key:{i}"))
            .arg(i)
            .exec(&mut con)
            .unwrap();
        let value: i64 = redis::cmd("GET")
            .arg(format!("key:{i}"))
            .query(&mut con)
            .unwrap();
        assert_eq!(value, i);
    }

    // A replica has nobody to fail over to.
    let replica = cluster.replicas()[0].port();
    cluster.kill(replica);
    let err = cluster
        .wait_for_failover(replica, Duration::from_secs(1))
        .unwrap_err();
    assert!(err.to_string().contains("had no replica"), "{err}");
}
